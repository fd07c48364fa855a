/* onair — the connection pool against a real PostgreSQL: prepared
 * statements on a GMainLoop, concurrency, transactions, commit-time
 * failures, cancellation, timeouts, an absent server.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "harness.h"

#include "db/database.h"

#include <set>

using namespace onair;
using onair::db::Command;
using onair::db::Param;
using onair::db::Params;
using onair::db::Result;
using onair::db::Statement;
using onair::db::TransactionResult;

namespace {

constexpr Statement select_values{"test_select_values", R"(
  SELECT $1::int + $2::int AS sum, $3::text AS label, NULL::int AS nothing, true AS yes,
         '2026-01-02 03:04:05.25+02'::timestamptz AS at, '{"a": [1, 2]}'::jsonb AS doc,
         $4::double precision AS ratio, $5::text[] AS tags, array_length($5::text[], 1) AS tag_count)"};
constexpr Statement count_prepared{
    "test_count_prepared",
    "SELECT count(*) AS n FROM pg_prepared_statements WHERE name = 'test_select_values'"};
constexpr Statement create_items{"test_create_items", R"(
  CREATE TABLE IF NOT EXISTS items (
    id bigint PRIMARY KEY,
    label text NOT NULL CHECK (char_length(label) <= 10)))"};
constexpr Statement insert_item{"test_insert_item",
                                "INSERT INTO items (id, label) VALUES ($1, $2) RETURNING id, label"};
constexpr Statement count_items{"test_count_items", "SELECT count(*) AS n FROM items"};
constexpr Statement broken_sql{"test_broken_sql", "SELEC 1"};
constexpr Statement same_name_1{"test_same_name", "SELECT 1 AS n"};
constexpr Statement same_name_2{"test_same_name", "SELECT 2 AS n"};
constexpr Statement numbered{"test_numbered", "SELECT $1::int AS n, pg_backend_pid() AS pid"};
constexpr Statement slow_numbered{
    "test_slow_numbered", "SELECT $1::int AS n, pg_backend_pid() AS pid, pg_sleep($2::float8) AS slept"};
constexpr Statement sleep_long{"test_sleep_long", "SELECT pg_sleep(30) AS slept"};
constexpr Statement backend_pid{"test_backend_pid", "SELECT pg_backend_pid() AS pid"};

void create_items_table(db::Database &database) {
  Result result = test::query_sync(database, create_items);
  g_assert_true(result.ok());
}

TransactionResult transaction_sync(db::Database &database, std::vector<Command> commands) {
  std::optional<TransactionResult> result;
  database.transaction(std::move(commands), [&](const TransactionResult &r) { result = r; });
  test::run_until([&] { return result.has_value(); }, 120, "a transaction");
  return *result;
}

/* Prepared statements with parameters; typed getters; callbacks never run
 * inside the call that submitted them; one prepare per connection. */
void test_prepared_query() {
  test::TestDatabase testdb;
  auto database = test::open_pool(testdb.uri(), 1);

  bool called = false;
  std::optional<Result> answer;
  database->query(select_values,
                  {20, 22, "forty-two", 0.5, Param::array({"news", "a \"quoted\", tag", nullptr})},
                  [&](const Result &result) {
                    called = true;
                    answer = result;
                  });
  g_assert_false(called);
  test::run_until([&] { return called; }, 60, "the query");
  const Result &result = *answer;
  g_assert_true(result.ok());
  g_assert_cmpint(result.rows(), ==, 1);
  g_assert_cmpint(result.int64(0, "sum"), ==, 42);
  assert_string(std::string(result.text(0, "label")).c_str(), ==, "forty-two");
  g_assert_true(result.is_null(0, "nothing"));
  g_assert_false(result.optional_int64(0, "nothing").has_value());
  g_assert_cmpint(result.int64(0, "nothing", -7), ==, -7);
  g_assert_true(result.boolean(0, "yes"));
  g_assert_cmpfloat(result.number(0, "ratio"), ==, 0.5);
  g_assert_cmpint(result.int64(0, "tag_count"), ==, 3);
  assert_string(std::string(result.text(0, "tags")).c_str(), ==, "{news,\"a \\\"quoted\\\", tag\",NULL}");
  /* 03:04:05.25+02 is 01:04:05.25 UTC. */
  assert_string(result.timestamp_rfc3339(0, "at").c_str(), ==, "2026-01-02T01:04:05.250000Z");
  g_assert_cmpint(result.timestamp_us(0, "at"), ==, int64_t(1767315845250000));
  JsonNode *doc = result.json(0, "doc");
  g_assert_nonnull(doc);
  JsonArray *array = json_object_get_array_member(json_node_get_object(doc), "a");
  g_assert_cmpint(json_array_get_length(array), ==, 2);
  json_node_unref(doc);
  g_assert_cmpint(result.column("missing"), ==, -1);

  /* Run again: still prepared once on this (only) connection. */
  g_assert_true(test::query_sync(*database, select_values, {1, 2, "x", 1.0, nullptr}).ok());
  g_assert_cmpint(test::query_sync(*database, count_prepared).int64(0, "n"), ==, 1);
}

