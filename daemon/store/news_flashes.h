/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "db/database.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace onair::store {

/* A news flash of a channel (schemas/postgres/0003_news_flashes.sql). A
 * flash whose expires_at has passed reads as ended (reason expired) even
 * before anything wrote it so. */
struct NewsFlash {
  std::string id;
  std::string channel_id;
  std::string layer; /* crawl | lower-third | fullscreen */
  std::string text;  /* Pango markup */
  std::optional<std::string> subtitle;
  int priority = 0;
  std::optional<int64_t> loops;
  std::optional<double> fade;     /* seconds */
  std::optional<double> dim;      /* 0..1 */
  std::optional<double> duration; /* seconds, as asked */
  std::string created_at;         /* RFC 3339 */
  std::string started_at;         /* empty: never shown */
  std::string expires_at;         /* empty: none */
  /* expires_at in µs since the Unix epoch. */
  std::optional<int64_t> expires_us;
  std::string state; /* queued | showing | ended */
  std::optional<std::string> end_reason;
  std::string ended_at;
};

struct NewsFlashCreate {
  std::string channel_id;
  std::string layer;
  std::string text;
  std::optional<std::string> subtitle;
  int priority = 0;
  std::optional<int64_t> loops;
  std::optional<double> fade;
  std::optional<double> dim;
  /* At most one of the two: expires_at becomes now + duration. */
  std::optional<double> duration;
  std::optional<int64_t> expires_us;
};

/* News flashes: the prepared statements. Callbacks run on the database's context. */
class NewsFlashStore {
 public:
  /* Flashes not ended a channel may hold. */
  static constexpr int max_active = 100;

  using FlashDone = std::function<void(const db::Error &, std::optional<NewsFlash>)>;
  /* `found` false: no such channel. */
  using ListDone = std::function<void(const db::Error &, bool found, std::vector<NewsFlash>)>;
  /* The ids of the flashes ended; `found` false: no such channel. */
  using ClearDone = std::function<void(const db::Error &, bool found, std::vector<std::string>)>;
  using FoundDone = std::function<void(const db::Error &, bool found)>;

  explicit NewsFlashStore(db::Database &database) : database_(database) {}

  /* A queued flash. nullopt: the channel's queue is full (max_active). A
   * channel that does not exist fails with a foreign key violation. */
  db::Ticket create(const NewsFlashCreate &create, FlashDone done);
  /* nullopt: no such flash on this channel. */
  db::Ticket get(const std::string &channel_id, const std::string &id, FlashDone done);
  /* The flashes not ended, by layer (crawl, lower-third, fullscreen),
   * priority (highest first) and age (oldest first). */
  db::Ticket list_active(const std::string &channel_id, ListDone done);
  /* Ends a flash that has not ended (`reason` removed or refused); nullopt:
   * it had ended already (or does not exist). */
  db::Ticket end(const std::string &channel_id, const std::string &id, const std::string &reason,
                 FlashDone done);
  /* A flash the element refused: it never existed. */
  db::Ticket remove(const std::string &id, FoundDone done);
  /* Ends the channel's flashes not ended (all, or those of `layer`), reason cleared. */
  db::Ticket clear(const std::string &channel_id, const std::optional<std::string> &layer, ClearDone done);

  /* What the element reported: on screen, waiting again (pre-empted), gone. */
  db::Ticket started(const std::string &id, FoundDone done);
  db::Ticket requeued(const std::string &id, FoundDone done);
  db::Ticket ended(const std::string &id, const std::string &reason, FoundDone done);
  /* A run is over: what it showed waits for the next run. An empty channel
   * id: every channel's (a daemon starting). */
  db::Ticket requeue_showing(const std::string &channel_id, FoundDone done);
  /* A run starts: the flashes that have expired meanwhile end; the others,
   * in queue order, are to be shown again. */
  db::Ticket to_show(const std::string &channel_id, ListDone done);

 private:
  db::Database &database_;
};

}  // namespace onair::store
