/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "db/database.h"

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

namespace onair::db {

namespace detail {
class Trigger;
}

struct BatchOptions {
  /* Rows in one statement at most. */
  size_t max_rows = 1000;
  /* Batches running at once; rows that come meanwhile wait for the next one.
   * Keep it below the pool size so that other queries still get a connection. */
  int max_in_flight = 2;
  /* Rows waiting at most; beyond, insert() fails at once as unavailable. */
  size_t max_pending = 20000;
  /* When a batch fails with a data error (SQLSTATE class 22 or 23: a foreign
   * key, a CHECK, bad input), it is split in halves and each half retried, so
   * that only the offending rows fail. Any other failure fails every row. */
  bool split_on_data_error = true;
  /* The timeout counts from each row's insert(), time waiting for its batch
   * included. Zero: the pool's query_timeout. */
  QueryOptions query;
};

struct BatchStats {
  uint64_t rows = 0;
  uint64_t batches = 0;
  uint64_t splits = 0;
  size_t largest = 0;
};

/* Groups concurrent inserts of one kind into one statement: what a burst of
 * comment POSTs needs to reach tens of thousands of inserts per second.
 *
 * The statement takes one array parameter per column, the values of every row
 * of the batch in order, and returns one row per input row. When it returns
 * a column "ord" (the 1-based position of the input row) rows are matched by
 * it, otherwise by position. For example:
 *
 *   constexpr Statement insert_comments{"insert_comments", R"(
 *     WITH input AS (
 *       SELECT onair_uuid_v7() AS id, t.*
 *       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bigint[])
 *            WITH ORDINALITY AS t(video_id, author, body, media_time_ms, ord)),
 *     inserted AS (
 *       INSERT INTO comments (id, video_id, author, body, media_time_ms)
 *       SELECT id, video_id, author, body, media_time_ms FROM input
 *       RETURNING id, created_at)
 *     SELECT input.ord, inserted.* FROM inserted JOIN input USING (id))"};
 *
 *   BatchInserter comments(db, insert_comments, 4);
 *   comments.insert({video_id, author, body, nullptr}, [](const Result &row) { ... });
 *
 * Each caller's callback gets a Result holding its own row, and runs only
 * after the statement's transaction committed; when it did not, every caller
 * of the batch gets the error (see split_on_data_error). One statement is one
 * transaction: there is never a partial batch.
 *
 * A batch is sent as soon as the main loop is idle and fewer than
 * max_in_flight batches run, so a lone insert waits for no timer. Destroy the
 * inserter before the Database; destroying it drops the callbacks pending. */
class BatchInserter {
 public:
  BatchInserter(Database &database, const Statement &statement, size_t columns, BatchOptions options = {});
  ~BatchInserter();
  BatchInserter(const BatchInserter &) = delete;
  BatchInserter &operator=(const BatchInserter &) = delete;

  /* Queues one row (one value per column). A cancelled row that has not been
   * sent yet is never inserted; once sent, it may be. */
  Ticket insert(Params row, QueryCallback done);

  size_t pending() const { return pending_.size(); }
  int in_flight() const { return in_flight_; }
  const BatchStats &stats() const { return stats_; }

 private:
  struct Row {
    Params values;
    std::shared_ptr<detail::Completion> completion;
    gint64 submitted = 0;
  };

  void flush();
  void run(std::vector<Row> rows);
  void done(std::vector<Row> rows, const Result &result);
  void fail(const Row &row, const Error &error);

  Database &database_;
  const Statement &statement_;
  size_t columns_;
  BatchOptions options_;
  std::deque<Row> pending_;
  std::unique_ptr<detail::Trigger> flush_trigger_;
  int in_flight_ = 0;
  BatchStats stats_;
  std::shared_ptr<char> alive_ = std::make_shared<char>();
};

}  // namespace onair::db
