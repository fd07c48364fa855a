/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "store/news_flashes.h"

namespace onair::store {

namespace {

using db::Param;
using db::Statement;

/* A flash whose expiry has passed reads as ended (expired at its expiry),
 * whether or not an element or a run start has written it so yet. */
#define FLASH_OVERDUE "(f.state <> 'ended' AND f.expires_at <= now())"
#define FLASH_COLUMNS                                                                                 \
  "f.id, f.channel_id, f.layer, f.text, f.subtitle, f.priority, f.loops, f.fade, f.dim, f.duration, " \
  "f.created_at, f.started_at, f.expires_at, "                                                        \
  "CASE WHEN " FLASH_OVERDUE                                                                          \
  " THEN 'ended' ELSE f.state END AS state, "                                                         \
  "CASE WHEN " FLASH_OVERDUE                                                                          \
  " THEN 'expired' ELSE f.end_reason END AS end_reason, "                                             \
  "CASE WHEN " FLASH_OVERDUE " THEN f.expires_at ELSE f.ended_at END AS ended_at"
#define FLASH_ACTIVE "f.state <> 'ended' AND (f.expires_at IS NULL OR f.expires_at > now())"
/* The queue's order: layers bottom to top, then the element's own. */
#define FLASH_ORDER                                                                                       \
  "array_position(ARRAY['crawl', 'lower-third', 'fullscreen'], f.layer), f.priority DESC, f.created_at, " \
  "f.id"

/* Bounded per channel: the insert happens only while the channel's queue has room. */
constexpr Statement insert_flash{
    "news_flashes_insert",
    "WITH f AS (INSERT INTO news_flashes (channel_id, layer, text, subtitle, priority, loops, fade, dim, "
    "duration, expires_at) "
    "SELECT $1::uuid, $2, $3, $4, $5::integer, $6::integer, $7::double precision, $8::double precision, "
    "$9::double precision, coalesce(to_timestamp($10::bigint / 1e6), now() + make_interval(secs => "
    "$9::double precision)) "
    "WHERE (SELECT count(*) FROM news_flashes f WHERE f.channel_id = $1::uuid AND " FLASH_ACTIVE
    ") < $11::integer "
    "RETURNING *) SELECT " FLASH_COLUMNS " FROM f"};
constexpr Statement select_flash{"news_flashes_select",
                                 "SELECT " FLASH_COLUMNS
                                 " FROM news_flashes f WHERE f.channel_id = $1::uuid AND f.id = $2::uuid"};
/* The outer row of channels tells an unknown channel (no row) from an empty queue. */
constexpr Statement list_active_flashes{"news_flashes_list_active",
                                        "SELECT " FLASH_COLUMNS
                                        " FROM channels c LEFT JOIN LATERAL (SELECT * FROM news_flashes f "
                                        "WHERE f.channel_id = c.id AND " FLASH_ACTIVE
                                        ") f ON true WHERE c.id = $1::uuid ORDER BY " FLASH_ORDER};
constexpr Statement end_flash{
    "news_flashes_end",
    "WITH f AS (UPDATE news_flashes f SET state = 'ended', end_reason = $3, ended_at = now() "
    "WHERE f.channel_id = $1::uuid AND f.id = $2::uuid AND " FLASH_ACTIVE
    " RETURNING *) SELECT " FLASH_COLUMNS " FROM f"};
constexpr Statement delete_flash{"news_flashes_delete", "DELETE FROM news_flashes WHERE id = $1::uuid"};
constexpr Statement clear_flashes{
    "news_flashes_clear",
    "WITH c AS (SELECT id FROM channels WHERE id = $1::uuid), "
    "f AS (UPDATE news_flashes f SET state = 'ended', end_reason = 'cleared', ended_at = now() "
    "WHERE f.channel_id = $1::uuid AND ($2::text IS NULL OR f.layer = $2) AND " FLASH_ACTIVE
    " RETURNING f.id) "
    "SELECT c.id AS channel_id, f.id FROM c LEFT JOIN f ON true"};
constexpr Statement flash_started{
    "news_flashes_started",
    "UPDATE news_flashes SET state = 'showing', started_at = coalesce(started_at, "
    "now()) WHERE id = $1::uuid AND state <> 'ended'"};
constexpr Statement flash_requeued{
    "news_flashes_requeued",
    "UPDATE news_flashes SET state = 'queued' WHERE id = $1::uuid AND state <> "
    "'ended'"};
constexpr Statement flash_ended{"news_flashes_ended",
                                "UPDATE news_flashes SET state = 'ended', end_reason = $2, ended_at = now() "
                                "WHERE id = $1::uuid AND state <> 'ended'"};
constexpr Statement requeue_showing_flashes{
    "news_flashes_requeue_showing",
    "UPDATE news_flashes SET state = 'queued' WHERE state = 'showing' AND ($1::uuid IS NULL OR channel_id = "
    "$1::uuid)"};
/* The main query reads the snapshot before the update: the expired rows
 * are left out by their expiry. */
constexpr Statement flashes_to_show{
    "news_flashes_to_show",
    "WITH expired AS (UPDATE news_flashes SET state = 'ended', end_reason = 'expired', ended_at = expires_at "
    "WHERE channel_id = $1::uuid AND state <> 'ended' AND expires_at <= now()) "
    "SELECT " FLASH_COLUMNS " FROM news_flashes f WHERE f.channel_id = $1::uuid AND " FLASH_ACTIVE
    " ORDER BY " FLASH_ORDER};

std::optional<double> optional_number(const db::Result &result, int row, const char *column) {
  if (result.is_null(row, column)) return std::nullopt;
  return result.number(row, column);
}

NewsFlash from_row(const db::Result &result, int row) {
  NewsFlash flash;
  flash.id = result.text(row, "id");
  flash.channel_id = result.text(row, "channel_id");
  flash.layer = result.text(row, "layer");
  flash.text = result.text(row, "text");
  flash.subtitle = result.optional_text(row, "subtitle");
  flash.priority = int(result.int64(row, "priority"));
  flash.loops = result.optional_int64(row, "loops");
  flash.fade = optional_number(result, row, "fade");
  flash.dim = optional_number(result, row, "dim");
  flash.duration = optional_number(result, row, "duration");
  flash.created_at = result.timestamp_rfc3339(row, "created_at");
  flash.started_at = result.timestamp_rfc3339(row, "started_at");
  flash.expires_at = result.timestamp_rfc3339(row, "expires_at");
  if (!result.is_null(row, "expires_at")) flash.expires_us = result.timestamp_us(row, "expires_at");
  flash.state = result.text(row, "state");
  flash.end_reason = result.optional_text(row, "end_reason");
  flash.ended_at = result.timestamp_rfc3339(row, "ended_at");
  return flash;
}

db::QueryCallback one(NewsFlashStore::FlashDone done) {
  return [done = std::move(done)](const db::Result &result) {
    if (!result.ok()) return done(result.error(), std::nullopt);
    if (result.rows() == 0) return done({}, std::nullopt);
    done({}, from_row(result, 0));
  };
}

/* Rows of flashes; `outer_channel`: the first row stands for the channel
 * (none: no such channel; a null id: no flash). */
db::QueryCallback many(NewsFlashStore::ListDone done, bool outer_channel) {
  return [done = std::move(done), outer_channel](const db::Result &result) {
    std::vector<NewsFlash> flashes;
    if (!result.ok()) return done(result.error(), false, std::move(flashes));
    if (outer_channel && result.rows() == 0) return done({}, false, std::move(flashes));
    for (int row = 0; row < result.rows(); row++)
      if (!result.is_null(row, "id")) flashes.push_back(from_row(result, row));
    done({}, true, std::move(flashes));
  };
}

db::QueryCallback found(NewsFlashStore::FoundDone done) {
  return [done = std::move(done)](const db::Result &result) {
    if (!result.ok()) return done(result.error(), false);
    done({}, result.rows() > 0 || result.affected_rows() > 0);
  };
}

}  // namespace

db::Ticket NewsFlashStore::create(const NewsFlashCreate &create, FlashDone done) {
  return database_.query(
      insert_flash,
      {create.channel_id, create.layer, create.text, create.subtitle, create.priority,
       create.loops ? Param(long(*create.loops)) : Param(nullptr), create.fade, create.dim, create.duration,
       create.expires_us ? Param(long(*create.expires_us)) : Param(nullptr), max_active},
      one(std::move(done)));
}

db::Ticket NewsFlashStore::get(const std::string &channel_id, const std::string &id, FlashDone done) {
  return database_.query(select_flash, {channel_id, id}, one(std::move(done)));
}

db::Ticket NewsFlashStore::list_active(const std::string &channel_id, ListDone done) {
  return database_.query(list_active_flashes, {channel_id}, many(std::move(done), true));
}

db::Ticket NewsFlashStore::end(const std::string &channel_id, const std::string &id,
                               const std::string &reason, FlashDone done) {
  return database_.query(end_flash, {channel_id, id, reason}, one(std::move(done)));
}

db::Ticket NewsFlashStore::remove(const std::string &id, FoundDone done) {
  return database_.query(delete_flash, {id}, found(std::move(done)));
}

db::Ticket NewsFlashStore::clear(const std::string &channel_id, const std::optional<std::string> &layer,
                                 ClearDone done) {
  return database_.query(clear_flashes, {channel_id, layer},
                         [done = std::move(done)](const db::Result &result) {
                           std::vector<std::string> ids;
                           if (!result.ok()) return done(result.error(), false, std::move(ids));
                           if (result.rows() == 0) return done({}, false, std::move(ids));
                           for (int row = 0; row < result.rows(); row++)
                             if (!result.is_null(row, "id")) ids.emplace_back(result.text(row, "id"));
                           done({}, true, std::move(ids));
                         });
}

db::Ticket NewsFlashStore::started(const std::string &id, FoundDone done) {
  return database_.query(flash_started, {id}, found(std::move(done)));
}

db::Ticket NewsFlashStore::requeued(const std::string &id, FoundDone done) {
  return database_.query(flash_requeued, {id}, found(std::move(done)));
}

db::Ticket NewsFlashStore::ended(const std::string &id, const std::string &reason, FoundDone done) {
  return database_.query(flash_ended, {id, reason}, found(std::move(done)));
}

db::Ticket NewsFlashStore::requeue_showing(const std::string &channel_id, FoundDone done) {
  return database_.query(requeue_showing_flashes, {channel_id.empty() ? Param(nullptr) : Param(channel_id)},
                         found(std::move(done)));
}

db::Ticket NewsFlashStore::to_show(const std::string &channel_id, ListDone done) {
  return database_.query(flashes_to_show, {channel_id}, many(std::move(done), false));
}

}  // namespace onair::store
