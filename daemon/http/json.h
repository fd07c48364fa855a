/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Small JsonBuilder helpers shared by the API's handlers.
 */
#pragma once

#include "store/common.h"

#include <json-glib/json-glib.h>

#include <cstdint>
#include <map>
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

template <typename Item, typename Add>
inline JsonNode *page_json(const store::Page<Item> &page, Add add, const std::string &next_link) {
  JsonBuilder *builder = json_builder_new();
  json_builder_begin_object(builder);
  json_builder_set_member_name(builder, "items");
  json_builder_begin_array(builder);
  for (const Item &item : page.items) add(builder, item);
  json_builder_end_array(builder);
  add_optional_string(builder, "next_cursor", page.next_cursor);
  add_optional_string(builder, "next",
                      page.next_cursor ? std::optional<std::string>(next_link) : std::nullopt);
  json_builder_end_object(builder);
  JsonNode *root = json_builder_get_root(builder);
  g_object_unref(builder);
  return root;
}

/* The link to the next page: the same query with `after` replaced. */
inline std::string next_link(const std::string &path, const std::map<std::string, std::string> &query,
                             const std::optional<std::string> &cursor) {
  if (!cursor) return {};
  GString *link = g_string_new(path.c_str());
  char separator = '?';
  for (const auto &[name, value] : query) {
    if (name == "after") continue;
    g_string_append_c(link, separator);
    g_string_append_uri_escaped(link, name.c_str(), nullptr, FALSE);
    g_string_append_c(link, '=');
    g_string_append_uri_escaped(link, value.c_str(), nullptr, FALSE);
    separator = '&';
  }
  g_string_append_printf(link, "%cafter=%s", separator, cursor->c_str());
  gchar *text = g_string_free(link, FALSE);
  std::string out(text);
  g_free(text);
  return out;
}

}  // namespace onair::http
