/* onair — PostgreSQL going away under load: stopped for a few seconds,
 * frozen, a backend killed. Every request gets an answer in bounded time;
 * what was answered as a success is in the database; what failed while the
 * server was away failed as "unavailable"; the pool comes back on its own.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "harness.h"

#include "db/batch.h"

#include <atomic>
#include <csignal>
#include <set>
#include <thread>

using namespace onair;
using onair::db::BatchInserter;
using onair::db::Result;
using onair::db::Statement;
using onair::test::insert_comments;

namespace {

constexpr Statement insert_comment{
    "test_insert_comment",
    "INSERT INTO comments (video_id, author, body) VALUES ($1, 'single', $2) RETURNING id"};
constexpr Statement sleep_seconds{"test_sleep_seconds", "SELECT pg_sleep($1::float8) AS slept"};
constexpr Statement ping{"test_ping", "SELECT 1 AS one"};

/* One request of the stream: a comment POST as the HTTP layer will make it. */
struct Request {
  std::string body;
  gint64 submitted = 0;
  gint64 answered = 0;
  bool while_unavailable = false;
  enum { pending, ok, unavailable, other } outcome = pending;
  std::string error;
};

struct Cluster {
  std::string state = test::make_dir("outage");
  std::unique_ptr<db::EmbeddedPostgres> postgres;
  std::string video;

  Cluster() {
    auto options = test::cluster_options(state);
    options.database = "onair";
    postgres = std::make_unique<db::EmbeddedPostgres>(options);
    GError *error = nullptr;
    if (!postgres->start(&error)) g_error("%s", error->message);
    test::migrate_schema(postgres->uri());
    test::Peer peer(postgres->uri());
    video = *peer.value("INSERT INTO videos (kind, title) VALUES ('live', 'Outage') RETURNING id");
  }
};

/* Sends `per_tick` requests every 2 ms, half through the batch inserter,
 * half as single statements, while `keep_going` says so. */
class Stream {
 public:
  Stream(db::Database &database, BatchInserter &batch, const std::string &video,
         std::function<bool()> keep_going)
      : database_(database), batch_(batch), video_(video), keep_going_(std::move(keep_going)) {
    timer_ = g_timeout_add(2, tick, this);
  }
  ~Stream() {
    if (timer_) g_source_remove(timer_);
  }

  std::vector<std::unique_ptr<Request>> requests;
  bool sending() const { return timer_ != 0; }
  bool all_answered() const {
    for (auto &request : requests)
      if (request->outcome == Request::pending) return false;
    return true;
  }

 private:
  static gboolean tick(gpointer data) {
    auto *self = static_cast<Stream *>(data);
    if (!self->keep_going_()) {
      self->timer_ = 0;
      return G_SOURCE_REMOVE;
    }
    for (int i = 0; i < 10; i++) self->send(i % 2 == 0);
    return G_SOURCE_CONTINUE;
  }

  void send(bool batched) {
    requests.push_back(std::make_unique<Request>());
    Request *request = requests.back().get();
    request->body = "comment " + std::to_string(requests.size());
    request->submitted = g_get_monotonic_time();
    request->while_unavailable = !database_.available();
    auto done = [request](const Result &result) {
      g_assert_cmpint(request->outcome, ==, Request::pending);
      request->answered = g_get_monotonic_time();
      request->outcome = result.ok()            ? Request::ok
                         : result.unavailable() ? Request::unavailable
                                                : Request::other;
      if (!result.ok()) request->error = result.error().describe();
    };
    if (batched)
      batch_.insert({video_, "batched", request->body, nullptr}, done);
    else
      database_.query(insert_comment, {video_, request->body}, done);
  }

  db::Database &database_;
  BatchInserter &batch_;
  std::string video_;
  std::function<bool()> keep_going_;
  guint timer_ = 0;
};

struct Tally {
  int ok = 0, unavailable = 0, other = 0;
  gint64 slowest = 0, slowest_while_unavailable = 0;
};

