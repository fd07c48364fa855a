/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "db/embedded_postgres.h"

#include <glib/gstdio.h>
#include <libpq-fe.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

namespace onair::db {

G_DEFINE_QUARK(onair - embedded - postgres - error - quark, embedded_postgres_error)

namespace {

constexpr const char *settings_file = "onaird.conf";
/* sockaddr_un.sun_path holds 108 bytes with the terminating NUL. */
constexpr size_t max_socket_path = 107;

std::string trimmed(std::string text) {
  while (!text.empty() && g_ascii_isspace(text.back())) text.pop_back();
  return text;
}

std::string read_text(const std::string &path) {
  char *contents = nullptr;
  gsize length = 0;
  if (!g_file_get_contents(path.c_str(), &contents, &length, nullptr)) return {};
  std::string text(contents, length);
  g_free(contents);
  return text;
}

std::string first_line(const std::string &text) {
  return text.substr(0, text.find('\n'));
}

/* The last lines of the server log: what a failed start has to say. */
std::string log_tail(const std::string &path, size_t lines = 8) {
  std::string text = trimmed(read_text(path));
  size_t pos = text.size();
  for (size_t n = 0; n < lines && pos != std::string::npos && pos > 0; n++) pos = text.rfind('\n', pos - 1);
  return pos == std::string::npos ? text : text.substr(pos + 1);
}

std::string canonical(const std::string &path) {
  char *resolved = realpath(path.c_str(), nullptr);
  std::string out = resolved ? resolved : path;
  free(resolved);
  return out;
}

/* A value for postgresql.conf: single quotes doubled. */
std::string conf_quote(const std::string &value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

bool is_dir(const std::string &path) {
  return g_file_test(path.c_str(), G_FILE_TEST_IS_DIR);
}

std::string newest_installed_bin_dir() {
  GDir *dir = g_dir_open("/usr/lib/postgresql", 0, nullptr);
  if (!dir) return {};
  int best = 0;
  while (const char *name = g_dir_read_name(dir)) {
    int version = atoi(name);
    std::string candidate = std::string("/usr/lib/postgresql/") + name + "/bin/pg_ctl";
    if (version > best && g_file_test(candidate.c_str(), G_FILE_TEST_IS_EXECUTABLE)) best = version;
  }
  g_dir_close(dir);
  return best ? "/usr/lib/postgresql/" + std::to_string(best) + "/bin" : std::string();
}

struct PGconnDeleter {
  void operator()(PGconn *connection) const { PQfinish(connection); }
};
struct PGresultDeleter {
  void operator()(PGresult *result) const { PQclear(result); }
};

}  // namespace

EmbeddedPostgres::EmbeddedPostgres(EmbeddedPostgresOptions options) : options_(std::move(options)) {
  char *absolute = g_canonicalize_filename(options_.state_dir.c_str(), nullptr);
  options_.state_dir = absolute;
  g_free(absolute);
  root_ = options_.state_dir + "/pg";
  data_dir_ = root_ + "/data";
  socket_dir_ = root_ + "/run";
  log_file_ = root_ + "/postgresql.log";
  std::string socket = socket_dir_ + "/.s.PGSQL." + std::to_string(options_.port);
  if (socket.size() > max_socket_path) {
    /* A deep state directory: keep the socket in a short private directory
     * named after the data directory instead. */
    char *hash = g_compute_checksum_for_string(G_CHECKSUM_SHA256, data_dir_.c_str(), -1);
    socket_dir_ = std::string(g_get_tmp_dir()) + "/onair-pg-" + std::string(hash).substr(0, 16);
    g_free(hash);
  }
}

EmbeddedPostgres::~EmbeddedPostgres() {
  if (!started_) return;
  GError *error = nullptr;
  if (!stop(&error)) {
    g_warning("%s", error->message);
    g_error_free(error);
  }
}

std::string EmbeddedPostgres::uri(const std::string &database) const {
  const std::string &name = database.empty() ? options_.database : database;
  char *escaped_name = g_uri_escape_string(name.c_str(), nullptr, FALSE);
  char *escaped_host = g_uri_escape_string(socket_dir_.c_str(), "/", FALSE);
  std::string out = std::string("postgresql:///") + escaped_name + "?host=" + escaped_host +
                    "&port=" + std::to_string(options_.port) + "&user=" + superuser;
  g_free(escaped_name);
  g_free(escaped_host);
  return out;
}

bool EmbeddedPostgres::run_tool(const std::vector<std::string> &argv, std::string *output,
                                GError **error) const {
  std::vector<std::string> command;
  if (use_runuser_) command = {"runuser", "-u", options_.system_user, "--"};
  command.insert(command.end(), argv.begin(), argv.end());
  std::vector<char *> args;
  for (auto &arg : command) args.push_back(const_cast<char *>(arg.c_str()));
  args.push_back(nullptr);

  /* The tools read PGDATA, PGPORT and friends: they get only what we pass.
   * English messages, whatever the daemon's locale. */
  char **env = g_get_environ();
  std::vector<std::string> drop;
  for (char **variable = env; *variable; variable++) {
    if (g_str_has_prefix(*variable, "PG"))
      drop.push_back(std::string(*variable).substr(0, strcspn(*variable, "=")));
  }
  for (auto &name : drop) env = g_environ_unsetenv(env, name.c_str());
  env = g_environ_setenv(env, "LC_ALL", "C.UTF-8", TRUE);

  char *out = nullptr;
  int status = 0;
  GError *spawn_error = nullptr;
  /* Working directory "/": the PostgreSQL user may not enter ours. */
  gboolean spawned =
      g_spawn_sync("/", args.data(), env, GSpawnFlags(G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL),
                   nullptr, nullptr, &out, nullptr, &status, &spawn_error);
  g_strfreev(env);
  std::string text = out ? trimmed(out) : "";
  g_free(out);
  if (output) *output = text;
  if (!spawned) {
    g_set_error(error, ONAIR_EMBEDDED_POSTGRES_ERROR, EMBEDDED_POSTGRES_ERROR_SETUP, "cannot run %s: %s",
                command[0].c_str(), spawn_error->message);
    g_error_free(spawn_error);
    return false;
  }
  if (!g_spawn_check_wait_status(status, nullptr)) {
    std::string joined;
    for (auto &arg : argv) joined += (joined.empty() ? "" : " ") + arg;
    g_set_error(error, ONAIR_EMBEDDED_POSTGRES_ERROR, EMBEDDED_POSTGRES_ERROR_SETUP, "%s failed%s%s",
                joined.c_str(), text.empty() ? "" : ": ", text.c_str());
    return false;
  }
  return true;
}

bool EmbeddedPostgres::own(const std::string &path, GError **error) const {
  if (!use_runuser_) return true;
  if (chown(path.c_str(), uid_, gid_) != 0) {
    g_set_error(error, ONAIR_EMBEDDED_POSTGRES_ERROR, EMBEDDED_POSTGRES_ERROR_SETUP,
                "cannot give %s to the user %s: %s", path.c_str(), options_.system_user.c_str(),
                g_strerror(errno));
    return false;
  }
  return true;
}

bool EmbeddedPostgres::resolve(GError **error) {
  /* Who runs the server. */
  if (geteuid() == 0) {
    if (options_.system_user.empty()) options_.system_user = "postgres";
  } else if (options_.system_user.empty()) {
    options_.system_user = g_get_user_name();
  }
  struct passwd *user = getpwnam(options_.system_user.c_str());
  if (!user) {
    g_set_error(error, ONAIR_EMBEDDED_POSTGRES_ERROR, EMBEDDED_POSTGRES_ERROR_SETUP,
                "no system user \"%s\" to run PostgreSQL (the postgresql package creates \"postgres\")",
                options_.system_user.c_str());
    return false;
  }
  uid_ = user->pw_uid;
  gid_ = user->pw_gid;
  if (uid_ != geteuid()) {
    if (geteuid() != 0) {
      g_set_error(error, ONAIR_EMBEDDED_POSTGRES_ERROR, EMBEDDED_POSTGRES_ERROR_SETUP,
                  "running PostgreSQL as \"%s\" needs root; run as that user, or leave the user unset",
                  options_.system_user.c_str());
      return false;
    }
    use_runuser_ = true;
  } else if (uid_ == 0) {
    g_set_error(error, ONAIR_EMBEDDED_POSTGRES_ERROR, EMBEDDED_POSTGRES_ERROR_SETUP,
                "PostgreSQL refuses to run as root: choose another system user");
    return false;
  }

  /* Which PostgreSQL: the one the data directory was made with, if any. */
  std::string data_version = trimmed(read_text(data_dir_ + "/PG_VERSION"));
  bin_dir_ = options_.bin_dir;
  if (bin_dir_.empty() && g_getenv("ONAIR_PG_BINDIR")) bin_dir_ = g_getenv("ONAIR_PG_BINDIR");
  if (bin_dir_.empty() && !data_version.empty() && is_dir("/usr/lib/postgresql/" + data_version + "/bin"))
    bin_dir_ = "/usr/lib/postgresql/" + data_version + "/bin";
  if (bin_dir_.empty()) bin_dir_ = newest_installed_bin_dir();
  if (bin_dir_.empty()) {
    char *pg_ctl = g_find_program_in_path("pg_ctl");
    if (pg_ctl) {
      char *dir = g_path_get_dirname(pg_ctl);
      bin_dir_ = dir;
      g_free(dir);
    }
    g_free(pg_ctl);
  }
  for (const char *tool : {"initdb", "pg_ctl", "postgres"}) {
    std::string path = bin_dir_ + "/" + tool;
    if (bin_dir_.empty() || !g_file_test(path.c_str(), G_FILE_TEST_IS_EXECUTABLE)) {
      g_set_error(
          error, ONAIR_EMBEDDED_POSTGRES_ERROR, EMBEDDED_POSTGRES_ERROR_SETUP,
          "no PostgreSQL server found (%s missing): install it (Debian: apt-get install postgresql) or "
          "set ONAIR_PG_BINDIR",
          bin_dir_.empty() ? tool : path.c_str());
      return false;
    }
  }
  if (!data_version.empty()) {
    std::string version;
    if (!run_tool({bin_dir_ + "/postgres", "--version"}, &version, error)) return false;
    /* "postgres (PostgreSQL) 15.18 (Debian ...)" */
    size_t digits = version.find_first_of("0123456789");
    std::string major =
        digits == std::string::npos ? "" : version.substr(digits, version.find('.', digits) - digits);
    if (major != data_version) {
      g_set_error(
          error, ONAIR_EMBEDDED_POSTGRES_ERROR, EMBEDDED_POSTGRES_ERROR_SETUP,
          "%s was made by PostgreSQL %s, but %s is PostgreSQL %s: install PostgreSQL %s, or upgrade the "
          "cluster with pg_upgrade",
          data_dir_.c_str(), data_version.c_str(), bin_dir_.c_str(), major.c_str(), data_version.c_str());
      return false;
    }
  }

  return true;
}

bool EmbeddedPostgres::prepare(GError **error) {
  if (!resolve(error)) return false;
  /* Directories: the state directory is ours; pg/ and below belong to the
   * server's user, which must be able to reach them. */
  if (g_mkdir_with_parents(options_.state_dir.c_str(), use_runuser_ ? 0711 : 0700) != 0) {
    g_set_error(error, ONAIR_EMBEDDED_POSTGRES_ERROR, EMBEDDED_POSTGRES_ERROR_SETUP, "cannot create %s: %s",
                options_.state_dir.c_str(), g_strerror(errno));
    return false;
  }
  if (use_runuser_) {
    GStatBuf st;
    if (g_stat(options_.state_dir.c_str(), &st) == 0 && st.st_uid == geteuid() && !(st.st_mode & S_IXOTH))
      g_chmod(options_.state_dir.c_str(), int((st.st_mode & 07777) | S_IXOTH));
  }
  for (const std::string &dir : {root_, socket_dir_}) {
    if (g_mkdir_with_parents(dir.c_str(), 0700) != 0) {
      g_set_error(error, ONAIR_EMBEDDED_POSTGRES_ERROR, EMBEDDED_POSTGRES_ERROR_SETUP, "cannot create %s: %s",
                  dir.c_str(), g_strerror(errno));
      return false;
    }
    GStatBuf st;
    if (g_lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) ||
        (st.st_uid != uid_ && st.st_uid != geteuid())) {
      g_set_error(error, ONAIR_EMBEDDED_POSTGRES_ERROR, EMBEDDED_POSTGRES_ERROR_SETUP,
                  "%s is not a directory of ours: remove it", dir.c_str());
      return false;
    }
    if (!own(dir, error)) return false;
    g_chmod(dir.c_str(), 0700);
  }
  if (use_runuser_ && !run_tool({"test", "-w", root_, "-a", "-x", root_}, nullptr, nullptr)) {
    g_set_error(
        error, ONAIR_EMBEDDED_POSTGRES_ERROR, EMBEDDED_POSTGRES_ERROR_SETUP,
        "the user %s cannot reach %s: let it search every directory above (chmod o+x), or choose another "
        "state directory",
        options_.system_user.c_str(), root_.c_str());
    return false;
  }
  return true;
}

bool EmbeddedPostgres::initdb(GError **error) {
  if (g_file_test((data_dir_ + "/PG_VERSION").c_str(), G_FILE_TEST_EXISTS)) return true;
  if (is_dir(data_dir_)) {
    GDir *dir = g_dir_open(data_dir_.c_str(), 0, nullptr);
    bool empty = dir && !g_dir_read_name(dir);
    if (dir) g_dir_close(dir);
    if (!empty) {
      g_set_error(error, ONAIR_EMBEDDED_POSTGRES_ERROR, EMBEDDED_POSTGRES_ERROR_INITDB,
                  "%s is neither empty nor a PostgreSQL data directory (an interrupted initdb?): remove it",
                  data_dir_.c_str());
      return false;
    }
  }
  std::vector<std::string> argv = {
      bin_dir_ + "/initdb", "--pgdata=" + data_dir_, std::string("--username=") + superuser,
      "--encoding=UTF8",    "--locale=C.UTF-8",      "--auth-local=trust",
      "--auth-host=reject", "--no-instructions"};
  if (!options_.durable) argv.push_back("--no-sync");
  std::string output;
  GError *run_error = nullptr;
  if (!run_tool(argv, &output, &run_error)) {
    g_set_error(error, ONAIR_EMBEDDED_POSTGRES_ERROR, EMBEDDED_POSTGRES_ERROR_INITDB,
                "cannot create the PostgreSQL cluster in %s: %s", data_dir_.c_str(), run_error->message);
    g_error_free(run_error);
    return false;
  }
  /* Our settings live in a file of their own, rewritten at every start. */
  std::string conf = data_dir_ + "/postgresql.conf";
  std::string text = read_text(conf);
  text += std::string("\n# onaird: listen only on a private Unix socket (rewritten at every start)\n") +
          "include_if_exists = '" + settings_file + "'\n";
  GError *write_error = nullptr;
  if (!g_file_set_contents_full(conf.c_str(), text.c_str(), gssize(text.size()),
                                G_FILE_SET_CONTENTS_CONSISTENT, 0600, &write_error)) {
    g_propagate_error(error, write_error);
    return false;
  }
  g_message("created a PostgreSQL cluster in %s", data_dir_.c_str());
  return own(conf, error);
}

bool EmbeddedPostgres::write_settings(GError **error) {
  if (socket_dir_.find('"') != std::string::npos) {
    g_set_error(error, ONAIR_EMBEDDED_POSTGRES_ERROR, EMBEDDED_POSTGRES_ERROR_SETUP,
                "a state directory with a double quote in its path is not supported: %s",
                socket_dir_.c_str());
    return false;
  }
  std::string text =
      "# Written by onaird at every start: edits are lost. Put your own settings in\n"
      "# postgresql.conf or use ALTER SYSTEM.\n"
      "listen_addresses = ''\n"
      "port = " +
      std::to_string(options_.port) + "\nunix_socket_directories = " + conf_quote("\"" + socket_dir_ + "\"") +
      "\nunix_socket_permissions = 0700\n";
  if (!options_.durable) text += "fsync = off\nfull_page_writes = off\n";
  std::string path = data_dir_ + "/" + settings_file;
  GError *write_error = nullptr;
  if (!g_file_set_contents_full(path.c_str(), text.c_str(), gssize(text.size()),
                                G_FILE_SET_CONTENTS_CONSISTENT, 0600, &write_error)) {
    g_propagate_error(error, write_error);
    return false;
  }
  return own(path, error);
}

pid_t EmbeddedPostgres::postmaster_pid() const {
  std::string text = read_text(data_dir_ + "/postmaster.pid");
  pid_t pid = pid_t(atoi(first_line(text).c_str()));
  if (pid <= 0) return 0;
  /* A pid file survives a crash, and its number may now belong to anything:
   * the postmaster of this cluster works in its data directory. */
  char *cwd = g_file_read_link(("/proc/" + std::to_string(pid) + "/cwd").c_str(), nullptr);
  bool ours = cwd && canonical(cwd) == canonical(data_dir_);
  g_free(cwd);
  return ours ? pid : 0;
}

bool EmbeddedPostgres::running() const {
  return postmaster_pid() != 0;
}

bool EmbeddedPostgres::remove_stale_lock_files() {
  /* postmaster.pid, and the socket's lock file, of a server that is gone.
   * PostgreSQL removes them itself only when their pid is free; after a
   * reboot or in a container it is often taken by another process. */
  bool removed = false;
  std::string pid_file = data_dir_ + "/postmaster.pid";
  if (g_file_test(pid_file.c_str(), G_FILE_TEST_EXISTS)) {
    g_message("removing %s, left by a PostgreSQL that is no longer running (pid %s)", pid_file.c_str(),
              first_line(read_text(pid_file)).c_str());
    g_unlink(pid_file.c_str());
    removed = true;
  }
  std::string socket = socket_dir_ + "/.s.PGSQL." + std::to_string(options_.port);
  if (g_file_test((socket + ".lock").c_str(), G_FILE_TEST_EXISTS)) {
    g_unlink((socket + ".lock").c_str());
    g_unlink(socket.c_str());
  }
  return removed;
}

bool EmbeddedPostgres::wait_until_ready(GError **error) {
  std::string conninfo = uri("postgres");
  gint64 deadline = g_get_monotonic_time() + gint64(options_.start_timeout_seconds) * G_USEC_PER_SEC;
  while (g_get_monotonic_time() < deadline) {
    if (PQping(conninfo.c_str()) == PQPING_OK) return true;
    if (!running()) break;
    g_usleep(100 * 1000);
  }
  g_set_error(error, ONAIR_EMBEDDED_POSTGRES_ERROR, EMBEDDED_POSTGRES_ERROR_START,
              "the PostgreSQL server in %s does not accept connections; its log %s ends with:\n%s",
              data_dir_.c_str(), log_file_.c_str(), log_tail(log_file_).c_str());
  return false;
}

bool EmbeddedPostgres::start(GError **error) {
  if (!prepare(error) || !initdb(error) || !write_settings(error)) return false;

  if (running()) {
    /* Left running by a daemon that did not stop it: use it, stop it with ours. */
    g_message("PostgreSQL is already running in %s (pid %d): using it", data_dir_.c_str(),
              int(postmaster_pid()));
    if (wait_until_ready(error)) {
      started_ = true;
      return create_database(options_.database, error);
    }
    if (running()) return false;
    g_clear_error(error);
  }
  remove_stale_lock_files();

  std::vector<std::string> argv = {bin_dir_ + "/pg_ctl",
                                   "start",
                                   "--pgdata=" + data_dir_,
                                   "--log=" + log_file_,
                                   "--wait",
                                   "--timeout=" + std::to_string(options_.start_timeout_seconds),
                                   "--silent"};
  GError *start_error = nullptr;
  /* After a crash, backends of the old server may still hold its shared
   * memory for a moment: PostgreSQL then refuses to start. Try again. */
  for (int attempt = 0;; attempt++) {
    g_clear_error(&start_error);
    if (run_tool(argv, nullptr, &start_error)) break;
    if (attempt >= 20 ||
        log_tail(log_file_, 4).find("pre-existing shared memory block") == std::string::npos) {
      g_set_error(error, ONAIR_EMBEDDED_POSTGRES_ERROR, EMBEDDED_POSTGRES_ERROR_START,
                  "cannot start PostgreSQL in %s: %s\nIts log %s ends with:\n%s", data_dir_.c_str(),
                  start_error->message, log_file_.c_str(), log_tail(log_file_).c_str());
      g_error_free(start_error);
      return false;
    }
    g_usleep(250 * 1000);
  }
  g_clear_error(&start_error);
  started_ = true;
  if (!wait_until_ready(error)) return false;
  return create_database(options_.database, error);
}

bool EmbeddedPostgres::stop(GError **error) {
  started_ = false;
  if (running() && bin_dir_.empty() && !resolve(error)) return false;
  GError *stop_error = nullptr;
  if (running() && !run_tool({bin_dir_ + "/pg_ctl", "stop", "--pgdata=" + data_dir_, "--mode=fast", "--wait",
                              "--timeout=120", "--silent"},
                             nullptr, &stop_error)) {
    g_set_error(error, ONAIR_EMBEDDED_POSTGRES_ERROR, EMBEDDED_POSTGRES_ERROR_STOP,
                "cannot stop PostgreSQL in %s: %s", data_dir_.c_str(), stop_error->message);
    g_error_free(stop_error);
    return false;
  }
  /* The short socket directory made in /tmp for a deep state directory goes too. */
  if (!g_str_has_prefix(socket_dir_.c_str(), (root_ + "/").c_str())) g_rmdir(socket_dir_.c_str());
  return true;
}

namespace {

std::unique_ptr<PGconn, PGconnDeleter> connect_blocking(const std::string &uri, GError **error) {
  std::unique_ptr<PGconn, PGconnDeleter> connection(PQconnectdb(uri.c_str()));
  if (PQstatus(connection.get()) != CONNECTION_OK) {
    g_set_error(error, ONAIR_EMBEDDED_POSTGRES_ERROR, EMBEDDED_POSTGRES_ERROR_SQL, "cannot connect to %s: %s",
                uri.c_str(), trimmed(PQerrorMessage(connection.get())).c_str());
    connection.reset();
  }
  return connection;
}

/* Identifiers cannot be parameters: libpq quotes the name. */
std::string quoted_identifier(PGconn *connection, const std::string &name) {
  char *identifier = PQescapeIdentifier(connection, name.c_str(), name.size());
  std::string out = identifier ? identifier : "\"\"";
  PQfreemem(identifier);
  return out;
}

}  // namespace

bool EmbeddedPostgres::create_database(const std::string &name, GError **error) {
  if (name.empty()) return true;
  auto connection = connect_blocking(uri("postgres"), error);
  if (!connection) return false;
  const char *values[] = {name.c_str()};
  std::unique_ptr<PGresult, PGresultDeleter> found(
      PQexecParams(connection.get(), "SELECT 1 FROM pg_database WHERE datname = $1", 1, nullptr, values,
                   nullptr, nullptr, 0));
  if (PQresultStatus(found.get()) == PGRES_TUPLES_OK && PQntuples(found.get()) > 0) return true;
  std::string sql = "CREATE DATABASE " + quoted_identifier(connection.get(), name);
  std::unique_ptr<PGresult, PGresultDeleter> result(PQexec(connection.get(), sql.c_str()));
  if (PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
    const char *state = PQresultErrorField(result.get(), PG_DIAG_SQLSTATE);
    if (state && strcmp(state, "42P04") == 0) return true; /* made meanwhile by another process */
    g_set_error(error, ONAIR_EMBEDDED_POSTGRES_ERROR, EMBEDDED_POSTGRES_ERROR_SQL,
                "cannot create database %s: %s", name.c_str(),
                trimmed(PQresultErrorMessage(result.get())).c_str());
    return false;
  }
  return true;
}

bool EmbeddedPostgres::drop_database(const std::string &name, GError **error) {
  auto connection = connect_blocking(uri("postgres"), error);
  if (!connection) return false;
  std::string sql = "DROP DATABASE IF EXISTS " + quoted_identifier(connection.get(), name) + " WITH (FORCE)";
  std::unique_ptr<PGresult, PGresultDeleter> result(PQexec(connection.get(), sql.c_str()));
  if (PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
    g_set_error(error, ONAIR_EMBEDDED_POSTGRES_ERROR, EMBEDDED_POSTGRES_ERROR_SQL,
                "cannot drop database %s: %s", name.c_str(),
                trimmed(PQresultErrorMessage(result.get())).c_str());
    return false;
  }
  return true;
}

}  // namespace onair::db
