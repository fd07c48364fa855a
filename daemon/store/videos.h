/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "db/database.h"
#include "http/signing.h"
#include "store/common.h"

#include <json-glib/json-glib.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace onair::store {

/* Where a video is played from: signed URLs valid for `ttl_seconds` from the
 * moment they are made (rounded up to the minute, so that the URLs handed out
 * within a minute are the same and a CDN caches one copy). */
class MediaLinks {
 public:
  MediaLinks(std::string public_base_url, http::UrlSigner signer, gint64 ttl_seconds)
      : base_(std::move(public_base_url)), signer_(std::move(signer)), ttl_(ttl_seconds) {}
  std::string hls(const std::string &video_id) const { return url(video_id, "master.m3u8"); }
  std::string dash(const std::string &video_id) const { return url(video_id, "manifest.mpd"); }
  /* A file of the video's output (a segment, a playlist): `relative_path`
   * is relative to the video's media folder. */
  std::string file(const std::string &video_id, const std::string &relative_path) const {
    return url(video_id, relative_path.c_str());
  }

 private:
  std::string url(const std::string &video_id, const char *file) const;

  std::string base_;
  http::UrlSigner signer_;
  gint64 ttl_;
};

struct Video {
  std::string id;
  std::optional<std::string> channel_id;
  std::string kind;
  std::string title;
  std::string description;
  std::vector<std::string> tags;
  std::string visibility;
  std::string status;
  std::optional<std::string> error;
  std::optional<int64_t> duration_ms;
  /* The renditions array as stored. */
  std::shared_ptr<JsonNode> renditions;
  std::string hls_url;
  std::string dash_url;
  std::string created_at;
  std::string updated_at;
  std::string started_at; /* empty: not started */
  std::string ended_at;
};

struct VideoCreate {
  std::optional<std::string> channel_id;
  std::string kind = "vod";
  std::string title;
  std::string description;
  std::vector<std::string> tags;
  std::string visibility = "private";
};

/* Absent members are left as they are. */
struct VideoUpdate {
  std::optional<std::string> title;
  std::optional<std::string> description;
  std::optional<std::vector<std::string>> tags;
  std::optional<std::string> visibility;
};

struct VideoFilter {
  std::optional<std::string> channel_id;
  std::optional<std::string> status;
  std::optional<std::string> visibility;
  std::optional<std::string> tag;
  std::optional<std::string> kind;
  /* Decoded from the client's cursor: the page after it. */
  std::optional<Cursor> after;
  int limit = 20;
};

/* Videos: the prepared statements and the rules around them. Every callback
 * runs on the database's context; an empty Error means success. */
class VideoStore {
 public:
  using VideoDone = std::function<void(const db::Error &, std::optional<Video>)>;
  using PageDone = std::function<void(const db::Error &, Page<Video>)>;
  using DeleteDone = std::function<void(const db::Error &, bool found)>;

  VideoStore(db::Database &database, MediaLinks links) : database_(database), links_(std::move(links)) {}

  db::Ticket create(const VideoCreate &video, VideoDone done);
  /* nullopt without error: no such video. */
  db::Ticket get(const std::string &id, VideoDone done);
  db::Ticket update(const std::string &id, const VideoUpdate &update, VideoDone done);
  db::Ticket remove(const std::string &id, DeleteDone done);
  db::Ticket list(const VideoFilter &filter, PageDone done);

 private:
  Video from_row(const db::Result &result, int row) const;

  db::Database &database_;
  MediaLinks links_;
};

}  // namespace onair::store
