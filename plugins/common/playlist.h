/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <utility>
#include <vector>

namespace onair {

/* Something that happens between two segments of every rendition: a
 * discontinuity (input switched), a date range (ad break signalled with
 * SCTE-35, timed metadata), the start or end of a break. Queued on a media
 * playlist, a marker is attached to the next segment it gets. */
struct Marker {
  enum class Kind { Discontinuity, DateRange, CueOut, CueIn };
  Kind kind = Kind::Discontinuity;
  std::string id;       /* DateRange: its ID */
  double duration = -1; /* CueOut and DateRange: planned duration (s), -1 if unknown */
  /* DateRange: further attributes, name and value as written in the tag
   * (strings already quoted), e.g. {"SCTE35-OUT", "0xFC30..."}. */
  std::vector<std::pair<std::string, std::string>> attributes;
  /* DateRange: START-DATE (UTC ms); -1: the START-DATE an earlier date range
   * with the same ID had (the tags of one range must agree, RFC 8216
   * 4.4.5.1), else its segment's date. Settled when the segment is appended. */
  int64_t start_ms = -1;
};

struct MediaSegment {
  uint64_t sequence = 0;
  std::string uri;
  double duration = 0; /* seconds */
  uint64_t bytes = 0;
  int64_t program_date_time_ms = -1; /* UTC milliseconds of the first frame, -1: none */
  std::vector<Marker> markers;       /* written before the segment */
  /* its initialization segment, when not the playlist's first (the track's
   * coding changed mid-stream: a discontinuity marks it too) */
  std::string map_uri;
};

enum class PlaylistMode { Live, Vod };

/* An HLS media playlist (RFC 8216bis) of CMAF segments with an EXT-X-MAP:
 * the sliding window of a live stream, or every segment of a VOD item. */
class MediaPlaylist {
 public:
  MediaPlaylist(std::string init_uri, PlaylistMode mode, unsigned window);

  void queue_marker(Marker marker);
  /* Appends a segment (its sequence number is assigned here and returned in
   * the segment). Returns the segments that left the live window: the caller
   * deletes their files. */
  std::vector<MediaSegment> append(MediaSegment segment, uint64_t *sequence = nullptr);
  void end() { ended_ = true; }
  bool ended() const { return ended_; }

  std::string render() const;

  const std::deque<MediaSegment> &segments() const { return segments_; }
  uint64_t next_sequence() const { return next_sequence_; }
  uint64_t peak_bitrate() const { return peak_bitrate_; }
  uint64_t average_bitrate() const;
  double longest_segment() const { return longest_segment_; }

 private:
  std::string init_uri_;
  PlaylistMode mode_;
  unsigned window_;
  std::deque<MediaSegment> segments_;
  std::vector<Marker> queued_;
  uint64_t next_sequence_ = 0;
  uint64_t discontinuity_sequence_ = 0;
  /* START-DATE of the most recent date ranges, by ID */
  std::deque<std::pair<std::string, int64_t>> range_starts_;
  /* cue-out state at the first segment in the window, so CUE-OUT-CONT can be
   * written after the CUE-OUT left the window */
  bool window_starts_in_break_ = false;
  double window_break_elapsed_ = 0;
  double window_break_duration_ = -1;
  uint64_t peak_bitrate_ = 0;
  uint64_t total_bytes_ = 0;
  double total_seconds_ = 0;
  double longest_segment_ = 0;
  bool ended_ = false;
};

struct VariantStream {
  std::string uri;
  uint64_t bandwidth = 0;         /* peak, bits/s, audio included */
  uint64_t average_bandwidth = 0; /* 0: not measured yet */
  int width = 0;
  int height = 0;
  double frame_rate = 0;
  std::string codecs; /* "avc1.640028,mp4a.40.2" */
  std::string audio_group;
};

struct AudioRendition {
  std::string group;
  std::string name;
  std::string uri;
  std::string language;
  int channels = 0;
  bool is_default = true;
};

/* The multivariant playlist (master.m3u8). */
std::string render_multivariant_playlist(const std::vector<VariantStream> &variants,
                                         const std::vector<AudioRendition> &audio);

/* "2026-11-21T05:03:49.123Z" */
std::string format_iso8601_ms(int64_t utc_ms);

}  // namespace onair
