/* onair — daemon test harness
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "harness.h"

#include "db/migrations.h"

#include <glib/gstdio.h>

#include <fcntl.h>
#include <unistd.h>

namespace onair::test {

namespace {

std::string scratch;
int watchdog_pipe = -1;
std::unique_ptr<db::EmbeddedPostgres> shared;
int database_counter = 0;

void new_session(gpointer) {
  setsid();
}

void start_watchdog() {
  const char *argv[] = {"/bin/sh", ONAIR_TEST_WATCHDOG, scratch.c_str(), nullptr};
  GError *error = nullptr;
  /* Its own session: meson kills the test's process group on a timeout. */
  if (!g_spawn_async_with_pipes(
          "/", const_cast<char **>(argv), nullptr,
          GSpawnFlags(G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL | G_SPAWN_DO_NOT_REAP_CHILD),
          new_session, nullptr, nullptr, &watchdog_pipe, nullptr, nullptr, &error))
    g_error("cannot start the PostgreSQL watchdog: %s", error->message);
  /* Only this process may hold the pipe: a server or tool that inherited it
   * would keep the watchdog waiting. */
  fcntl(watchdog_pipe, F_SETFD, FD_CLOEXEC);
}

gboolean wake(gpointer) {
  return G_SOURCE_CONTINUE;
}

}  // namespace

void init(int *argc, char ***argv) {
  g_test_init(argc, argv, nullptr);
  /* Each test checks its own outcome; connection messages are expected. */
  g_log_set_always_fatal(GLogLevelFlags(G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING));
  scratch_dir();
}

const std::string &scratch_dir() {
  if (scratch.empty()) {
    GError *error = nullptr;
    char *dir = g_dir_make_tmp("onair-daemon-test-XXXXXX", &error);
    if (!dir) g_error("cannot make a scratch directory: %s", error->message);
    scratch = dir;
    g_free(dir);
    /* PostgreSQL runs as another user when the tests run as root: it must
     * be able to pass through. */
    g_chmod(scratch.c_str(), 0711);
    start_watchdog();
  }
  return scratch;
}

std::string make_dir(const std::string &name) {
  static int counter = 0;
  std::string dir = scratch_dir() + "/" + name + "-" + std::to_string(++counter);
  if (g_mkdir_with_parents(dir.c_str(), 0711) != 0) g_error("cannot create %s", dir.c_str());
  g_chmod(dir.c_str(), 0711);
  return dir;
}

db::EmbeddedPostgresOptions cluster_options(const std::string &state_dir) {
  db::EmbeddedPostgresOptions options;
  options.state_dir = state_dir;
  options.durable = false;
  options.database = "";
  return options;
}

db::EmbeddedPostgres &shared_cluster() {
  if (!shared) {
    shared = std::make_unique<db::EmbeddedPostgres>(cluster_options(make_dir("shared")));
    GError *error = nullptr;
    if (!shared->start(&error)) g_error("cannot start the test cluster: %s", error->message);
    /* Stopped cleanly at a normal exit; the watchdog covers the rest. */
    atexit([] { shared.reset(); });
  }
  return *shared;
}

TestDatabase::TestDatabase(db::EmbeddedPostgres &cluster) : cluster_(cluster) {
  name_ = "test_" + std::to_string(getpid()) + "_" + std::to_string(++database_counter);
  GError *error = nullptr;
  if (!cluster_.create_database(name_, &error)) g_error("%s", error->message);
  uri_ = cluster_.uri(name_);
}

TestDatabase::~TestDatabase() {
  GError *error = nullptr;
  if (cluster_.running() && !cluster_.drop_database(name_, &error)) {
    g_printerr("cannot drop %s: %s\n", name_.c_str(), error->message);
    g_error_free(error);
  }
}

std::string source_migrations_dir() {
  const char *root = g_getenv("ONAIR_SOURCE_ROOT");
  g_assert_nonnull(root);
  return std::string(root) + "/schemas/postgres";
}

void migrate_schema(const std::string &uri) {
  GError *error = nullptr;
  db::MigrationReport report;
  bool ok = db::migrate(uri, source_migrations_dir(), &report, &error);
  g_assert_no_error(error);
  g_assert_true(ok);
}