/* Server errors carry their SQLSTATE and constraint, are not
 * "unavailable", and leave the connection usable. */
void test_errors() {
  test::TestDatabase testdb;
  auto database = test::open_pool(testdb.uri(), 1);
  create_items_table(*database);
  g_assert_true(test::query_sync(*database, insert_item, {1, "one"}).ok());

  Result duplicate = test::query_sync(*database, insert_item, {1, "again"});
  g_assert_false(duplicate.ok());
  g_assert_false(duplicate.unavailable());
  g_assert_true(duplicate.error().kind == db::Error::Kind::server);
  assert_string(duplicate.error().sqlstate.c_str(), ==, "23505");
  assert_string(duplicate.error().constraint.c_str(), ==, "items_pkey");
  g_assert_true(duplicate.error().data_error());

  Result bad_input = test::query_sync(*database, insert_item, {"not a number", "x"});
  assert_string(bad_input.error().sqlstate.c_str(), ==, "22P02");

  Result syntax = test::query_sync(*database, broken_sql);
  g_assert_false(syntax.ok());
  assert_string(syntax.error().sqlstate.c_str(), ==, "42601");
  g_assert_false(syntax.unavailable());

  /* Wrong number of parameters: the server refuses the Bind message. */
  Result arity = test::query_sync(*database, insert_item, {2});
  g_assert_false(arity.ok());
  g_assert_false(arity.unavailable());

  /* One name, two texts: a bug, caught before anything is sent. */
  g_assert_true(test::query_sync(*database, same_name_1).ok());
  Result conflict = test::query_sync(*database, same_name_2);
  g_assert_true(conflict.error().kind == db::Error::Kind::client);

  /* After all that the connection still works. */
  g_assert_true(test::query_sync(*database, insert_item, {2, "two"}).ok());
  g_assert_cmpint(test::query_sync(*database, count_items).int64(0, "n"), ==, 2);
}

/* Many queries at once over a pool of 4: every callback once, with its own
 * answer; several connections do the work. */
void test_concurrent_queries() {
  test::TestDatabase testdb;
  auto database = test::open_pool(testdb.uri(), 4);
  test::wait_all_connected(*database);

  const int count = 2000;
  std::vector<int> answers(count, -1);
  std::set<int64_t> backends;
  int done = 0;
  for (int i = 0; i < count; i++) {
    /* Every tenth sleeps a little, so that the others overtake it on other connections. */
    auto callback = [&, i](const Result &result) {
      g_assert_true(result.ok());
      g_assert_cmpint(answers[size_t(i)], ==, -1);
      answers[size_t(i)] = int(result.int64(0, "n"));
      backends.insert(result.int64(0, "pid"));
      done++;
    };
    if (i % 10 == 0)
      database->query(slow_numbered, {i, 0.002}, callback);
    else
      database->query(numbered, {i}, callback);
  }
  test::run_until([&] { return done == count; }, 120, "2000 queries");
  for (int i = 0; i < count; i++) g_assert_cmpint(answers[size_t(i)], ==, i);
  g_assert_cmpint(int(backends.size()), >=, 2);
  auto stats = database->stats();
  g_assert_cmpint(int(stats.succeeded), >=, count);
  g_assert_cmpint(int(stats.queued), ==, 0);
}

/* The queue is bounded: beyond max_queue, jobs fail at once as unavailable. */
void test_bounded_queue() {
  test::TestDatabase testdb;
  auto database =
      test::open_pool(testdb.uri(), 4, [](db::DatabaseOptions &options) { options.max_queue = 100; });
  test::wait_all_connected(*database);
  int ok = 0, refused = 0, other = 0;
  for (int i = 0; i < 500; i++) {
    database->query(slow_numbered, {i, 0.001}, [&](const Result &result) {
      if (result.ok())
        ok++;
      else if (result.unavailable())
        refused++;
      else
        other++;
    });
  }
  test::run_until([&] { return ok + refused + other == 500; }, 120, "500 queries");
  /* Four were sent at once, a hundred waited, the rest were refused. */
  g_assert_cmpint(ok, ==, 104);
  g_assert_cmpint(refused, ==, 396);
  g_assert_cmpint(other, ==, 0);
}

