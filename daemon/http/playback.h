/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "db/database.h"
#include "http/router.h"
#include "playback/frame_renderer.h"
#include "store/media.h"
#include "store/videos.h"

#include <cstdint>
#include <string>

namespace onair::http {

struct PlaybackOptions {
  /* Where videos' media_path is relative to. */
  std::string media_root;
  /* Rendered frames are kept here ("" : not kept), up to frame_cache_bytes. */
  std::string frame_cache_dir;
  uint64_t frame_cache_bytes = 64 * 1024 * 1024;
  /* Frames rendered at once; the others wait their turn. */
  unsigned render_concurrency = 2;
};

/* Seeking into packaged videos and their frames (schemas/openapi.yaml):
 *
 *   GET /api/v1/videos/{id}/seek?offset=MS[&device=mobile|tablet|desktop|tv]
 *     the segment holding the offset in the rendition fit for the device
 *     (the highest not above its cap: mobile 480p, tablet 720p, desktop
 *     1080p, tv any; else the lowest), its start (the time a player lands
 *     on), its URL and the URL of the frame at the offset;
 *   GET /api/v1/videos/{id}/frames?t=MS[&width=PX][&rendition=NAME]
 *     image/jpeg of the frame on screen at t (default: highest rendition).
 *
 * Times count from the first segment the rendition's playlist lists: the
 * start of a VOD item or of an event playlist. An offset past the end is 422
 * for a finished video; while a video is still written (no EXT-X-ENDLIST),
 * seek answers the last segment (the live edge) instead, since the end moves.
 * Frames beyond the end are 422 in both cases. */
class PlaybackApi {
 public:
  PlaybackApi(db::Database &database, std::string public_base_url, store::MediaLinks links,
              PlaybackOptions options);
  void add_routes(Router &router);

 private:
  /* The video's media and its folder, else the answer (404, 409, 503). */
  using MediaFound = std::function<void(const store::VideoMedia &video, const std::string &dir)>;
  void with_media(const std::string &id, const std::shared_ptr<Pending> &pending, MediaFound found);
  void seek(Request &request);
  void frames(Request &request);

  std::string base_;
  std::string media_root_;
  store::MediaLinks links_;
  store::MediaStore media_;
  playback::FrameRenderer renderer_;
};

}  // namespace onair::http
