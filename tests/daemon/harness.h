/* onair — what the daemon tests share: scratch directories, real PostgreSQL
 * clusters that never outlive the test process, a main loop to wait on and a
 * second, blocking session to look at what was committed.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "db/database.h"
#include "assertions.h"
#include "db/embedded_postgres.h"

#include <glib.h>
#include <libpq-fe.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace onair::test {

/* g_test_init, and the scratch directory with its watchdog. */
void init(int *argc, char ***argv);

/* This process's scratch directory. When the process ends, however it ends
 * (an assertion aborts it, meson kills it after a timeout), a watchdog
 * process stops every PostgreSQL below it and removes it. */
const std::string &scratch_dir();
/* A new directory below the scratch directory. */
std::string make_dir(const std::string &name);

/* Options for a test cluster in `state_dir`: not durable (fsync off). */
db::EmbeddedPostgresOptions cluster_options(const std::string &state_dir);

/* One cluster for the whole test binary, started on first use. */
db::EmbeddedPostgres &shared_cluster();

/* A fresh database of its own for one test, dropped at the end. */
class TestDatabase {
 public:
  explicit TestDatabase(db::EmbeddedPostgres &cluster = shared_cluster());
  ~TestDatabase();
  TestDatabase(const TestDatabase &) = delete;
  TestDatabase &operator=(const TestDatabase &) = delete;
  const std::string &uri() const { return uri_; }
  const std::string &name() const { return name_; }

 private:
  db::EmbeddedPostgres &cluster_;
  std::string name_;
  std::string uri_;
};

/* schemas/postgres in the source tree. */
std::string source_migrations_dir();
/* Migrates `uri` with the project's migrations; fails the test on error. */
void migrate_schema(const std::string &uri);

/* Iterates the default main context until done() holds; fails the test
 * after `timeout_seconds` (bounds are generous: tests assert behaviour, not
 * speed). */
void run_until(const std::function<bool()> &done, int timeout_seconds, const char *what);
/* Iterates the default main context for a while. */
void run_for(int milliseconds);

/* Opens a pool and waits until a connection is up. */
std::unique_ptr<db::Database> open_pool(const std::string &uri, int pool_size = 4,
                                        std::function<void(db::DatabaseOptions &)> adjust = {});
/* Waits until every connection of the pool is up. */
void wait_all_connected(db::Database &database);

/* Runs one statement on the pool and waits for its result. */
db::Result query_sync(db::Database &database, const db::Statement &statement, db::Params params = {});

/* A blocking session of its own, to check what other sessions see. */
class Peer {
 public:
  explicit Peer(const std::string &uri);
  ~Peer();
  Peer(const Peer &) = delete;
  Peer &operator=(const Peer &) = delete;

  /* Runs SQL (several statements allowed without parameters); fails the
   * test if the server refuses it. */
  void exec(const std::string &sql);
  /* The first column of the first row, or nullopt when NULL or no row. */
  std::optional<std::string> value(const std::string &sql, const std::vector<std::string> &params = {});
  int64_t integer(const std::string &sql, const std::vector<std::string> &params = {});
  /* The first column of every row. */
  std::vector<std::string> column(const std::string &sql, const std::vector<std::string> &params = {});
  /* The SQLSTATE the statement fails with, "" if it succeeds. */
  std::string error_state(const std::string &sql);

 private:
  PGresult *run(const std::string &sql, const std::vector<std::string> &params);
  PGconn *connection_;
};

/* A batch insert of comments as the comments route makes it: ids made in the
 * statement, each returned row naming its input row (ord). Parameters:
 * video ids, authors, bodies, media times (one array each). */
inline constexpr db::Statement insert_comments{"test_insert_comments", R"(
  WITH input AS (
    SELECT onair_uuid_v7() AS id, t.*
    FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bigint[])
         WITH ORDINALITY AS t(video_id, author, body, media_time_ms, ord)),
  inserted AS (
    INSERT INTO comments (id, video_id, author, body, media_time_ms)
    SELECT id, video_id, author, body, media_time_ms FROM input
    RETURNING id, body, created_at)
  SELECT input.ord, inserted.* FROM inserted JOIN input USING (id))"};

}  // namespace onair::test
