/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "http/fields.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace onair::http {

namespace {

template <typename Choices>
std::string describe_choices(const Choices &values) {
  std::string out;
  for (const auto &value : values) out += std::string(out.empty() ? "" : ", ") + std::string(value);
  return "one of " + out;
}

template <typename Choices>
bool is_one_of(const char *value, const Choices &values) {
  for (const auto &candidate : values)
    if (std::string_view(candidate) == value) return true;
  return false;
}

const char *string_value(JsonNode *node) {
  if (!node || !JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_STRING)
    return nullptr;
  return json_node_get_string(node);
}

}  // namespace

JsonNode *Fields::member(const char *name) {
  JsonNode *node = json_object_get_member(object_, name);
  if (node) seen_.insert(name);
  return node;
}

bool Fields::check_length(const char *name, const char *value, size_t min_length, size_t max_length) {
  size_t length = g_utf8_strlen(value, -1);
  if (length < min_length || length > max_length) {
    errors_.push_back({name, min_length == max_length
                                 ? "must be " + std::to_string(min_length) + " characters"
                                 : "must be " + std::to_string(min_length) + " to " +
                                       std::to_string(max_length) + " characters long"});
    return false;
  }
  return true;
}

JsonNode *Fields::object(const char *name) {
  JsonNode *node = member(name);
  if (!node) return nullptr;
  if (!JSON_NODE_HOLDS_OBJECT(node)) {
    errors_.push_back({name, "must be an object"});
    return nullptr;
  }
  return json_node_ref(node);
}

std::optional<bool> Fields::boolean(const char *name) {
  JsonNode *node = member(name);
  if (!node) return std::nullopt;
  if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_BOOLEAN) {
    errors_.push_back({name, "must be true or false"});
    return std::nullopt;
  }
  return json_node_get_boolean(node);
}

std::optional<std::string> Fields::string(const char *name, size_t min_length, size_t max_length,
                                          bool required) {
  JsonNode *node = member(name);
  if (!node) {
    if (required) errors_.push_back({name, "is required"});
    return std::nullopt;
  }
  const char *value = string_value(node);
  if (!value) {
    errors_.push_back({name, "must be a string"});
    return std::nullopt;
  }
  if (!check_length(name, value, min_length, max_length)) return std::nullopt;
  return std::string(value);
}

std::optional<std::string> Fields::one_of(const char *name, std::initializer_list<const char *> values,
                                          bool required) {
  return one_of_choices(name, values, required);
}

std::optional<std::string> Fields::one_of(const char *name, const std::vector<std::string> &values,
                                          bool required) {
  return one_of_choices(name, values, required);
}

template <typename Choices>
std::optional<std::string> Fields::one_of_choices(const char *name, const Choices &values, bool required) {
  JsonNode *node = member(name);
  if (!node) {
    if (required) errors_.push_back({name, "is required"});
    return std::nullopt;
  }
  const char *value = string_value(node);
  if (!value || !is_one_of(value, values)) {
    errors_.push_back({name, "must be " + describe_choices(values)});
    return std::nullopt;
  }
  return std::string(value);
}

std::optional<std::string> Fields::uuid_or_null(const char *name) {
  JsonNode *node = member(name);
  if (!node || JSON_NODE_HOLDS_NULL(node)) return std::nullopt;
  const char *value = string_value(node);
  if (!value || !g_uuid_string_is_valid(value)) {
    errors_.push_back({name, "must be a UUID or null"});
    return std::nullopt;
  }
  return std::string(value);
}

std::optional<int64_t> Fields::integer_or_null(const char *name, int64_t minimum) {
  JsonNode *node = member(name);
  if (!node || JSON_NODE_HOLDS_NULL(node)) return std::nullopt;
  if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_INT64) {
    errors_.push_back({name, "must be an integer or null"});
    return std::nullopt;
  }
  int64_t value = json_node_get_int(node);
  if (value < minimum) {
    errors_.push_back({name, "must be at least " + std::to_string(minimum)});
    return std::nullopt;
  }
  return value;
}

std::optional<double> Fields::any_number(const char *name, bool required) {
  JsonNode *node = member(name);
  if (!node) {
    if (required) errors_.push_back({name, "is required"});
    return std::nullopt;
  }
  GType type = JSON_NODE_HOLDS_VALUE(node) ? json_node_get_value_type(node) : G_TYPE_INVALID;
  if (type != G_TYPE_INT64 && type != G_TYPE_DOUBLE) {
    errors_.push_back({name, "must be a number"});
    return std::nullopt;
  }
  return type == G_TYPE_INT64 ? double(json_node_get_int(node)) : json_node_get_double(node);
}

