/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "store/videos.h"

namespace onair::store {

namespace {

using db::Param;
using db::Params;
using db::Statement;

#define VIDEO_COLUMNS                                                                             \
  "id, channel_id, kind, title, description, to_jsonb(tags) AS tags, visibility, status, error, " \
  "duration_ms, "                                                                                 \
  "renditions, created_at, updated_at, started_at, ended_at"

constexpr Statement insert_video{
    "videos_insert",
    "INSERT INTO videos (channel_id, kind, title, description, tags, visibility) "
    "VALUES ($1::uuid, $2, $3, $4, $5::text[], $6) RETURNING " VIDEO_COLUMNS};

constexpr Statement select_video{"videos_select", "SELECT " VIDEO_COLUMNS " FROM videos WHERE id = $1::uuid"};

constexpr Statement update_video{
    "videos_update",
    "UPDATE videos SET title = coalesce($2, title), "
    "description = coalesce($3, description), tags = coalesce($4::text[], tags), "
    "visibility = coalesce($5, visibility) WHERE id = $1::uuid RETURNING " VIDEO_COLUMNS};

constexpr Statement delete_video{"videos_delete", "DELETE FROM videos WHERE id = $1::uuid"};

/* Newest first, after the cursor (created_at, id): the filters are optional,
 * NULL parameters match everything. */
constexpr Statement list_videos{
    "videos_list",
    "SELECT " VIDEO_COLUMNS
    " FROM videos WHERE ($1::uuid IS NULL OR channel_id = $1::uuid) AND ($2::text IS NULL OR status = $2) "
    "AND ($3::text IS NULL OR visibility = $3) AND ($4::text IS NULL OR tags @> ARRAY[$4::text]) "
    "AND ($5::text IS NULL OR kind = $5) "
    "AND (created_at, id) < (coalesce($6::timestamptz, 'infinity'), "
    "coalesce($7::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff')) "
    "ORDER BY created_at DESC, id DESC LIMIT $8::int"};

Param tags_param(const std::vector<std::string> &tags) {
  std::vector<Param> elements(tags.begin(), tags.end());
  return Param::array(elements);
}

}  // namespace

std::string MediaLinks::url(const std::string &video_id, const char *file) const {
  gint64 expires = g_get_real_time() / G_USEC_PER_SEC + ttl_;
  expires = (expires + 59) / 60 * 60;
  return base_ + signer_.sign("videos/" + video_id, expires) + "/" + file;
}

Video VideoStore::from_row(const db::Result &result, int row) const {
  Video video;
  video.id = result.text(row, "id");
  video.channel_id = result.optional_text(row, "channel_id");
  video.kind = result.text(row, "kind");
  video.title = result.text(row, "title");
  video.description = result.text(row, "description");
  if (JsonNode *tags = result.json(row, "tags")) {
    if (JSON_NODE_HOLDS_ARRAY(tags)) {
      JsonArray *array = json_node_get_array(tags);
      for (guint i = 0; i < json_array_get_length(array); i++)
        video.tags.emplace_back(json_array_get_string_element(array, i));
    }
    json_node_unref(tags);
  }
  video.visibility = result.text(row, "visibility");
  video.status = result.text(row, "status");
  video.error = result.optional_text(row, "error");
  video.duration_ms = result.optional_int64(row, "duration_ms");
  JsonNode *renditions = result.json(row, "renditions");
  if (!renditions) renditions = json_node_init_array(json_node_alloc(), json_array_new());
  video.renditions.reset(renditions, json_node_unref);
  video.hls_url = links_.hls(video.id);
  video.dash_url = links_.dash(video.id);
  video.created_at = result.timestamp_rfc3339(row, "created_at");
  video.updated_at = result.timestamp_rfc3339(row, "updated_at");
  video.started_at = result.timestamp_rfc3339(row, "started_at");
  video.ended_at = result.timestamp_rfc3339(row, "ended_at");
  return video;
}

db::Ticket VideoStore::create(const VideoCreate &video, VideoDone done) {
  Params params{video.channel_id,       video.kind,      video.title, video.description,
                tags_param(video.tags), video.visibility};
  return database_.query(insert_video, std::move(params),
                         [this, done = std::move(done)](const db::Result &result) {
                           if (!result.ok()) return done(result.error(), std::nullopt);
                           done({}, from_row(result, 0));
                         });
}

db::Ticket VideoStore::get(const std::string &id, VideoDone done) {
  return database_.query(select_video, {id}, [this, done = std::move(done)](const db::Result &result) {
    if (!result.ok()) return done(result.error(), std::nullopt);
    if (result.rows() == 0) return done({}, std::nullopt);
    done({}, from_row(result, 0));
  });
}

db::Ticket VideoStore::update(const std::string &id, const VideoUpdate &update, VideoDone done) {
  Params params{id, update.title, update.description, update.tags ? tags_param(*update.tags) : Param(nullptr),
                update.visibility};
  return database_.query(update_video, std::move(params),
                         [this, done = std::move(done)](const db::Result &result) {
                           if (!result.ok()) return done(result.error(), std::nullopt);
                           if (result.rows() == 0) return done({}, std::nullopt);
                           done({}, from_row(result, 0));
                         });
}

db::Ticket VideoStore::remove(const std::string &id, DeleteDone done) {
  return database_.query(delete_video, {id}, [done = std::move(done)](const db::Result &result) {
    if (!result.ok()) return done(result.error(), false);
    done({}, result.affected_rows() > 0);
  });
}

db::Ticket VideoStore::list(const VideoFilter &filter, PageDone done) {
  int limit = filter.limit;
  Params params{filter.channel_id,
                filter.status,
                filter.visibility,
                filter.tag,
                filter.kind,
                filter.after ? Param(filter.after->key) : Param(nullptr),
                filter.after ? Param(filter.after->id) : Param(nullptr),
                limit + 1};
  return database_.query(list_videos, std::move(params),
                         [this, limit, done = std::move(done)](const db::Result &result) {
                           Page<Video> page;
                           if (!result.ok()) return done(result.error(), std::move(page));
                           int rows = std::min(result.rows(), limit);
                           for (int row = 0; row < rows; row++) page.items.push_back(from_row(result, row));
                           if (result.rows() > limit)
                             page.next_cursor = Cursor{"t", result.timestamp_rfc3339(rows - 1, "created_at"),
                                                       std::string(result.text(rows - 1, "id"))}
                                                    .encode();
                           done({}, std::move(page));
                         });
}

}  // namespace onair::store
