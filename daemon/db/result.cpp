/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "db/result.h"

#include <glib.h>

#include <cmath>
#include <cstdlib>

namespace onair::db {

namespace {

std::string field(const PGresult *result, int code) {
  const char *value = PQresultErrorField(result, code);
  return value ? value : "";
}

std::string trimmed(const char *text) {
  std::string out = text ? text : "";
  while (!out.empty() && g_ascii_isspace(out.back())) out.pop_back();
  return out;
}

}  // namespace

bool Error::data_error() const {
  return kind == Kind::server && (sqlstate.rfind("22", 0) == 0 || sqlstate.rfind("23", 0) == 0);
}

std::string Error::describe() const {
  std::string out;
  if (!sqlstate.empty()) out = "SQLSTATE " + sqlstate + ": ";
  out += message;
  if (!detail.empty()) out += " (" + detail + ")";
  return out;
}

Error Error::make_unavailable(std::string message) {
  Error error;
  error.kind = Kind::unavailable;
  error.message = std::move(message);
  return error;
}

Error Error::make_client(std::string message) {
  Error error;
  error.kind = Kind::client;
  error.message = std::move(message);
  return error;
}

Error Error::from_result(const PGresult *result, PGconn *connection) {
  Error error;
  error.kind = Kind::server;
  if (result) {
    error.sqlstate = field(result, PG_DIAG_SQLSTATE);
    error.message = field(result, PG_DIAG_MESSAGE_PRIMARY);
    error.detail = field(result, PG_DIAG_MESSAGE_DETAIL);
    error.constraint = field(result, PG_DIAG_CONSTRAINT_NAME);
    error.table = field(result, PG_DIAG_TABLE_NAME);
    error.column = field(result, PG_DIAG_COLUMN_NAME);
    std::string position = field(result, PG_DIAG_STATEMENT_POSITION);
    if (!position.empty()) error.position = atoi(position.c_str());
    if (error.message.empty()) error.message = trimmed(PQresultErrorMessage(result));
  }
  if (error.message.empty() && connection) error.message = trimmed(PQerrorMessage(connection));
  if (error.message.empty()) error.message = "unknown error";
  /* Connection exceptions (class 08, but not 08P01, a protocol violation
   * caused by our own message) and operator intervention (57: admin or crash
   * shutdown, cannot connect now) mean the server is not there to answer. */
  bool connection_class = error.sqlstate.rfind("08", 0) == 0 && error.sqlstate != "08P01";
  bool shutdown_class = error.sqlstate.rfind("57P0", 0) == 0;
  bool broken = connection && PQstatus(connection) == CONNECTION_BAD;
  if (connection_class || shutdown_class || broken || (error.sqlstate.empty() && !result)) {
    error.kind = Kind::unavailable;
  }
  return error;
}

Result::Result(std::shared_ptr<PGresult> result) : result_(std::move(result)) {
  row_count_ = result_ ? PQntuples(result_.get()) : 0;
}

int Result::columns() const {
  return result_ ? PQnfields(result_.get()) : 0;
}

int Result::column(const char *name) const {
  return result_ ? PQfnumber(result_.get(), name) : -1;
}

int64_t Result::affected_rows() const {
  if (!result_) return 0;
  const char *count = PQcmdTuples(result_.get());
  return count && *count ? g_ascii_strtoll(count, nullptr, 10) : 0;
}

std::string_view Result::command() const {
  if (!result_) return {};
  const char *status = PQcmdStatus(result_.get());
  return status ? status : "";
}

int Result::checked_column(int row, const char *name) const {
  int index = column(name);
  if (index < 0) {
    g_critical("no column \"%s\" in the result", name);
    return -1;
  }
  if (row < 0 || row >= row_count_) {
    g_critical("row %d out of range (%d rows)", row, row_count_);
    return -1;
  }
  return index;
}

const char *Result::raw(int row, int column) const {
  if (column < 0 || PQgetisnull(result_.get(), first_row_ + row, column)) return nullptr;
  return PQgetvalue(result_.get(), first_row_ + row, column);
}

bool Result::is_null(int row, const char *column) const {
  return raw(row, checked_column(row, column)) == nullptr;
}

std::string_view Result::text(int row, const char *column) const {
  int index = checked_column(row, column);
  const char *value = raw(row, index);
  return value ? std::string_view(value, PQgetlength(result_.get(), first_row_ + row, index))
               : std::string_view();
}

std::optional<std::string> Result::optional_text(int row, const char *column) const {
  const char *value = raw(row, checked_column(row, column));
  if (!value) return std::nullopt;
  return std::string(value);
}

int64_t Result::int64(int row, const char *column, int64_t if_null) const {
  const char *value = raw(row, checked_column(row, column));
  return value ? g_ascii_strtoll(value, nullptr, 10) : if_null;
}

std::optional<int64_t> Result::optional_int64(int row, const char *column) const {
  const char *value = raw(row, checked_column(row, column));
  if (!value) return std::nullopt;
  return g_ascii_strtoll(value, nullptr, 10);
}

double Result::number(int row, const char *column, double if_null) const {
  const char *value = raw(row, checked_column(row, column));
  return value ? g_ascii_strtod(value, nullptr) : if_null;
}

bool Result::boolean(int row, const char *column, bool if_null) const {
  const char *value = raw(row, checked_column(row, column));
  return value ? value[0] == 't' : if_null;
}

namespace {

/* PostgreSQL prints timestamptz as "2026-01-02 03:04:05.123456+00" (ISO
 * DateStyle); GLib's ISO 8601 parser takes the space separator and the
 * hour-only offset. */
GDateTime *parse_timestamp(const char *value) {
  if (!value) return nullptr;
  GDateTime *parsed = g_date_time_new_from_iso8601(value, nullptr);
  if (!parsed) g_critical("cannot read \"%s\" as a timestamp", value);
  return parsed;
}

}  // namespace

int64_t Result::timestamp_us(int row, const char *column, int64_t if_null) const {
  GDateTime *parsed = parse_timestamp(raw(row, checked_column(row, column)));
  if (!parsed) return if_null;
  int64_t us = g_date_time_to_unix(parsed) * G_USEC_PER_SEC + g_date_time_get_microsecond(parsed);
  g_date_time_unref(parsed);
  return us;
}

std::string Result::timestamp_rfc3339(int row, const char *column) const {
  GDateTime *parsed = parse_timestamp(raw(row, checked_column(row, column)));
  if (!parsed) return {};
  GDateTime *utc = g_date_time_to_utc(parsed);
  g_date_time_unref(parsed);
  char *seconds = g_date_time_format(utc, "%Y-%m-%dT%H:%M:%S");
  char buffer[96];
  g_snprintf(buffer, sizeof buffer, "%s.%06dZ", seconds, g_date_time_get_microsecond(utc));
  g_free(seconds);
  g_date_time_unref(utc);
  return buffer;
}

JsonNode *Result::json(int row, const char *column) const {
  const char *value = raw(row, checked_column(row, column));
  if (!value) return nullptr;
  GError *error = nullptr;
  JsonNode *node = json_from_string(value, &error);
  if (!node) {
    g_critical("column \"%s\" is not JSON: %s", column, error ? error->message : "empty");
    g_clear_error(&error);
  }
  return node;
}

Result Result::slice(int first, int count) const {
  Result out = *this;
  if (first < 0 || count < 0 || first + count > row_count_) {
    g_critical("slice [%d, %d) out of range (%d rows)", first, first + count, row_count_);
    out.row_count_ = 0;
    return out;
  }
  out.first_row_ = first_row_ + first;
  out.row_count_ = count;
  return out;
}

Param::Param(double value) {
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];
  if (std::isnan(value))
    value_ = "NaN";
  else if (std::isinf(value))
    value_ = value > 0 ? "Infinity" : "-Infinity";
  else
    value_ = g_ascii_dtostr(buffer, sizeof buffer, value);
}

Param Param::array(const std::vector<Param> &elements) {
  /* Array input syntax: {"a","b\"c",NULL}; inside double quotes only the
   * double quote and the backslash need a backslash before them. */
  std::string literal = "{";
  for (size_t i = 0; i < elements.size(); i++) {
    if (i) literal += ',';
    const auto &element = elements[i].value();
    if (!element) {
      literal += "NULL";
      continue;
    }
    literal += '"';
    for (char c : *element) {
      if (c == '"' || c == '\\') literal += '\\';
      literal += c;
    }
    literal += '"';
  }
  literal += '}';
  return Param(std::move(literal));
}

Param Param::json(JsonNode *node) {
  if (!node) return Param(nullptr);
  char *text = json_to_string(node, FALSE);
  Param param{std::string(text)};
  g_free(text);
  return param;
}

Param Param::bytes(const void *data, size_t size) {
  static const char digits[] = "0123456789abcdef";
  std::string hex = "\\x";
  hex.reserve(2 + size * 2);
  auto *bytes = static_cast<const unsigned char *>(data);
  for (size_t i = 0; i < size; i++) {
    hex += digits[bytes[i] >> 4];
    hex += digits[bytes[i] & 15];
  }
  return Param(std::move(hex));
}

}  // namespace onair::db
