/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "db/database.h"
#include "store/common.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace onair::store {

/* One row of a viewer's ledger (schemas/postgres/0004_points_reactions.sql).
 * A viewer is an API token: viewer_id is the token's id. */
struct PointTransaction {
  std::string id;
  std::string viewer_id;
  std::string kind;   /* earn | spend | grant */
  int64_t amount = 0; /* signed: a spend is negative */
  int64_t balance_after = 0;
  std::optional<std::string> reason;
  std::optional<std::string> channel_id;
  std::optional<std::string> video_id;
  std::optional<int64_t> seconds;
  std::string created_at; /* RFC 3339 */
};

struct Balance {
  std::string viewer_id;
  int64_t balance = 0;
  /* Points earned in the last hour (the earn cap counts them). */
  int64_t earned_last_hour = 0;
};

struct WatchReport {
  std::string viewer_id;
  std::optional<std::string> channel_id;
  std::optional<std::string> video_id;
  int seconds = 0;
  int seconds_per_point = 60;
  int64_t max_points_per_hour = 60;
};

struct Earned {
  int64_t earned = 0;
  int64_t balance = 0;
  int unpaid_seconds = 0;
  int64_t earned_last_hour = 0;
};

/* Points: every change writes a ledger row and the viewer's balance row in
 * one statement (the balance row's lock serializes a viewer's changes).
 * Callbacks run on the database's context. */
class PointStore {
 public:
  /* nullopt: the balance was lower than the price; nothing was spent. */
  using SpendDone = std::function<void(const db::Error &, std::optional<PointTransaction>)>;
  using GrantDone = std::function<void(const db::Error &, std::optional<PointTransaction>)>;
  using EarnDone = std::function<void(const db::Error &, Earned)>;
  using BalanceDone = std::function<void(const db::Error &, Balance)>;
  using PageDone = std::function<void(const db::Error &, Page<PointTransaction>)>;

  explicit PointStore(db::Database &database) : database_(database) {}

  /* Takes `price` points for a super reaction of `kind` on the channel and
   * counts that reaction in the video's timeline, in one statement: both or
   * neither (a video that does not exist fails with a foreign key
   * violation, nothing spent). */
  db::Ticket buy_super_reaction(const std::string &viewer_id, int64_t price, const std::string &kind,
                                const std::string &channel_id, const std::string &video_id, SpendDone done);
  /* Gives points (an admin's grant). A viewer (token) that does not exist
   * fails with a foreign key violation (SQLSTATE 23503). */
  db::Ticket grant(const std::string &viewer_id, int64_t amount, const std::string &reason,
                   const std::string &granted_by, GrantDone done);
  /* Watch time → points, under the hourly cap. A channel or video that does
   * not exist fails with a foreign key violation. */
  db::Ticket earn(const WatchReport &report, EarnDone done);
  /* 0 for a viewer who never had points. */
  db::Ticket balance(const std::string &viewer_id, BalanceDone done);
  /* Newest first, `limit` at most, after the cursor (kind "t"). */
  db::Ticket ledger(const std::string &viewer_id, const std::optional<Cursor> &after, int limit,
                    PageDone done);

 private:
  db::Database &database_;
};

}  // namespace onair::store
