/* onair — benchmark: comment inserts through the database layer alone (no
 * HTTP), grouped by the batch inserter against one INSERT per comment on the
 * same pool and the same durable cluster, side by side. Closed loop: each of
 * N simulated clients sends its next comment when the last one is answered.
 * Prints inserts per second, latency percentiles and the ratio.
 *
 * ONAIR_BENCH_SECONDS (default 5) per mode, ONAIR_BENCH_CLIENTS (default 256),
 * ONAIR_BENCH_IN_FLIGHT (batches at once, default BatchOptions'), ONAIR_BENCH_POOL (default 4),
 * ONAIR_BENCH_DURABLE=0 (fsync off: what the layer costs without the disk).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "harness.h"

#include "db/batch.h"

#include <algorithm>

using namespace onair;
using onair::db::BatchInserter;
using onair::db::Result;
using onair::db::Statement;

namespace {

constexpr Statement insert_comments{"bench_insert_comments", R"(
  WITH input AS (
    SELECT onair_uuid_v7() AS id, t.*
    FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bigint[])
         WITH ORDINALITY AS t(video_id, author, body, media_time_ms, ord)),
  inserted AS (
    INSERT INTO comments (id, video_id, author, body, media_time_ms)
    SELECT id, video_id, author, body, media_time_ms FROM input
    RETURNING id, created_at)
  SELECT input.ord, inserted.* FROM inserted JOIN input USING (id))"};
constexpr Statement insert_comment{"bench_insert_comment",
                                   "INSERT INTO comments (video_id, author, body, media_time_ms) "
                                   "VALUES ($1, $2, $3, $4) RETURNING id, created_at"};

struct Figures {
  double per_second = 0;
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
  uint64_t failed = 0;
};

int env_int(const char *name, int fallback) {
  const char *value = g_getenv(name);
  return value && *value ? atoi(value) : fallback;
}

Figures run(db::Database &database, const std::string &video, bool batched, int clients, int seconds) {
  db::BatchOptions batch_options;
  batch_options.max_in_flight = env_int("ONAIR_BENCH_IN_FLIGHT", batch_options.max_in_flight);
  BatchInserter batch(database, insert_comments, 4, batch_options);
  std::vector<double> latencies;
  latencies.reserve(1 << 20);
  uint64_t failed = 0;
  int outstanding = 0;
  bool stopping = false;
  uint64_t sequence = 0;
  std::function<void()> send = [&] {
    gint64 start = g_get_monotonic_time();
    outstanding++;
    db::Params row = {video, "viewer", "comment " + std::to_string(sequence++), int64_t(sequence)};
    auto done = [&, start](const Result &result) {
      outstanding--;
      if (result.ok())
        latencies.push_back(double(g_get_monotonic_time() - start) / 1000.0);
      else
        failed++;
      if (!stopping) send();
    };
    if (batched)
      batch.insert(std::move(row), done);
    else
      database.query(insert_comment, std::move(row), done);
  };
  for (int i = 0; i < clients; i++) send();
  gint64 begin = g_get_monotonic_time();
  test::run_for(seconds * 1000);
  stopping = true;
  size_t answered = latencies.size();
  double elapsed = double(g_get_monotonic_time() - begin) / 1e6;
  test::run_until([&] { return outstanding == 0; }, 120, "the last inserts");

  Figures figures;
  figures.per_second = double(answered) / elapsed;
  figures.failed = failed;
  std::sort(latencies.begin(), latencies.end());
  if (!latencies.empty()) {
    figures.p50_ms = latencies[latencies.size() / 2];
    figures.p99_ms = latencies[latencies.size() * 99 / 100];
    figures.max_ms = latencies.back();
  }
  if (batched)
    g_print("batched: %llu batches, largest %zu rows\n", (unsigned long long)batch.stats().batches,
            batch.stats().largest);
  return figures;
}

void print(const char *name, const Figures &figures) {
  g_print("%-8s %9.0f inserts/s   p50 %6.2f ms   p99 %6.2f ms   max %7.2f ms   failed %llu\n", name,
          figures.per_second, figures.p50_ms, figures.p99_ms, figures.max_ms,
          (unsigned long long)figures.failed);
}

}  // namespace

int main(int argc, char **argv) {
  test::init(&argc, &argv);
  int seconds = env_int("ONAIR_BENCH_SECONDS", 5);
  int clients = env_int("ONAIR_BENCH_CLIENTS", 256);

  /* Durable, as the daemon runs it: fsync on, synchronous commit. */
  auto options = test::cluster_options(test::make_dir("bench"));
  options.durable = env_int("ONAIR_BENCH_DURABLE", 1) != 0;
  options.database = "onair";
  db::EmbeddedPostgres cluster(options);
  GError *error = nullptr;
  if (!cluster.start(&error)) g_error("%s", error->message);
  test::migrate_schema(cluster.uri());
  std::string video = *test::Peer(cluster.uri())
                           .value("INSERT INTO videos (kind, title) VALUES ('live', 'Bench') RETURNING id");
  int pool = env_int("ONAIR_BENCH_POOL", 4);
  auto database = test::open_pool(cluster.uri(), pool);
  test::wait_all_connected(*database);

  g_print("comment inserts, %d clients, %d s per mode, pool of %d, %d batches in flight\n", clients, seconds,
          pool, env_int("ONAIR_BENCH_IN_FLIGHT", db::BatchOptions().max_in_flight));
  Figures single = run(*database, video, false, clients, seconds);
  print("single", single);
  Figures batched = run(*database, video, true, clients, seconds);
  print("batched", batched);
  g_print("ratio    %9.2f x throughput   p99 %.2f x\n", batched.per_second / std::max(1.0, single.per_second),
          batched.p99_ms / std::max(0.001, single.p99_ms));
  database.reset();
  cluster.stop(nullptr);
  return 0;
}
