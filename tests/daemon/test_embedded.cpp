/* onair — the embedded PostgreSQL: a private cluster made, stopped and
 * started again with its data, adopted when left running, started after a
 * crash that left a postmaster.pid naming another live process, and a state
 * directory too deep for a Unix socket path.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "harness.h"

#include <glib/gstdio.h>

#include <csignal>
#include <sys/stat.h>
#include <unistd.h>

using namespace onair;
using onair::db::EmbeddedPostgres;

namespace {

std::unique_ptr<EmbeddedPostgres> start_cluster(const std::string &state_dir,
                                                const std::string &database = "onair") {
  auto options = test::cluster_options(state_dir);
  options.database = database;
  auto cluster = std::make_unique<EmbeddedPostgres>(options);
  GError *error = nullptr;
  bool ok = cluster->start(&error);
  g_assert_no_error(error);
  g_assert_true(ok);
  g_assert_true(cluster->running());
  return cluster;
}

void stop_cluster(EmbeddedPostgres &cluster) {
  GError *error = nullptr;
  bool ok = cluster.stop(&error);
  g_assert_no_error(error);
  g_assert_true(ok);
  g_assert_false(cluster.running());
}

/* A new cluster: private socket, no TCP, owned by the server's user, the
 * database made. */
void test_fresh_cluster() {
  std::string state = test::make_dir("fresh");
  auto cluster = start_cluster(state);
  assert_string(cluster->data_dir().c_str(), ==, (state + "/pg/data").c_str());
  GStatBuf data, socket;
  g_assert_cmpint(g_stat(cluster->data_dir().c_str(), &data), ==, 0);
  g_assert_cmpint(data.st_mode & 0777, ==, 0700);
  g_assert_cmpint(g_stat(cluster->socket_dir().c_str(), &socket), ==, 0);
  g_assert_cmpint(socket.st_mode & 0777, ==, 0700);
  if (geteuid() == 0) g_assert_cmpint(int(data.st_uid), !=, 0);

  test::Peer peer(cluster->uri());
  assert_string(peer.value("SHOW listen_addresses")->c_str(), ==, "");
  assert_string(peer.value("SELECT current_database()")->c_str(), ==, "onair");
  assert_string(peer.value("SHOW server_encoding")->c_str(), ==, "UTF8");
  assert_string(peer.value("SHOW TimeZone")->c_str(), !=, "");

  GError *error = nullptr;
  g_assert_true(cluster->create_database("with space", &error));
  g_assert_true(cluster->create_database("with space", &error)); /* exists: fine */
  g_assert_cmpint(peer.integer("SELECT count(*) FROM pg_database WHERE datname = 'with space'"), ==, 1);
  g_assert_true(cluster->drop_database("with space", &error));
  g_assert_cmpint(peer.integer("SELECT count(*) FROM pg_database WHERE datname = 'with space'"), ==, 0);
  g_assert_no_error(error);

  stop_cluster(*cluster);
  g_assert_false(g_file_test((cluster->socket_dir() + "/.s.PGSQL.5432").c_str(), G_FILE_TEST_EXISTS));
}

/* The owner stops, another starts on the same directory: same cluster (no
 * new initdb), data kept. */
void test_restart_keeps_data() {
  std::string state = test::make_dir("restart");
  auto first = start_cluster(state);
  {
    test::Peer peer(first->uri());
    peer.exec("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')");
  }
  GStatBuf before;
  g_assert_cmpint(g_stat((first->data_dir() + "/PG_VERSION").c_str(), &before), ==, 0);
  first.reset(); /* the destructor stops what start() started */

  auto second = start_cluster(state);
  GStatBuf after;
  g_assert_cmpint(g_stat((second->data_dir() + "/PG_VERSION").c_str(), &after), ==, 0);
  g_assert_cmpint(int(after.st_ino), ==, int(before.st_ino));
  test::Peer peer(second->uri());
  assert_string(peer.value("SELECT v FROM kept")->c_str(), ==, "still here");
  stop_cluster(*second);
}

/* A daemon that died without stopping its cluster: the next one adopts the
 * running server instead of failing to start a second one. */
