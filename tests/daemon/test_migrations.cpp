/* onair — the migrations runner and the schema it applies: order,
 * idempotence, checksums, refusal of a newer or edited schema, rollback of a
 * failed migration, daemons migrating at once; the real 0001_init.sql with
 * its constraints and indexes.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "harness.h"

#include "db/migrations.h"

#include <glib/gstdio.h>

using namespace onair;
using onair::db::Migration;
using onair::db::MigrationReport;

namespace {

void write(const std::string &dir, const std::string &file, const std::string &text) {
  std::string path = dir + "/" + file;
  g_assert_true(g_file_set_contents(path.c_str(), text.c_str(), -1, nullptr));
}

std::string sha256(const std::string &text) {
  char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, text.c_str(), -1);
  std::string out = sum;
  g_free(sum);
  return out;
}

/* Three migrations; 0010 must come after 0002 (numeric order). */
std::string three_migrations() {
  std::string dir = test::make_dir("migrations");
  write(dir, "0001_create.sql", "CREATE TABLE things (id int PRIMARY KEY);\n");
  write(dir, "0010_fill.sql", "INSERT INTO things (id, name) VALUES (1, 'one');\n");
  write(dir, "0002_name.sql", "-- a comment\nALTER TABLE things ADD COLUMN name text;\n");
  write(dir, "README.md", "not a migration");
  return dir;
}

bool run_migrate(const std::string &uri, const std::string &dir, MigrationReport *report, GError **error) {
  return db::migrate(uri, dir, report, error);
}

void test_load_order_and_names() {
  std::string dir = test::make_dir("load");
  write(dir, "0002_b.sql", "SELECT 2;");
  write(dir, "10000_e.sql", "SELECT 10000;");
  write(dir, "0999_d.sql", "SELECT 999;");
  write(dir, "0001_a.sql", "SELECT 1;");
  write(dir, "notes.txt", "ignored");
  std::vector<Migration> migrations;
  GError *error = nullptr;
  g_assert_true(db::load_migrations(dir, &migrations, &error));
  g_assert_no_error(error);
  g_assert_cmpint(int(migrations.size()), ==, 4);
  g_assert_cmpint(migrations[0].version, ==, 1);
  g_assert_cmpint(migrations[1].version, ==, 2);
  g_assert_cmpint(migrations[2].version, ==, 999);
  g_assert_cmpint(migrations[3].version, ==, 10000);
  assert_string(migrations[3].file.c_str(), ==, "10000_e.sql");
  assert_string(migrations[0].checksum.c_str(), ==, sha256("SELECT 1;").c_str());

  write(dir, "0003 typo.sql", "SELECT 3;");
  g_assert_false(db::load_migrations(dir, &migrations, &error));
  g_assert_error(error, ONAIR_MIGRATION_ERROR, db::MIGRATION_ERROR_FILES);
  g_assert_nonnull(strstr(error->message, "0003 typo.sql"));
  g_clear_error(&error);
  g_unlink((dir + "/0003 typo.sql").c_str());

  write(dir, "002_again.sql", "SELECT 2;");
  g_assert_false(db::load_migrations(dir, &migrations, &error));
  g_assert_error(error, ONAIR_MIGRATION_ERROR, db::MIGRATION_ERROR_FILES);
  g_clear_error(&error);
  g_unlink((dir + "/002_again.sql").c_str());

  write(dir, "0002_b_again.sql", "SELECT 2;");
  g_assert_false(db::load_migrations(dir, &migrations, &error));
  g_assert_error(error, ONAIR_MIGRATION_ERROR, db::MIGRATION_ERROR_FILES);
  g_assert_nonnull(strstr(error->message, "same version 2"));
  g_clear_error(&error);
}