Tally tally(const Stream &stream) {
  Tally t;
  for (auto &request : stream.requests) {
    gint64 latency = request->answered - request->submitted;
    t.slowest = std::max(t.slowest, latency);
    if (request->while_unavailable)
      t.slowest_while_unavailable = std::max(t.slowest_while_unavailable, latency);
    if (request->outcome == Request::ok) t.ok++;
    if (request->outcome == Request::unavailable) t.unavailable++;
    if (request->outcome == Request::other) {
      t.other++;
      g_printerr("unexpected error: %s\n", request->error.c_str());
    }
  }
  g_test_message("ok %d, unavailable %d, other %d; slowest answer %.3f s, slowest while unavailable %.3f s",
                 t.ok, t.unavailable, t.other, double(t.slowest) / 1e6,
                 double(t.slowest_while_unavailable) / 1e6);
  return t;
}

/* Every request answered with success is in the database. */
void check_successes_committed(const Stream &stream, const std::string &uri) {
  test::Peer peer(uri);
  auto bodies = peer.column("SELECT body FROM comments");
  std::set<std::string> stored(bodies.begin(), bodies.end());
  int missing = 0;
  for (auto &request : stream.requests) {
    if (request->outcome == Request::ok && !stored.count(request->body)) missing++;
  }
  g_assert_cmpint(missing, ==, 0);
}

/* pg_ctl stop -m fast in the middle of a stream of inserts, start again two
 * seconds later: as the "PostgreSQL stopped for a few seconds" acceptance
 * test will do over HTTP. */
void test_server_stopped_mid_stream() {
  Cluster cluster;
  auto database = test::open_pool(cluster.postgres->uri(), 4);
  test::wait_all_connected(*database);
  BatchInserter batch(*database, insert_comments, 4);

  std::atomic<int> phase{0}; /* 0 running, 1 stopping, 2 stopped, 3 started again */
  std::atomic<bool> thread_failed{false};
  gint64 restarted_at = 0;
  Stream stream(*database, batch, cluster.video, [&] {
    if (phase == 3 && !restarted_at) restarted_at = g_get_monotonic_time();
    return !(restarted_at && g_get_monotonic_time() - restarted_at > 5 * G_USEC_PER_SEC);
  });
  test::run_for(1000);

  /* The server is stopped and started from another thread: the main loop,
   * like the daemon's, keeps running meanwhile. */
  std::thread operator_thread([&] {
    GError *error = nullptr;
    phase = 1;
    if (!cluster.postgres->stop(&error)) {
      g_printerr("%s\n", error->message);
      thread_failed = true;
    }
    phase = 2;
    g_usleep(2 * G_USEC_PER_SEC);
    if (!cluster.postgres->start(&error)) {
      g_printerr("%s\n", error->message);
      thread_failed = true;
    }
    phase = 3;
  });
  test::run_until([&] { return phase == 3; }, 120, "the server to stop and start again");
  operator_thread.join();
  g_assert_false(thread_failed);
  test::run_until([&] { return !stream.sending() && stream.all_answered(); }, 120, "every request's answer");

  Tally t = tally(stream);
  g_assert_cmpint(t.other, ==, 0);
  g_assert_cmpint(t.unavailable, >, 0);
  g_assert_cmpint(t.ok, >, 0);
  /* Answers within the query timeout (10 s) with room to spare; at once
   * (bounded generously here) when the pool knew it had no connection. */
  g_assert_cmpint(t.slowest, <, 20 * G_USEC_PER_SEC);
  g_assert_cmpint(t.slowest_while_unavailable, <, 5 * G_USEC_PER_SEC);
  /* The pool reconnected: requests sent well after the restart succeed. */
  int late_ok = 0;
  for (auto &request : stream.requests)
    if (request->submitted > restarted_at + 3 * G_USEC_PER_SEC && request->outcome == Request::ok) late_ok++;
  g_assert_cmpint(late_ok, >, 0);
  check_successes_committed(stream, cluster.postgres->uri());
}

