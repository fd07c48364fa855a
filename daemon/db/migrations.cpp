/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "db/migrations.h"

#include <algorithm>
#include <cstring>
#include <map>

namespace onair::db {

G_DEFINE_QUARK(onair - migration - error - quark, migration_error)

namespace {

/* Daemons sharing a database serialize their migrations on this lock ("onair" in ASCII). */
constexpr int64_t migration_lock_key = 0x6f6e616972;

constexpr Statement lock_statement{"onair_migrations_lock", "SELECT pg_advisory_lock($1::bigint)"};
constexpr Statement applied_statement{
    "onair_migrations_applied", "SELECT version, name, checksum FROM schema_migrations ORDER BY version"};
constexpr Statement record_statement{
    "onair_migrations_record",
    "INSERT INTO schema_migrations (version, name, checksum, applied_by) VALUES ($1, $2, $3, $4)"};

constexpr const char *create_table_sql = R"(
CREATE TABLE IF NOT EXISTS schema_migrations (
  version integer PRIMARY KEY CHECK (version > 0),
  name text NOT NULL,
  checksum text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now(),
  applied_by text NOT NULL
))";

/* "NNNN_name.sql": four digits or more, an underscore, a name. */
bool parse_file_name(const char *file, int *version) {
  size_t length = strlen(file);
  if (length < 10 || !g_str_has_suffix(file, ".sql")) return false;
  size_t digits = 0;
  while (g_ascii_isdigit(file[digits])) digits++;
  if (digits < 4 || file[digits] != '_' || digits + 1 >= length - 4) return false;
  for (size_t i = digits + 1; i < length - 4; i++) {
    if (!g_ascii_isalnum(file[i]) && file[i] != '_' && file[i] != '-') return false;
  }
  *version = int(g_ascii_strtoll(file, nullptr, 10));
  return *version > 0;
}

/* PostgreSQL reports an error's position in characters; the line helps more. */
int line_of(const std::string &sql, int position) {
  if (position <= 0) return 0;
  const char *end =
      g_utf8_offset_to_pointer(sql.c_str(), std::min<glong>(position - 1, g_utf8_strlen(sql.c_str(), -1)));
  return 1 + int(std::count(sql.c_str(), end, '\n'));
}

}  // namespace

bool load_migrations(const std::string &directory, std::vector<Migration> *migrations, GError **error) {
  migrations->clear();
  GDir *dir = g_dir_open(directory.c_str(), 0, error);
  if (!dir) {
    g_prefix_error(error, "migrations: ");
    if (error && *error) {
      (*error)->domain = ONAIR_MIGRATION_ERROR;
      (*error)->code = MIGRATION_ERROR_FILES;
    }
    return false;
  }
  std::map<int, Migration> by_version;
  bool ok = true;
  while (const char *file = g_dir_read_name(dir)) {
    if (!g_str_has_suffix(file, ".sql")) continue;
    Migration migration;
    if (!parse_file_name(file, &migration.version)) {
      g_set_error(error, ONAIR_MIGRATION_ERROR, MIGRATION_ERROR_FILES,
                  "migrations: %s/%s is not named NNNN_name.sql (a version of four digits, then a name)",
                  directory.c_str(), file);
      ok = false;
      break;
    }
    migration.file = file;
    migration.path = directory + "/" + file;
    char *contents = nullptr;
    gsize length = 0;
    GError *read_error = nullptr;
    if (!g_file_get_contents(migration.path.c_str(), &contents, &length, &read_error)) {
      g_set_error(error, ONAIR_MIGRATION_ERROR, MIGRATION_ERROR_FILES, "migrations: %s", read_error->message);
      g_error_free(read_error);
      ok = false;
      break;
    }
    migration.sql.assign(contents, length);
    g_free(contents);
    if (!g_utf8_validate(migration.sql.data(), gssize(migration.sql.size()), nullptr) ||
        migration.sql.find('\0') != std::string::npos) {
      g_set_error(error, ONAIR_MIGRATION_ERROR, MIGRATION_ERROR_FILES, "migrations: %s is not UTF-8 text",
                  migration.path.c_str());
      ok = false;
      break;
    }
    char *checksum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, migration.sql.data(), gssize(length));
    migration.checksum = checksum;
    g_free(checksum);
    auto [it, added] = by_version.emplace(migration.version, migration);
    if (!added) {
      g_set_error(error, ONAIR_MIGRATION_ERROR, MIGRATION_ERROR_FILES,
                  "migrations: %s and %s have the same version %d", it->second.file.c_str(), file,
                  migration.version);
      ok = false;
      break;
    }
  }
  g_dir_close(dir);
  if (!ok) return false;
  for (auto &[version, migration] : by_version) migrations->push_back(std::move(migration));
  return true;
}

