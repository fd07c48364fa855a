/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "playback/renditions.h"

#include <algorithm>
#include <climits>

namespace onair::playback {

std::vector<Rendition> video_renditions(JsonNode *renditions) {
  std::vector<Rendition> out;
  if (!renditions || !JSON_NODE_HOLDS_ARRAY(renditions)) return out;
  JsonArray *array = json_node_get_array(renditions);
  for (guint i = 0; i < json_array_get_length(array); i++) {
    JsonNode *element = json_array_get_element(array, i);
    if (!JSON_NODE_HOLDS_OBJECT(element)) continue;
    JsonObject *object = json_node_get_object(element);
    Rendition rendition;
    rendition.name = json_object_get_string_member_with_default(object, "name", "");
    rendition.width = int(json_object_get_int_member_with_default(object, "width", 0));
    rendition.height = int(json_object_get_int_member_with_default(object, "height", 0));
    rendition.bandwidth = json_object_get_int_member_with_default(object, "bandwidth", 0);
    /* The name becomes a path component: no way out of the video's folder. */
    if (rendition.name.empty() || rendition.name.find('/') != std::string::npos || rendition.name == "." ||
        rendition.name == ".." || rendition.width <= 0 || rendition.height <= 0)
      continue;
    out.push_back(std::move(rendition));
  }
  std::stable_sort(out.begin(), out.end(), [](const Rendition &a, const Rendition &b) {
    if (a.lines() != b.lines()) return a.lines() > b.lines();
    return a.bandwidth > b.bandwidth;
  });
  return out;
}

const std::vector<std::pair<std::string, int>> &device_classes() {
  static const std::vector<std::pair<std::string, int>> classes = {
      {"mobile", 480}, {"tablet", 720}, {"desktop", 1080}, {"tv", INT_MAX}};
  return classes;
}

bool is_device_class(const std::string &device) {
  for (const auto &entry : device_classes())
    if (entry.first == device) return true;
  return false;
}

std::string device_names() {
  std::string out;
  const auto &classes = device_classes();
  for (size_t i = 0; i < classes.size(); i++) {
    if (i > 0) out += i + 1 == classes.size() ? " or " : ", ";
    out += classes[i].first;
  }
  return out;
}

std::optional<Rendition> rendition_for_device(const std::vector<Rendition> &renditions,
                                              const std::string &device) {
  const auto &classes = device_classes();
  auto found = std::find_if(classes.begin(), classes.end(),
                            [&](const std::pair<std::string, int> &entry) { return entry.first == device; });
  if (found == classes.end() || renditions.empty()) return std::nullopt;
  for (const Rendition &rendition : renditions)
    if (rendition.lines() <= found->second) return rendition;
  return renditions.back();
}

}  // namespace onair::playback
