/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "db/database.h"

#include <glib.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace onair::db {

#define ONAIR_MIGRATION_ERROR (onair::db::migration_error_quark())
GQuark migration_error_quark();

enum MigrationError {
  /* The migrations directory: unreadable, a misnamed .sql file, a version twice. */
  MIGRATION_ERROR_FILES,
  /* The database holds a migration newer than any this daemon knows. */
  MIGRATION_ERROR_NEWER_SCHEMA,
  /* An applied migration's file is missing or was edited since. */
  MIGRATION_ERROR_CHANGED,
  /* A migration failed; it was rolled back. */
  MIGRATION_ERROR_FAILED,
  /* The database could not be reached or stopped answering. */
  MIGRATION_ERROR_UNAVAILABLE,
};

/* One schemas/postgres/NNNN_name.sql file. */
struct Migration {
  int version = 0;
  std::string file; /* "0001_init.sql" */
  std::string path;
  std::string sql;
  std::string checksum; /* SHA-256 of the file, hex */
};

/* Reads every NNNN_name.sql file of `directory` in numeric order. Other
 * files are ignored; a .sql file named otherwise, or two files with one
 * version, is an error. */
bool load_migrations(const std::string &directory, std::vector<Migration> *migrations, GError **error);

struct MigrationReport {
  int version_before = 0; /* the schema version found (0: an empty database) */
  int version = 0;        /* the schema version now */
  std::vector<std::string> applied;
};

using MigrationCallback = std::function<void(const MigrationReport &report, const GError *error)>;

/* Brings a database's schema up to date, on a connection of its own:
 *  - takes a session advisory lock, so that daemons sharing the database
 *    migrate one at a time (the others wait, then find nothing to do);
 *  - creates schema_migrations (version, name, checksum, applied_at,
 *    applied_by) if needed;
 *  - refuses a database that has a migration newer than the newest file
 *    (MIGRATION_ERROR_NEWER_SCHEMA, naming both versions), or whose applied
 *    migrations no longer match their files (MIGRATION_ERROR_CHANGED: an
 *    applied migration must never be edited; add a new one);
 *  - applies each missing migration in its own transaction together with its
 *    schema_migrations row, in order.
 * A migration file must not hold BEGIN/COMMIT, nor statements that cannot run
 * in a transaction (CREATE INDEX CONCURRENTLY, ALTER SYSTEM, ...). */
class Migrator {
 public:
  /* `context`: where it runs (nullptr: the thread-default context). */
  Migrator(std::string uri, std::vector<Migration> migrations, GMainContext *context = nullptr);
  ~Migrator();
  Migrator(const Migrator &) = delete;
  Migrator &operator=(const Migrator &) = delete;

  /* Starts; `done` runs once on the context. Destroying the Migrator before
   * then abandons the work (the transaction in progress is rolled back). */
  void run(MigrationCallback done);

 private:
  struct State;
  std::shared_ptr<State> state_;
};

/* Loads `directory` and migrates, running a private GMainContext until done:
 * for startup (before the daemon's main loop runs) and tools. It blocks the
 * calling thread, so never call it from a main-loop callback. */
bool migrate(const std::string &uri, const std::string &directory, MigrationReport *report, GError **error);

}  // namespace onair::db
