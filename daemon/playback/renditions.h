/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <json-glib/json-glib.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace onair::playback {

/* A video rendition as videos.renditions stores it. */
struct Rendition {
  std::string name; /* also its folder under the video's media: "<name>/index.m3u8" */
  int width = 0;
  int height = 0;
  int64_t bandwidth = 0;

  /* "720p" means 720 lines on the short side, portrait or landscape. */
  int lines() const { return width < height ? width : height; }
};

/* The video renditions of a renditions array (entries without a name or a
 * size, such as an audio rendition, are left out), highest first. */
std::vector<Rendition> video_renditions(JsonNode *renditions);

/* Device classes and the most lines each is given: mobile 480, tablet 720,
 * desktop 1080, tv all. */
const std::vector<std::pair<std::string, int>> &device_classes();
bool is_device_class(const std::string &device);
/* The list of device names for messages: "mobile, tablet, desktop or tv". */
std::string device_names();

/* For `device` (one of device_classes()): the highest rendition not above
 * the device's cap, else the lowest one. nullopt: unknown device or no
 * rendition. `renditions` as video_renditions() returns them. */
std::optional<Rendition> rendition_for_device(const std::vector<Rendition> &renditions,
                                              const std::string &device);

}  // namespace onair::playback
