/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "store/reactions.h"

namespace onair::store {

namespace {

using db::Statement;

/* The batch's rows summed per (video, kind) into this minute's counters. The
 * upsert runs once whatever the final SELECT reads; its rows come back one
 * per input row (by ord) for the BatchInserter. Sorted so that concurrent
 * batches lock the counters in one order (no deadlock). */
constexpr Statement count_reactions{"reactions_count_batch", R"(
  WITH input AS (
    SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[])
                  WITH ORDINALITY AS t(channel_id, video_id, kind, ord)),
  counted AS (
    INSERT INTO reaction_counts AS r (video_id, minute, kind, channel_id, count)
    SELECT video_id, date_trunc('minute', now()), kind, channel_id, count(*)
    FROM input GROUP BY video_id, kind, channel_id ORDER BY video_id, kind
    ON CONFLICT (video_id, minute, kind) DO UPDATE SET count = r.count + EXCLUDED.count
    RETURNING 1)
  SELECT ord FROM input)"};

/* The outer row of videos tells an unknown video (no row) from no reaction. */
constexpr Statement reaction_timeline{"reactions_timeline", R"(
  SELECT v.id AS video_id, v.visibility,
         to_char(r.start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS start, r.kind, r.count, r.super_count
  FROM videos v LEFT JOIN LATERAL (
    SELECT to_timestamp(floor(extract(epoch FROM minute) / $2::integer) * $2::integer) AS start, kind,
           sum(count)::bigint AS count, sum(super_count)::bigint AS super_count
    FROM reaction_counts WHERE video_id = v.id
    GROUP BY 1, 2) r ON true
  WHERE v.id = $1::uuid
  ORDER BY r.start, r.kind)"};

}  // namespace

ReactionStore::ReactionStore(db::Database &database)
    : database_(database), inserter_(database, count_reactions, 3) {}

db::Ticket ReactionStore::count(const std::string &channel_id, const std::string &video_id,
                                const std::string &kind, CountDone done) {
  return inserter_.insert({channel_id, video_id, kind}, [done = std::move(done)](const db::Result &result) {
    done(result.ok() ? db::Error() : result.error());
  });
}

db::Ticket ReactionStore::timeline(const std::string &video_id, int bucket_s, TimelineDone done) {
  return database_.query(reaction_timeline, {video_id, bucket_s},
                         [done = std::move(done)](const db::Result &result) {
                           if (!result.ok()) return done(result.error(), std::nullopt);
                           if (result.rows() == 0) return done({}, std::nullopt);
                           ReactionTimeline timeline;
                           timeline.video_id = result.text(0, "video_id");
                           timeline.visibility = result.text(0, "visibility");
                           for (int row = 0; row < result.rows(); row++) {
                             if (result.is_null(row, "start")) continue;
                             std::string start(result.text(row, "start"));
                             if (timeline.buckets.empty() || timeline.buckets.back().start != start)
                               timeline.buckets.push_back({start, {}, {}});
                             std::string kind(result.text(row, "kind"));
                             timeline.buckets.back().counts[kind] = result.int64(row, "count");
                             timeline.buckets.back().super_counts[kind] = result.int64(row, "super_count");
                           }
                           done({}, std::move(timeline));
                         });
}

}  // namespace onair::store
