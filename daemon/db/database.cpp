/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "db/database.h"

#include "db/connection.h"

#include <cstring>

namespace onair::db {

using detail::Completion;
using detail::Connection;
using detail::Job;

Command Command::prepared(const Statement &statement, Params params) {
  Command command;
  command.statement = &statement;
  command.params = std::move(params);
  return command;
}

Command Command::script(std::string sql) {
  Command command;
  command.sql = std::move(sql);
  return command;
}

void Ticket::cancel() {
  if (auto completion = completion_.lock()) completion->cancel();
  completion_.reset();
}

bool Ticket::pending() const {
  auto completion = completion_.lock();
  return completion && completion->wanted();
}

Database::Database(DatabaseOptions options) : options_(std::move(options)) {
  context_ = options_.context ? options_.context : g_main_context_ref_thread_default();
  if (options_.context) g_main_context_ref(context_);
  if (options_.pool_size < 1) options_.pool_size = 1;
  posted_trigger_ = std::make_unique<detail::Trigger>(context_, [this] { run_posted(); });
  for (int i = 0; i < options_.pool_size; i++) connections_.push_back(std::make_unique<Connection>(*this, i));
  stats_.connections = options_.pool_size;
}

Database::~Database() {
  closed_ = true;
  alive_.reset();
  if (deadline_timer_) g_source_destroy(deadline_timer_);
  connections_.clear();
  queue_.clear();
  posted_.clear();
  posted_trigger_.reset();
  g_main_context_unref(context_);
}

void Database::open(std::function<void(const Error &)> ready) {
  g_return_if_fail(!opened_ && !closed_);
  opened_ = true;
  ready_ = std::move(ready);
  for (auto &connection : connections_) connection->start();
}

void Database::post(std::function<void()> function) {
  posted_.push_back(std::move(function));
  posted_trigger_->fire();
}

void Database::run_posted() {
  /* Callbacks may submit more work (run in this same pass) or destroy the
   * Database (then stop at once). */
  std::weak_ptr<char> alive = alive_;
  while (!posted_.empty()) {
    std::function<void()> function = std::move(posted_.front());
    posted_.pop_front();
    function();
    if (alive.expired()) return;
  }
}

bool Database::available() const {
  if (closed_) return false;
  for (const auto &connection : connections_)
    if (connection->connected()) return true;
  return false;
}

bool Database::statement_conflicts(const Statement &statement, Error *error) {
  auto [it, added] = statement_texts_.try_emplace(statement.name, statement.sql);
  if (added || it->second == statement.sql || strcmp(it->second, statement.sql) == 0) return false;
  *error = Error::make_client(std::string("two statements are named \"") + statement.name + "\"");
  return true;
}

Ticket Database::query(const Statement &statement, Params params, QueryCallback done, QueryOptions options) {
  auto job = std::make_shared<Job>();
  job->commands.push_back(Command::prepared(statement, std::move(params)));
  job->completion = std::make_shared<Completion>();
  job->completion->on_result = std::move(done);
  auto timeout = options.timeout.count() ? options.timeout : options_.query_timeout;
  if (timeout.count() > 0) job->deadline = g_get_monotonic_time() + gint64(timeout.count()) * 1000;
  return submit(std::move(job));
}

Ticket Database::transaction(std::vector<Command> commands, TransactionCallback done, QueryOptions options) {
  auto job = std::make_shared<Job>();
  job->commands = std::move(commands);
  job->transaction = true;
  job->completion = std::make_shared<Completion>();
  job->completion->on_transaction = std::move(done);
  auto timeout = options.timeout.count() ? options.timeout : options_.query_timeout;
  if (timeout.count() > 0) job->deadline = g_get_monotonic_time() + gint64(timeout.count()) * 1000;
  return submit(std::move(job));
}

Ticket Database::submit(std::shared_ptr<Job> job) {
  Ticket ticket(job->completion);
  Error error;
  for (const Command &command : job->commands) {
    if (command.statement && statement_conflicts(*command.statement, &error)) break;
  }
  if (!error) {
    if (closed_)
      error = Error::make_unavailable("the database pool is closed");
    else if (!available())
      error =
          Error::make_unavailable("database unavailable" + (last_error_.empty() ? "" : ": " + last_error_));
    else if (queue_.size() >= options_.max_queue)
      error = Error::make_unavailable("too many queries waiting for a database connection");
  }
  if (error) {
    fail_job(job, error);
    return ticket;
  }
  queue_.push_back(std::move(job));
  ensure_deadline_timer();
  dispatch();
  return ticket;
}

void Database::fail_job(const std::shared_ptr<Job> &job, const Error &error) {
  finish_job(job, TransactionResult(error, {}));
}

void Database::finish_job(std::shared_ptr<Job> job, TransactionResult outcome) {
  if (outcome.ok())
    stats_.succeeded++;
  else if (outcome.unavailable())
    stats_.unavailable++;
  else
    stats_.failed++;
  if (observer_) observer_({double(g_get_monotonic_time() - job->submitted) / G_USEC_PER_SEC, outcome.ok()});
  if (job->cancelled()) return;
  post([completion = job->completion, outcome = std::move(outcome)] { completion->deliver(outcome); });
}

void Database::dispatch() {
  /* Connections call back into here as they finish or fail; run the loop
   * once more instead of recursing. */
  if (dispatching_) {
    dispatch_again_ = true;
    return;
  }
  dispatching_ = true;
  do {
    dispatch_again_ = false;
    for (auto &connection : connections_) {
      while (!queue_.empty() && queue_.front()->cancelled()) queue_.pop_front();
      if (queue_.empty()) break;
      if (connection->state() != Connection::State::ready) continue;
      std::shared_ptr<Job> job = std::move(queue_.front());
      queue_.pop_front();
      connection->run(std::move(job));
    }
  } while (dispatch_again_);
  dispatching_ = false;
}

void Database::ensure_deadline_timer() {
  if (deadline_timer_) return;
  /* One coarse timer for every deadline, only while there is work. */
  deadline_timer_ = g_timeout_source_new(100);
  g_source_set_callback(
      deadline_timer_,
      [](gpointer data) -> gboolean {
        auto *self = static_cast<Database *>(data);
        self->check_deadlines();
        bool busy = !self->queue_.empty();
        for (auto &connection : self->connections_) busy = busy || connection->job();
        if (busy) return G_SOURCE_CONTINUE;
        self->deadline_timer_ = nullptr;
        return G_SOURCE_REMOVE;
      },
      this, nullptr);
  g_source_attach(deadline_timer_, context_);
  g_source_unref(deadline_timer_);
}

void Database::check_deadlines() {
  gint64 now = g_get_monotonic_time();
  for (auto it = queue_.begin(); it != queue_.end();) {
    if ((*it)->cancelled()) {
      it = queue_.erase(it);
    } else if ((*it)->deadline && (*it)->deadline <= now) {
      std::shared_ptr<Job> job = std::move(*it);
      it = queue_.erase(it);
      fail_job(job, Error::make_unavailable("timed out waiting for a database connection"));
    } else {
      ++it;
    }
  }
  for (auto &connection : connections_) {
    const Job *job = connection->job();
    if (job && job->deadline && job->deadline <= now) {
      /* Resetting the connection also ends the statement on the server. */
      connection->drop(Error::make_unavailable("the database did not answer in time"));
    }
  }
}

void Database::close() {
  if (closed_) return;
  closed_ = true;
  Error error = Error::make_unavailable("the database pool is closed");
  while (!queue_.empty()) {
    std::shared_ptr<Job> job = std::move(queue_.front());
    queue_.pop_front();
    fail_job(job, error);
  }
  for (auto &connection : connections_) {
    if (std::shared_ptr<Job> job = connection->close()) fail_job(job, error);
  }
  if (ready_) {
    auto ready = std::move(ready_);
    ready_ = nullptr;
    post([ready = std::move(ready), error] { ready(error); });
  }
}

DatabaseStats Database::stats() const {
  DatabaseStats stats = stats_;
  stats.connected = 0;
  stats.busy = 0;
  for (const auto &connection : connections_) {
    stats.connected += connection->connected();
    stats.busy += connection->state() == Connection::State::busy;
  }
  stats.queued = queue_.size();
  return stats;
}

void Database::connection_up(Connection &) {
  stats_.connects++;
  last_error_.clear();
  if (reported_down_) {
    reported_down_ = false;
    g_message("database available again");
  }
  if (ready_) {
    auto ready = std::move(ready_);
    ready_ = nullptr;
    post([ready = std::move(ready)] { ready(Error()); });
  }
  dispatch();
}

void Database::connection_down(Connection &, const Error &error, std::shared_ptr<Job> job) {
  if (error.unavailable()) last_error_ = error.message;
  if (job) fail_job(job, error);
  if (!available()) {
    if (!reported_down_ && stats_.connects > 0) {
      reported_down_ = true;
      g_message("database unavailable: %s", error.message.c_str());
    }
    /* Nothing can run the queue now: fail it rather than let it wait. */
    Error down = Error::make_unavailable("database unavailable: " + error.message);
    while (!queue_.empty()) {
      std::shared_ptr<Job> queued = std::move(queue_.front());
      queue_.pop_front();
      fail_job(queued, down);
    }
  }
  if (ready_ && !job) {
    bool all_failed = true;
    for (const auto &other : connections_)
      all_failed = all_failed && other->attempted() && !other->connected();
    if (all_failed) {
      auto ready = std::move(ready_);
      ready_ = nullptr;
      post([ready = std::move(ready), error] { ready(error); });
    }
  }
  dispatch();
}

void Database::job_done(Connection &, std::shared_ptr<Job> job, TransactionResult outcome) {
  finish_job(std::move(job), std::move(outcome));
  dispatch();
}

}  // namespace onair::db
