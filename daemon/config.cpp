/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <glib/gstdio.h>

#include <cstring>
#include <memory>
#include <unistd.h>

#ifndef ONAIRD_MIGRATIONS_DIR
#define ONAIRD_MIGRATIONS_DIR "/usr/share/onair/schemas/postgres"
#endif

namespace onair {

G_DEFINE_QUARK(onair - config - error - quark, config_error)

namespace {

constexpr const char *system_config_file = "/etc/onair/onaird.conf";

struct KeyFileDeleter {
  void operator()(GKeyFile *file) const { g_key_file_unref(file); }
};

std::string absolute(const std::string &path, const std::string &base) {
  if (path.empty()) return path;
  char *out = g_canonicalize_filename(path.c_str(), base.empty() ? nullptr : base.c_str());
  std::string result = out;
  g_free(out);
  return result;
}

/* Every key the file may hold, by group. */
const char *const server_keys[] = {"listen_address", "port", "public_base_url", nullptr};
const char *const storage_keys[] = {"state_dir", "media_root", nullptr};
const char *const database_keys[] = {"uri", "pool_size", "migrations_dir", nullptr};
const char *const channels_keys[] = {"pipelines_dir", "rtmp_address", "rtmp_port", nullptr};
const char *const playback_keys[] = {"url_ttl", "key_file", nullptr};
const char *const reactions_keys[] = {"viewer_rate",   "viewer_burst", "address_rate",
                                      "address_burst", "super_price",  nullptr};
const char *const points_keys[] = {"seconds_per_point", "max_report_seconds", "max_points_per_hour", nullptr};

/* Playback URLs live between a minute and a week. */
constexpr int min_url_ttl = 60;
constexpr int max_url_ttl = 604800;

const char *const *keys_of(const char *group) {
  if (strcmp(group, "server") == 0) return server_keys;
  if (strcmp(group, "storage") == 0) return storage_keys;
  if (strcmp(group, "database") == 0) return database_keys;
  if (strcmp(group, "channels") == 0) return channels_keys;
  if (strcmp(group, "playback") == 0) return playback_keys;
  if (strcmp(group, "reactions") == 0) return reactions_keys;
  if (strcmp(group, "points") == 0) return points_keys;
  return nullptr;
}

bool check_known(GKeyFile *file, const std::string &path, GError **error) {
  gchar **groups = g_key_file_get_groups(file, nullptr);
  bool ok = true;
  for (gchar **group = groups; ok && *group; group++) {
    const char *const *known = keys_of(*group);
    if (!known) {
      g_set_error(error, ONAIR_CONFIG_ERROR, CONFIG_ERROR_FILE,
                  "%s: unknown group [%s] (known: [server], [storage], [database], [channels], [playback])",
                  path.c_str(), *group);
      ok = false;
      break;
    }
    gchar **keys = g_key_file_get_keys(file, *group, nullptr, nullptr);
    for (gchar **key = keys; ok && key && *key; key++) {
      if (!g_strv_contains(known, *key)) {
        g_set_error(error, ONAIR_CONFIG_ERROR, CONFIG_ERROR_FILE, "%s: unknown key \"%s\" in [%s]",
                    path.c_str(), *key, *group);
        ok = false;
      }
    }
    g_strfreev(keys);
  }
  g_strfreev(groups);
  return ok;
}

bool read_string(GKeyFile *file, const char *group, const char *key, std::string *out,
                 const std::string &base, bool path) {
  if (!g_key_file_has_key(file, group, key, nullptr)) return true;
  char *value = g_key_file_get_string(file, group, key, nullptr);
  std::string text = value ? g_strstrip(value) : "";
  g_free(value);
  *out = path ? absolute(text, base) : text;
  return true;
}

bool read_int(GKeyFile *file, const char *group, const char *key, int *out, const std::string &path,
              GError **error) {
  if (!g_key_file_has_key(file, group, key, nullptr)) return true;
  GError *parse_error = nullptr;
  int value = g_key_file_get_integer(file, group, key, &parse_error);
  if (parse_error) {
    g_set_error(error, ONAIR_CONFIG_ERROR, CONFIG_ERROR_FILE, "%s: [%s] %s: %s", path.c_str(), group, key,
                parse_error->message);
    g_error_free(parse_error);
    return false;
  }
  *out = value;
  return true;
}

}  // namespace

bool load_config_file(const std::string &path, Config *config, GError **error) {
  std::unique_ptr<GKeyFile, KeyFileDeleter> file(g_key_file_new());
  GError *load_error = nullptr;
  if (!g_key_file_load_from_file(file.get(), path.c_str(), G_KEY_FILE_NONE, &load_error)) {
    g_set_error(error, ONAIR_CONFIG_ERROR, CONFIG_ERROR_FILE, "%s: %s", path.c_str(), load_error->message);
    g_error_free(load_error);
    return false;
  }
  if (!check_known(file.get(), path, error)) return false;
  char *directory = g_path_get_dirname(path.c_str());
  std::string base = absolute(directory, "");
  g_free(directory);
  config->config_file = absolute(path, "");
  GKeyFile *f = file.get();
  read_string(f, "server", "listen_address", &config->listen_address, base, false);
  read_string(f, "server", "public_base_url", &config->public_base_url, base, false);
  read_string(f, "storage", "state_dir", &config->state_dir, base, true);
  read_string(f, "storage", "media_root", &config->media_root, base, true);
  read_string(f, "database", "uri", &config->database_uri, base, false);
  read_string(f, "database", "migrations_dir", &config->migrations_dir, base, true);
  read_string(f, "channels", "pipelines_dir", &config->pipelines_dir, base, true);
  read_string(f, "channels", "rtmp_address", &config->rtmp_address, base, false);
  read_string(f, "playback", "key_file", &config->playback_key_file, base, true);
  return read_int(f, "server", "port", &config->port, path, error) &&
         read_int(f, "database", "pool_size", &config->pool_size, path, error) &&
         read_int(f, "channels", "rtmp_port", &config->rtmp_port, path, error) &&
         read_int(f, "playback", "url_ttl", &config->playback_url_ttl, path, error) &&
         read_int(f, "reactions", "viewer_rate", &config->reactions_viewer_rate, path, error) &&
         read_int(f, "reactions", "viewer_burst", &config->reactions_viewer_burst, path, error) &&
         read_int(f, "reactions", "address_rate", &config->reactions_address_rate, path, error) &&
         read_int(f, "reactions", "address_burst", &config->reactions_address_burst, path, error) &&
         read_int(f, "reactions", "super_price", &config->super_reaction_price, path, error) &&
         read_int(f, "points", "seconds_per_point", &config->seconds_per_point, path, error) &&
         read_int(f, "points", "max_report_seconds", &config->max_report_seconds, path, error) &&
         read_int(f, "points", "max_points_per_hour", &config->max_points_per_hour, path, error);
}

bool finish_config(Config *config, GError **error) {
  struct Bounded {
    const char *name;
    int value;
    int minimum;
    int maximum;
  };
  const Bounded bounded[] = {
      {"reactions.viewer_rate", config->reactions_viewer_rate, 1, 1000000},
      {"reactions.viewer_burst", config->reactions_viewer_burst, 1, 1000000},
      {"reactions.address_rate", config->reactions_address_rate, 1, 1000000},
      {"reactions.address_burst", config->reactions_address_burst, 1, 1000000},
      {"reactions.super_price", config->super_reaction_price, 1, 1000000},
      {"points.seconds_per_point", config->seconds_per_point, 1, 86400},
      {"points.max_report_seconds", config->max_report_seconds, 1, 86400},
      {"points.max_points_per_hour", config->max_points_per_hour, 0, 1000000},
  };
  for (const Bounded &entry : bounded) {
    if (entry.value < entry.minimum || entry.value > entry.maximum) {
      g_set_error(error, ONAIR_CONFIG_ERROR, CONFIG_ERROR_VALUE, "%s %d is out of range (%d to %d)",
                  entry.name, entry.value, entry.minimum, entry.maximum);
      return false;
    }
  }
  if (config->port < 1 || config->port > 65535) {
    g_set_error(error, ONAIR_CONFIG_ERROR, CONFIG_ERROR_VALUE, "port %d is out of range (1 to 65535)",
                config->port);
    return false;
  }
  if (config->rtmp_port < 1 || config->rtmp_port > 65535) {
    g_set_error(error, ONAIR_CONFIG_ERROR, CONFIG_ERROR_VALUE, "rtmp_port %d is out of range (1 to 65535)",
                config->rtmp_port);
    return false;
  }
  if (config->pool_size < 1 || config->pool_size > 64) {
    g_set_error(error, ONAIR_CONFIG_ERROR, CONFIG_ERROR_VALUE, "pool_size %d is out of range (1 to 64)",
                config->pool_size);
    return false;
  }
  if (config->playback_url_ttl < min_url_ttl || config->playback_url_ttl > max_url_ttl) {
    g_set_error(error, ONAIR_CONFIG_ERROR, CONFIG_ERROR_VALUE,
                "url_ttl %d is out of range (%d to %d seconds)", config->playback_url_ttl, min_url_ttl,
                max_url_ttl);
    return false;
  }
  if (config->listen_address.empty()) {
    g_set_error(error, ONAIR_CONFIG_ERROR, CONFIG_ERROR_VALUE, "listen_address is empty");
    return false;
  }
  if (config->state_dir.empty()) {
    config->state_dir =
        geteuid() == 0 ? std::string("/var/lib/onaird") : std::string(g_get_user_state_dir()) + "/onaird";
  }
  if (config->media_root.empty()) config->media_root = config->state_dir + "/media";
  if (config->playback_key_file.empty()) config->playback_key_file = config->state_dir + "/playback.key";
  if (config->migrations_dir.empty()) {
    const char *from_env = g_getenv("ONAIRD_MIGRATIONS_DIR");
    config->migrations_dir = from_env && *from_env ? from_env : ONAIRD_MIGRATIONS_DIR;
  }
  if (config->pipelines_dir.empty()) {
    const char *from_env = g_getenv("ONAIRD_PIPELINES_DIR");
    config->pipelines_dir = from_env && *from_env ? from_env : ONAIRD_PIPELINES_DIR;
  }
  if (config->public_base_url.empty()) {
    bool ipv6 = config->listen_address.find(':') != std::string::npos;
    std::string host = config->listen_address == "0.0.0.0" || config->listen_address == "::" ? "127.0.0.1"
                       : ipv6 ? "[" + config->listen_address + "]"
                              : config->listen_address;
    config->public_base_url = "http://" + host + ":" + std::to_string(config->port);
  }
  while (!config->public_base_url.empty() && config->public_base_url.back() == '/')
    config->public_base_url.pop_back();
  GUri *uri = g_uri_parse(config->public_base_url.c_str(), G_URI_FLAGS_NONE, nullptr);
  bool web = uri &&
             (strcmp(g_uri_get_scheme(uri), "http") == 0 || strcmp(g_uri_get_scheme(uri), "https") == 0) &&
             g_uri_get_host(uri) && *g_uri_get_host(uri);
  if (uri) g_uri_unref(uri);
  if (!web) {
    g_set_error(error, ONAIR_CONFIG_ERROR, CONFIG_ERROR_VALUE,
                "public_base_url \"%s\" is not an http:// or https:// URL", config->public_base_url.c_str());
    return false;
  }
  return true;
}

bool load_config(int *argc, char ***argv, Config *config, GError **error) {
  char *config_file = nullptr, *listen = nullptr, *public_url = nullptr, *state = nullptr, *media = nullptr,
       *db = nullptr, *migrations = nullptr, *pipelines = nullptr;
  int port = -1, pool_size = -1, rtmp_port = -1, url_ttl = -1;
  gboolean migrate_only = FALSE;
  GOptionEntry entries[] = {
      {"config", 'c', 0, G_OPTION_ARG_FILENAME, &config_file,
       "Configuration file (default /etc/onair/onaird.conf)", "FILE"},
      {"listen", 0, 0, G_OPTION_ARG_STRING, &listen, "Address to listen on (default 127.0.0.1)", "ADDRESS"},
      {"port", 'p', 0, G_OPTION_ARG_INT, &port, "HTTP port (default 8080)", "PORT"},
      {"public-url", 0, 0, G_OPTION_ARG_STRING, &public_url,
       "Base URL clients use (default http://ADDRESS:PORT)", "URL"},
      {"state", 0, 0, G_OPTION_ARG_FILENAME, &state,
       "State directory (the embedded database lives in STATE/pg)", "DIR"},
      {"media-root", 0, 0, G_OPTION_ARG_FILENAME, &media,
       "Where outputs and uploads go (default STATE/media)", "DIR"},
      {"db", 0, 0, G_OPTION_ARG_STRING, &db, "PostgreSQL URI (default: an embedded cluster in STATE/pg)",
       "URI"},
      {"pool-size", 0, 0, G_OPTION_ARG_INT, &pool_size, "Database connections (default 4)", "N"},
      {"migrations", 0, 0, G_OPTION_ARG_FILENAME, &migrations, "Directory of the NNNN_*.sql migrations",
       "DIR"},
      {"pipelines", 0, 0, G_OPTION_ARG_FILENAME, &pipelines,
       "Directory of the channels' NAME.pipeline files (default: the installed ones)", "DIR"},
      {"rtmp-port", 0, 0, G_OPTION_ARG_INT, &rtmp_port,
       "Port of RTMP publishes to channels whose pipeline takes one (default 1935)", "PORT"},
      {"playback-url-ttl", 0, 0, G_OPTION_ARG_INT, &url_ttl,
       "Seconds a playback URL stays valid (default 21600, 60 to 604800)", "SECONDS"},
      {"migrate-only", 0, 0, G_OPTION_ARG_NONE, &migrate_only,
       "Migrate the database, print its version and exit", nullptr},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr}};
  GOptionContext *context = g_option_context_new("- the onair control daemon");
  g_option_context_add_main_entries(context, entries, nullptr);
  GError *parse_error = nullptr;
  bool ok = g_option_context_parse(context, argc, argv, &parse_error);
  g_option_context_free(context);
  auto release = [&] {
    for (char *value : {config_file, listen, public_url, state, media, db, migrations, pipelines})
      g_free(value);
  };
  if (!ok) {
    g_set_error(error, ONAIR_CONFIG_ERROR, CONFIG_ERROR_USAGE, "%s", parse_error->message);
    g_error_free(parse_error);
    release();
    return false;
  }
  if (*argc > 1) {
    g_set_error(error, ONAIR_CONFIG_ERROR, CONFIG_ERROR_USAGE, "unexpected argument \"%s\"", (*argv)[1]);
    release();
    return false;
  }

  std::string file;
  if (config_file)
    file = config_file;
  else if (g_getenv("ONAIRD_CONFIG") && *g_getenv("ONAIRD_CONFIG"))
    file = g_getenv("ONAIRD_CONFIG");
  else if (g_file_test(system_config_file, G_FILE_TEST_EXISTS))
    file = system_config_file;
  if (!file.empty() && !load_config_file(file, config, error)) {
    release();
    return false;
  }

  if (listen) config->listen_address = listen;
  if (port != -1) config->port = port;
  if (public_url) config->public_base_url = public_url;
  if (state) config->state_dir = absolute(state, "");
  if (media) config->media_root = absolute(media, "");
  if (db) config->database_uri = db;
  if (pool_size != -1) config->pool_size = pool_size;
  if (migrations) config->migrations_dir = absolute(migrations, "");
  if (pipelines) config->pipelines_dir = absolute(pipelines, "");
  if (rtmp_port != -1) config->rtmp_port = rtmp_port;
  if (url_ttl != -1) config->playback_url_ttl = url_ttl;
  config->migrate_only = migrate_only;
  release();
  return finish_config(config, error);
}

}  // namespace onair
