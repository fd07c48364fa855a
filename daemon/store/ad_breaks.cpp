/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "store/ad_breaks.h"

#include <json-glib/json-glib.h>

#include <algorithm>

namespace onair::store {

namespace {

using db::Param;
using db::Params;
using db::Statement;

#define AD_BREAK_COLUMNS                                                                               \
  "b.id, b.channel_id, b.video_id, b.event_id, b.source, b.duration, b.requested_start, b.creatives, " \
  "b.status, b.started_at, b.ended_at, b.elapsed, b.end_reason, b.creatives_played, b.created_at"

constexpr Statement insert_break{
    "ad_breaks_insert",
    "WITH b AS (INSERT INTO ad_breaks (channel_id, video_id, duration, requested_start, creatives) "
    "VALUES ($1::uuid, $2::uuid, $3::double precision, to_timestamp($4::bigint / 1e6), $5::jsonb) "
    "RETURNING *) SELECT " AD_BREAK_COLUMNS " FROM b"};
constexpr Statement select_break{"ad_breaks_select",
                                 "SELECT " AD_BREAK_COLUMNS
                                 " FROM ad_breaks b WHERE b.channel_id = $1::uuid AND b.id = $2::uuid"};
/* One index range scan (ad_breaks_channel_created); the outer row of
 * channels tells an unknown channel (no row) from an empty page. */
constexpr Statement list_breaks{
    "ad_breaks_list",
    "SELECT " AD_BREAK_COLUMNS
    " FROM channels c LEFT JOIN LATERAL ("
    "  SELECT * FROM ad_breaks WHERE channel_id = c.id"
    "    AND (created_at, id) < (coalesce($2::timestamptz, 'infinity'),"
    "                            coalesce($3::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff'))"
    "  ORDER BY created_at DESC, id DESC LIMIT $4::int) b ON true "
    "WHERE c.id = $1::uuid ORDER BY b.created_at DESC, b.id DESC"};
constexpr Statement delete_break{"ad_breaks_delete", "DELETE FROM ad_breaks WHERE id = $1::uuid"};
constexpr Statement cancel_break{
    "ad_breaks_cancel",
    "WITH b AS (UPDATE ad_breaks SET status = 'cancelled', ended_at = now() "
    "WHERE id = $1::uuid AND status = 'scheduled' RETURNING *) SELECT " AD_BREAK_COLUMNS " FROM b"};
/* The API's row (scheduled, same event id) runs; a cue from the input, or
 * an API break whose row is gone, gets a row. */
constexpr Statement break_started{
    "ad_breaks_started",
    "WITH scheduled AS ("
    "  UPDATE ad_breaks SET status = 'running', started_at = now(), video_id = coalesce($2::uuid, video_id) "
    "  WHERE id = (SELECT id FROM ad_breaks WHERE channel_id = $1::uuid AND event_id = $3::bigint "
    "              AND status = 'scheduled' AND $4 = 'api' ORDER BY created_at DESC LIMIT 1) "
    "  RETURNING id) "
    "INSERT INTO ad_breaks (channel_id, video_id, event_id, source, duration, creatives, status, started_at) "
    "SELECT $1::uuid, $2::uuid, $3::bigint, $4, $5::double precision, $6::jsonb, 'running', now() "
    "WHERE NOT EXISTS (SELECT 1 FROM scheduled)"};
constexpr Statement break_ended{
    "ad_breaks_ended",
    "UPDATE ad_breaks SET status = 'ended', ended_at = now(), end_reason = $3, elapsed = $4::double "
    "precision, "
    "creatives_played = $5::jsonb "
    "WHERE id = (SELECT id FROM ad_breaks WHERE channel_id = $1::uuid AND event_id = $2::bigint "
    "            AND status = 'running' ORDER BY started_at DESC LIMIT 1)"};
constexpr Statement close_breaks{
    "ad_breaks_close_open",
    "UPDATE ad_breaks SET status = CASE status WHEN 'running' THEN 'ended' ELSE 'cancelled' END, "
    "ended_at = now(), end_reason = CASE status WHEN 'running' THEN 'channel-stopped' END, "
    "elapsed = CASE status WHEN 'running' THEN extract(epoch FROM now() - started_at) END "
    "WHERE status IN ('scheduled', 'running') "
    "AND ($1::uuid IS NULL OR (channel_id = $1::uuid AND ($2::uuid IS NULL OR video_id = $2::uuid)))"};

std::vector<std::string> strings_of(JsonNode *node) {
  std::vector<std::string> out;
  if (node && JSON_NODE_HOLDS_ARRAY(node)) {
    JsonArray *array = json_node_get_array(node);
    for (guint i = 0; i < json_array_get_length(array); i++) {
      JsonNode *element = json_array_get_element(array, i);
      if (JSON_NODE_HOLDS_VALUE(element) && json_node_get_value_type(element) == G_TYPE_STRING)
        out.emplace_back(json_node_get_string(element));
    }
  }
  if (node) json_node_unref(node);
  return out;
}

Param strings_param(const std::vector<std::string> &values) {
  JsonArray *array = json_array_new();
  for (const std::string &value : values) json_array_add_string_element(array, value.c_str());
  JsonNode *node = json_node_init_array(json_node_alloc(), array);
  json_array_unref(array);
  Param param = Param::json(node);
  json_node_unref(node);
  return param;
}

std::optional<double> optional_number(const db::Result &result, int row, const char *column) {
  if (result.is_null(row, column)) return std::nullopt;
  return result.number(row, column);
}

AdBreak from_row(const db::Result &result, int row) {
  AdBreak brk;
  brk.id = result.text(row, "id");
  brk.channel_id = result.text(row, "channel_id");
  brk.video_id = result.optional_text(row, "video_id");
  brk.event_id = uint32_t(result.int64(row, "event_id"));
  brk.source = result.text(row, "source");
  brk.duration = optional_number(result, row, "duration");
  brk.requested_start = result.timestamp_rfc3339(row, "requested_start");
  brk.creatives = strings_of(result.json(row, "creatives"));
  brk.status = result.text(row, "status");
  brk.started_at = result.timestamp_rfc3339(row, "started_at");
  brk.ended_at = result.timestamp_rfc3339(row, "ended_at");
  brk.elapsed = optional_number(result, row, "elapsed");
  brk.end_reason = result.optional_text(row, "end_reason");
  brk.creatives_played = strings_of(result.json(row, "creatives_played"));
  brk.created_at = result.timestamp_rfc3339(row, "created_at");
  return brk;
}

db::QueryCallback one(AdBreakStore::BreakDone done) {
  return [done = std::move(done)](const db::Result &result) {
    if (!result.ok()) return done(result.error(), std::nullopt);
    if (result.rows() == 0) return done({}, std::nullopt);
    done({}, from_row(result, 0));
  };
}

db::QueryCallback found(AdBreakStore::FoundDone done) {
  return [done = std::move(done)](const db::Result &result) {
    if (!result.ok()) return done(result.error(), false);
    done({}, result.rows() > 0 || result.affected_rows() > 0);
  };
}

}  // namespace

db::Ticket AdBreakStore::create(const AdBreakCreate &create, BreakDone done) {
  return database_.query(
      insert_break,
      {create.channel_id, create.video_id, create.duration,
       create.requested_start_us ? Param(long(*create.requested_start_us)) : Param(nullptr),
       strings_param(create.creatives)},
      one(std::move(done)));
}

db::Ticket AdBreakStore::get(const std::string &channel_id, const std::string &id, BreakDone done) {
  return database_.query(select_break, {channel_id, id}, one(std::move(done)));
}

db::Ticket AdBreakStore::list(const std::string &channel_id, const std::optional<Cursor> &after, int limit,
                              PageDone done) {
  Params params{channel_id, after ? Param(after->key) : Param(nullptr),
                after ? Param(after->id) : Param(nullptr), limit + 1};
  return database_.query(list_breaks, std::move(params),
                         [limit, done = std::move(done)](const db::Result &result) {
                           Page<AdBreak> page;
                           if (!result.ok()) return done(result.error(), false, std::move(page));
                           if (result.rows() == 0) return done({}, false, std::move(page));
                           int rows = result.is_null(0, "id") ? 0 : std::min(result.rows(), limit);
                           for (int row = 0; row < rows; row++) page.items.push_back(from_row(result, row));
                           if (result.rows() > limit)
                             page.next_cursor = Cursor{"t", result.timestamp_rfc3339(rows - 1, "created_at"),
                                                       std::string(result.text(rows - 1, "id"))}
                                                    .encode();
                           done({}, true, std::move(page));
                         });
}

db::Ticket AdBreakStore::remove(const std::string &id, FoundDone done) {
  return database_.query(delete_break, {id}, found(std::move(done)));
}

db::Ticket AdBreakStore::cancel(const std::string &id, BreakDone done) {
  return database_.query(cancel_break, {id}, one(std::move(done)));
}

db::Ticket AdBreakStore::started(const AdBreakEvent &event, FoundDone done) {
  return database_.query(break_started,
                         {event.channel_id, event.video_id, long(event.event_id), event.source,
                          event.duration, strings_param(event.creatives)},
                         found(std::move(done)));
}

db::Ticket AdBreakStore::ended(const AdBreakEvent &event, FoundDone done) {
  return database_.query(break_ended,
                         {event.channel_id, long(event.event_id), event.reason, std::max(event.elapsed, 0.0),
                          strings_param(event.creatives_played)},
                         found(std::move(done)));
}

db::Ticket AdBreakStore::close_open(const std::string &channel_id, const std::optional<std::string> &video_id,
                                    FoundDone done) {
  return database_.query(close_breaks, {channel_id.empty() ? Param(nullptr) : Param(channel_id), video_id},
                         found(std::move(done)));
}

}  // namespace onair::store
