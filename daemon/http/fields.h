/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "http/router.h"
#include "store/common.h"

#include <json-glib/json-glib.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace onair::http {

/* Reads the members of a JSON object strictly: each getter checks type and
 * range and records a FieldError naming the member; finish() adds one for
 * every member no getter asked for. Lengths are in characters, as the
 * database's CHECK constraints count them. */
class Fields {
 public:
  explicit Fields(JsonNode *object) : object_(json_node_get_object(object)) {}

  /* Absent: nullopt (an error too when `required`). JSON null is refused. */
  std::optional<std::string> string(const char *name, size_t min_length, size_t max_length, bool required);
  std::optional<std::string> one_of(const char *name, std::initializer_list<const char *> values,
                                    bool required);
  std::optional<std::string> one_of(const char *name, const std::vector<std::string> &values, bool required);
  /* A UUID or null; absent and null both give nullopt. */
  std::optional<std::string> uuid_or_null(const char *name);
  /* An integer >= minimum, or null; absent and null both give nullopt. */
  std::optional<int64_t> integer_or_null(const char *name, int64_t minimum);
  /* A JSON number (integer or not) above `above` and at most `maximum`. */
  std::optional<double> number(const char *name, double above, double maximum, bool required);
  /* A JSON number from `minimum` to `maximum`, both included. */
  std::optional<double> number_in(const char *name, double minimum, double maximum, bool required);
  /* A JSON integer from `minimum` to `maximum`, both included. */
  std::optional<int64_t> integer(const char *name, int64_t minimum, int64_t maximum, bool required);
  std::optional<std::vector<std::string>> strings(const char *name, size_t max_items, size_t min_length,
                                                  size_t max_length);

  /* A JSON object (a new reference), absent: nullptr. */
  JsonNode *object(const char *name);
  std::optional<bool> boolean(const char *name);

  /* A member that passed its getter but breaks a rule of the caller's. */
  void fail(const char *name, const std::string &message) { errors_.push_back({name, message}); }

  /* Unknown members become errors; true when there is none at all. */
  bool finish();
  /* Members present (known ones). */
  size_t present() const { return seen_.size(); }
  const std::vector<FieldError> &errors() const { return errors_; }
  Problem problem() const { return {422, {}, "the body has invalid fields", errors_}; }

 private:
  JsonNode *member(const char *name);
  /* A JSON number (integer or not), before any range check. */
  std::optional<double> any_number(const char *name, bool required);
  bool check_length(const char *name, const char *value, size_t min_length, size_t max_length);
  /* Both one_of: a fixed list or a list known at run time (fields.cpp). */
  template <typename Choices>
  std::optional<std::string> one_of_choices(const char *name, const Choices &values, bool required);

  JsonObject *object_;
  std::set<std::string> seen_;
  std::vector<FieldError> errors_;
};

/* Query parameters, read the same way; errors are 400. */
class QueryFields {
 public:
  explicit QueryFields(const std::map<std::string, std::string> &query) : query_(query) {}

  std::optional<std::string> text(const char *name);
  std::optional<std::string> one_of(const char *name, std::initializer_list<const char *> values);
  std::optional<std::string> uuid(const char *name);
  /* A keyset cursor of the list `kind` (store::Cursor). */
  std::optional<store::Cursor> cursor(const char *name, const std::string &kind);
  int64_t integer(const char *name, int64_t fallback, int64_t minimum, int64_t maximum);
  void fail(const char *name, const std::string &message) { errors_.push_back({name, message}); }

  bool finish();
  Problem problem() const { return {400, {}, "invalid query parameters", errors_}; }

 private:
  const std::map<std::string, std::string> &query_;
  std::set<std::string> seen_;
  std::vector<FieldError> errors_;
};

}  // namespace onair::http
