/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "db/result.h"

#include <glib.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace onair::db {

/* A named prepared statement, defined once at namespace scope:
 *
 *   constexpr Statement insert_comment{"insert_comment",
 *       "INSERT INTO comments (video_id, author, body) VALUES ($1, $2, $3) RETURNING id, created_at"};
 *
 * Each connection prepares it the first time it runs it, and again after a
 * reconnect. Two statements with one name and different texts are a bug
 * reported as a client error. */
struct Statement {
  const char *name;
  const char *sql;
};

/* One command of a transaction. */
struct Command {
  /* A prepared statement with its parameters. */
  static Command prepared(const Statement &statement, Params params);
  /* SQL text sent as is through the simple protocol: it may hold several
   * statements but no parameters. For trusted text only (migration files,
   * tests), never for anything a client sent. */
  static Command script(std::string sql);

  const Statement *statement = nullptr;
  std::string sql;
  Params params;
};

using QueryCallback = std::function<void(const Result &)>;
using TransactionCallback = std::function<void(const TransactionResult &)>;

namespace detail {
struct Completion;
struct Job;
class Connection;
class Trigger;
}  // namespace detail

/* The caller's handle on a submitted query. cancel() (e.g. when the HTTP
 * client went away) drops the callback at once, with everything it
 * captured; the callback will not be called. A query already sent still runs
 * to its end on the server (a write may be committed); a queued one is never
 * sent. Cancelling twice, or after the callback ran, does nothing. */
class Ticket {
 public:
  Ticket() = default;
  void cancel();
  /* The callback is still to come. */
  bool pending() const;

 private:
  friend class Database;
  friend class BatchInserter;
  explicit Ticket(std::weak_ptr<detail::Completion> completion) : completion_(std::move(completion)) {}
  std::weak_ptr<detail::Completion> completion_;
};

struct QueryOptions {
  /* From submission to the answer, waiting in the queue included. Zero: the
   * pool's query_timeout; negative: no limit (migrations). A query that runs
   * out of time fails as unavailable and its connection is reset, which also
   * ends the query on the server. */
  std::chrono::milliseconds timeout{0};
};

struct DatabaseOptions {
  /* A libpq connection string or URI ("postgresql:///onair?host=/run/x"). */
  std::string uri;
  int pool_size = 4;
  /* Jobs waiting for a connection; beyond this a job fails at once as
   * unavailable rather than waiting without bound. */
  size_t max_queue = 4096;
  /* The default QueryOptions::timeout. Zero: none. */
  std::chrono::milliseconds query_timeout{10000};
  /* libpq's connect_timeout does not apply to non-blocking connects. Zero: none. */
  std::chrono::milliseconds connect_timeout{5000};
  /* Reconnect delays double from min to max (with jitter) while the server stays away. */
  std::chrono::milliseconds reconnect_min{100};
  std::chrono::milliseconds reconnect_max{2000};
  std::string application_name = "onaird";
  /* Where every callback runs; nullptr: the thread-default context when the Database is made. */
  GMainContext *context = nullptr;
};

struct DatabaseStats {
  int connections = 0;
  int connected = 0;
  int busy = 0;
  size_t queued = 0;
  uint64_t succeeded = 0;
  uint64_t failed = 0;
  uint64_t unavailable = 0;
  uint64_t connects = 0;
};

/* One finished job (a query or a transaction), as told to an observer:
 * `seconds` from submission to the result, waiting in the queue included. */
struct JobReport {
  double seconds = 0;
  bool ok = false;
};
using JobObserver = std::function<void(const JobReport &)>;

/* A pool of PostgreSQL connections driven without blocking from one
 * GMainContext: libpq in non-blocking mode, each socket watched by the main
 * loop, each connection running one job (a query or a transaction) at a time,
 * a bounded queue in front.
 *
 * Everything happens on the context's thread: call every method from there,
 * callbacks run there, never from inside the call that submitted them.
 *
 * Success is only reported once the server has committed: a query's result is
 * delivered after the server said it is ready for the next query (the
 * statement's implicit transaction ended), a transaction's after COMMIT
 * returned. A server that is down, a broken connection or a timeout gives
 * Error::Kind::unavailable; while no connection is up, jobs fail at once
 * instead of queueing. Broken connections reconnect with exponential
 * back-off.
 *
 * Destroying the Database drops the callbacks still pending without calling
 * them (a callback may destroy it). */
class Database {
 public:
  explicit Database(DatabaseOptions options);
  ~Database();
  Database(const Database &) = delete;
  Database &operator=(const Database &) = delete;

  /* Starts connecting. `ready` is called once: without error when the first
   * connection is up, or with the error of the failed attempts when every
   * connection failed its first try. The pool goes on retrying either way. */
  void open(std::function<void(const Error &)> ready = {});

  /* Runs one prepared statement in its own implicit transaction. */
  Ticket query(const Statement &statement, Params params, QueryCallback done, QueryOptions options = {});

  /* Runs the commands in order between BEGIN and COMMIT on one connection.
   * The first failing command rolls everything back and fails the whole. */
  Ticket transaction(std::vector<Command> commands, TransactionCallback done, QueryOptions options = {});

  /* A connection is up: submitted jobs will be run (or wait in the queue). */
  bool available() const;
  /* The last connection error, for logs and 503 bodies. */
  const std::string &last_error() const { return last_error_; }

  /* Fails queued and running jobs as unavailable (their callbacks still
   * run, on the next main-loop iteration) and closes every connection. */
  void close();

  /* Runs `function` on the context soon, unless the Database is destroyed first. */
  void post(std::function<void()> function);

  DatabaseStats stats() const;
  /* Called on the context for every job that ends, cancelled ones too (e.g.
   * to feed metrics); empty: none. */
  void set_observer(JobObserver observer) { observer_ = std::move(observer); }
  GMainContext *context() const { return context_; }
  const DatabaseOptions &options() const { return options_; }

 private:
  friend class detail::Connection;

  Ticket submit(std::shared_ptr<detail::Job> job);
  void fail_job(const std::shared_ptr<detail::Job> &job, const Error &error);
  void finish_job(std::shared_ptr<detail::Job> job, TransactionResult outcome);
  void dispatch();
  void check_deadlines();
  void run_posted();
  void ensure_deadline_timer();
  bool statement_conflicts(const Statement &statement, Error *error);

  /* Called by the connections. */
  void connection_up(detail::Connection &connection);
  void connection_down(detail::Connection &connection, const Error &error, std::shared_ptr<detail::Job> job);
  void job_done(detail::Connection &connection, std::shared_ptr<detail::Job> job, TransactionResult outcome);

  DatabaseOptions options_;
  GMainContext *context_;
  std::vector<std::unique_ptr<detail::Connection>> connections_;
  std::deque<std::shared_ptr<detail::Job>> queue_;
  std::deque<std::function<void()>> posted_;
  std::unique_ptr<detail::Trigger> posted_trigger_;
  GSource *deadline_timer_ = nullptr;
  std::function<void(const Error &)> ready_;
  std::unordered_map<std::string, const char *> statement_texts_;
  std::string last_error_;
  std::shared_ptr<char> alive_ = std::make_shared<char>();
  bool opened_ = false;
  bool closed_ = false;
  bool dispatching_ = false;
  bool dispatch_again_ = false;
  bool reported_down_ = false;
  DatabaseStats stats_;
  JobObserver observer_;
};

}  // namespace onair::db