std::optional<double> Fields::number(const char *name, double above, double maximum, bool required) {
  std::optional<double> number = any_number(name, required);
  if (!number) return std::nullopt;
  double value = *number;
  if (!(value > above) || value > maximum) {
    gchar low[G_ASCII_DTOSTR_BUF_SIZE], high[G_ASCII_DTOSTR_BUF_SIZE];
    errors_.push_back({name, std::string("must be above ") + g_ascii_dtostr(low, sizeof low, above) +
                                 " and at most " + g_ascii_dtostr(high, sizeof high, maximum)});
    return std::nullopt;
  }
  return value;
}

std::optional<double> Fields::number_in(const char *name, double minimum, double maximum, bool required) {
  std::optional<double> number = any_number(name, required);
  if (!number) return std::nullopt;
  double value = *number;
  if (!(value >= minimum) || value > maximum) {
    gchar low[G_ASCII_DTOSTR_BUF_SIZE], high[G_ASCII_DTOSTR_BUF_SIZE];
    errors_.push_back({name, std::string("must be from ") + g_ascii_dtostr(low, sizeof low, minimum) +
                                 " to " + g_ascii_dtostr(high, sizeof high, maximum)});
    return std::nullopt;
  }
  return value;
}

std::optional<int64_t> Fields::integer(const char *name, int64_t minimum, int64_t maximum, bool required) {
  JsonNode *node = member(name);
  if (!node) {
    if (required) errors_.push_back({name, "is required"});
    return std::nullopt;
  }
  if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_INT64) {
    errors_.push_back({name, "must be an integer"});
    return std::nullopt;
  }
  int64_t value = json_node_get_int(node);
  if (value < minimum || value > maximum) {
    errors_.push_back({name, "must be from " + std::to_string(minimum) + " to " + std::to_string(maximum)});
    return std::nullopt;
  }
  return value;
}

std::optional<std::vector<std::string>> Fields::strings(const char *name, size_t max_items, size_t min_length,
                                                        size_t max_length) {
  JsonNode *node = member(name);
  if (!node) return std::nullopt;
  if (!JSON_NODE_HOLDS_ARRAY(node)) {
    errors_.push_back({name, "must be an array of strings"});
    return std::nullopt;
  }
  JsonArray *array = json_node_get_array(node);
  guint count = json_array_get_length(array);
  if (count > max_items) {
    errors_.push_back({name, "must have at most " + std::to_string(max_items) + " items"});
    return std::nullopt;
  }
  std::vector<std::string> out;
  bool ok = true;
  for (guint i = 0; i < count; i++) {
    std::string item_name = std::string(name) + "[" + std::to_string(i) + "]";
    const char *value = string_value(json_array_get_element(array, i));
    if (!value) {
      errors_.push_back({item_name, "must be a string"});
      ok = false;
    } else if (check_length(item_name.c_str(), value, min_length, max_length)) {
      out.emplace_back(value);
    } else {
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return out;
}

bool Fields::finish() {
  GList *members = json_object_get_members(object_);
  for (GList *item = members; item; item = item->next) {
    const char *name = static_cast<const char *>(item->data);
    if (!seen_.count(name)) errors_.push_back({name, "is not a known field"});
  }
  g_list_free(members);
  return errors_.empty();
}

std::optional<std::string> QueryFields::text(const char *name) {
  auto found = query_.find(name);
  if (found == query_.end()) return std::nullopt;
  seen_.insert(name);
  return found->second;
}

std::optional<std::string> QueryFields::one_of(const char *name, std::initializer_list<const char *> values) {
  std::optional<std::string> value = text(name);
  if (value && !is_one_of(value->c_str(), values)) {
    fail(name, "must be " + describe_choices(values));
    return std::nullopt;
  }
  return value;
}

std::optional<std::string> QueryFields::uuid(const char *name) {
  std::optional<std::string> value = text(name);
  if (value && !g_uuid_string_is_valid(value->c_str())) {
    fail(name, "must be a UUID");
    return std::nullopt;
  }
  return value;
}

std::optional<store::Cursor> QueryFields::cursor(const char *name, const std::string &kind) {
  std::optional<std::string> value = text(name);
  if (!value) return std::nullopt;
  std::optional<store::Cursor> cursor = store::Cursor::decode(*value, kind);
  if (!cursor) fail(name, "is not a cursor of this list");
  return cursor;
}

int64_t QueryFields::integer(const char *name, int64_t fallback, int64_t minimum, int64_t maximum) {
  std::optional<std::string> value = text(name);
  if (!value) return fallback;
  char *end = nullptr;
  errno = 0;
  long long parsed = strtoll(value->c_str(), &end, 10);
  if (value->empty() || *end || errno || parsed < minimum || parsed > maximum) {
    fail(name, "must be an integer from " + std::to_string(minimum) + " to " + std::to_string(maximum));
    return fallback;
  }
  return parsed;
}

bool QueryFields::finish() {
  for (const auto &[name, value] : query_)
    if (!seen_.count(name)) errors_.push_back({name, "is not a known parameter"});
  return errors_.empty();
}

}  // namespace onair::http
