/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include <string>
#include <vector>

#include <sys/types.h>

namespace onair::db {

#define ONAIR_EMBEDDED_POSTGRES_ERROR (onair::db::embedded_postgres_error_quark())
GQuark embedded_postgres_error_quark();

enum EmbeddedPostgresError {
  /* No PostgreSQL server installed, a directory that cannot be made or reached, a version mismatch. */
  EMBEDDED_POSTGRES_ERROR_SETUP,
  EMBEDDED_POSTGRES_ERROR_INITDB,
  EMBEDDED_POSTGRES_ERROR_START,
  EMBEDDED_POSTGRES_ERROR_STOP,
  EMBEDDED_POSTGRES_ERROR_SQL,
};

struct EmbeddedPostgresOptions {
  /* The cluster lives in <state_dir>/pg: data/ (PGDATA), run/ (the Unix
   * socket), postgresql.log. */
  std::string state_dir;
  /* Created if missing by start(). Empty: none. */
  std::string database = "onair";
  /* false (tests only): initdb --no-sync and fsync=off. A crash of the
   * server stays safe; a crash of the machine may lose the cluster. */
  bool durable = true;
  /* Where initdb, pg_ctl and postgres are. Empty: $ONAIR_PG_BINDIR, else
   * /usr/lib/postgresql/<the data directory's version>/bin, else the newest
   * /usr/lib/postgresql/<N>/bin, else the PATH. */
  std::string bin_dir;
  /* The system user that runs PostgreSQL, which refuses to run as root.
   * Empty: "postgres" when running as root (through runuser), else the
   * current user. */
  std::string system_user;
  /* Names the socket file only (.s.PGSQL.<port>): the server listens on no
   * TCP port. */
  int port = 5432;
  /* How long pg_ctl waits for the server to accept connections (crash
   * recovery included). */
  int start_timeout_seconds = 300;
};

/* A private PostgreSQL cluster under a state directory, run with the
 * system's initdb and pg_ctl: what onaird uses without --db, and what the
 * tests use.
 *
 * start() creates the cluster the first time (initdb: UTF-8, superuser
 * "onair", trust for the Unix socket only), starts it listening on a Unix
 * socket in a directory only its user can enter and on no TCP address, waits
 * until it accepts connections and creates the database. A cluster left
 * running by a daemon that died is adopted; a postmaster.pid left by a crash
 * is recognised as stale (its process is not a postmaster of this directory)
 * and removed. stop() (and the destructor, if start() succeeded) stops it
 * with pg_ctl stop -m fast.
 *
 * start(), stop() and the database helpers block: call them at startup,
 * shutdown or from tests, never from a main-loop callback. */
class EmbeddedPostgres {
 public:
  explicit EmbeddedPostgres(EmbeddedPostgresOptions options);
  ~EmbeddedPostgres();
  EmbeddedPostgres(const EmbeddedPostgres &) = delete;
  EmbeddedPostgres &operator=(const EmbeddedPostgres &) = delete;

  bool start(GError **error);
  bool stop(GError **error);
  /* A postmaster is running for this data directory (started by us or not). */
  bool running() const;

  /* postgresql:///<database>?host=<socket dir>&port=<port>&user=onair
   * (empty: the options' database). */
  std::string uri(const std::string &database = {}) const;

  bool create_database(const std::string &name, GError **error);
  /* Drops it even with sessions still connected (WITH (FORCE)). */
  bool drop_database(const std::string &name, GError **error);

  /* The postmaster's pid from postmaster.pid, if that process is running for this directory; else 0. */
  pid_t postmaster_pid() const;

  const std::string &data_dir() const { return data_dir_; }
  const std::string &socket_dir() const { return socket_dir_; }
  const std::string &log_file() const { return log_file_; }
  const std::string &bin_dir() const { return bin_dir_; }

  /* The superuser initdb creates, named in uri(). */
  static constexpr const char *superuser = "onair";

 private:
  bool resolve(GError **error);
  bool prepare(GError **error);
  bool initdb(GError **error);
  bool write_settings(GError **error);
  bool remove_stale_lock_files();
  bool wait_until_ready(GError **error);
  bool run_tool(const std::vector<std::string> &argv, std::string *output, GError **error) const;
  bool own(const std::string &path, GError **error) const;

  EmbeddedPostgresOptions options_;
  std::string root_;
  std::string data_dir_;
  std::string socket_dir_;
  std::string log_file_;
  std::string bin_dir_;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
  bool use_runuser_ = false;
  bool started_ = false;
};

}  // namespace onair::db
