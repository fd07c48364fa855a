/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include <string>

namespace onair {

#define ONAIR_CONFIG_ERROR (onair::config_error_quark())
GQuark config_error_quark();

enum ConfigError {
  CONFIG_ERROR_FILE,  /* unreadable or malformed, an unknown group or key */
  CONFIG_ERROR_VALUE, /* a value out of range */
  CONFIG_ERROR_USAGE, /* the command line */
};

/* onaird's settings: built-in defaults, then the config file, then the
 * command line, each overriding the one before. */
struct Config {
  /* The file read, if any. */
  std::string config_file;

  /* [server] */
  std::string listen_address = "127.0.0.1";
  int port = 8080;
  /* What clients are told to use (playback URLs, Location headers); default
   * http://<listen_address>:<port>. No trailing slash. */
  std::string public_base_url;

  /* [storage] */
  /* Default: /var/lib/onaird as root, else $XDG_STATE_HOME/onaird. */
  std::string state_dir;
  /* Default: <state_dir>/media. */
  std::string media_root;

  /* [database] */
  /* A libpq URI or connection string; empty: the embedded cluster in <state_dir>/pg. */
  std::string database_uri;
  int pool_size = 4;
  /* Default: $ONAIRD_MIGRATIONS_DIR, else the installed schemas/postgres. */
  std::string migrations_dir;

  /* [channels] */
  /* Default: $ONAIRD_PIPELINES_DIR, else the installed pipelines. */
  std::string pipelines_dir;
  /* RTMP publishes to channels (pipelines with a stream-key and rtmp-port). */
  std::string rtmp_address = "0.0.0.0";
  int rtmp_port = 1935;
  /* [playback] */
  /* How long a playback URL handed out by the API stays valid, in seconds. */
  int playback_url_ttl = 21600;
  /* The HMAC key of playback URLs; created when missing. Default:
   * <state_dir>/playback.key. */
  std::string playback_key_file;

  /* [reactions] POST /api/v1/channels/{id}/reactions: token buckets per
   * viewer and per client address (reactions per second, burst), and the
   * price of a super reaction in points. */
  int reactions_viewer_rate = 10;
  int reactions_viewer_burst = 20;
  int reactions_address_rate = 200;
  int reactions_address_burst = 400;
  int super_reaction_price = 10;

  /* [points] Watch time reported by players: seconds per point, the most
   * seconds one report may carry, the most points earned in any hour. */
  int seconds_per_point = 60;
  int max_report_seconds = 300;
  int max_points_per_hour = 60;

  /* Command line only: migrate, print the schema version and exit. */
  bool migrate_only = false;
};

/* Reads the command line (removing what it understood from argc/argv) and
 * the config file: --config FILE, else $ONAIRD_CONFIG, else
 * /etc/onair/onaird.conf if it exists. An example:
 *
 *   [server]
 *   listen_address = 0.0.0.0
 *   port = 8080
 *   public_base_url = https://live.example.com
 *
 *   [storage]
 *   state_dir = /var/lib/onaird
 *   media_root = /srv/onair
 *
 *   [database]
 *   # uri = postgresql://onair@db.example.com/onair
 *   pool_size = 4
 *
 *   [channels]
 *   pipelines_dir = /etc/onair/pipelines
 *   rtmp_port = 1935
 *   [playback]
 *   url_ttl = 21600
 *   key_file = /var/lib/onaird/playback.key
 *
 *   [reactions]
 *   viewer_rate = 10
 *   viewer_burst = 20
 *   address_rate = 200
 *   address_burst = 400
 *   super_price = 10
 *
 *   [points]
 *   seconds_per_point = 60
 *   max_report_seconds = 300
 *   max_points_per_hour = 60
 *
 * Relative paths in the file are relative to the file; on the command line,
 * to the working directory. Unknown groups and keys are errors (a typo must
 * not be ignored). */
bool load_config(int *argc, char ***argv, Config *config, GError **error);

/* Only the file (into `config`), then the derived defaults: for tests. */
bool load_config_file(const std::string &path, Config *config, GError **error);

/* Fills what is derived from other settings and checks ranges. */
bool finish_config(Config *config, GError **error);

}  // namespace onair
