/* onair — the batch inserter on the real schema: concurrent comment inserts
 * grouped into few statements, each caller answered only after COMMIT with
 * its own row, a failed transaction failing every caller, data errors
 * isolated to their rows.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "harness.h"

#include "db/batch.h"

#include <set>

using namespace onair;
using onair::db::BatchInserter;
using onair::db::BatchOptions;
using onair::db::Result;
using onair::db::Statement;
using onair::test::insert_comments;

namespace {

/* The same without ord: rows matched by position. */
constexpr Statement insert_comments_in_order{"test_insert_comments_in_order", R"(
  INSERT INTO comments (video_id, author, body, media_time_ms)
  SELECT video_id, author, body, media_time_ms
  FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bigint[])
       WITH ORDINALITY AS t(video_id, author, body, media_time_ms, ord)
  ORDER BY ord
  RETURNING id, body, created_at)"};

struct Fixture {
  test::TestDatabase testdb;
  std::unique_ptr<test::Peer> peer;
  std::unique_ptr<db::Database> database;
  std::string video;

  Fixture() {
    test::migrate_schema(testdb.uri());
    peer = std::make_unique<test::Peer>(testdb.uri());
    video = *peer->value("INSERT INTO videos (kind, title) VALUES ('live', 'Launch') RETURNING id");
    database = test::open_pool(testdb.uri(), 4);
    test::wait_all_connected(*database);
  }
};

struct Outcome {
  bool done = false;
  Result result;
};

/* 1000 inserts in one main-loop iteration: grouped into few statements;
 * each caller gets its own row; when a callback runs its row is already
 * visible to another session, i.e. committed, even though the commit takes
 * 300 ms (a deferred trigger sleeps in it). */
void test_grouped_and_committed() {
  Fixture f;
  /* Constraint triggers are per row: sleep on the first row of each transaction only. */
  f.peer->exec(R"(
    CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF current_setting('test.slept', true) IS DISTINCT FROM 'yes' THEN
        PERFORM set_config('test.slept', 'yes', true);
        PERFORM pg_sleep(0.3);
      END IF;
      RETURN NULL;
    END $$;
    CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON comments
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit();)");
  BatchInserter comments(*f.database, insert_comments, 4);
  const int count = 1000;
  std::vector<Outcome> outcomes(count);
  int done = 0;
  int visible = 0;
  for (int i = 0; i < count; i++) {
    comments.insert({f.video, "viewer " + std::to_string(i), "comment " + std::to_string(i),
                     i % 3 ? std::optional<int64_t>(i * 40) : std::nullopt},
                    [&, i](const Result &result) {
                      outcomes[size_t(i)].done = true;
                      outcomes[size_t(i)].result = result;
                      if (result.ok()) {
                        std::string id(result.text(0, "id"));
                        visible += int(f.peer->integer("SELECT count(*) FROM comments WHERE id = $1", {id}));
                      }
                      done++;
                    });
  }
  g_assert_cmpint(int(comments.pending()), ==, count);
  test::run_until([&] { return done == count; }, 120, "1000 inserts");
  std::set<std::string> ids;
  for (int i = 0; i < count; i++) {
    const Result &result = outcomes[size_t(i)].result;
    g_assert_true(result.ok());
    g_assert_cmpint(result.rows(), ==, 1);
    assert_string(std::string(result.text(0, "body")).c_str(), ==, ("comment " + std::to_string(i)).c_str());
    ids.insert(std::string(result.text(0, "id")));
  }
  g_assert_cmpint(int(ids.size()), ==, count);
  g_assert_cmpint(visible, ==, count);
  g_assert_cmpint(int(comments.stats().batches), <=, 10);
  g_assert_cmpint(int(comments.stats().largest), >=, 100);
  g_assert_cmpint(f.peer->integer("SELECT count(*) FROM comments"), ==, count);
  g_assert_cmpint(f.peer->integer("SELECT count(*) FROM comments WHERE media_time_ms IS NULL"), ==, 334);
}

/* The inserts keep coming while batches run: everything gets in, in
 * batches, with at most max_in_flight statements at a time. */
void test_stream() {
  Fixture f;
  BatchOptions options;
  options.max_in_flight = 2;
  options.max_rows = 50;
  BatchInserter comments(*f.database, insert_comments, 4, options);
  const int count = 3000;
  int sent = 0, done = 0, failed = 0;
  int max_in_flight = 0;
  guint timer = g_timeout_add(
      1, [](gpointer) -> gboolean { return G_SOURCE_CONTINUE; }, nullptr);
  test::run_until(
      [&] {
        for (int i = 0; i < 25 && sent < count; i++, sent++) {
          comments.insert({f.video, "a", "c" + std::to_string(sent), nullptr}, [&](const Result &result) {
            failed += !result.ok();
            done++;
          });
        }
        max_in_flight = std::max(max_in_flight, comments.in_flight());
        return done == count;
      },
      120, "a stream of inserts");
  g_source_remove(timer);
  g_assert_cmpint(failed, ==, 0);
  g_assert_cmpint(max_in_flight, <=, 2);
  g_assert_cmpint(int(comments.stats().largest), <=, 50);
  g_assert_cmpint(int(comments.stats().batches), <, count);
  g_assert_cmpint(f.peer->integer("SELECT count(*) FROM comments"), ==, count);
}

/* A transaction that fails (here at COMMIT, for an error that is not the
 * rows' fault) fails every caller of the batch, and nothing is in the
 * database. */
