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
#include <vector>

namespace onair::store {

/* An ad break of a channel (schemas/postgres/0002_ad_breaks.sql). */
struct AdBreak {
  std::string id;
  std::string channel_id;
  std::optional<std::string> video_id;
  uint32_t event_id = 0;
  std::string source;             /* api | scte35 */
  std::optional<double> duration; /* seconds, as planned */
  std::string requested_start;    /* RFC 3339, empty: the next frame */
  std::vector<std::string> creatives;
  std::string status; /* scheduled | running | ended | cancelled */
  std::string started_at;
  std::string ended_at;
  std::optional<double> elapsed;
  std::optional<std::string> end_reason;
  std::vector<std::string> creatives_played;
  std::string created_at;
};

struct AdBreakCreate {
  std::string channel_id;
  std::optional<std::string> video_id;
  double duration = 0;
  /* µs since the Unix epoch; nullopt: the next frame. */
  std::optional<int64_t> requested_start_us;
  std::vector<std::string> creatives;
};

/* What adsplice reported on the bus (adsplice-break-start / -end). */
struct AdBreakEvent {
  std::string channel_id;
  std::optional<std::string> video_id;
  uint32_t event_id = 0;
  std::string source;             /* api | scte35 */
  std::optional<double> duration; /* -1 from the element: unknown */
  std::vector<std::string> creatives;
  /* end only */
  std::string reason;
  double elapsed = 0;
  std::vector<std::string> creatives_played;
};

/* Ad breaks: the prepared statements. Callbacks run on the database's context. */
class AdBreakStore {
 public:
  using BreakDone = std::function<void(const db::Error &, std::optional<AdBreak>)>;
  /* `found` false: no such channel. */
  using PageDone = std::function<void(const db::Error &, bool found, Page<AdBreak>)>;
  using FoundDone = std::function<void(const db::Error &, bool found)>;

  explicit AdBreakStore(db::Database &database) : database_(database) {}

  /* A scheduled break, its event id taken from the sequence. A channel that
   * does not exist fails with a foreign key violation. */
  db::Ticket create(const AdBreakCreate &create, BreakDone done);
  /* nullopt: no such break on this channel. */
  db::Ticket get(const std::string &channel_id, const std::string &id, BreakDone done);
  db::Ticket list(const std::string &channel_id, const std::optional<Cursor> &after, int limit,
                  PageDone done);
  /* A break the element refused: it never existed. */
  db::Ticket remove(const std::string &id, FoundDone done);
  /* A scheduled break dropped before it started. nullopt: it was not scheduled. */
  db::Ticket cancel(const std::string &id, BreakDone done);

  /* The element started a break: the API's scheduled row runs, an SCTE-35
   * cue gets a row of its own. */
  db::Ticket started(const AdBreakEvent &event, FoundDone done);
  /* The element ended the channel's running break with this event id. */
  db::Ticket ended(const AdBreakEvent &event, FoundDone done);
  /* The run of the channel is over: its running breaks end
   * (channel-stopped), its scheduled ones are cancelled: those of the
   * broadcast `video_id` (all the channel's when nullopt). An empty channel
   * id: every channel's (a daemon starting). */
  db::Ticket close_open(const std::string &channel_id, const std::optional<std::string> &video_id,
                        FoundDone done);

 private:
  db::Database &database_;
};

}  // namespace onair::store
