/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <libpq-fe.h>
#include <json-glib/json-glib.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace onair::db {

/* Why a query or transaction did not succeed. */
struct Error {
  enum class Kind {
    none,
    /* No answer from the server: it is down or unreachable, the connection
     * broke, the query timed out, the queue is full or the pool is closed.
     * The HTTP layer answers 503 with Retry-After. Whether a write that
     * fails this way was committed is unknown (it may have been). */
    unavailable,
    /* The server refused the statement: `sqlstate` says why (23505 unique
     * violation, 23503 foreign key, 23514 check, 22P02 bad input, ...). */
    server,
    /* The caller misused the API (a statement name used with two texts, a
     * batch statement that returned the wrong rows, ...): a bug. */
    client,
  };

  Kind kind = Kind::none;
  std::string message;
  std::string sqlstate;   /* five characters, or empty */
  std::string detail;     /* server errors: more about the cause, if given */
  std::string constraint; /* the constraint violated, if any: maps to the field at fault */
  std::string table;
  std::string column;
  int position = 0; /* 1-based character position in the statement, 0 if unknown */

  explicit operator bool() const { return kind != Kind::none; }
  bool unavailable() const { return kind == Kind::unavailable; }
  /* A class 22 (data exception) or 23 (integrity constraint) error: the
   * values were at fault, not the server. */
  bool data_error() const;
  /* "SQLSTATE 23505: message (detail)", for logs. */
  std::string describe() const;

  static Error make_unavailable(std::string message);
  static Error make_client(std::string message);
  /* From an error result; a broken connection or a server shutting down
   * (classes 08 and 57) gives `unavailable`. */
  static Error from_result(const PGresult *result, PGconn *connection);
};

/* The rows of one statement in text format, shared cheaply between copies.
 * Getters take a row index (0-based) and a column name; asking for a column
 * the statement does not return logs a critical warning and gives the
 * empty value. Timestamps are read in UTC (the pool sets TimeZone=UTC). */
class Result {
 public:
  Result() = default;
  explicit Result(Error error) : error_(std::move(error)) {}
  explicit Result(std::shared_ptr<PGresult> result);

  bool ok() const { return !error_; }
  bool unavailable() const { return error_.unavailable(); }
  const Error &error() const { return error_; }

  int rows() const { return row_count_; }
  int columns() const;
  /* The index of a column, or -1. */
  int column(const char *name) const;
  bool has_column(const char *name) const { return column(name) >= 0; }
  /* Rows changed by an INSERT/UPDATE/DELETE (PQcmdTuples). */
  int64_t affected_rows() const;
  /* The command tag: "INSERT 0 3", "SELECT 1", ... */
  std::string_view command() const;

  bool is_null(int row, const char *column) const;
  /* The text of a value; empty when NULL. Valid while a copy of this Result lives. */
  std::string_view text(int row, const char *column) const;
  std::optional<std::string> optional_text(int row, const char *column) const;
  int64_t int64(int row, const char *column, int64_t if_null = 0) const;
  std::optional<int64_t> optional_int64(int row, const char *column) const;
  double number(int row, const char *column, double if_null = 0) const;
  bool boolean(int row, const char *column, bool if_null = false) const;
  /* timestamptz as microseconds since the Unix epoch; `if_null` when NULL. */
  int64_t timestamp_us(int row, const char *column, int64_t if_null = 0) const;
  /* timestamptz as RFC 3339 in UTC ("2026-01-02T03:04:05.123456Z"); empty when NULL. */
  std::string timestamp_rfc3339(int row, const char *column) const;
  /* A json/jsonb value parsed by json-glib (caller owns it); nullptr when NULL. */
  JsonNode *json(int row, const char *column) const;

  /* The same rows, restricted to [first, first + count): how the batch
   * inserter hands each caller its own row. */
  Result slice(int first, int count) const;

 private:
  int checked_column(int row, const char *name) const;
  const char *raw(int row, int column) const;

  Error error_;
  std::shared_ptr<PGresult> result_;
  int first_row_ = 0;
  int row_count_ = 0;
};

/* The outcome of a transaction: one Result per command, in order, when it
 * committed; otherwise the error (and the results of the commands that ran
 * before the failing one, for diagnostics only: nothing was committed). */
class TransactionResult {
 public:
  TransactionResult() = default;
  TransactionResult(Error error, std::vector<Result> results)
      : error_(std::move(error)), results_(std::move(results)) {}

  bool ok() const { return !error_; }
  bool unavailable() const { return error_.unavailable(); }
  const Error &error() const { return error_; }
  size_t size() const { return results_.size(); }
  const Result &operator[](size_t index) const { return results_.at(index); }
  const std::vector<Result> &results() const { return results_; }

 private:
  Error error_;
  std::vector<Result> results_;
};

/* A statement parameter in text format; std::nullopt is SQL NULL. */
class Param {
 public:
  Param(std::nullptr_t) {}
  Param(std::nullopt_t) {}
  Param(const char *text) : value_(text ? std::optional<std::string>(text) : std::nullopt) {}
  Param(std::string text) : value_(std::move(text)) {}
  Param(std::string_view text) : value_(std::string(text)) {}
  Param(int value) : value_(std::to_string(value)) {}
  Param(long value) : value_(std::to_string(value)) {}
  Param(long long value) : value_(std::to_string(value)) {}
  Param(unsigned value) : value_(std::to_string(value)) {}
  Param(unsigned long value) : value_(std::to_string(value)) {}
  Param(double value);
  Param(bool value) : value_(value ? "true" : "false") {}
  template <typename T>
  Param(const std::optional<T> &value) {
    if (value) *this = Param(*value);
  }

  /* A text[] (or any array) literal: every element quoted, NULLs kept. */
  static Param array(const std::vector<Param> &elements);
  /* A json/jsonb value serialized by json-glib. */
  static Param json(JsonNode *node);
  /* bytea in hex format ("\x..."). */
  static Param bytes(const void *data, size_t size);

  bool is_null() const { return !value_; }
  const std::optional<std::string> &value() const { return value_; }

 private:
  std::optional<std::string> value_;
};

using Params = std::vector<Param>;

}  // namespace onair::db
