/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "store/comments.h"

#include <algorithm>

namespace onair::store {

namespace {

using db::Param;
using db::Params;
using db::Statement;

constexpr Statement insert_comments{"comments_insert_batch", R"(
  WITH input AS (
    SELECT onair_uuid_v7() AS id, t.*
    FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bigint[])
         WITH ORDINALITY AS t(video_id, author, body, media_time_ms, ord)),
  inserted AS (
    INSERT INTO comments (id, video_id, author, body, media_time_ms)
    SELECT id, video_id, author, body, media_time_ms FROM input
    RETURNING id, video_id, author, body, media_time_ms, created_at)
  SELECT input.ord, inserted.id, inserted.video_id, inserted.author, inserted.body, inserted.media_time_ms,
         to_char(inserted.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_at
  FROM inserted JOIN input USING (id))"};

/* One index range scan each (comments_video_created, comments_video_media_time);
 * the outer row of videos tells an unknown video (no row) from an empty page.
 * created_at comes as the API writes it (RFC 3339 in UTC, microseconds):
 * formatted by the server, not parsed and printed again here for each row. */
constexpr Statement list_newest{"comments_list_newest", R"(
  SELECT c.id, c.video_id, c.author, c.body, c.media_time_ms,
         to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_at
  FROM videos v LEFT JOIN LATERAL (
    SELECT * FROM comments
    WHERE video_id = v.id
      AND (created_at, id) < (coalesce($2::timestamptz, 'infinity'),
                              coalesce($3::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff'))
    ORDER BY created_at DESC, id DESC LIMIT $4::int) c ON true
  WHERE v.id = $1::uuid)"};

constexpr Statement list_media_time{"comments_list_media_time", R"(
  SELECT c.id, c.video_id, c.author, c.body, c.media_time_ms,
         to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_at
  FROM videos v LEFT JOIN LATERAL (
    SELECT * FROM comments
    WHERE video_id = v.id AND media_time_ms IS NOT NULL
      AND (media_time_ms, id) > (coalesce($2::bigint, -1),
                                 coalesce($3::uuid, '00000000-0000-0000-0000-000000000000'))
    ORDER BY media_time_ms, id LIMIT $4::int) c ON true
  WHERE v.id = $1::uuid)"};

Comment from_row(const db::Result &result, int row) {
  return Comment{std::string(result.text(row, "id")),         std::string(result.text(row, "video_id")),
                 std::string(result.text(row, "author")),     std::string(result.text(row, "body")),
                 result.optional_int64(row, "media_time_ms"), std::string(result.text(row, "created_at"))};
}

}  // namespace

CommentStore::CommentStore(db::Database &database)
    : database_(database), inserter_(database, insert_comments, 4) {}

db::Ticket CommentStore::create(const CommentCreate &comment, CommentDone done) {
  return inserter_.insert({comment.video_id, comment.author, comment.body, comment.media_time_ms},
                          [done = std::move(done)](const db::Result &result) {
                            if (!result.ok()) return done(result.error(), std::nullopt);
                            done({}, from_row(result, 0));
                          });
}

db::Ticket CommentStore::list(const CommentFilter &filter, PageDone done) {
  int limit = filter.limit;
  CommentOrder order = filter.order;
  Params params{filter.video_id, filter.after ? Param(filter.after->key) : Param(nullptr),
                filter.after ? Param(filter.after->id) : Param(nullptr), limit + 1};
  const Statement &statement = order == CommentOrder::newest ? list_newest : list_media_time;
  return database_.query(
      statement, std::move(params), [order, limit, done = std::move(done)](const db::Result &result) {
        Page<Comment> page;
        if (!result.ok()) return done(result.error(), false, std::move(page));
        if (result.rows() == 0) return done({}, false, std::move(page));
        int rows = result.is_null(0, "id") ? 0 : std::min(result.rows(), limit);
        for (int row = 0; row < rows; row++) page.items.push_back(from_row(result, row));
        if (result.rows() > limit) {
          Cursor cursor{order == CommentOrder::newest ? "t" : "m",
                        order == CommentOrder::newest ? std::string(result.text(rows - 1, "created_at"))
                                                      : std::string(result.text(rows - 1, "media_time_ms")),
                        std::string(result.text(rows - 1, "id"))};
          page.next_cursor = cursor.encode();
        }
        done({}, true, std::move(page));
      });
}

}  // namespace onair::store
