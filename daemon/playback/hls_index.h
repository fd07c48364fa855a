/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace onair::playback {

/* One media segment of a rendition, times in milliseconds from the first
 * segment the playlist lists. */
struct Segment {
  uint64_t index = 0; /* its media sequence number */
  std::string uri;    /* as written: relative to the playlist */
  int64_t start_ms = 0;
  int64_t duration_ms = 0;
  bool discontinuity = false; /* an EXT-X-DISCONTINUITY comes before it */
};

/* The segments of an HLS media playlist as abrsink writes it (EXT-X-MAP,
 * EXTINF, EXT-X-DISCONTINUITY, EXT-X-MEDIA-SEQUENCE, EXT-X-ENDLIST); other
 * tags (dates, cues, date ranges) are skipped. Not a general m3u8 reader:
 * byte ranges, several maps and encryption are refused. */
struct SegmentIndex {
  std::string init_uri; /* EXT-X-MAP's URI */
  std::vector<Segment> segments;
  bool ended = false; /* EXT-X-ENDLIST: nothing will be appended */

  int64_t duration_ms() const {
    return segments.empty() ? 0 : segments.back().start_ms + segments.back().duration_ms;
  }
  /* The segment holding `offset_ms`, nullptr past the end. */
  const Segment *find(int64_t offset_ms) const;
};

/* nullopt and `error` set when `text` is not such a playlist. */
std::optional<SegmentIndex> parse_media_playlist(const std::string &text, std::string *error);

/* FRAME-RATE of the variant whose URI is `uri` in a multivariant playlist;
 * 0 when absent. */
double variant_frame_rate(const std::string &multivariant, const std::string &uri);

}  // namespace onair::playback
