/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * onaird: reads the configuration, starts the embedded PostgreSQL (without
 * --db), migrates, opens the connection pool, serves the REST API on the
 * listen address (and the signed media under /media), runs the channels
 * meant to run, and goes on until SIGINT or SIGTERM.
 */
#include "channels/supervisor.h"
#include "config.h"
#include "db/database.h"
#include "db/embedded_postgres.h"
#include "db/migrations.h"
#include "http/api.h"
#include "store/tokens.h"
#include "http/playback.h"
#include "http/media.h"
#include "http/signing.h"

#include <glib-unix.h>
#include <gst/gst.h>
#include <libpq-fe.h>

#include <cerrno>
#include <clocale>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

namespace {

/* A connection string fit for a log: no password. */
std::string describe_uri(const std::string &uri) {
  PQconninfoOption *options = PQconninfoParse(uri.c_str(), nullptr);
  if (!options) return "(an unreadable connection string)";
  std::string out;
  for (PQconninfoOption *option = options; option->keyword; option++) {
    if (!option->val || !*option->val || strcmp(option->keyword, "password") == 0) continue;
    if (strcmp(option->keyword, "host") && strcmp(option->keyword, "port") &&
        strcmp(option->keyword, "dbname") && strcmp(option->keyword, "user"))
      continue;
    out += (out.empty() ? "" : " ") + std::string(option->keyword) + "=" + option->val;
  }
  PQconninfoFree(options);
  return out.empty() ? "(libpq defaults)" : out;
}

/* A first admin token, so that a new installation can be administered: made
 * when there is no usable admin token, its secret written (0600) to
 * <state>/admin.token and never shown again. */
void ensure_admin_token(onair::store::TokenStore &tokens, const std::string &state_dir) {
  tokens.count_admins([&tokens, state_dir](const onair::db::Error &error, int64_t admins) {
    if (error) {
      g_printerr("onaird: cannot check for an admin token: %s\n", error.describe().c_str());
      return;
    }
    if (admins > 0) return;
    std::string secret = onair::store::make_token_secret();
    tokens.create("bootstrap admin", onair::store::Role::admin, secret, "",
                  [secret, state_dir](const onair::db::Error &error, std::optional<onair::store::Token>) {
                    if (error) {
                      g_printerr("onaird: cannot make an admin token: %s\n", error.describe().c_str());
                      return;
                    }
                    std::string path = state_dir + "/admin.token";
                    GError *failure = nullptr;
                    std::string text = secret + "\n";
                    if (!g_file_set_contents_full(path.c_str(), text.c_str(), text.size(),
                                                  G_FILE_SET_CONTENTS_CONSISTENT, 0600, &failure)) {
                      g_printerr("onaird: cannot write %s: %s\n", path.c_str(), failure->message);
                      g_error_free(failure);
                      return;
                    }
                    g_print("onaird: made an admin API token; its secret is in %s\n", path.c_str());
                  });
  });
}

/* soup_server_listen() keeps GSocket's default backlog of 10: a burst of
 * new connections (64 clients connecting at once) overflows it and the
 * kernel drops SYNs, each costing its client a retransmission of a second
 * or more. Listen on our own socket with a backlog like other servers'. */
bool listen_with_backlog(SoupServer *server, GSocketAddress *address, GError **error) {
  GSocket *socket =
      g_socket_new(g_socket_address_get_family(address), G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);
  if (!socket) return false;
  g_socket_set_listen_backlog(socket, 1024);
  bool ok = g_socket_bind(socket, address, TRUE, error) && g_socket_listen(socket, error) &&
            soup_server_listen_socket(server, socket, static_cast<SoupServerListenOptions>(0), error);
  g_object_unref(socket);
  return ok;
}

gboolean quit_on_signal(gpointer loop) {
  g_main_loop_quit(static_cast<GMainLoop *>(loop));
  return G_SOURCE_CONTINUE;
}

}  // namespace

