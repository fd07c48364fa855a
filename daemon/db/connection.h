/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Internal to the database layer: one libpq connection driven from a
 * GMainContext, and the small GSource helpers it uses.
 */
#pragma once

#include "db/database.h"

#include <glib.h>
#include <libpq-fe.h>

#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

namespace onair::db::detail {

/* The caller's side of a job; Ticket::cancel() clears it. */
struct Completion {
  QueryCallback on_result;
  TransactionCallback on_transaction;
  bool finished = false;

  bool wanted() const { return !finished && (on_result || on_transaction); }
  void cancel() {
    finished = true;
    on_result = nullptr;
    on_transaction = nullptr;
  }
  /* Calls the callback once, moved out first so that what it captured is
   * released when it returns. */
  void deliver(const TransactionResult &outcome);
};

struct Job {
  std::vector<Command> commands;
  bool transaction = false;
  std::shared_ptr<Completion> completion;
  gint64 deadline = 0; /* g_get_monotonic_time() µs; 0: none */
  gint64 submitted = g_get_monotonic_time();
  bool cancelled() const { return !completion->wanted(); }
};

/* A GSource that calls a function on the next iteration after fire(). */
class Trigger {
 public:
  Trigger(GMainContext *context, std::function<void()> function, int priority = G_PRIORITY_DEFAULT);
  ~Trigger();
  Trigger(const Trigger &) = delete;
  Trigger &operator=(const Trigger &) = delete;
  void fire();

 private:
  static gboolean dispatch(GSource *source, GSourceFunc, gpointer);
  struct Source;
  Source *source_;
  std::function<void()> function_;
};

/* One socket watched on a GMainContext, its events changeable in place. */
class FdWatch {
 public:
  FdWatch(GMainContext *context, std::function<void(GIOCondition)> function);
  ~FdWatch();
  FdWatch(const FdWatch &) = delete;
  FdWatch &operator=(const FdWatch &) = delete;
  /* Watches `fd` for `events` (replacing a previous fd). */
  void watch(int fd, GIOCondition events);
  void stop();

 private:
  static gboolean dispatch(GSource *source, GSourceFunc, gpointer);
  struct Source;
  Source *source_;
  gpointer tag_ = nullptr;
  int fd_ = -1;
  GIOCondition events_ = GIOCondition(0);
  std::function<void(GIOCondition)> function_;
};

class Connection {
 public:
  enum class State { idle, connecting, ready, busy, closed };

  Connection(Database &owner, int index);
  ~Connection();
  Connection(const Connection &) = delete;
  Connection &operator=(const Connection &) = delete;

  /* Connects now (from idle). */
  void start();
  /* Runs a job; the connection must be ready. */
  void run(std::shared_ptr<Job> job);
  /* Drops the connection: the running job fails with `error`; reconnects after a back-off. */
  void drop(const Error &error);
  /* Closes for good, without reconnecting; returns the running job, unreported. */
  std::shared_ptr<Job> close();

  State state() const { return state_; }
  bool connected() const { return state_ == State::ready || state_ == State::busy; }
  const Job *job() const { return job_.get(); }
  bool attempted() const { return attempts_ > 0 || connected(); }

 private:
  enum class StepKind { begin, execute, commit, rollback };
  struct Step {
    StepKind kind;
    size_t command = 0;
  };

  void on_socket(GIOCondition condition);
  void poll_connect();
  void on_connected();
  void connect_failed(const std::string &message);
  void schedule_reconnect();
  void arm_timer(int milliseconds, gboolean (*function)(gpointer));
  void clear_timer();
  void teardown();

  void send_step();
  bool flush();
  void read_results();
  void complete_step();
  void fail_step(const Error &error);
  void next_step();
  void finish(const Error &failure);
  Error lost(const std::string &message) const;

  Database &owner_;
  int index_;
  State state_ = State::idle;
  PGconn *conn_ = nullptr;
  FdWatch watch_;
  GSource *timer_ = nullptr;
  int attempts_ = 0;
  std::unordered_set<std::string> prepared_;

  std::shared_ptr<Job> job_;
  std::vector<Step> steps_;
  size_t step_ = 0;
  bool preparing_ = false;
  bool begun_ = false;
  std::vector<std::shared_ptr<PGresult>> step_results_;
  std::vector<Result> results_;
  Error error_;
};

}  // namespace onair::db::detail