void test_failure_fails_every_caller() {
  Fixture f;
  f.peer->exec(R"(
    CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.body = 'poison' THEN RAISE EXCEPTION 'poisoned batch' USING ERRCODE = 'P0042'; END IF;
      RETURN NULL;
    END $$;
    CREATE CONSTRAINT TRIGGER poison AFTER INSERT ON comments
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION poison();)");
  BatchInserter comments(*f.database, insert_comments, 4);
  const int count = 50;
  int done = 0, succeeded = 0, poisoned = 0;
  for (int i = 0; i < count; i++) {
    comments.insert({f.video, "v", i == 17 ? "poison" : "fine " + std::to_string(i), nullptr},
                    [&](const Result &result) {
                      done++;
                      succeeded += result.ok();
                      poisoned += result.error().sqlstate == "P0042";
                    });
  }
  test::run_until([&] { return done == count; }, 60, "the batch");
  g_assert_cmpint(succeeded, ==, 0);
  g_assert_cmpint(poisoned, ==, count);
  g_assert_cmpint(int(comments.stats().batches), ==, 1);
  g_assert_cmpint(f.peer->integer("SELECT count(*) FROM comments"), ==, 0);
}

/* A data error (a CHECK violated by one row, a missing video) is split down
 * to its rows: they fail with the constraint, the others get in. */
void test_data_error_isolated() {
  Fixture f;
  BatchInserter comments(*f.database, insert_comments, 4);
  const int count = 64;
  int done = 0, succeeded = 0;
  std::vector<std::string> errors(count);
  std::string missing_video = "00000000-0000-7000-8000-000000000000";
  for (int i = 0; i < count; i++) {
    std::string body = i == 5 ? std::string(2001, 'x') : "ok " + std::to_string(i);
    comments.insert({i == 40 ? missing_video : f.video, "v", body, nullptr}, [&, i](const Result &result) {
      done++;
      succeeded += result.ok();
      if (!result.ok()) errors[size_t(i)] = result.error().constraint;
    });
  }
  test::run_until([&] { return done == count; }, 60, "the batch");
  g_assert_cmpint(succeeded, ==, count - 2);
  assert_string(errors[5].c_str(), ==, "comments_body_length");
  assert_string(errors[40].c_str(), ==, "comments_video_id_fkey");
  g_assert_cmpint(int(comments.stats().splits), >=, 2);
  g_assert_cmpint(f.peer->integer("SELECT count(*) FROM comments"), ==, count - 2);
  g_assert_cmpint(f.peer->integer("SELECT count(*) FROM comments WHERE body = 'ok 5' OR body LIKE 'xxx%'"),
                  ==, 0);
}

/* Without an ord column the rows are matched by position. */
void test_matched_by_position() {
  Fixture f;
  BatchInserter comments(*f.database, insert_comments_in_order, 4);
  int done = 0;
  for (int i = 0; i < 200; i++) {
    comments.insert({f.video, "v", "n" + std::to_string(i), int64_t(i)}, [&, i](const Result &result) {
      g_assert_true(result.ok());
      assert_string(std::string(result.text(0, "body")).c_str(), ==, ("n" + std::to_string(i)).c_str());
      done++;
    });
  }
  test::run_until([&] { return done == 200; }, 60, "the batch");
}

/* Rows cancelled before their batch is sent are never inserted; a row of the
 * wrong width is refused; a database that is down refuses at once. */
void test_cancel_and_refusals() {
  Fixture f;
  BatchInserter comments(*f.database, insert_comments, 4);
  int done = 0;
  std::vector<db::Ticket> tickets;
  for (int i = 0; i < 10; i++) {
    tickets.push_back(
        comments.insert({f.video, "v", "c" + std::to_string(i), nullptr}, [&](const Result &) { done++; }));
  }
  for (int i = 0; i < 10; i += 3) tickets[size_t(i)].cancel();
  test::run_until([&] { return done == 6; }, 60, "the uncancelled rows");
  test::run_for(100);
  g_assert_cmpint(done, ==, 6);
  g_assert_cmpint(f.peer->integer("SELECT count(*) FROM comments"), ==, 6);
  g_assert_cmpint(f.peer->integer("SELECT count(*) FROM comments WHERE body IN ('c0', 'c3', 'c6', 'c9')"), ==,
                  0);

  std::optional<Result> narrow;
  comments.insert({f.video, "v"}, [&](const Result &result) { narrow = result; });
  test::run_until([&] { return narrow.has_value(); }, 10, "the refusal");
  g_assert_true(narrow->error().kind == db::Error::Kind::client);

  f.database->close();
  std::optional<Result> closed;
  comments.insert({f.video, "v", "late", nullptr}, [&](const Result &result) { closed = result; });
  test::run_until([&] { return closed.has_value(); }, 10, "the refusal");
  g_assert_true(closed->unavailable());
}

}  // namespace

int main(int argc, char **argv) {
  test::init(&argc, &argv);
  g_test_add_func("/db/batch/grouped-and-committed", test_grouped_and_committed);
  g_test_add_func("/db/batch/stream", test_stream);
  g_test_add_func("/db/batch/failure-fails-every-caller", test_failure_fails_every_caller);
  g_test_add_func("/db/batch/data-error-isolated", test_data_error_isolated);
  g_test_add_func("/db/batch/matched-by-position", test_matched_by_position);
  g_test_add_func("/db/batch/cancel-and-refusals", test_cancel_and_refusals);
  return g_test_run();
}
