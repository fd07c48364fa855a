/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace onair {

struct MpdSegment {
  uint64_t number = 0;   /* $Number$ of the segment file */
  uint64_t start = 0;    /* in the representation's timescale */
  uint64_t duration = 0; /* likewise */
};

struct MpdRepresentation {
  std::string id;
  bool is_audio = false;
  std::string codecs;
  uint64_t bandwidth = 0;
  int width = 0, height = 0;
  int frame_rate_n = 0, frame_rate_d = 1;
  int sample_rate = 0, channels = 0;
  uint32_t timescale = 0;
  uint64_t presentation_time_offset = 0; /* media time of presentation time 0 */
  std::string initialization;            /* "720p/init.mp4" */
  std::string media;                     /* "720p/seg_$Number%05d$.m4s" */
  std::vector<MpdSegment> segments;
};

/* An SCTE-35 ad break in the Period's EventStream
 * (urn:scte:scte35:2014:xml+bin, SCTE 214-1). */
struct MpdEvent {
  uint32_t id = 0;              /* unique in the MPD */
  std::string name;             /* the break's own ID (not written) */
  double presentation_time = 0; /* seconds from the Period's start */
  double duration = -1;         /* seconds, -1: unknown */
  std::vector<uint8_t> section; /* the splice_info_section */
};

/* Timed metadata (onair-timed-metadata) in an EventStream of its own
 * scheme, the payload as the Event's text. */
struct MpdMetadataEvent {
  std::string scheme;           /* schemeIdUri, e.g. "urn:onair:reactions:2026" */
  uint32_t id = 0;              /* unique in its EventStream */
  double presentation_time = 0; /* seconds from the Period's start */
  double duration = 0;          /* seconds */
  std::string payload;
};

struct MpdDocument {
  bool dynamic = false;
  int64_t availability_start_ms = 0; /* UTC of media time 0 (dynamic only) */
  int64_t publish_ms = 0;
  double duration = 0;          /* static: presentation duration (s) */
  double max_segment = 2;       /* longest segment (s) */
  double time_shift_buffer = 0; /* dynamic: the window (s) */
  std::vector<MpdRepresentation> representations;
  std::vector<MpdEvent> scte35_events;
  std::vector<MpdMetadataEvent> metadata_events; /* in time order; one EventStream per scheme */
};

/* An MPEG-DASH MPD (ISO/IEC 23009-1, live profile) with one video and one
 * audio adaptation set, SegmentTemplate + SegmentTimeline. Built with libxml2. */
std::string render_mpd(const MpdDocument &document);

}  // namespace onair
