/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "db/batch.h"
#include "db/database.h"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace onair::store {

/* One bucket of a video's reaction timeline. */
struct ReactionBucket {
  std::string start;                           /* RFC 3339 */
  std::map<std::string, int64_t> counts;       /* every reaction, by kind */
  std::map<std::string, int64_t> super_counts; /* of which super, by kind */
};

struct ReactionTimeline {
  std::string video_id;
  std::string visibility;
  std::vector<ReactionBucket> buckets;
};

/* Reactions counted per video and minute (reaction_counts). Counting goes
 * through a BatchInserter whose statement sums the batch per (video, kind)
 * and upserts each sum: a burst of 1,000 reactions a second is a few
 * statements, not 1,000 transactions. */
class ReactionStore {
 public:
  using CountDone = std::function<void(const db::Error &)>;
  /* nullopt: no such video. */
  using TimelineDone = std::function<void(const db::Error &, std::optional<ReactionTimeline>)>;

  explicit ReactionStore(db::Database &database);

  /* Counts one reaction on the channel's broadcast `video_id`; `done` after
   * its batch committed. (A super reaction is counted with its payment:
   * PointStore::buy_super_reaction.) */
  db::Ticket count(const std::string &channel_id, const std::string &video_id, const std::string &kind,
                   CountDone done);
  /* The video's counts in buckets of `bucket_s` seconds (a multiple of 60), oldest first. */
  db::Ticket timeline(const std::string &video_id, int bucket_s, TimelineDone done);

  const db::BatchStats &batch_stats() const { return inserter_.stats(); }

 private:
  db::Database &database_;
  db::BatchInserter inserter_;
};

}  // namespace onair::store