struct Migrator::State : std::enable_shared_from_this<State> {
  std::string uri;
  std::vector<Migration> migrations;
  GMainContext *context = nullptr;
  std::unique_ptr<Database> database;
  MigrationCallback done;
  MigrationReport report;
  std::vector<const Migration *> pending;
  size_t next = 0;

  void start();
  void locked();
  void table_ready();
  void compare(const Result &applied);
  void apply_next();
  void finish(GError *error);
  void fail(int code, const char *format, ...) G_GNUC_PRINTF(3, 4);
  void unavailable(const Error &error) {
    fail(MIGRATION_ERROR_UNAVAILABLE, "migrations: the database is unavailable: %s", error.message.c_str());
  }
};

Migrator::Migrator(std::string uri, std::vector<Migration> migrations, GMainContext *context)
    : state_(std::make_shared<State>()) {
  state_->uri = std::move(uri);
  state_->migrations = std::move(migrations);
  state_->context = context;
}

Migrator::~Migrator() {
  /* The callbacks hold weak references: closing the connection ends the work. */
  state_->done = nullptr;
  state_->database.reset();
}

void Migrator::run(MigrationCallback done) {
  state_->done = std::move(done);
  state_->start();
}

void Migrator::State::start() {
  DatabaseOptions options;
  options.uri = uri;
  options.pool_size = 1;
  options.context = context;
  /* Another daemon may hold the lock for as long as its migrations take. */
  options.query_timeout = std::chrono::milliseconds(0);
  options.application_name = "onaird migrations";
  database = std::make_unique<Database>(options);
  std::weak_ptr<State> weak = weak_from_this();
  database->open([weak](const Error &error) {
    auto self = weak.lock();
    if (!self) return;
    if (error) {
      self->unavailable(error);
      return;
    }
    self->database->query(lock_statement, {int64_t(migration_lock_key)}, [weak](const Result &result) {
      auto self = weak.lock();
      if (!self) return;
      if (!result.ok())
        self->fail(result.unavailable() ? MIGRATION_ERROR_UNAVAILABLE : MIGRATION_ERROR_FAILED,
                   "migrations: cannot take the migration lock: %s", result.error().describe().c_str());
      else
        self->locked();
    });
  });
}

void Migrator::State::locked() {
  std::weak_ptr<State> weak = weak_from_this();
  std::vector<Command> commands;
  commands.push_back(Command::script(create_table_sql));
  database->transaction(std::move(commands), [weak](const TransactionResult &result) {
    auto self = weak.lock();
    if (!self) return;
    if (!result.ok())
      self->fail(result.unavailable() ? MIGRATION_ERROR_UNAVAILABLE : MIGRATION_ERROR_FAILED,
                 "migrations: cannot create schema_migrations: %s", result.error().describe().c_str());
    else
      self->table_ready();
  });
}

void Migrator::State::table_ready() {
  std::weak_ptr<State> weak = weak_from_this();
  database->query(applied_statement, {}, [weak](const Result &result) {
    auto self = weak.lock();
    if (!self) return;
    if (!result.ok())
      self->fail(result.unavailable() ? MIGRATION_ERROR_UNAVAILABLE : MIGRATION_ERROR_FAILED,
                 "migrations: cannot read schema_migrations: %s", result.error().describe().c_str());
    else
      self->compare(result);
  });
}