void test_transaction_commits() {
  test::TestDatabase testdb;
  auto database = test::open_pool(testdb.uri(), 2);
  create_items_table(*database);
  test::Peer peer(testdb.uri());

  std::vector<Command> commands;
  commands.push_back(Command::prepared(insert_item, {1, "one"}));
  commands.push_back(Command::prepared(insert_item, {2, "two"}));
  commands.push_back(Command::prepared(count_items, {}));
  TransactionResult result = transaction_sync(*database, std::move(commands));
  g_assert_true(result.ok());
  g_assert_cmpint(int(result.size()), ==, 3);
  assert_string(std::string(result[1].text(0, "label")).c_str(), ==, "two");
  g_assert_cmpint(result[2].int64(0, "n"), ==, 2);
  g_assert_cmpint(peer.integer("SELECT count(*) FROM items"), ==, 2);
}

/* A failing command rolls the whole transaction back, and the connection
 * is clean for the next job. */
void test_transaction_rolls_back() {
  test::TestDatabase testdb;
  auto database = test::open_pool(testdb.uri(), 1);
  create_items_table(*database);
  test::Peer peer(testdb.uri());

  std::vector<Command> commands;
  commands.push_back(Command::prepared(insert_item, {1, "one"}));
  commands.push_back(Command::prepared(insert_item, {2, "far too long a label"}));
  commands.push_back(Command::prepared(insert_item, {3, "three"}));
  TransactionResult result = transaction_sync(*database, std::move(commands));
  g_assert_false(result.ok());
  g_assert_false(result.unavailable());
  assert_string(result.error().sqlstate.c_str(), ==, "23514");
  g_assert_cmpint(int(result.size()), ==, 1);
  g_assert_cmpint(peer.integer("SELECT count(*) FROM items"), ==, 0);

  /* A query on the same (only) connection runs outside any transaction. */
  g_assert_true(test::query_sync(*database, insert_item, {4, "four"}).ok());
  g_assert_cmpint(peer.integer("SELECT count(*) FROM items"), ==, 1);
  assert_string(peer.value("SELECT string_agg(id::text, ',') FROM items")->c_str(), ==, "4");
}

/* Success is reported after COMMIT, not when the statement's rows arrive: a
 * deferred constraint trigger that fails at commit fails the query, though
 * the server had already sent the INSERT's rows. */
void test_commit_time_failure() {
  test::TestDatabase testdb;
  auto database = test::open_pool(testdb.uri(), 1);
  create_items_table(*database);
  test::Peer peer(testdb.uri());
  peer.exec(R"(
    CREATE FUNCTION refuse_thirteen() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.id = 13 THEN RAISE EXCEPTION 'unlucky' USING ERRCODE = 'P0013'; END IF;
      RETURN NULL;
    END $$;
    CREATE CONSTRAINT TRIGGER refuse_thirteen AFTER INSERT ON items
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_thirteen();)");

  Result single = test::query_sync(*database, insert_item, {13, "thirteen"});
  g_assert_false(single.ok());
  assert_string(single.error().sqlstate.c_str(), ==, "P0013");
  g_assert_cmpint(peer.integer("SELECT count(*) FROM items"), ==, 0);

  std::vector<Command> commands;
  commands.push_back(Command::prepared(insert_item, {12, "twelve"}));
  commands.push_back(Command::prepared(insert_item, {13, "thirteen"}));
  TransactionResult transaction = transaction_sync(*database, std::move(commands));
  g_assert_false(transaction.ok());
  assert_string(transaction.error().sqlstate.c_str(), ==, "P0013");
  g_assert_cmpint(peer.integer("SELECT count(*) FROM items"), ==, 0);

  g_assert_true(test::query_sync(*database, insert_item, {14, "fourteen"}).ok());
  g_assert_cmpint(peer.integer("SELECT count(*) FROM items"), ==, 1);
}

/* A cancelled job's callback never runs and what it captured is released at
 * once; a queued one is never sent. Destroying the pool with work in flight
 * calls nothing. */
