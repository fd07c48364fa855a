/* onair — onaird's configuration: defaults, the file, the command line over
 * the file, refusals.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "assertions.h"
#include "config.h"

#include <glib.h>

#include <string>
#include <vector>

using onair::Config;

namespace {

std::string scratch;

std::string write_file(const std::string &name, const std::string &text) {
  std::string path = scratch + "/" + name;
  g_assert_true(g_file_set_contents(path.c_str(), text.c_str(), -1, nullptr));
  return path;
}

/* Runs load_config on a command line. */
bool load(std::vector<std::string> args, Config *config, GError **error) {
  args.insert(args.begin(), "onaird");
  std::vector<char *> argv;
  for (auto &arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  int argc = int(args.size());
  char **pointer = argv.data();
  return onair::load_config(&argc, &pointer, config, error);
}

void test_defaults() {
  Config config;
  GError *error = nullptr;
  g_assert_true(load({"--state", scratch + "/state"}, &config, &error));
  g_assert_no_error(error);
  assert_string(config.listen_address.c_str(), ==, "127.0.0.1");
  g_assert_cmpint(config.port, ==, 8080);
  assert_string(config.public_base_url.c_str(), ==, "http://127.0.0.1:8080");
  assert_string(config.state_dir.c_str(), ==, (scratch + "/state").c_str());
  assert_string(config.media_root.c_str(), ==, (scratch + "/state/media").c_str());
  g_assert_true(config.database_uri.empty());
  g_assert_cmpint(config.pool_size, ==, 4);
  g_assert_false(config.migrate_only);
  g_assert_false(config.migrations_dir.empty());
  g_assert_cmpint(config.playback_url_ttl, ==, 21600);
  assert_string(config.playback_key_file.c_str(), ==, (scratch + "/state/playback.key").c_str());
}

void test_file_then_flags() {
  std::string file = write_file("onaird.conf",
                                "# comment\n"
                                "[server]\nlisten_address = 0.0.0.0\nport = 9000\n"
                                "public_base_url = https://live.example.com/\n"
                                "[storage]\nstate_dir = relative/state\nmedia_root = /srv/media\n"
                                "[database]\nuri = postgresql://db.example.com/onair\npool_size = 8\n"
                                "[playback]\nurl_ttl = 3600\nkey_file = keys/playback.key\n");
  Config config;
  GError *error = nullptr;
  g_assert_true(load({"--config", file}, &config, &error));
  g_assert_no_error(error);
  assert_string(config.config_file.c_str(), ==, file.c_str());
  assert_string(config.listen_address.c_str(), ==, "0.0.0.0");
  g_assert_cmpint(config.port, ==, 9000);
  assert_string(config.public_base_url.c_str(), ==, "https://live.example.com");
  /* Relative to the file. */
  assert_string(config.state_dir.c_str(), ==, (scratch + "/relative/state").c_str());
  assert_string(config.media_root.c_str(), ==, "/srv/media");
  assert_string(config.database_uri.c_str(), ==, "postgresql://db.example.com/onair");
  g_assert_cmpint(config.pool_size, ==, 8);
  g_assert_cmpint(config.playback_url_ttl, ==, 3600);
  /* Relative to the file, like the other paths. */
  assert_string(config.playback_key_file.c_str(), ==, (scratch + "/keys/playback.key").c_str());

  Config overridden;
  g_assert_true(load({"-c", file, "--port", "9100", "--db", "postgresql:///other", "--pool-size", "2",
                      "--listen", "::1", "--migrate-only", "--playback-url-ttl", "600"},
                     &overridden, &error));
  g_assert_no_error(error);
  g_assert_cmpint(overridden.port, ==, 9100);
  assert_string(overridden.database_uri.c_str(), ==, "postgresql:///other");
  g_assert_cmpint(overridden.pool_size, ==, 2);
  assert_string(overridden.listen_address.c_str(), ==, "::1");
  assert_string(overridden.public_base_url.c_str(), ==, "https://live.example.com");
  g_assert_true(overridden.migrate_only);
  g_assert_cmpint(overridden.playback_url_ttl, ==, 600);
  assert_string(overridden.playback_key_file.c_str(), ==, (scratch + "/keys/playback.key").c_str());

  /* Without a public URL in the file, it follows the listen address. */
  std::string bare = write_file("bare.conf", "[server]\nlisten_address = ::1\nport = 8443\n");
  Config derived;
  g_assert_true(load({"-c", bare}, &derived, &error));
  assert_string(derived.public_base_url.c_str(), ==, "http://[::1]:8443");
}

void test_refusals() {
  Config config;
  GError *error = nullptr;
  std::string typo = write_file("typo.conf", "[server]\nlisten_adress = 0.0.0.0\n");
  g_assert_false(load({"-c", typo}, &config, &error));
  g_assert_error(error, ONAIR_CONFIG_ERROR, onair::CONFIG_ERROR_FILE);
  g_assert_nonnull(strstr(error->message, "listen_adress"));
  g_clear_error(&error);

  std::string group = write_file("group.conf", "[http]\nport = 1\n");
  g_assert_false(load({"-c", group}, &config, &error));
  g_assert_nonnull(strstr(error->message, "[http]"));
  g_clear_error(&error);

  std::string port = write_file("port.conf", "[server]\nport = eighty\n");
  g_assert_false(load({"-c", port}, &config, &error));
  g_assert_error(error, ONAIR_CONFIG_ERROR, onair::CONFIG_ERROR_FILE);
  g_clear_error(&error);

  Config range;
  g_assert_false(load({"--port", "70000"}, &range, &error));
  g_assert_error(error, ONAIR_CONFIG_ERROR, onair::CONFIG_ERROR_VALUE);
  g_clear_error(&error);

  Config pool;
  g_assert_false(load({"--pool-size", "0"}, &pool, &error));
  g_assert_error(error, ONAIR_CONFIG_ERROR, onair::CONFIG_ERROR_VALUE);
  g_clear_error(&error);

  for (const char *ttl : {"59", "604801", "0"}) {
    Config short_ttl;
    g_assert_false(load({"--playback-url-ttl", ttl}, &short_ttl, &error));
    g_assert_error(error, ONAIR_CONFIG_ERROR, onair::CONFIG_ERROR_VALUE);
    g_assert_nonnull(strstr(error->message, "url_ttl"));
    g_clear_error(&error);
  }
  Config edges;
  g_assert_true(load({"--playback-url-ttl", "60"}, &edges, &error));
  g_assert_true(load({"--playback-url-ttl", "604800"}, &edges, &error));
  g_assert_no_error(error);
  std::string ttl_file = write_file("ttl.conf", "[playback]\nurl_ttl = 30\n");
  g_assert_false(load({"-c", ttl_file}, &config, &error));
  g_assert_error(error, ONAIR_CONFIG_ERROR, onair::CONFIG_ERROR_VALUE);
  g_clear_error(&error);
  std::string ttl_word = write_file("ttl-word.conf", "[playback]\nurl_ttl = long\n");
  g_assert_false(load({"-c", ttl_word}, &config, &error));
  g_assert_error(error, ONAIR_CONFIG_ERROR, onair::CONFIG_ERROR_FILE);
  g_clear_error(&error);
  std::string ttl_typo = write_file("ttl-typo.conf", "[playback]\nttl = 600\n");
  g_assert_false(load({"-c", ttl_typo}, &config, &error));
  g_assert_nonnull(strstr(error->message, "ttl"));
  g_clear_error(&error);

  Config url;
  g_assert_false(load({"--public-url", "ftp://x"}, &url, &error));
  g_assert_error(error, ONAIR_CONFIG_ERROR, onair::CONFIG_ERROR_VALUE);
  g_clear_error(&error);

  Config missing;
  g_assert_false(load({"-c", scratch + "/nowhere.conf"}, &missing, &error));
  g_assert_error(error, ONAIR_CONFIG_ERROR, onair::CONFIG_ERROR_FILE);
  g_clear_error(&error);

  Config usage;
  g_assert_false(load({"--no-such-flag"}, &usage, &error));
  g_assert_error(error, ONAIR_CONFIG_ERROR, onair::CONFIG_ERROR_USAGE);
  g_clear_error(&error);
  g_assert_false(load({"stray"}, &usage, &error));
  g_assert_error(error, ONAIR_CONFIG_ERROR, onair::CONFIG_ERROR_USAGE);
  g_clear_error(&error);
}

}  // namespace

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, nullptr);
  /* No system file or environment may leak into these tests. */
  g_setenv("ONAIRD_CONFIG", "", TRUE);
  char *dir = g_dir_make_tmp("onair-config-test-XXXXXX", nullptr);
  scratch = dir;
  g_free(dir);
  g_test_add_func("/config/defaults", test_defaults);
  g_test_add_func("/config/file-then-flags", test_file_then_flags);
  g_test_add_func("/config/refusals", test_refusals);
  int status = g_test_run();
  char *rm[] = {const_cast<char *>("rm"), const_cast<char *>("-rf"), scratch.data(), nullptr};
  g_spawn_sync(nullptr, rm, nullptr, G_SPAWN_SEARCH_PATH, nullptr, nullptr, nullptr, nullptr, nullptr,
               nullptr);
  return status;
}
