/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "store/channels.h"

#include "store/common.h"

#include <cerrno>

namespace onair::store {

namespace {

using db::Param;
using db::Statement;

/* The current broadcast: the newest live video of the channel. */
#define CHANNEL_COLUMNS                                                                                    \
  "c.id, c.name, c.pipeline, c.parameters, c.stream_key, c.desired_state, c.state, c.last_error, "         \
  "c.last_error_at, c.created_at, c.updated_at, (SELECT v.id FROM videos v WHERE v.channel_id = c.id AND " \
  "v.status = 'live' ORDER BY v.created_at DESC LIMIT 1) AS video_id"

constexpr Statement insert_channel{
    "channels_insert",
    "WITH c AS (INSERT INTO channels (name, pipeline, parameters, stream_key, desired_state) "
    "VALUES ($1, $2, $3::jsonb, $4, $5) RETURNING *) SELECT " CHANNEL_COLUMNS " FROM c"};
constexpr Statement select_channel{"channels_select",
                                   "SELECT " CHANNEL_COLUMNS " FROM channels c WHERE c.id = $1::uuid"};
constexpr Statement list_channels{"channels_list", "SELECT " CHANNEL_COLUMNS
                                                   " FROM channels c ORDER BY c.created_at DESC, c.id DESC "
                                                   "LIMIT $1::int"};
constexpr Statement update_channel{
    "channels_update",
    "WITH c AS (UPDATE channels SET name = coalesce($2, name), "
    "pipeline = coalesce($3, pipeline), parameters = coalesce($4::jsonb, parameters) "
    "WHERE id = $1::uuid RETURNING *) SELECT " CHANNEL_COLUMNS " FROM c"};
constexpr Statement delete_channel{"channels_delete", "DELETE FROM channels WHERE id = $1::uuid"};
constexpr Statement set_desired_state{"channels_set_desired",
                                      "WITH c AS (UPDATE channels SET desired_state = $2 WHERE id = $1::uuid "
                                      "RETURNING *) SELECT " CHANNEL_COLUMNS " FROM c"};
constexpr Statement set_key{"channels_set_key",
                            "WITH c AS (UPDATE channels SET stream_key = $2 WHERE id = $1::uuid "
                            "RETURNING *) SELECT " CHANNEL_COLUMNS " FROM c"};
constexpr Statement set_channel_state{
    "channels_set_state",
    "UPDATE channels SET state = $2, last_error = CASE WHEN $3::text IS NULL THEN last_error ELSE $3 END, "
    "last_error_at = CASE WHEN $3::text IS NULL THEN last_error_at ELSE now() END WHERE id = $1::uuid"};
constexpr Statement check_key{"channels_check_key",
                              "SELECT 1 FROM channels WHERE id = $1::uuid AND stream_key = $2 "
                              "AND desired_state = 'running'"};
constexpr Statement channels_to_run{
    "channels_to_run",
    "SELECT " CHANNEL_COLUMNS " FROM channels c WHERE c.desired_state = 'running' ORDER BY c.created_at"};
constexpr Statement insert_broadcast{
    "channels_begin_broadcast",
    "WITH n AS (SELECT onair_uuid_v7() AS id) "
    "INSERT INTO videos (id, channel_id, kind, title, status, started_at, media_path, visibility) "
    "SELECT n.id, $1::uuid, 'live', $2, 'live', now(), 'videos/' || n.id, 'unlisted' FROM n RETURNING id"};
constexpr Statement update_broadcast_statement{
    "channels_update_broadcast",
    "UPDATE videos SET status = $2, renditions = coalesce($3::jsonb, renditions), "
    "ended_at = CASE WHEN $2 = 'live' THEN NULL ELSE now() END, "
    "duration_ms = CASE WHEN $2 = 'live' THEN NULL "
    "ELSE (extract(epoch FROM now() - started_at) * 1000)::bigint END WHERE id = $1::uuid"};

Channel from_row(const db::Result &result, int row) {
  Channel channel;
  channel.id = result.text(row, "id");
  channel.name = result.text(row, "name");
  channel.pipeline = result.text(row, "pipeline");
  JsonNode *parameters = result.json(row, "parameters");
  if (!parameters) parameters = json_node_init_object(json_node_alloc(), json_object_new());
  channel.parameters.reset(parameters, json_node_unref);
  channel.stream_key = result.text(row, "stream_key");
  channel.desired_state = result.text(row, "desired_state");
  channel.state = result.text(row, "state");
  channel.last_error = result.optional_text(row, "last_error");
  channel.last_error_at = result.timestamp_rfc3339(row, "last_error_at");
  channel.created_at = result.timestamp_rfc3339(row, "created_at");
  channel.updated_at = result.timestamp_rfc3339(row, "updated_at");
  channel.video_id = result.optional_text(row, "video_id");
  return channel;
}

db::QueryCallback one(ChannelStore::ChannelDone done) {
  return [done](const db::Result &result) {
    if (!result.ok()) return done(result.error(), std::nullopt);
    if (result.rows() == 0) return done({}, std::nullopt);
    done({}, from_row(result, 0));
  };
}

db::QueryCallback many(ChannelStore::ListDone done) {
  return [done](const db::Result &result) {
    std::vector<Channel> channels;
    if (!result.ok()) return done(result.error(), channels);
    for (int row = 0; row < result.rows(); row++) channels.push_back(from_row(result, row));
    done({}, channels);
  };
}

db::QueryCallback found(ChannelStore::FoundDone done) {
  return [done](const db::Result &result) {
    if (!result.ok()) return done(result.error(), false);
    done({}, result.rows() > 0 || result.affected_rows() > 0);
  };
}

}  // namespace

std::string make_stream_key() {
  uint8_t bytes[24];
  if (!random_bytes(bytes, sizeof bytes)) g_error("getrandom: %s", g_strerror(errno));
  return base64url(bytes, sizeof bytes);
}

db::Ticket ChannelStore::create(const ChannelCreate &channel, ChannelDone done) {
  return database_.query(insert_channel,
                         {channel.name, channel.pipeline, Param::json(channel.parameters.get()),
                          channel.stream_key, channel.desired_state},
                         one(done));
}

db::Ticket ChannelStore::get(const std::string &id, ChannelDone done) {
  return database_.query(select_channel, {id}, one(done));
}

db::Ticket ChannelStore::list(int limit, ListDone done) {
  return database_.query(list_channels, {limit}, many(done));
}

db::Ticket ChannelStore::update(const std::string &id, const ChannelUpdate &update, ChannelDone done) {
  return database_.query(update_channel,
                         {id, Param(update.name), Param(update.pipeline),
                          update.parameters ? Param::json(update.parameters.get()) : Param(nullptr)},
                         one(done));
}

db::Ticket ChannelStore::remove(const std::string &id, FoundDone done) {
  return database_.query(delete_channel, {id}, found(done));
}

db::Ticket ChannelStore::set_desired(const std::string &id, const std::string &desired, ChannelDone done) {
  return database_.query(set_desired_state, {id, desired}, one(done));
}

db::Ticket ChannelStore::set_stream_key(const std::string &id, const std::string &key, ChannelDone done) {
  return database_.query(set_key, {id, key}, one(done));
}

db::Ticket ChannelStore::set_state(const std::string &id, const std::string &state, const std::string &error,
                                   FoundDone done) {
  return database_.query(set_channel_state, {id, state, error.empty() ? Param(nullptr) : Param(error)},
                         found(done));
}

db::Ticket ChannelStore::key_is_valid(const std::string &id, const std::string &key, FoundDone done) {
  return database_.query(check_key, {id, key}, found(done));
}

db::Ticket ChannelStore::list_to_run(ListDone done) {
  return database_.query(channels_to_run, {}, many(done));
}

db::Ticket ChannelStore::begin_broadcast(const std::string &channel_id, const std::string &title,
                                         VideoDone done) {
  return database_.query(insert_broadcast, {channel_id, title}, [done](const db::Result &result) {
    if (!result.ok()) return done(result.error(), "");
    done({}, std::string(result.text(0, "id")));
  });
}

db::Ticket ChannelStore::update_broadcast(const std::string &video_id, const std::string &status,
                                          JsonNode *renditions, FoundDone done) {
  return database_.query(update_broadcast_statement,
                         {video_id, status, renditions ? Param::json(renditions) : Param(nullptr)},
                         found(done));
}

}  // namespace onair::store
