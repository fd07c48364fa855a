/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <string>

namespace onair::playback {

/* Which frame to render: the one on screen at `t_ms` of a rendition. */
struct FrameRequest {
  std::string media_dir; /* the video's output: <media_root>/<media_path> */
  std::string video_id;  /* part of the cache key */
  std::string rendition; /* its folder below media_dir */
  int64_t t_ms = 0;
  int width = 0; /* 0: the rendition's own size; else height keeps the aspect ratio */
};

struct FrameResult {
  enum class Status {
    ok,
    beyond_end, /* t_ms is past the last segment: `duration_ms` says where it ends */
    no_media,   /* the rendition's playlist or segment cannot be read */
    failed,     /* decoding failed: `detail` says why */
  };
  Status status = Status::failed;
  std::string detail;
  int64_t duration_ms = 0;
  std::shared_ptr<GBytes> jpeg;
  bool from_cache = false;
  std::string cache_file; /* where the frame is cached, "" if it is not */
};

/* Renders JPEG frames of packaged videos (abrsink's fMP4 HLS output) with
 * GStreamer on worker threads (GTask), at most `concurrency` at a time, the
 * others queued in order: a burst of requests cannot take every core. Each
 * decode is single-threaded for the same reason.
 *
 * Rendered frames are kept as files in `cache_dir`, keyed by (video,
 * rendition, segment, frame, width), at most `cache_bytes` of them: the
 * least recently used go first. Everything but the decoding runs on the
 * thread that owns the default main context, callbacks included. */
class FrameRenderer {
 public:
  using Done = std::function<void(const FrameResult &)>;

  FrameRenderer(std::string cache_dir, uint64_t cache_bytes, unsigned concurrency = 2);
  ~FrameRenderer();
  FrameRenderer(const FrameRenderer &) = delete;
  FrameRenderer &operator=(const FrameRenderer &) = delete;

  void render(FrameRequest request, Done done);

  unsigned running() const;
  size_t queued() const;

  struct Core;

 private:
  /* Shared with the tasks in flight, which may outlive this object. */
  std::shared_ptr<Core> core_;
};

/* The blocking part, for a worker thread: finds the segment of `request`,
 * decodes it up to the frame and encodes that frame as JPEG. The frame's
 * file in `cache_dir` (empty: no cache) is read first and written after a
 * render. */
FrameResult render_frame(const FrameRequest &request, const std::string &cache_dir);

}  // namespace onair::playback