void run_until(const std::function<bool()> &done, int timeout_seconds, const char *what) {
  gint64 deadline = g_get_monotonic_time() + gint64(timeout_seconds) * G_USEC_PER_SEC;
  /* Wake up now and then, so that the deadline is checked even if nothing happens. */
  guint waker = g_timeout_add(50, wake, nullptr);
  while (!done()) {
    if (g_get_monotonic_time() > deadline)
      g_error("timed out after %d s waiting for %s", timeout_seconds, what);
    g_main_context_iteration(nullptr, TRUE);
  }
  g_source_remove(waker);
}

void run_for(int milliseconds) {
  bool over = false;
  guint timer = g_timeout_add(
      guint(milliseconds),
      [](gpointer data) -> gboolean {
        *static_cast<bool *>(data) = true;
        return G_SOURCE_REMOVE;
      },
      &over);
  run_until([&] { return over; }, milliseconds / 1000 + 60, "a pause");
  (void)timer;
}

std::unique_ptr<db::Database> open_pool(const std::string &uri, int pool_size,
                                        std::function<void(db::DatabaseOptions &)> adjust) {
  db::DatabaseOptions options;
  options.uri = uri;
  options.pool_size = pool_size;
  if (adjust) adjust(options);
  auto database = std::make_unique<db::Database>(options);
  bool ready = false;
  db::Error failure;
  database->open([&](const db::Error &error) {
    ready = true;
    failure = error;
  });
  run_until([&] { return ready; }, 60, "the pool to connect");
  if (failure) g_error("cannot connect to %s: %s", uri.c_str(), failure.message.c_str());
  return database;
}

void wait_all_connected(db::Database &database) {
  run_until([&] { return database.stats().connected == database.stats().connections; }, 60,
            "every connection of the pool");
}

db::Result query_sync(db::Database &database, const db::Statement &statement, db::Params params) {
  std::optional<db::Result> result;
  database.query(statement, std::move(params), [&](const db::Result &r) { result = r; });
  run_until([&] { return result.has_value(); }, 120, statement.name);
  return *result;
}

Peer::Peer(const std::string &uri) : connection_(PQconnectdb(uri.c_str())) {
  if (PQstatus(connection_) != CONNECTION_OK)
    g_error("peer: cannot connect: %s", PQerrorMessage(connection_));
}

Peer::~Peer() {
  PQfinish(connection_);
}

PGresult *Peer::run(const std::string &sql, const std::vector<std::string> &params) {
  std::vector<const char *> values;
  for (const auto &param : params) values.push_back(param.c_str());
  return params.empty() ? PQexec(connection_, sql.c_str())
                        : PQexecParams(connection_, sql.c_str(), int(values.size()), nullptr, values.data(),
                                       nullptr, nullptr, 0);
}

void Peer::exec(const std::string &sql) {
  PGresult *result = run(sql, {});
  ExecStatusType status = PQresultStatus(result);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
    g_error("peer: %s: %s", sql.c_str(), PQresultErrorMessage(result));
  PQclear(result);
}

std::optional<std::string> Peer::value(const std::string &sql, const std::vector<std::string> &params) {
  PGresult *result = run(sql, params);
  if (PQresultStatus(result) != PGRES_TUPLES_OK)
    g_error("peer: %s: %s", sql.c_str(), PQresultErrorMessage(result));
  std::optional<std::string> out;
  if (PQntuples(result) > 0 && !PQgetisnull(result, 0, 0)) out = PQgetvalue(result, 0, 0);
  PQclear(result);
  return out;
}

int64_t Peer::integer(const std::string &sql, const std::vector<std::string> &params) {
  auto text = value(sql, params);
  g_assert_true(text.has_value());
  return g_ascii_strtoll(text->c_str(), nullptr, 10);
}

std::vector<std::string> Peer::column(const std::string &sql, const std::vector<std::string> &params) {
  PGresult *result = run(sql, params);
  if (PQresultStatus(result) != PGRES_TUPLES_OK)
    g_error("peer: %s: %s", sql.c_str(), PQresultErrorMessage(result));
  std::vector<std::string> out;
  for (int row = 0; row < PQntuples(result); row++) out.push_back(PQgetvalue(result, row, 0));
  PQclear(result);
  return out;
}

std::string Peer::error_state(const std::string &sql) {
  PGresult *result = run(sql, {});
  ExecStatusType status = PQresultStatus(result);
  std::string state;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    const char *code = PQresultErrorField(result, PG_DIAG_SQLSTATE);
    state = code ? code : "?????";
  }
  PQclear(result);
  return state;
}

}  // namespace onair::test
