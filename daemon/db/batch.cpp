/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "db/batch.h"

#include "db/connection.h"

#include <algorithm>
#include <iterator>

namespace onair::db {

BatchInserter::BatchInserter(Database &database, const Statement &statement, size_t columns,
                             BatchOptions options)
    : database_(database), statement_(statement), columns_(columns), options_(options) {
  if (options_.max_rows < 1) options_.max_rows = 1;
  if (options_.max_in_flight < 1) options_.max_in_flight = 1;
  /* Default priority, not idle: under a steady load of requests an idle
   * source could wait long; this one runs in the same loop iteration as the
   * requests that queued rows, after them. */
  flush_trigger_ = std::make_unique<detail::Trigger>(database_.context(), [this] { flush(); });
}

BatchInserter::~BatchInserter() {
  alive_.reset();
  flush_trigger_.reset();
}

Ticket BatchInserter::insert(Params row, QueryCallback done) {
  auto completion = std::make_shared<detail::Completion>();
  completion->on_result = std::move(done);
  Ticket ticket(completion);
  Error error;
  if (row.size() != columns_)
    error = Error::make_client("a row of " + std::to_string(row.size()) + " values for the " +
                               std::to_string(columns_) + " columns of \"" + statement_.name + "\"");
  else if (!database_.available())
    error = Error::make_unavailable("database unavailable" +
                                    (database_.last_error().empty() ? "" : ": " + database_.last_error()));
  else if (pending_.size() >= options_.max_pending)
    error = Error::make_unavailable("too many rows waiting to be inserted");
  if (error) {
    database_.post([completion, error] { completion->deliver(TransactionResult(error, {})); });
    return ticket;
  }
  pending_.push_back(Row{std::move(row), std::move(completion), g_get_monotonic_time()});
  if (in_flight_ < options_.max_in_flight) flush_trigger_->fire();
  return ticket;
}

void BatchInserter::flush() {
  while (in_flight_ < options_.max_in_flight && !pending_.empty()) {
    std::vector<Row> rows;
    while (!pending_.empty() && rows.size() < options_.max_rows) {
      Row row = std::move(pending_.front());
      pending_.pop_front();
      if (row.completion->wanted()) rows.push_back(std::move(row));
    }
    if (!rows.empty()) run(std::move(rows));
  }
}

void BatchInserter::run(std::vector<Row> rows) {
  /* The batch gets what is left of its oldest row's time. */
  QueryOptions query = options_.query;
  std::chrono::milliseconds timeout =
      query.timeout.count() ? query.timeout : database_.options().query_timeout;
  if (timeout.count() > 0) {
    gint64 oldest = rows.front().submitted;
    for (const Row &row : rows) oldest = std::min(oldest, row.submitted);
    gint64 left_ms = timeout.count() - (g_get_monotonic_time() - oldest) / 1000;
    if (left_ms <= 0) {
      Error error = Error::make_unavailable("timed out waiting for a database connection");
      for (const Row &row : rows) fail(row, error);
      return;
    }
    query.timeout = std::chrono::milliseconds(left_ms);
  }
  /* One array per column: the statement unnests them into rows. */
  Params arrays;
  arrays.reserve(columns_);
  std::vector<Param> column;
  for (size_t c = 0; c < columns_; c++) {
    column.clear();
    for (const Row &row : rows) column.push_back(row.values[c]);
    arrays.push_back(Param::array(column));
  }
  in_flight_++;
  stats_.batches++;
  stats_.rows += rows.size();
  stats_.largest = std::max(stats_.largest, rows.size());
  std::weak_ptr<char> alive = alive_;
  auto batch = std::make_shared<std::vector<Row>>(std::move(rows));
  database_.query(
      statement_, std::move(arrays),
      [this, alive, batch](const Result &result) {
        if (!alive.expired()) done(std::move(*batch), result);
      },
      query);
}

void BatchInserter::fail(const Row &row, const Error &error) {
  row.completion->deliver(TransactionResult(error, {}));
}

void BatchInserter::done(std::vector<Row> rows, const Result &result) {
  in_flight_--;
  if (!result.ok() && options_.split_on_data_error && result.error().data_error() && rows.size() > 1) {
    /* Nothing of the batch was committed: retry the halves to find the rows at fault. */
    stats_.splits++;
    auto middle = rows.begin() + std::ptrdiff_t(rows.size() / 2);
    std::vector<Row> first(std::make_move_iterator(rows.begin()), std::make_move_iterator(middle));
    std::vector<Row> second(std::make_move_iterator(middle), std::make_move_iterator(rows.end()));
    run(std::move(first));
    run(std::move(second));
    return;
  }

  /* Start the next batch before answering this one: the server works on it
   * while the callbacks run. */
  flush();

  std::weak_ptr<char> alive = alive_;
  if (!result.ok()) {
    for (const Row &row : rows) {
      fail(row, result.error());
      if (alive.expired()) return;
    }
    return;
  }

  const int count = int(rows.size());
  std::vector<int> result_row(rows.size(), -1);
  bool matched = true;
  if (result.has_column("ord")) {
    for (int r = 0; r < result.rows() && matched; r++) {
      int64_t ord = result.int64(r, "ord") - 1;
      if (ord < 0 || ord >= count || result_row[size_t(ord)] >= 0)
        matched = false;
      else
        result_row[size_t(ord)] = r;
    }
    for (int r : result_row) matched = matched && r >= 0;
  } else if (result.rows() == count) {
    for (int r = 0; r < count; r++) result_row[size_t(r)] = r;
  } else {
    matched = false;
  }
  if (!matched) {
    Error error = Error::make_client(std::string("the batch statement \"") + statement_.name +
                                     "\" returned " + std::to_string(result.rows()) + " rows for " +
                                     std::to_string(count) + " inputs, or an \"ord\" that matches none");
    for (const Row &row : rows) {
      fail(row, error);
      if (alive.expired()) return;
    }
    return;
  }
  for (size_t i = 0; i < rows.size(); i++) {
    rows[i].completion->deliver(TransactionResult(Error(), {result.slice(result_row[i], 1)}));
    if (alive.expired()) return;
  }
}

}  // namespace onair::db