void test_adopts_running_server() {
  std::string state = test::make_dir("adopt");
  auto first = start_cluster(state);
  pid_t pid = first->postmaster_pid();
  g_assert_cmpint(pid, >, 0);

  auto second = start_cluster(state);
  g_assert_cmpint(second->postmaster_pid(), ==, pid);
  test::Peer(second->uri()).exec("SELECT 1");
  stop_cluster(*second);
  g_assert_false(first->running());
  first.reset();
}

/* A crash (the postmaster killed) leaves postmaster.pid behind; after a
 * reboot its pid often belongs to another process, and PostgreSQL alone
 * would refuse to start. The cluster starts, with its data. */
void test_stale_pid_file() {
  std::string state = test::make_dir("stale");
  auto cluster = start_cluster(state);
  {
    test::Peer peer(cluster->uri());
    peer.exec("CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)");
  }
  pid_t pid = cluster->postmaster_pid();
  g_assert_cmpint(kill(pid, SIGKILL), ==, 0);
  test::run_until([&] { return !cluster->running(); }, 60, "the postmaster to die");
  cluster.reset(); /* nothing to stop any more */

  /* The pid file now names a live process that is no postmaster. */
  std::string pid_file = state + "/pg/data/postmaster.pid";
  g_assert_true(g_file_test(pid_file.c_str(), G_FILE_TEST_EXISTS));
  const char *sleeper_argv[] = {"sleep", "600", nullptr};
  GPid sleeper = 0;
  g_assert_true(g_spawn_async(nullptr, const_cast<char **>(sleeper_argv), nullptr,
                              GSpawnFlags(G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD), nullptr, nullptr,
                              &sleeper, nullptr));
  char *contents = nullptr;
  g_assert_true(g_file_get_contents(pid_file.c_str(), &contents, nullptr, nullptr));
  std::string text = contents;
  g_free(contents);
  text = std::to_string(sleeper) + text.substr(text.find('\n'));
  g_assert_true(g_file_set_contents(pid_file.c_str(), text.c_str(), -1, nullptr));

  auto restarted = start_cluster(state);
  g_assert_cmpint(restarted->postmaster_pid(), !=, sleeper);
  test::Peer peer(restarted->uri());
  g_assert_cmpint(peer.integer("SELECT v FROM kept"), ==, 42);
  stop_cluster(*restarted);
  kill(sleeper, SIGKILL);
  g_spawn_close_pid(sleeper);
}

/* A state directory so deep that the socket path would pass the 107 bytes
 * of sockaddr_un: the socket goes to a short private directory instead, which
 * is removed at stop. */
void test_deep_state_directory() {
  std::string state = test::make_dir("deep") + "/" + std::string(60, 'd') + "/" + std::string(60, 'e');
  g_assert_cmpint(g_mkdir_with_parents(state.c_str(), 0711), ==, 0);
  for (std::string dir = state; dir.size() > test::scratch_dir().size(); dir = dir.substr(0, dir.rfind('/')))
    g_chmod(dir.c_str(), 0711);
  auto cluster = start_cluster(state);
  g_assert_cmpint(int(cluster->socket_dir().size()), <, 100);
  g_assert_false(g_str_has_prefix(cluster->socket_dir().c_str(), state.c_str()));
  test::Peer(cluster->uri()).exec("SELECT 1");
  std::string socket_dir = cluster->socket_dir();
  stop_cluster(*cluster);
  g_assert_false(g_file_test(socket_dir.c_str(), G_FILE_TEST_EXISTS));
}

}  // namespace

int main(int argc, char **argv) {
  test::init(&argc, &argv);
  g_test_add_func("/embedded/fresh-cluster", test_fresh_cluster);
  g_test_add_func("/embedded/restart-keeps-data", test_restart_keeps_data);
  g_test_add_func("/embedded/adopts-running-server", test_adopts_running_server);
  g_test_add_func("/embedded/stale-pid-file", test_stale_pid_file);
  g_test_add_func("/embedded/deep-state-directory", test_deep_state_directory);
  return g_test_run();
}
