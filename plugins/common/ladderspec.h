/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace onair {

enum class VideoCodec { H264, H265 };

/* One rung of an ABR ladder as a person writes it: "720p:2800" or
 * "2160p:12000:h265". `lines` is the short side of the picture (the height of a
 * landscape picture, the width of a portrait one). */
struct Rung {
  int lines = 0;
  int kbps = 0;
  VideoCodec codec = VideoCodec::H264;
  std::string name; /* "720p", or "720p-2800k" when two rungs share a size */
};

struct Dimensions {
  int width = 0;
  int height = 0;
};

/* Parses "1080p:5000,720p:2800,...". On failure returns nullopt and sets
 * `error` to a message that names the rung at fault. Rungs come out sorted
 * from the largest picture to the smallest. */
std::optional<std::vector<Rung>> parse_ladder(std::string_view text, std::string *error);

/* Canonical text of a ladder, as parse_ladder accepts it. */
std::string format_ladder(const std::vector<Rung> &rungs);

/* Output size of `rung` for a source of display size `display_width` x
 * `display_height` (square pixels): the short side is the rung's lines, the
 * long side follows the aspect ratio, both rounded to even. nullopt when the
 * rung is larger than the source (no upscaling). */
std::optional<Dimensions> rung_dimensions(const Rung &rung, int display_width, int display_height);

const char *codec_name(VideoCodec codec);

}  // namespace onair