int main(int argc, char **argv) {
  setlocale(LC_ALL, "");
  gst_init(&argc, &argv);
  onair::Config config;
  GError *error = nullptr;
  if (!onair::load_config(&argc, &argv, &config, &error)) {
    g_printerr("onaird: %s\n", error->message);
    g_error_free(error);
    return 2;
  }

  if (g_mkdir_with_parents(config.state_dir.c_str(), 0700) != 0) {
    g_printerr("onaird: cannot make the state directory %s: %s\n", config.state_dir.c_str(),
               g_strerror(errno));
    return 1;
  }

  std::unique_ptr<onair::db::EmbeddedPostgres> embedded;
  std::string uri = config.database_uri;
  if (uri.empty()) {
    onair::db::EmbeddedPostgresOptions options;
    options.state_dir = config.state_dir;
    embedded = std::make_unique<onair::db::EmbeddedPostgres>(options);
    if (!embedded->start(&error)) {
      g_printerr("onaird: %s\n", error->message);
      g_error_free(error);
      return 1;
    }
    uri = embedded->uri();
  }

  onair::db::MigrationReport report;
  if (!onair::db::migrate(uri, config.migrations_dir, &report, &error)) {
    g_printerr("onaird: %s\n", error->message);
    g_error_free(error);
    return 1;
  }
  g_print("onaird: database %s, schema version %d (%zu migrations applied now)\n", describe_uri(uri).c_str(),
          report.version, report.applied.size());
  if (config.migrate_only) return 0;

  std::optional<onair::http::UrlSigner> signer =
      onair::http::UrlSigner::load(config.playback_key_file, &error);
  if (!signer) {
    g_printerr("onaird: %s\n", error->message);
    g_error_free(error);
    return 1;
  }

  GMainLoop *loop = g_main_loop_new(nullptr, FALSE);
  onair::db::DatabaseOptions options;
  options.uri = uri;
  options.pool_size = config.pool_size;
  int status = 0;
  {
    onair::db::Database database(options);
    onair::channels::Settings settings;
    settings.pipelines_dir = config.pipelines_dir;
    settings.media_root = config.media_root;
    settings.rtmp_port = config.rtmp_port;
    settings.rtmp_address = config.rtmp_address;
    onair::channels::Supervisor supervisor(database, settings);
    onair::store::MediaLinks links(config.public_base_url, *signer, config.playback_url_ttl);
    onair::http::Api api(database, config.public_base_url, links, &supervisor);
    onair::http::PointsSettings points;
    points.viewer_rate = config.reactions_viewer_rate;
    points.viewer_burst = config.reactions_viewer_burst;
    points.address_rate = config.reactions_address_rate;
    points.address_burst = config.reactions_address_burst;
    points.super_price = config.super_reaction_price;
    points.seconds_per_point = config.seconds_per_point;
    points.max_report_seconds = config.max_report_seconds;
    points.max_points_per_hour = config.max_points_per_hour;
    api.configure_points(points);
    /* State changes: the log, and the event stream (channel.state). */
    supervisor.on_state = [&api](const std::string &id, const std::string &state, const std::string &previous,
                                 const std::string &error) {
      g_print("onaird: channel %s: %s -> %s%s%s\n", id.c_str(), previous.c_str(), state.c_str(),
              state == "failed" ? ": " : "", state == "failed" ? error.c_str() : "");
      JsonObject *data = json_object_new();
      json_object_set_string_member(data, "id", id.c_str());
      json_object_set_string_member(data, "state", state.c_str());
      json_object_set_string_member(data, "previous", previous.c_str());
      if (error.empty())
        json_object_set_null_member(data, "error");
      else
        json_object_set_string_member(data, "error", error.c_str());
      JsonNode *node = json_node_init_object(json_node_alloc(), data);
      json_object_unref(data);
      api.events().publish("channel.state", node);
    };
    /* News flashes moved by a channel's element: the event stream (channel.news_flash). */
    supervisor.on_flash = [&api](const std::string &channel_id, const std::string &flash_id,
                                 const std::string &state, const std::string &end_reason) {
      api.publish_flash_state(channel_id, flash_id, state, end_reason);
    };
    api.metrics().set_channel_states([&supervisor] { return supervisor.count_by_state(); });
    /* Per running channel, refreshed every second: what an operator graphs
     * with rate() (frames per second, drops, the reactions overlay's CPU per
     * frame). Counters start again at 0 when a channel's pipeline restarts. */
    using ChannelValue = std::function<std::optional<double>(const onair::channels::Stats &)>;
    auto channel_family = [&api, &supervisor](const char *name, const char *help, ChannelValue value) {
      api.metrics().registry().collected(name, help, "counter", {"channel"}, [&supervisor, value] {
        std::vector<onair::http::metrics::Sample> samples;
        for (const auto &[id, stats] : supervisor.stats_by_channel())
          if (std::optional<double> v = value(stats)) samples.push_back({{id}, *v});
        return samples;
      });
    };
    channel_family("onair_channel_frames_total", "Frames that entered the channel's ladder.",
                   [](const onair::channels::Stats &s) { return double(s.frames); });
    channel_family("onair_channel_dropped_frames_total",
                   "Frames the channel dropped to keep its output rate.",
                   [](const onair::channels::Stats &s) { return double(s.dropped_frames); });
    channel_family("onair_reactions_frames_total", "Frames the channel's reactions element processed.",
                   [](const onair::channels::Stats &s) -> std::optional<double> {
                     if (!s.reactions_frames) return std::nullopt;
                     return double(*s.reactions_frames);
                   });
    channel_family("onair_reactions_processing_seconds_total",
                   "CPU seconds the channel's reactions element spent on its frames.",
                   [](const onair::channels::Stats &s) -> std::optional<double> {
                     if (!s.reactions_processing_ns) return std::nullopt;
                     return double(*s.reactions_processing_ns) / 1e9;
                   });
    onair::http::MediaServer media(config.media_root, *signer);
    onair::http::PlaybackOptions playback_options;
    playback_options.media_root = config.media_root;
    playback_options.frame_cache_dir = config.state_dir + "/cache/frames";
    onair::http::PlaybackApi playback(database, config.public_base_url, links, playback_options);
    playback.add_routes(api.router());
    bool booted = false;
    database.open([&](const onair::db::Error &failure) {
      if (!failure) {
        g_print("onaird: connected; Ctrl-C stops\n");
        ensure_admin_token(api.authenticator().tokens(), config.state_dir);
        if (!booted) supervisor.boot();
        booted = true;
        return;
      }
      g_printerr("onaird: %s\n", failure.message.c_str());
      status = 1;
      g_main_loop_quit(loop);
    });
    SoupServer *server = soup_server_new("server-header", "onaird", nullptr);
    api.mount(server);
    media.mount(server);
    GInetAddress *address = g_inet_address_new_from_string(config.listen_address.c_str());
    GSocketAddress *socket_address = address ? g_inet_socket_address_new(address, config.port) : nullptr;
    if (!socket_address || !listen_with_backlog(server, socket_address, &error)) {
      g_printerr("onaird: cannot listen on %s:%d: %s\n", config.listen_address.c_str(), config.port,
                 error ? error->message : "not an IP address");
      g_clear_error(&error);
      status = 1;
    } else {
      g_print("onaird: serving http://%s:%d/api/v1\n", config.listen_address.c_str(), config.port);
      g_unix_signal_add(SIGINT, quit_on_signal, loop);
      g_unix_signal_add(SIGTERM, quit_on_signal, loop);
      g_main_loop_run(loop);
    }
    g_clear_object(&socket_address);
    g_clear_object(&address);
    /* Stop accepting, drop the connections (their pending queries are
     * cancelled), then the pool. */
    soup_server_disconnect(server);
    g_object_unref(server);
    supervisor.shutdown();
    database.close();
  }
  g_main_loop_unref(loop);
  /* The embedded cluster is stopped when `embedded` goes. */
  return status;
}
