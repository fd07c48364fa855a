/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "store/media.h"

namespace onair::store {

namespace {

constexpr db::Statement select_media{
    "videos_select_media",
    "SELECT id, status, media_path, renditions, duration_ms FROM videos WHERE id = $1::uuid"};

}  // namespace

db::Ticket MediaStore::get(const std::string &id, MediaDone done) {
  return database_.query(select_media, {id}, [done = std::move(done)](const db::Result &result) {
    if (!result.ok()) return done(result.error(), std::nullopt);
    if (result.rows() == 0) return done({}, std::nullopt);
    VideoMedia media;
    media.id = result.text(0, "id");
    media.status = result.text(0, "status");
    media.media_path = result.optional_text(0, "media_path");
    JsonNode *renditions = result.json(0, "renditions");
    if (!renditions) renditions = json_node_init_array(json_node_alloc(), json_array_new());
    media.renditions.reset(renditions, json_node_unref);
    media.duration_ms = result.optional_int64(0, "duration_ms");
    done({}, std::move(media));
  });
}

}  // namespace onair::store
