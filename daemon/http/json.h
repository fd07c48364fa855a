/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Small JsonBuilder helpers shared by the API's handlers.
 */
#pragma once

#include <json-glib/json-glib.h>

#include <cstdint>
#include <optional>
#include <string>

namespace onair::http {

inline void add_string(JsonBuilder *builder, const char *name, const std::string &value) {
  json_builder_set_member_name(builder, name);
  json_builder_add_string_value(builder, value.c_str());
}

inline void add_int(JsonBuilder *builder, const char *name, int64_t value) {
  json_builder_set_member_name(builder, name);
  json_builder_add_int_value(builder, value);
}

inline void add_optional_string(JsonBuilder *builder, const char *name,
                                const std::optional<std::string> &value) {
  json_builder_set_member_name(builder, name);
  if (value)
    json_builder_add_string_value(builder, value->c_str());
  else
    json_builder_add_null_value(builder);
}

inline void add_time(JsonBuilder *builder, const char *name, const std::string &value) {
  add_optional_string(builder, name, value.empty() ? std::nullopt : std::optional<std::string>(value));
}

inline void add_optional_int(JsonBuilder *builder, const char *name, const std::optional<int64_t> &value) {
  json_builder_set_member_name(builder, name);
  if (value)
    json_builder_add_int_value(builder, *value);
  else
    json_builder_add_null_value(builder);
}

template <typename Item, typename Add>
inline JsonNode *one_json(const Item &item, Add add) {
  JsonBuilder *builder = json_builder_new();
  add(builder, item);
  JsonNode *root = json_builder_get_root(builder);
  g_object_unref(builder);
  return root;
}

}  // namespace onair::http
