/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "store/points.h"

#include <algorithm>

namespace onair::store {

namespace {

using db::Param;
using db::Statement;

#define TRANSACTION_COLUMNS                                                                               \
  "t.id, t.viewer_id, t.kind, t.amount, t.balance_after, t.reason, t.channel_id, t.video_id, t.seconds, " \
  "to_char(t.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS created_at"

/* The UPDATE takes the balance row's lock; a concurrent spend waits for it
 * and re-checks `balance >= price` on the row the first one left, so the
 * balance never pays twice. No row (no balance, or too low): nothing spent.
 * The reaction paid for is counted by the same statement, so points are
 * never taken for a reaction that was not counted, nor the other way round
 * (an unknown video fails the whole statement). */
constexpr Statement buy_super_reaction_statement{"points_buy_super_reaction", R"(
  WITH paid AS (
    UPDATE point_balances SET balance = balance - $2::bigint, updated_at = now()
    WHERE viewer_id = $1::uuid AND balance >= $2::bigint
    RETURNING balance),
  t AS (
    INSERT INTO point_transactions (viewer_id, kind, amount, balance_after, reason, channel_id, video_id)
    SELECT $1::uuid, 'spend', -$2::bigint, paid.balance, $3, $4::uuid, $5::uuid FROM paid
    RETURNING *),
  counted AS (
    INSERT INTO reaction_counts AS r (video_id, minute, kind, channel_id, count, super_count)
    SELECT $5::uuid, date_trunc('minute', now()), $3, $4::uuid, 1, 1 FROM paid
    ON CONFLICT (video_id, minute, kind) DO UPDATE SET count = r.count + 1, super_count = r.super_count + 1
    RETURNING 1)
  SELECT )" TRANSACTION_COLUMNS R"( FROM t)"};

constexpr Statement grant_points{"points_grant", R"(
  WITH credited AS (
    INSERT INTO point_balances AS b (viewer_id, balance) VALUES ($1::uuid, $2::bigint)
    ON CONFLICT (viewer_id) DO UPDATE SET balance = b.balance + EXCLUDED.balance, updated_at = now()
    RETURNING balance),
  t AS (
    INSERT INTO point_transactions (viewer_id, kind, amount, balance_after, reason, granted_by)
    SELECT $1::uuid, 'grant', $2::bigint, credited.balance, $3, $4::uuid FROM credited
    RETURNING *)
  SELECT )" TRANSACTION_COLUMNS R"( FROM t)"};

constexpr Statement earn_points{
    "points_earn",
    "SELECT earned, balance, unpaid_seconds, earned_last_hour FROM onair_points_earn($1::uuid, $2::integer, "
    "$3::integer, $4::bigint, $5::uuid, $6::uuid)"};

constexpr Statement select_balance{"points_balance", R"(
  SELECT coalesce((SELECT balance FROM point_balances WHERE viewer_id = $1::uuid), 0) AS balance,
         (SELECT coalesce(sum(amount), 0) FROM point_transactions
          WHERE viewer_id = $1::uuid AND kind = 'earn' AND created_at > now() - interval '1 hour')
           AS earned_last_hour)"};

/* One range scan of point_transactions_viewer_created. */
constexpr Statement list_ledger{"points_ledger", R"(
  SELECT )" TRANSACTION_COLUMNS R"( FROM point_transactions t
  WHERE t.viewer_id = $1::uuid
    AND (t.created_at, t.id) < (coalesce($2::timestamptz, 'infinity'),
                                coalesce($3::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff'))
  ORDER BY t.created_at DESC, t.id DESC LIMIT $4::int)"};

PointTransaction from_row(const db::Result &result, int row) {
  PointTransaction t;
  t.id = result.text(row, "id");
  t.viewer_id = result.text(row, "viewer_id");
  t.kind = result.text(row, "kind");
  t.amount = result.int64(row, "amount");
  t.balance_after = result.int64(row, "balance_after");
  t.reason = result.optional_text(row, "reason");
  t.channel_id = result.optional_text(row, "channel_id");
  t.video_id = result.optional_text(row, "video_id");
  t.seconds = result.optional_int64(row, "seconds");
  t.created_at = result.text(row, "created_at");
  return t;
}

db::QueryCallback one(std::function<void(const db::Error &, std::optional<PointTransaction>)> done) {
  return [done = std::move(done)](const db::Result &result) {
    if (!result.ok()) return done(result.error(), std::nullopt);
    if (result.rows() == 0) return done({}, std::nullopt);
    done({}, from_row(result, 0));
  };
}

}  // namespace

db::Ticket PointStore::buy_super_reaction(const std::string &viewer_id, int64_t price,
                                          const std::string &kind, const std::string &channel_id,
                                          const std::string &video_id, SpendDone done) {
  return database_.query(buy_super_reaction_statement, {viewer_id, long(price), kind, channel_id, video_id},
                         one(std::move(done)));
}

db::Ticket PointStore::grant(const std::string &viewer_id, int64_t amount, const std::string &reason,
                             const std::string &granted_by, GrantDone done) {
  return database_.query(grant_points, {viewer_id, long(amount), reason, granted_by}, one(std::move(done)));
}

db::Ticket PointStore::earn(const WatchReport &report, EarnDone done) {
  return database_.query(earn_points,
                         {report.viewer_id, report.seconds, report.seconds_per_point,
                          long(report.max_points_per_hour), report.channel_id, report.video_id},
                         [done = std::move(done)](const db::Result &result) {
                           Earned earned;
                           if (!result.ok()) return done(result.error(), earned);
                           earned.earned = result.int64(0, "earned");
                           earned.balance = result.int64(0, "balance");
                           earned.unpaid_seconds = int(result.int64(0, "unpaid_seconds"));
                           earned.earned_last_hour = result.int64(0, "earned_last_hour");
                           done({}, earned);
                         });
}

db::Ticket PointStore::balance(const std::string &viewer_id, BalanceDone done) {
  return database_.query(select_balance, {viewer_id},
                         [viewer_id, done = std::move(done)](const db::Result &result) {
                           Balance balance;
                           balance.viewer_id = viewer_id;
                           if (!result.ok()) return done(result.error(), balance);
                           balance.balance = result.int64(0, "balance");
                           balance.earned_last_hour = result.int64(0, "earned_last_hour");
                           done({}, balance);
                         });
}

db::Ticket PointStore::ledger(const std::string &viewer_id, const std::optional<Cursor> &after, int limit,
                              PageDone done) {
  return database_.query(
      list_ledger,
      {viewer_id, after ? Param(after->key) : Param(nullptr), after ? Param(after->id) : Param(nullptr),
       limit + 1},
      [limit, done = std::move(done)](const db::Result &result) {
        Page<PointTransaction> page;
        if (!result.ok()) return done(result.error(), std::move(page));
        int rows = std::min(result.rows(), limit);
        for (int row = 0; row < rows; row++) page.items.push_back(from_row(result, row));
        if (result.rows() > limit)
          page.next_cursor = Cursor{"t", page.items.back().created_at, page.items.back().id}.encode();
        done({}, std::move(page));
      });
}

}  // namespace onair::store