/* Applied in numeric order, recorded with their checksums, once. */
void test_apply_in_order_once() {
  test::TestDatabase testdb;
  std::string dir = three_migrations();
  MigrationReport report;
  GError *error = nullptr;
  g_assert_true(run_migrate(testdb.uri(), dir, &report, &error));
  g_assert_no_error(error);
  g_assert_cmpint(report.version_before, ==, 0);
  g_assert_cmpint(report.version, ==, 10);
  g_assert_cmpint(int(report.applied.size()), ==, 3);
  assert_string(report.applied[1].c_str(), ==, "0002_name.sql");

  test::Peer peer(testdb.uri());
  assert_string(peer.value("SELECT name FROM things WHERE id = 1")->c_str(), ==, "one");
  auto versions =
      peer.column("SELECT version || ':' || name || ':' || checksum FROM schema_migrations ORDER BY version");
  g_assert_cmpint(int(versions.size()), ==, 3);
  assert_string(versions[0].c_str(), ==,
                ("1:0001_create.sql:" + sha256("CREATE TABLE things (id int PRIMARY KEY);\n")).c_str());
  g_assert_cmpint(
      peer.integer("SELECT count(*) FROM schema_migrations WHERE applied_at IS NULL OR applied_by = ''"), ==,
      0);

  /* Again: nothing to do. */
  g_assert_true(run_migrate(testdb.uri(), dir, &report, &error));
  g_assert_cmpint(report.version_before, ==, 10);
  g_assert_cmpint(int(report.applied.size()), ==, 0);

  /* A new migration is applied on top. */
  write(dir, "0011_more.sql", "INSERT INTO things (id, name) VALUES (2, 'two');");
  g_assert_true(run_migrate(testdb.uri(), dir, &report, &error));
  g_assert_cmpint(int(report.applied.size()), ==, 1);
  g_assert_cmpint(report.version, ==, 11);
  g_assert_cmpint(peer.integer("SELECT count(*) FROM things"), ==, 2);
}

/* An older daemon meets a newer schema: refused, naming both versions. */
void test_newer_schema_refused() {
  test::TestDatabase testdb;
  std::string dir = three_migrations();
  GError *error = nullptr;
  MigrationReport report;
  g_assert_true(run_migrate(testdb.uri(), dir, &report, &error));

  std::string older = test::make_dir("older");
  write(older, "0001_create.sql", "CREATE TABLE things (id int PRIMARY KEY);\n");
  write(older, "0002_name.sql", "-- a comment\nALTER TABLE things ADD COLUMN name text;\n");
  g_assert_false(run_migrate(testdb.uri(), older, &report, &error));
  g_assert_error(error, ONAIR_MIGRATION_ERROR, db::MIGRATION_ERROR_NEWER_SCHEMA);
  g_test_message("%s", error->message);
  g_assert_nonnull(strstr(error->message, "version 10 (0010_fill.sql)"));
  g_assert_nonnull(strstr(error->message, "newest migration is 2 (0002_name.sql)"));
  g_clear_error(&error);
  test::Peer peer(testdb.uri());
  g_assert_cmpint(peer.integer("SELECT max(version) FROM schema_migrations"), ==, 10);
}

/* An applied migration edited afterwards, or gone, or one slipped in below
 * the current version: refused. */
void test_changed_migration_refused() {
  test::TestDatabase testdb;
  std::string dir = three_migrations();
  GError *error = nullptr;
  MigrationReport report;
  g_assert_true(run_migrate(testdb.uri(), dir, &report, &error));

  write(dir, "0002_name.sql", "-- a comment, edited\nALTER TABLE things ADD COLUMN name text;\n");
  g_assert_false(run_migrate(testdb.uri(), dir, &report, &error));
  g_assert_error(error, ONAIR_MIGRATION_ERROR, db::MIGRATION_ERROR_CHANGED);
  g_test_message("%s", error->message);
  g_assert_nonnull(strstr(error->message, "0002_name.sql was edited"));
  g_clear_error(&error);
  write(dir, "0002_name.sql", "-- a comment\nALTER TABLE things ADD COLUMN name text;\n");

  write(dir, "0005_late.sql", "SELECT 1;");
  g_assert_false(run_migrate(testdb.uri(), dir, &report, &error));
  g_assert_error(error, ONAIR_MIGRATION_ERROR, db::MIGRATION_ERROR_CHANGED);
  g_assert_nonnull(strstr(error->message, "0005_late.sql was never applied"));
  g_clear_error(&error);
  g_unlink((dir + "/0005_late.sql").c_str());

  g_unlink((dir + "/0002_name.sql").c_str());
  g_assert_false(run_migrate(testdb.uri(), dir, &report, &error));
  g_assert_error(error, ONAIR_MIGRATION_ERROR, db::MIGRATION_ERROR_CHANGED);
  g_assert_nonnull(strstr(error->message, "migration 2 (0002_name.sql)"));
  g_clear_error(&error);
}