void Migrator::State::compare(const Result &applied) {
  const Migration *newest = migrations.empty() ? nullptr : &migrations.back();
  int newest_version = newest ? newest->version : 0;
  std::map<int, const Migration *> files;
  for (const Migration &migration : migrations) files[migration.version] = &migration;

  int current = 0;
  std::string current_name;
  for (int row = 0; row < applied.rows(); row++) {
    int version = int(applied.int64(row, "version"));
    if (version > current) {
      current = version;
      current_name = std::string(applied.text(row, "name"));
    }
  }
  report.version_before = current;
  report.version = current;

  if (current > newest_version) {
    fail(
        MIGRATION_ERROR_NEWER_SCHEMA,
        "the database schema is at version %d (%s), newer than this onaird knows: its newest migration is %d "
        "(%s). Run an onaird at least as new as the one that migrated this database, or use another database",
        current, current_name.c_str(), newest_version, newest ? newest->file.c_str() : "none");
    return;
  }
  std::map<int, bool> done_versions;
  for (int row = 0; row < applied.rows(); row++) {
    int version = int(applied.int64(row, "version"));
    std::string name(applied.text(row, "name"));
    std::string checksum(applied.text(row, "checksum"));
    done_versions[version] = true;
    auto file = files.find(version);
    if (file == files.end()) {
      fail(MIGRATION_ERROR_CHANGED,
           "migration %d (%s) is recorded as applied to the database, but there is no such file among this "
           "onaird's migrations",
           version, name.c_str());
      return;
    }
    if (file->second->checksum != checksum) {
      fail(MIGRATION_ERROR_CHANGED,
           "migration %s was edited after it was applied to this database (SHA-256 recorded %.12s…, file now "
           "%.12s…): restore it, and put the change in a new migration",
           file->second->path.c_str(), checksum.c_str(), file->second->checksum.c_str());
      return;
    }
  }
  for (const Migration &migration : migrations) {
    if (done_versions.count(migration.version)) continue;
    if (migration.version < current) {
      fail(MIGRATION_ERROR_CHANGED,
           "migration %s was never applied, but the database is already at version %d: give it a version "
           "after "
           "%d",
           migration.file.c_str(), current, current);
      return;
    }
    pending.push_back(&migration);
  }
  apply_next();
}

void Migrator::State::apply_next() {
  if (next >= pending.size()) {
    finish(nullptr);
    return;
  }
  const Migration *migration = pending[next];
  std::vector<Command> commands;
  commands.push_back(Command::script(migration->sql));
  commands.push_back(Command::prepared(
      record_statement, {migration->version, migration->file, migration->checksum, "onaird " VERSION}));
  std::weak_ptr<State> weak = weak_from_this();
  database->transaction(std::move(commands), [weak, migration](const TransactionResult &result) {
    auto self = weak.lock();
    if (!self) return;
    if (!result.ok()) {
      const Error &error = result.error();
      int line = result.size() == 0 ? line_of(migration->sql, error.position) : 0;
      std::string where = line ? " line " + std::to_string(line) : "";
      self->fail(error.unavailable() ? MIGRATION_ERROR_UNAVAILABLE : MIGRATION_ERROR_FAILED,
                 "migration %s%s failed and was rolled back: %s", migration->path.c_str(), where.c_str(),
                 error.describe().c_str());
      return;
    }
    g_message("applied migration %s", migration->file.c_str());
    self->report.applied.push_back(migration->file);
    self->report.version = migration->version;
    self->next++;
    self->apply_next();
  });
}

void Migrator::State::fail(int code, const char *format, ...) {
  va_list args;
  va_start(args, format);
  GError *error = g_error_new_valist(ONAIR_MIGRATION_ERROR, code, format, args);
  va_end(args);
  finish(error);
}

void Migrator::State::finish(GError *error) {
  /* Closing the connection also releases the advisory lock. */
  auto keep = shared_from_this();
  database.reset();
  MigrationCallback callback = std::move(done);
  done = nullptr;
  if (callback) callback(report, error);
  if (error) g_error_free(error);
}

bool migrate(const std::string &uri, const std::string &directory, MigrationReport *report, GError **error) {
  std::vector<Migration> migrations;
  if (!load_migrations(directory, &migrations, error)) return false;
  GMainContext *context = g_main_context_new();
  g_main_context_push_thread_default(context);
  bool finished = false;
  bool ok = false;
  {
    Migrator migrator(uri, std::move(migrations), context);
    migrator.run([&](const MigrationReport &result, const GError *failure) {
      finished = true;
      ok = !failure;
      if (report) *report = result;
      if (failure) g_propagate_error(error, g_error_copy(failure));
    });
    while (!finished) g_main_context_iteration(context, TRUE);
  }
  g_main_context_pop_thread_default(context);
  g_main_context_unref(context);
  return ok;
}

}  // namespace onair::db
