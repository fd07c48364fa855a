/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "db/connection.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <thread>

namespace onair::db::detail {

namespace {

std::string trimmed(const char *text) {
  std::string out = text ? text : "";
  while (!out.empty() && g_ascii_isspace(out.back())) out.pop_back();
  return out;
}

/* libpq prints notices on stderr by default; they belong in the debug log
 * ("relation already exists, skipping" and the like). */
void notice_receiver(void *, const PGresult *result) {
  g_debug("PostgreSQL: %s", trimmed(PQresultErrorMessage(result)).c_str());
}

}  // namespace

void Completion::deliver(const TransactionResult &outcome) {
  if (!wanted()) return;
  finished = true;
  if (on_result) {
    QueryCallback callback = std::move(on_result);
    on_result = nullptr;
    if (!outcome.ok())
      callback(Result(outcome.error()));
    else
      callback(outcome.size() ? outcome[0] : Result());
  } else {
    TransactionCallback callback = std::move(on_transaction);
    on_transaction = nullptr;
    callback(outcome);
  }
}

/* Trigger */

struct Trigger::Source {
  GSource base;
  Trigger *owner;
};

Trigger::Trigger(GMainContext *context, std::function<void()> function, int priority)
    : function_(std::move(function)) {
  static GSourceFuncs funcs = {nullptr, nullptr, Trigger::dispatch, nullptr, nullptr, nullptr};
  source_ = reinterpret_cast<Source *>(g_source_new(&funcs, sizeof(Source)));
  source_->owner = this;
  g_source_set_priority(&source_->base, priority);
  g_source_set_name(&source_->base, "onair-db trigger");
  g_source_attach(&source_->base, context);
}

Trigger::~Trigger() {
  source_->owner = nullptr;
  g_source_destroy(&source_->base);
  g_source_unref(&source_->base);
}

void Trigger::fire() {
  g_source_set_ready_time(&source_->base, 0);
}

gboolean Trigger::dispatch(GSource *source, GSourceFunc, gpointer) {
  auto *self = reinterpret_cast<Source *>(source);
  g_source_set_ready_time(source, -1);
  /* The function may destroy the owner (and this source with it): run a
   * copy, and touch neither afterwards. */
  if (self->owner) {
    std::function<void()> function = self->owner->function_;
    function();
  }
  return G_SOURCE_CONTINUE;
}

/* FdWatch */

struct FdWatch::Source {
  GSource base;
  FdWatch *owner;
};

FdWatch::FdWatch(GMainContext *context, std::function<void(GIOCondition)> function)
    : function_(std::move(function)) {
  static GSourceFuncs funcs = {nullptr, nullptr, FdWatch::dispatch, nullptr, nullptr, nullptr};
  source_ = reinterpret_cast<Source *>(g_source_new(&funcs, sizeof(Source)));
  source_->owner = this;
  g_source_set_name(&source_->base, "onair-db socket");
  g_source_attach(&source_->base, context);
}

FdWatch::~FdWatch() {
  source_->owner = nullptr;
  g_source_destroy(&source_->base);
  g_source_unref(&source_->base);
}

void FdWatch::watch(int fd, GIOCondition events) {
  if (tag_ && fd != fd_) stop();
  if (fd < 0) return;
  if (!tag_) {
    tag_ = g_source_add_unix_fd(&source_->base, fd, events);
  } else if (events != events_) {
    g_source_modify_unix_fd(&source_->base, tag_, events);
  }
  fd_ = fd;
  events_ = events;
}

void FdWatch::stop() {
  if (tag_) g_source_remove_unix_fd(&source_->base, tag_);
  tag_ = nullptr;
  fd_ = -1;
}

gboolean FdWatch::dispatch(GSource *source, GSourceFunc, gpointer) {
  auto *self = reinterpret_cast<Source *>(source);
  FdWatch *owner = self->owner;
  if (!owner || !owner->tag_) return G_SOURCE_CONTINUE;
  GIOCondition condition = g_source_query_unix_fd(source, owner->tag_);
  if (condition) owner->function_(condition);
  return G_SOURCE_CONTINUE;
}

/* Connection */

Connection::Connection(Database &owner, int index)
    : owner_(owner),
      index_(index),
      watch_(owner.context_, [this](GIOCondition condition) { on_socket(condition); }) {}

Connection::~Connection() {
  close();
}

void Connection::start() {
  clear_timer();
  if (state_ == State::closed) return;
  state_ = State::connecting;
  const DatabaseOptions &options = owner_.options_;
  /* dbname is expanded as a connection string or URI; the keywords after it
   * override it: every session reads and writes timestamps in UTC and ISO
   * format, which Result's getters expect. */
  const char *keywords[] = {"dbname", "application_name", "options", "client_encoding", nullptr};
  const char *values[] = {options.uri.c_str(), options.application_name.c_str(),
                          "-c TimeZone=UTC -c DateStyle=ISO,YMD -c IntervalStyle=iso_8601", "UTF8", nullptr};
  conn_ = PQconnectStartParams(keywords, values, 1);
  if (!conn_) {
    connect_failed("out of memory");
    return;
  }
  if (PQstatus(conn_) == CONNECTION_BAD) {
    connect_failed(PQerrorMessage(conn_));
    return;
  }
  PQsetNoticeReceiver(conn_, notice_receiver, this);
  if (options.connect_timeout.count() > 0) {
    arm_timer(int(options.connect_timeout.count()), [](gpointer data) -> gboolean {
      auto *self = static_cast<Connection *>(data);
      self->timer_ = nullptr;
      self->connect_failed("connection attempt timed out");
      return G_SOURCE_REMOVE;
    });
  }
  /* Until PQconnectPoll says otherwise, wait for the socket to be writable. */
  watch_.watch(PQsocket(conn_), G_IO_OUT);
}

void Connection::poll_connect() {
  switch (PQconnectPoll(conn_)) {
    case PGRES_POLLING_READING:
      /* The socket may change between attempts (several hosts, SSL retry). */
      watch_.watch(PQsocket(conn_), G_IO_IN);
      break;
    case PGRES_POLLING_WRITING:
      watch_.watch(PQsocket(conn_), G_IO_OUT);
      break;
    case PGRES_POLLING_OK:
      on_connected();
      break;
    default:
      connect_failed(PQerrorMessage(conn_));
      break;
  }
}

void Connection::on_connected() {
  clear_timer();
  if (PQsetnonblocking(conn_, 1) != 0) {
    connect_failed(PQerrorMessage(conn_));
    return;
  }
  state_ = State::ready;
  attempts_ = 0;
  prepared_.clear();
  watch_.watch(PQsocket(conn_), G_IO_IN);
  g_debug("connection %d up", index_);
  owner_.connection_up(*this);
}

void Connection::connect_failed(const std::string &message) {
  teardown();
  state_ = State::idle;
  schedule_reconnect();
  owner_.connection_down(
      *this, Error::make_unavailable("cannot connect to PostgreSQL: " + trimmed(message.c_str())), nullptr);
}

void Connection::schedule_reconnect() {
  const DatabaseOptions &options = owner_.options_;
  double delay = double(options.reconnect_min.count()) * std::pow(2.0, std::min(attempts_, 20));
  delay = std::min(delay, double(options.reconnect_max.count()));
  /* Jitter, so that the connections of several daemons do not all knock at once. */
  delay *= g_random_double_range(0.5, 1.0);
  attempts_++;
  arm_timer(std::max(1, int(delay)), [](gpointer data) -> gboolean {
    auto *self = static_cast<Connection *>(data);
    self->timer_ = nullptr;
    self->start();
    return G_SOURCE_REMOVE;
  });
}

void Connection::arm_timer(int milliseconds, gboolean (*function)(gpointer)) {
  clear_timer();
  timer_ = g_timeout_source_new(guint(milliseconds));
  g_source_set_callback(timer_, function, this, nullptr);
  g_source_attach(timer_, owner_.context_);
  /* The context holds the only reference: the callback clears timer_. */
  g_source_unref(timer_);
}

void Connection::clear_timer() {
  if (timer_) g_source_destroy(timer_);
  timer_ = nullptr;
}

void Connection::teardown() {
  watch_.stop();
  clear_timer();
  if (conn_) PQfinish(conn_);
  conn_ = nullptr;
  prepared_.clear();
  steps_.clear();
  step_results_.clear();
  results_.clear();
  preparing_ = false;
  begun_ = false;
  error_ = Error();
}

void Connection::drop(const Error &error) {
  if (state_ == State::closed) return;
  std::shared_ptr<Job> job = std::move(job_);
  job_.reset();
  if (job && conn_ && PQstatus(conn_) == CONNECTION_OK) {
    /* A statement still running on the server would go on after we hang up
     * (a backend notices a lost client only when it next writes): ask the
     * server to cancel it. PQcancel blocks until the server has read the
     * request, so it runs on a thread of its own. */
    if (PGcancel *cancel = PQgetCancel(conn_)) {
      std::thread([cancel] {
        char message[256];
        PQcancel(cancel, message, sizeof message);
        PQfreeCancel(cancel);
      }).detach();
    }
  }
  bool was_connected = connected();
  teardown();
  state_ = State::idle;
  schedule_reconnect();
  if (was_connected) g_message("connection %d dropped: %s", index_, error.message.c_str());
  owner_.connection_down(*this, error, std::move(job));
}

std::shared_ptr<Job> Connection::close() {
  std::shared_ptr<Job> job = std::move(job_);
  job_.reset();
  teardown();
  state_ = State::closed;
  return job;
}

void Connection::on_socket(GIOCondition condition) {
  if (state_ == State::connecting) {
    poll_connect();
    return;
  }
  if (!conn_) return;
  if (condition & (G_IO_IN | G_IO_HUP | G_IO_ERR)) {
    if (!PQconsumeInput(conn_)) {
      drop(lost("connection to PostgreSQL lost: " + trimmed(PQerrorMessage(conn_))));
      return;
    }
  }
  if ((condition & G_IO_OUT) && !flush()) return;
  while (PGnotify *notify = PQnotifies(conn_)) PQfreemem(notify);
  if (PQstatus(conn_) == CONNECTION_BAD) {
    drop(lost("connection to PostgreSQL lost: " + trimmed(PQerrorMessage(conn_))));
    return;
  }
  if (state_ == State::busy) read_results();
}

Error Connection::lost(const std::string &message) const {
  /* The server often says why before it hangs up (57P01: terminated by an
   * administrator, or shutting down): keep that. */
  for (const auto &result : step_results_) {
    if (PQresultStatus(result.get()) == PGRES_FATAL_ERROR) {
      Error error = Error::from_result(result.get(), nullptr);
      error.kind = Error::Kind::unavailable;
      return error;
    }
  }
  return Error::make_unavailable(message);
}

void Connection::run(std::shared_ptr<Job> job) {
  g_return_if_fail(state_ == State::ready);
  job_ = std::move(job);
  state_ = State::busy;
  steps_.clear();
  step_ = 0;
  begun_ = false;
  preparing_ = false;
  results_.clear();
  error_ = Error();
  if (job_->transaction) steps_.push_back({StepKind::begin});
  for (size_t i = 0; i < job_->commands.size(); i++) steps_.push_back({StepKind::execute, i});
  if (job_->transaction) steps_.push_back({StepKind::commit});
  send_step();
}

void Connection::send_step() {
  const Step &step = steps_[step_];
  int sent = 0;
  switch (step.kind) {
    case StepKind::begin:
      sent = PQsendQuery(conn_, "BEGIN");
      break;
    case StepKind::commit:
      sent = PQsendQuery(conn_, "COMMIT");
      break;
    case StepKind::rollback:
      sent = PQsendQuery(conn_, "ROLLBACK");
      break;
    case StepKind::execute: {
      const Command &command = job_->commands[step.command];
      if (!command.statement) {
        sent = PQsendQuery(conn_, command.sql.c_str());
        break;
      }
      const Statement &statement = *command.statement;
      if (!prepared_.count(statement.name)) {
        /* Prepared lazily, once per connection; the execute follows when it is done. */
        preparing_ = true;
        sent = PQsendPrepare(conn_, statement.name, statement.sql, 0, nullptr);
        break;
      }
      preparing_ = false;
      std::vector<const char *> values;
      values.reserve(command.params.size());
      for (const Param &param : command.params)
        values.push_back(param.is_null() ? nullptr : param.value()->c_str());
      sent =
          PQsendQueryPrepared(conn_, statement.name, int(values.size()), values.data(), nullptr, nullptr, 0);
      break;
    }
  }
  if (!sent) {
    drop(Error::make_unavailable("cannot send to PostgreSQL: " + trimmed(PQerrorMessage(conn_))));
    return;
  }
  flush();
}

bool Connection::flush() {
  int pending = PQflush(conn_);
  if (pending < 0) {
    drop(Error::make_unavailable("cannot send to PostgreSQL: " + trimmed(PQerrorMessage(conn_))));
    return false;
  }
  watch_.watch(PQsocket(conn_), pending ? GIOCondition(G_IO_IN | G_IO_OUT) : G_IO_IN);
  return true;
}

void Connection::read_results() {
  /* A step is complete when PQgetResult returns NULL: the server sent
   * ReadyForQuery, so a statement's implicit transaction has ended
   * (committed, or failed with an error already read). */
  while (state_ == State::busy && conn_ && !PQisBusy(conn_)) {
    PGresult *result = PQgetResult(conn_);
    if (!result) {
      complete_step();
      continue;
    }
    ExecStatusType status = PQresultStatus(result);
    if (status == PGRES_COPY_IN || status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH) {
      PQclear(result);
      drop(Error::make_client("COPY is not supported by the onair database layer"));
      return;
    }
    step_results_.emplace_back(result, PQclear);
  }
}

void Connection::complete_step() {
  std::vector<std::shared_ptr<PGresult>> results = std::move(step_results_);
  step_results_.clear();
  Error error;
  std::shared_ptr<PGresult> last;
  for (const auto &result : results) {
    ExecStatusType status = PQresultStatus(result.get());
    if (status == PGRES_FATAL_ERROR || status == PGRES_NONFATAL_ERROR || status == PGRES_BAD_RESPONSE) {
      if (!error) error = Error::from_result(result.get(), conn_);
    } else if (!error) {
      last = result;
    }
  }
  if (PQstatus(conn_) == CONNECTION_BAD || error.unavailable()) {
    /* Whatever the server said before, the outcome of the job is unknown. */
    Error lost = error ? error : Error::make_unavailable("connection to PostgreSQL lost");
    lost.kind = Error::Kind::unavailable;
    drop(lost);
    return;
  }
  const Step &step = steps_[step_];
  if (preparing_) {
    preparing_ = false;
    if (error) {
      fail_step(error);
      return;
    }
    prepared_.insert(job_->commands[step.command].statement->name);
    send_step();
    return;
  }
  switch (step.kind) {
    case StepKind::begin:
      if (error) {
        fail_step(error);
      } else {
        begun_ = true;
        next_step();
      }
      return;
    case StepKind::execute:
      if (error) {
        fail_step(error);
        return;
      }
      if (job_->transaction && PQtransactionStatus(conn_) != PQTRANS_INTRANS) {
        fail_step(
            Error::make_client("the SQL ended the transaction itself: leave BEGIN, COMMIT and ROLLBACK out"));
        return;
      }
      results_.push_back(last ? Result(last) : Result());
      next_step();
      return;
    case StepKind::commit:
      if (error) {
        /* A deferred constraint or the commit itself failed: rolled back. */
        finish(error);
      } else if (last && strcmp(PQcmdStatus(last.get()), "COMMIT") != 0) {
        Error rolled_back;
        rolled_back.kind = Error::Kind::server;
        rolled_back.message = "the transaction was rolled back";
        finish(rolled_back);
      } else {
        next_step();
      }
      return;
    case StepKind::rollback:
      finish(error_);
      return;
  }
}

void Connection::fail_step(const Error &error) {
  if (job_->transaction && begun_) {
    /* Keep the first error; what is left to send is the ROLLBACK. */
    error_ = error;
    steps_ = {{StepKind::rollback}};
    step_ = 0;
    send_step();
    return;
  }
  finish(error);
}

void Connection::next_step() {
  step_++;
  if (step_ >= steps_.size())
    finish(Error());
  else
    send_step();
}

void Connection::finish(const Error &failure) {
  /* A copy: `failure` may be error_, cleared below. */
  Error error = failure;
  if (PQtransactionStatus(conn_) != PQTRANS_IDLE) {
    /* Never hand out a connection in the middle of a transaction. */
    Error broken = error ? error : Error::make_client("a statement left a transaction open");
    g_warning("connection %d left inside a transaction; reconnecting", index_);
    std::shared_ptr<Job> job = std::move(job_);
    job_.reset();
    teardown();
    state_ = State::idle;
    schedule_reconnect();
    owner_.connection_down(*this, broken, std::move(job));
    return;
  }
  std::shared_ptr<Job> job = std::move(job_);
  job_.reset();
  std::vector<Result> results = std::move(results_);
  results_.clear();
  steps_.clear();
  step_ = 0;
  begun_ = false;
  error_ = Error();
  state_ = State::ready;
  /* Last: the owner may hand this connection its next job right away. */
  owner_.job_done(*this, std::move(job), TransactionResult(error, std::move(results)));
}

}  // namespace onair::db::detail