/* A failing migration is rolled back whole (its earlier statements too) and
 * not recorded; the error names the file and line. Transaction control in a
 * migration is refused. */
void test_failure_rolls_back() {
  test::TestDatabase testdb;
  std::string dir = three_migrations();
  write(dir, "0020_broken.sql",
        "CREATE TABLE half (id int);\n"
        "INSERT INTO half VALUES (1);\n"
        "\n"
        "ALTER TABLE half ADD COLUMN oops nosuchtype;\n");
  GError *error = nullptr;
  MigrationReport report;
  g_assert_false(run_migrate(testdb.uri(), dir, &report, &error));
  g_assert_error(error, ONAIR_MIGRATION_ERROR, db::MIGRATION_ERROR_FAILED);
  g_test_message("%s", error->message);
  g_assert_nonnull(strstr(error->message, "0020_broken.sql line 4"));
  g_assert_nonnull(strstr(error->message, "42704"));
  g_clear_error(&error);
  g_assert_cmpint(report.version, ==, 10);
  test::Peer peer(testdb.uri());
  g_assert_cmpint(peer.integer("SELECT max(version) FROM schema_migrations"), ==, 10);
  g_assert_false(peer.value("SELECT to_regclass('half')::text").has_value());

  write(dir, "0020_broken.sql", "CREATE TABLE half (id int);\nCOMMIT;\n");
  g_assert_false(run_migrate(testdb.uri(), dir, &report, &error));
  g_assert_error(error, ONAIR_MIGRATION_ERROR, db::MIGRATION_ERROR_FAILED);
  g_assert_nonnull(strstr(error->message, "ended the transaction"));
  g_clear_error(&error);
  g_assert_cmpint(peer.integer("SELECT max(version) FROM schema_migrations"), ==, 10);
}

/* Several daemons start at once on one database: the advisory lock lets one
 * migrate; the others wait and find nothing left to do. */
void test_concurrent_migrators() {
  test::TestDatabase testdb;
  std::string dir = three_migrations();
  /* Slow enough that the runs overlap. */
  write(dir, "0003_slow.sql", "SELECT pg_sleep(0.5);\n");
  std::vector<Migration> migrations;
  g_assert_true(db::load_migrations(dir, &migrations, nullptr));
  const int count = 3;
  std::vector<std::unique_ptr<db::Migrator>> migrators;
  int done = 0, failed = 0;
  size_t applied = 0;
  for (int i = 0; i < count; i++) {
    migrators.push_back(std::make_unique<db::Migrator>(testdb.uri(), migrations));
    migrators.back()->run([&](const MigrationReport &report, const GError *error) {
      done++;
      failed += error != nullptr;
      if (error) g_printerr("%s\n", error->message);
      applied += report.applied.size();
    });
  }
  test::run_until([&] { return done == count; }, 120, "three migrators");
  g_assert_cmpint(failed, ==, 0);
  g_assert_cmpint(int(applied), ==, 4);
  test::Peer peer(testdb.uri());
  g_assert_cmpint(peer.integer("SELECT count(*) FROM schema_migrations"), ==, 4);
}

/* A database that cannot be reached: a clear error, no hang. */
void test_unreachable() {
  std::string dir = test::make_dir("nobody");
  MigrationReport report;
  GError *error = nullptr;
  g_assert_false(run_migrate("postgresql:///x?host=" + dir, three_migrations(), &report, &error));
  g_assert_error(error, ONAIR_MIGRATION_ERROR, db::MIGRATION_ERROR_UNAVAILABLE);
  g_clear_error(&error);
}