std::vector<pid_t> server_processes(const std::string &data_dir) {
  std::vector<pid_t> pids;
  GDir *proc = g_dir_open("/proc", 0, nullptr);
  while (const char *name = g_dir_read_name(proc)) {
    if (!g_ascii_isdigit(name[0])) continue;
    char *cwd = g_file_read_link((std::string("/proc/") + name + "/cwd").c_str(), nullptr);
    if (cwd && data_dir == cwd) pids.push_back(pid_t(atoi(name)));
    g_free(cwd);
  }
  g_dir_close(proc);
  return pids;
}

/* The server frozen (SIGSTOP to every process of the cluster) for a few
 * seconds: nothing answers, the sockets stay open. Requests time out as
 * unavailable instead of hanging, and the pool recovers once it thaws. */
void test_server_frozen() {
  Cluster cluster;
  auto database = test::open_pool(cluster.postgres->uri(), 4, [](db::DatabaseOptions &options) {
    options.query_timeout = std::chrono::milliseconds(1000);
    options.connect_timeout = std::chrono::milliseconds(1000);
  });
  test::wait_all_connected(*database);
  BatchInserter batch(*database, insert_comments, 4);

  gint64 thawed_at = 0;
  Stream stream(*database, batch, cluster.video,
                [&] { return !(thawed_at && g_get_monotonic_time() - thawed_at > 5 * G_USEC_PER_SEC); });
  test::run_for(500);
  char *data_dir = realpath(cluster.postgres->data_dir().c_str(), nullptr);
  std::vector<pid_t> frozen = server_processes(data_dir);
  free(data_dir);
  g_assert_cmpint(int(frozen.size()), >=, 2);
  for (pid_t pid : frozen) kill(pid, SIGSTOP);
  test::run_for(3000);
  for (pid_t pid : frozen) kill(pid, SIGCONT);
  thawed_at = g_get_monotonic_time();
  test::run_until([&] { return !stream.sending() && stream.all_answered(); }, 120, "every request's answer");

  Tally t = tally(stream);
  g_assert_cmpint(t.other, ==, 0);
  g_assert_cmpint(t.unavailable, >, 0);
  /* One timeout plus the deadline timer's tick, with a wide margin for a loaded machine. */
  g_assert_cmpint(t.slowest, <, 10 * G_USEC_PER_SEC);
  int late_ok = 0;
  for (auto &request : stream.requests)
    if (request->submitted > thawed_at + 3 * G_USEC_PER_SEC && request->outcome == Request::ok) late_ok++;
  g_assert_cmpint(late_ok, >, 0);
  check_successes_committed(stream, cluster.postgres->uri());
}

/* A backend killed by an administrator mid-query: that query fails as
 * unavailable, the connection comes back. */
void test_backend_terminated() {
  Cluster cluster;
  auto database = test::open_pool(cluster.postgres->uri(), 1);
  test::Peer peer(cluster.postgres->uri());
  std::optional<Result> result;
  database->query(sleep_seconds, {5.0}, [&](const Result &r) { result = r; });
  test::run_until(
      [&] {
        return peer.integer(
                   "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'onaird' AND state = "
                   "'active'") == 1;
      },
      60, "the query to run");
  peer.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'onaird'");
  test::run_until([&] { return result.has_value(); }, 60, "the failure");
  g_assert_true(result->unavailable());
  assert_string(result->error().sqlstate.c_str(), ==, "57P01");
  test::run_until([&] { return database->available(); }, 60, "the reconnection");
  g_assert_true(test::query_sync(*database, ping).ok());
}

}  // namespace

int main(int argc, char **argv) {
  test::init(&argc, &argv);
  g_test_add_func("/db/outage/server-stopped-mid-stream", test_server_stopped_mid_stream);
  g_test_add_func("/db/outage/server-frozen", test_server_frozen);
  g_test_add_func("/db/outage/backend-terminated", test_backend_terminated);
  return g_test_run();
}