void test_cancel() {
  test::TestDatabase testdb;
  auto database = test::open_pool(testdb.uri(), 1);
  create_items_table(*database);
  test::Peer peer(testdb.uri());

  /* The first job occupies the only connection; the rest wait. */
  std::vector<db::Ticket> tickets;
  auto token = std::make_shared<int>(0);
  int called = 0;
  for (int i = 0; i < 20; i++) {
    tickets.push_back(database->query(insert_item, {i, "n"}, [&called, token](const Result &result) {
      g_assert_true(result.ok());
      called++;
    }));
  }
  g_assert_cmpint(int(token.use_count()), ==, 21);
  for (int i = 0; i < 20; i += 2) tickets[size_t(i)].cancel();
  g_assert_cmpint(int(token.use_count()), ==, 11);
  g_assert_false(tickets[0].pending());
  g_assert_true(tickets[1].pending());
  test::run_until([&] { return called == 10; }, 60, "the uncancelled queries");
  test::run_for(200);
  g_assert_cmpint(called, ==, 10);
  g_assert_false(tickets[1].pending());
  tickets[1].cancel(); /* after the fact: nothing happens */
  /* Job 0 was already on the wire when cancelled: it ran. The other
   * cancelled ones were still queued: never sent. */
  auto ids = peer.column("SELECT id FROM items ORDER BY id");
  std::string joined;
  for (auto &id : ids) joined += id + " ";
  assert_string(joined.c_str(), ==, "0 1 3 5 7 9 11 13 15 17 19 ");

  /* Work in flight, then the pool goes away: no callback, no crash. */
  for (int i = 100; i < 110; i++)
    database->query(slow_numbered, {i, 0.05}, [](const Result &) { g_error("called after destruction"); });
  test::run_for(20);
  database.reset();
  test::run_for(300);
}

/* A query that runs past its timeout fails as unavailable, its connection is
 * reset (which also ends the statement on the server), and the pool carries
 * on. */
void test_timeout() {
  test::TestDatabase testdb;
  auto database = test::open_pool(testdb.uri(), 1);
  test::Peer peer(testdb.uri());
  std::optional<Result> result;
  gint64 start = g_get_monotonic_time();
  database->query(
      sleep_long, {}, [&](const Result &r) { result = r; }, db::QueryOptions{std::chrono::milliseconds(300)});
  test::run_until([&] { return result.has_value(); }, 25, "the timeout");
  g_assert_true(result->unavailable());
  g_assert_cmpint(g_get_monotonic_time() - start, <, 25 * G_USEC_PER_SEC);
  test::run_until([&] { return database->available(); }, 60, "the reconnection");
  g_assert_true(test::query_sync(*database, backend_pid).ok());
  test::run_until(
      [&] {
        return peer.integer("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(30)%'") <= 1;
      },
      60, "the server to end the abandoned statement");
}

/* No server: the pool says so when opening, and queries fail at once. */
void test_no_server() {
  std::string dir = test::make_dir("nothing-here");
  db::DatabaseOptions options;
  options.uri = "postgresql:///onair?host=" + dir + "&port=5432";
  options.pool_size = 2;
  db::Database database(options);
  std::optional<db::Error> opened;
  database.open([&](const db::Error &error) { opened = error; });
  test::run_until([&] { return opened.has_value(); }, 60, "the connection attempts");
  g_assert_true(opened->unavailable());
  g_assert_nonnull(strstr(opened->message.c_str(), "cannot connect"));
  g_assert_false(database.available());

  std::optional<Result> result;
  database.query(backend_pid, {}, [&](const Result &r) { result = r; });
  g_assert_false(result.has_value());
  test::run_until([&] { return result.has_value(); }, 10, "a failure");
  g_assert_true(result->unavailable());
}

}  // namespace

int main(int argc, char **argv) {
  test::init(&argc, &argv);
  g_test_add_func("/db/query/prepared", test_prepared_query);
  g_test_add_func("/db/query/errors", test_errors);
  g_test_add_func("/db/pool/concurrent", test_concurrent_queries);
  g_test_add_func("/db/pool/bounded-queue", test_bounded_queue);
  g_test_add_func("/db/transaction/commits", test_transaction_commits);
  g_test_add_func("/db/transaction/rolls-back", test_transaction_rolls_back);
  g_test_add_func("/db/transaction/commit-time-failure", test_commit_time_failure);
  g_test_add_func("/db/cancel", test_cancel);
  g_test_add_func("/db/timeout", test_timeout);
  g_test_add_func("/db/no-server", test_no_server);
  return g_test_run();
}