/* The project's schema: applies, and its constraints and indexes do what
 * the daemon relies on. */
void test_real_schema() {
  test::TestDatabase testdb;
  test::migrate_schema(testdb.uri());
  test::Peer peer(testdb.uri());

  std::string channel = *peer.value(
      "INSERT INTO channels (name, pipeline, stream_key) VALUES ('News', 'live.pipeline', "
      "'0123456789abcdef') RETURNING id");
  assert_string(peer.error_state("INSERT INTO channels (name, pipeline, stream_key) VALUES ('news', 'x', "
                                 "'fedcba9876543210')")
                    .c_str(),
                ==, "23505");
  assert_string(
      peer.error_state("INSERT INTO channels (name, pipeline, stream_key) VALUES ('Sport', 'x', 'short')")
          .c_str(),
      ==, "23514");
  assert_string(peer.error_state("UPDATE channels SET desired_state = 'flying'").c_str(), ==, "23514");
  std::string created = *peer.value("SELECT updated_at FROM channels");
  peer.exec("UPDATE channels SET desired_state = 'running'");
  assert_string(peer.value("SELECT (updated_at > created_at)::text FROM channels")->c_str(), ==, "true");
  (void)created;

  std::string video = *peer.value(
      "INSERT INTO videos (channel_id, kind, title, tags) VALUES ($1, 'live', "
      "'Evening news', '{news,evening}') RETURNING id",
      {channel});
  assert_string(
      peer.error_state("INSERT INTO videos (kind, title, tags) VALUES ('vod', 'x', '{\"\"}')").c_str(), ==,
      "23514");
  assert_string(
      peer.error_state("INSERT INTO videos (kind, title, tags) VALUES ('vod', 'x', '{a,NULL}')").c_str(), ==,
      "23514");
  assert_string(peer.error_state("INSERT INTO videos (kind, title) VALUES ('vod', '')").c_str(), ==, "23514");
  assert_string(
      peer.error_state("INSERT INTO videos (kind, title, visibility) VALUES ('vod', 'x', 'secret')").c_str(),
      ==, "23514");

  /* Comments: length limits, media time, cascade with the video. */
  peer.exec("INSERT INTO comments (video_id, author, body, media_time_ms) VALUES ('" + video +
            "', 'ann', 'hello', 1500)");
  assert_string(
      peer.error_state("INSERT INTO comments (video_id, author, body) VALUES ('" + video + "', 'ann', '')")
          .c_str(),
      ==, "23514");
  assert_string(peer.error_state("INSERT INTO comments (video_id, author, body) VALUES ('" + video +
                                 "', 'ann', repeat('x', 2001))")
                    .c_str(),
                ==, "23514");
  assert_string(peer.error_state("INSERT INTO comments (video_id, author, body) VALUES ('" + video +
                                 "', repeat('é', 65), 'hi')")
                    .c_str(),
                ==, "23514");
  /* 2000 characters of two bytes each still fit: characters are counted, not bytes. */
  assert_string(peer.error_state("INSERT INTO comments (video_id, author, body) VALUES ('" + video +
                                 "', 'ann', repeat('é', 2000))")
                    .c_str(),
                ==, "");
  assert_string(peer.error_state("INSERT INTO comments (video_id, author, body, media_time_ms) VALUES ('" +
                                 video + "', 'ann', 'x', -1)")
                    .c_str(),
                ==, "23514");

  /* Tokens: the SHA-256 of the secret, a role from the list. */
  peer.exec("INSERT INTO api_tokens (name, role, token_hash) VALUES ('ci', 'admin', sha256('secret'))");
  assert_string(
      peer.error_state("INSERT INTO api_tokens (name, role, token_hash) VALUES ('x', 'root', sha256('s'))")
          .c_str(),
      ==, "23514");
  assert_string(
      peer.error_state("INSERT INTO api_tokens (name, role, token_hash) VALUES ('x', 'viewer', 'short')")
          .c_str(),
      ==, "23514");
  assert_string(
      peer.error_state(
              "INSERT INTO api_tokens (name, role, token_hash) VALUES ('y', 'viewer', sha256('secret'))")
          .c_str(),
      ==, "23505");

  /* Keys are UUID version 7, in time order. */
  assert_string(peer.value("SELECT substr(onair_uuid_v7()::text, 15, 1)")->c_str(), ==, "7");
  assert_string(peer.value("SELECT substr(onair_uuid_v7()::text, 20, 1) IN ('8', '9', 'a', 'b')")->c_str(),
                ==, "t");
  std::string first = *peer.value("SELECT onair_uuid_v7()::text");
  g_usleep(3000);
  std::string second = *peer.value("SELECT onair_uuid_v7()::text");
  assert_string(first.c_str(), <, second.c_str());
  /* Its first 48 bits are the time in milliseconds. */
  g_assert_cmpint(
      peer.integer("SELECT abs(('x' || left(replace(onair_uuid_v7()::text, '-', ''), 12))::bit(48)::bigint"
                   " - floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint)"),
      <, 1000);

  /* The lists the API serves use their indexes (the planner is told to
   * avoid sequential scans, since these tables are tiny). */
  peer.exec("SET enable_seqscan = off");
  auto plan = [&](const std::string &sql) {
    std::string out;
    for (auto &line : peer.column("EXPLAIN " + sql)) out += line + "\n";
    return out;
  };
  std::string newest = plan(
      "SELECT * FROM comments WHERE video_id = '" + video +
      "' AND (created_at, id) < (now(), '00000000-0000-0000-0000-000000000000') ORDER BY created_at DESC, id "
      "DESC LIMIT 50");
  g_assert_nonnull(strstr(newest.c_str(), "comments_video_created"));
  g_assert_null(strstr(newest.c_str(), "Sort"));
  std::string by_media = plan("SELECT * FROM comments WHERE video_id = '" + video +
                              "' AND media_time_ms IS NOT NULL AND (media_time_ms, id) > (0, "
                              "'00000000-0000-0000-0000-000000000000') ORDER BY media_time_ms, id LIMIT 50");
  g_assert_nonnull(strstr(by_media.c_str(), "comments_video_media_time"));
  g_assert_null(strstr(by_media.c_str(), "Sort"));
  std::string tagged = plan("SELECT * FROM videos WHERE tags @> ARRAY['news']");
  g_assert_nonnull(strstr(tagged.c_str(), "videos_tags"));
  std::string public_list =
      plan("SELECT * FROM videos WHERE visibility = 'public' ORDER BY created_at DESC, id DESC LIMIT 20");
  g_assert_nonnull(strstr(public_list.c_str(), "videos_public_created"));
  g_assert_null(strstr(public_list.c_str(), "Sort"));
  peer.exec("RESET enable_seqscan");

  /* Deleting a video takes its comments; deleting a channel keeps its videos. */
  peer.exec("DELETE FROM channels");
  g_assert_false(peer.value("SELECT channel_id FROM videos").has_value());
  peer.exec("DELETE FROM videos");
  g_assert_cmpint(peer.integer("SELECT count(*) FROM comments"), ==, 0);
}

}  // namespace

int main(int argc, char **argv) {
  test::init(&argc, &argv);
  g_test_add_func("/migrations/load-order-and-names", test_load_order_and_names);
  g_test_add_func("/migrations/apply-in-order-once", test_apply_in_order_once);
  g_test_add_func("/migrations/newer-schema-refused", test_newer_schema_refused);
  g_test_add_func("/migrations/changed-migration-refused", test_changed_migration_refused);
  g_test_add_func("/migrations/failure-rolls-back", test_failure_rolls_back);
  g_test_add_func("/migrations/concurrent-migrators", test_concurrent_migrators);
  g_test_add_func("/migrations/unreachable", test_unreachable);
  g_test_add_func("/migrations/real-schema", test_real_schema);
  return g_test_run();
}
