/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "playback/hls_index.h"

#include <glib.h>

#include <cmath>
#include <sstream>

namespace onair::playback {

namespace {

bool starts_with(const std::string &line, const char *prefix) {
  return line.rfind(prefix, 0) == 0;
}

/* The value of attribute `name` in an attribute list (quotes removed). */
std::optional<std::string> attribute(const std::string &list, const std::string &name) {
  size_t position = 0;
  while (position < list.size()) {
    size_t equals = list.find('=', position);
    if (equals == std::string::npos) return std::nullopt;
    std::string key = list.substr(position, equals - position);
    size_t value_start = equals + 1;
    std::string value;
    size_t next;
    if (value_start < list.size() && list[value_start] == '"') {
      size_t close = list.find('"', value_start + 1);
      if (close == std::string::npos) return std::nullopt;
      value = list.substr(value_start + 1, close - value_start - 1);
      next = list.find(',', close);
    } else {
      next = list.find(',', value_start);
      value = list.substr(value_start, next == std::string::npos ? std::string::npos : next - value_start);
    }
    if (key == name) return value;
    if (next == std::string::npos) break;
    position = next + 1;
  }
  return std::nullopt;
}

}  // namespace

const Segment *SegmentIndex::find(int64_t offset_ms) const {
  if (offset_ms < 0) return nullptr;
  for (const Segment &segment : segments)
    if (offset_ms < segment.start_ms + segment.duration_ms) return &segment;
  return nullptr;
}

std::optional<SegmentIndex> parse_media_playlist(const std::string &text, std::string *error) {
  SegmentIndex index;
  std::istringstream lines(text);
  std::string line;
  uint64_t sequence = 0;
  /* Seconds summed as written, rounded once per segment, so that rounding
   * does not accumulate over a long video. */
  double elapsed = 0;
  double pending_duration = -1; /* < 0: no EXTINF since the last segment */
  bool pending_discontinuity = false;
  bool first = true;
  int number = 0;
  while (std::getline(lines, line)) {
    number++;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (first) {
      first = false;
      if (line != "#EXTM3U") {
        *error = "not an HLS playlist (no #EXTM3U)";
        return std::nullopt;
      }
      continue;
    }
    if (line.empty()) continue;
    if (starts_with(line, "#EXT-X-MEDIA-SEQUENCE:")) {
      sequence = g_ascii_strtoull(line.c_str() + 22, nullptr, 10);
    } else if (starts_with(line, "#EXT-X-MAP:")) {
      std::string list = line.substr(11);
      std::optional<std::string> uri = attribute(list, "URI");
      if (!uri || attribute(list, "BYTERANGE") || !index.init_uri.empty()) {
        *error = "line " + std::to_string(number) + ": an EXT-X-MAP this reader does not handle";
        return std::nullopt;
      }
      index.init_uri = *uri;
    } else if (starts_with(line, "#EXTINF:")) {
      char *end = nullptr;
      double seconds = g_ascii_strtod(line.c_str() + 8, &end);
      if (end == line.c_str() + 8 || !(seconds >= 0) || !std::isfinite(seconds)) {
        *error = "line " + std::to_string(number) + ": a malformed EXTINF";
        return std::nullopt;
      }
      pending_duration = seconds;
    } else if (line == "#EXT-X-DISCONTINUITY") {
      pending_discontinuity = true;
    } else if (line == "#EXT-X-ENDLIST") {
      index.ended = true;
    } else if (starts_with(line, "#EXT-X-BYTERANGE") || starts_with(line, "#EXT-X-KEY")) {
      *error = "line " + std::to_string(number) + ": byte ranges and encryption are not handled";
      return std::nullopt;
    } else if (line[0] == '#') {
      continue;
    } else {
      if (pending_duration < 0) {
        *error = "line " + std::to_string(number) + ": a segment without EXTINF";
        return std::nullopt;
      }
      Segment segment;
      segment.index = sequence++;
      segment.uri = line;
      segment.start_ms = std::llround(elapsed * 1000);
      elapsed += pending_duration;
      segment.duration_ms = std::llround(elapsed * 1000) - segment.start_ms;
      segment.discontinuity = pending_discontinuity;
      index.segments.push_back(std::move(segment));
      pending_duration = -1;
      pending_discontinuity = false;
    }
  }
  if (first) {
    *error = "an empty playlist";
    return std::nullopt;
  }
  if (index.init_uri.empty()) {
    *error = "no EXT-X-MAP: not a fragmented MP4 playlist";
    return std::nullopt;
  }
  return index;
}

double variant_frame_rate(const std::string &multivariant, const std::string &uri) {
  std::istringstream lines(multivariant);
  std::string line;
  std::string stream_inf;
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (starts_with(line, "#EXT-X-STREAM-INF:")) {
      stream_inf = line.substr(18);
    } else if (!line.empty() && line[0] != '#') {
      if (line == uri && !stream_inf.empty()) {
        std::optional<std::string> rate = attribute(stream_inf, "FRAME-RATE");
        return rate ? g_ascii_strtod(rate->c_str(), nullptr) : 0;
      }
      stream_inf.clear();
    }
  }
  return 0;
}

}  // namespace onair::playback
