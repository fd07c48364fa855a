/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "ladderspec.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>

namespace onair {

namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool parse_positive(std::string_view text, int max, int *value) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return ec == std::errc() && end == text.data() + text.size() && *value > 0 && *value <= max;
}

constexpr int kMaxLines = 8640;
constexpr int kMaxKbps = 200000;

}  // namespace

const char *codec_name(VideoCodec codec) {
  return codec == VideoCodec::H265 ? "h265" : "h264";
}

std::optional<std::vector<Rung>> parse_ladder(std::string_view text, std::string *error) {
  std::vector<Rung> rungs;
  size_t index = 0;
  const std::string expected = "expected HEIGHTp:KBPS[:h264|h265], e.g. 720p:2800";

  if (trim(text).empty()) {
    *error = "the ladder is empty; " + expected;
    return std::nullopt;
  }

  while (true) {
    size_t comma = text.find(',');
    std::string_view item = trim(text.substr(0, comma));
    index++;
    auto fail = [&](const std::string &why) {
      *error = "bad rung " + std::to_string(index) + " '" + std::string(item) + "': " + why;
      return std::nullopt;
    };

    std::vector<std::string_view> fields;
    for (size_t start = 0;;) {
      size_t colon = item.find(':', start);
      fields.push_back(trim(item.substr(start, colon == std::string_view::npos ? colon : colon - start)));
      if (colon == std::string_view::npos) break;
      start = colon + 1;
    }
    if (fields.size() < 2 || fields.size() > 3) return fail(expected);

    Rung rung;
    std::string_view size = fields[0];
    if (size.empty() || (size.back() != 'p' && size.back() != 'P'))
      return fail("size must end in 'p' (" + expected + ")");
    size.remove_suffix(1);
    if (!parse_positive(size, kMaxLines, &rung.lines))
      return fail("size must be a number of lines from 1 to " + std::to_string(kMaxLines));
    if (rung.lines % 2) return fail("size must be even (4:2:0 video)");
    if (!parse_positive(fields[1], kMaxKbps, &rung.kbps))
      return fail("bitrate must be a number of kbit/s from 1 to " + std::to_string(kMaxKbps));
    if (fields.size() == 3) {
      if (fields[2] == "h264" || fields[2] == "avc")
        rung.codec = VideoCodec::H264;
      else if (fields[2] == "h265" || fields[2] == "hevc")
        rung.codec = VideoCodec::H265;
      else
        return fail("unknown codec '" + std::string(fields[2]) + "' (h264 or h265)");
    }
    rungs.push_back(rung);

    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }

  std::stable_sort(rungs.begin(), rungs.end(), [](const Rung &a, const Rung &b) {
    return a.lines != b.lines ? a.lines > b.lines : a.kbps > b.kbps;
  });

  std::map<int, int> per_size;
  for (const Rung &rung : rungs) per_size[rung.lines]++;
  for (Rung &rung : rungs) {
    rung.name = std::to_string(rung.lines) + "p";
    if (per_size[rung.lines] > 1) rung.name += "-" + std::to_string(rung.kbps) + "k";
  }
  for (size_t i = 1; i < rungs.size(); i++) {
    if (rungs[i].name == rungs[i - 1].name) {
      *error = "rung '" + rungs[i].name + "' appears twice";
      return std::nullopt;
    }
  }
  return rungs;
}

std::string format_ladder(const std::vector<Rung> &rungs) {
  std::string text;
  for (const Rung &rung : rungs) {
    if (!text.empty()) text += ',';
    text += std::to_string(rung.lines) + "p:" + std::to_string(rung.kbps);
    if (rung.codec != VideoCodec::H264) text += std::string(":") + codec_name(rung.codec);
  }
  return text;
}

std::optional<Dimensions> rung_dimensions(const Rung &rung, int display_width, int display_height) {
  if (display_width <= 0 || display_height <= 0) return std::nullopt;
  bool portrait = display_height > display_width;
  int short_side = portrait ? display_width : display_height;
  int long_side = portrait ? display_height : display_width;
  if (rung.lines > short_side) return std::nullopt;
  auto even = [](double v) { return std::max(2, static_cast<int>(std::lround(v / 2.0)) * 2); };
  int out_short = even(rung.lines);
  int out_long = even(static_cast<double>(rung.lines) * long_side / short_side);
  return portrait ? Dimensions{out_short, out_long} : Dimensions{out_long, out_short};
}

}  // namespace onair
