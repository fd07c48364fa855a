/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "playback/frame_renderer.h"

#include "playback/hls_index.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

namespace onair::playback {

namespace {

/* Generous: a 2-second 1080p segment decodes in well under a second. */
constexpr GstClockTime decode_timeout = 30 * GST_SECOND;
constexpr int max_threads_per_decode = 1;

std::shared_ptr<GBytes> adopt(GBytes *bytes) {
  return std::shared_ptr<GBytes>(bytes, g_bytes_unref);
}

/* The whole file, or nullptr. */
GBytes *read_file(const std::string &path) {
  gchar *data = nullptr;
  gsize length = 0;
  if (!g_file_get_contents(path.c_str(), &data, &length, nullptr)) return nullptr;
  return g_bytes_new_take(data, length);
}

std::string cache_file(const std::string &cache_dir, const FrameRequest &request, uint64_t segment,
                       const std::string &frame) {
  std::string key = request.video_id + "\n" + request.rendition + "\n" + std::to_string(segment) + "\n" +
                    frame + "\n" + std::to_string(request.width);
  gchar *digest = g_compute_checksum_for_string(G_CHECKSUM_SHA256, key.c_str(), key.size());
  std::string path = cache_dir + "/" + digest + ".jpg";
  g_free(digest);
  return path;
}

/* Decoders that can use threads use one: concurrency is bounded by the
 * number of renders instead. */
void limit_threads(GstBin *, GstBin *, GstElement *element, gpointer) {
  if (g_object_class_find_property(G_OBJECT_GET_CLASS(element), "max-threads"))
    g_object_set(element, "max-threads", max_threads_per_decode, nullptr);
}

/* The first error on the bus, "" if none. */
std::string bus_error(GstElement *pipeline) {
  GstBus *bus = gst_element_get_bus(pipeline);
  std::string out;
  while (GstMessage *message = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR)) {
    if (out.empty()) {
      GError *error = nullptr;
      gst_message_parse_error(message, &error, nullptr);
      out = error->message;
      g_error_free(error);
    }
    gst_message_unref(message);
  }
  gst_object_unref(bus);
  return out;
}

/* Decodes `media` (init + one media segment) and returns the last frame
 * whose time from the segment's first frame is <= `offset`; nullptr and
 * `error` set on failure. */
GstSample *decode_frame(GBytes *media, GstClockTime offset, std::string *error) {
  GError *parse_error = nullptr;
  GstElement *pipeline = gst_parse_launch(
      "appsrc name=source format=bytes ! decodebin ! appsink name=sink sync=false max-buffers=2",
      &parse_error);
  if (!pipeline) {
    *error = std::string("cannot build the decoder: ") + (parse_error ? parse_error->message : "?");
    g_clear_error(&parse_error);
    return nullptr;
  }
  g_clear_error(&parse_error);
  g_signal_connect(pipeline, "deep-element-added", G_CALLBACK(limit_threads), nullptr);
  GstElement *source = gst_bin_get_by_name(GST_BIN(pipeline), "source");
  GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
  GstCaps *raw = gst_caps_new_empty_simple("video/x-raw");
  gst_app_sink_set_caps(GST_APP_SINK(sink), raw);
  gst_caps_unref(raw);

  GstSample *chosen = nullptr;
  if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    *error = "the decoder did not start: " + bus_error(pipeline);
  } else {
    gst_app_src_push_buffer(GST_APP_SRC(source), gst_buffer_new_wrapped_bytes(media));
    gst_app_src_end_of_stream(GST_APP_SRC(source));
    GstClockTime first = GST_CLOCK_TIME_NONE;
    /* Frame times are rounded to the timescale: half a millisecond of slack. */
    GstClockTime slack = GST_MSECOND / 2;
    while (GstSample *sample = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), decode_timeout)) {
      GstClockTime pts = GST_BUFFER_PTS(gst_sample_get_buffer(sample));
      if (!GST_CLOCK_TIME_IS_VALID(pts)) {
        gst_sample_unref(sample);
        continue;
      }
      if (!GST_CLOCK_TIME_IS_VALID(first)) first = pts;
      if (pts > first + offset + slack) {
        gst_sample_unref(sample);
        break;
      }
      if (chosen) gst_sample_unref(chosen);
      chosen = sample;
    }
    if (!chosen) {
      std::string cause = bus_error(pipeline);
      *error = "no frame decoded" + (cause.empty() ? std::string() : ": " + cause);
    }
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(source);
  gst_object_unref(sink);
  gst_object_unref(pipeline);
  return chosen;
}

/* `frame` as JPEG, `width` wide (0: as decoded), the display aspect ratio
 * kept with square pixels. */
GBytes *encode_jpeg(GstSample *frame, int width, std::string *error) {
  GstVideoInfo info;
  if (!gst_video_info_from_caps(&info, gst_sample_get_caps(frame))) {
    *error = "the decoder gave no video size";
    return nullptr;
  }
  double display_width = double(info.width) * info.par_n / std::max(info.par_d, 1);
  int out_width = width > 0 ? width : int(std::lround(display_width));
  int out_height = std::max(1, int(std::lround(double(out_width) * info.height / display_width)));
  GstCaps *caps = gst_caps_new_simple("image/jpeg", "width", G_TYPE_INT, out_width, "height", G_TYPE_INT,
                                      out_height, "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, nullptr);
  GError *convert_error = nullptr;
  GstSample *jpeg = gst_video_convert_sample(frame, caps, decode_timeout, &convert_error);
  gst_caps_unref(caps);
  if (!jpeg) {
    *error = std::string("JPEG encoding failed: ") + (convert_error ? convert_error->message : "?");
    g_clear_error(&convert_error);
    return nullptr;
  }
  GstBuffer *buffer = gst_sample_get_buffer(jpeg);
  GstMapInfo map;
  GBytes *out = nullptr;
  if (gst_buffer_map(buffer, &map, GST_MAP_READ)) {
    out = g_bytes_new(map.data, map.size);
    gst_buffer_unmap(buffer, &map);
  }
  gst_sample_unref(jpeg);
  if (!out) *error = "JPEG encoding gave no data";
  return out;
}

}  // namespace

FrameResult render_frame(const FrameRequest &request, const std::string &cache_dir) {
  FrameResult result;
  std::string rendition_dir = request.media_dir + "/" + request.rendition;
  GBytes *playlist_bytes = read_file(rendition_dir + "/index.m3u8");
  if (!playlist_bytes) {
    result.status = FrameResult::Status::no_media;
    result.detail = "the rendition " + request.rendition + " has no playlist";
    return result;
  }
  gsize size = 0;
  const char *data = static_cast<const char *>(g_bytes_get_data(playlist_bytes, &size));
  std::string parse_error;
  std::optional<SegmentIndex> index = parse_media_playlist(std::string(data ? data : "", size), &parse_error);
  g_bytes_unref(playlist_bytes);
  if (!index) {
    result.status = FrameResult::Status::no_media;
    result.detail = "the playlist of " + request.rendition + " is unreadable: " + parse_error;
    return result;
  }
  const Segment *segment = index->find(request.t_ms);
  if (!segment) {
    result.status = FrameResult::Status::beyond_end;
    result.duration_ms = index->duration_ms();
    return result;
  }

  /* The frame on screen at t: with the frame rate known, its number in the
   * segment (so that every t within one frame shares a cache entry). */
  int64_t into_segment_ms = request.t_ms - segment->start_ms;
  double rate = 0;
  if (GBytes *master = read_file(request.media_dir + "/master.m3u8")) {
    const char *text = static_cast<const char *>(g_bytes_get_data(master, &size));
    rate = variant_frame_rate(std::string(text ? text : "", size), request.rendition + "/index.m3u8");
    g_bytes_unref(master);
  }
  GstClockTime offset;
  std::string frame_key;
  if (rate > 0) {
    auto frame = int64_t(std::floor(double(into_segment_ms) * rate / 1000 + 1e-6));
    offset = GstClockTime(std::llround(double(frame) * GST_SECOND / rate));
    frame_key = "f" + std::to_string(frame);
  } else {
    offset = GstClockTime(into_segment_ms) * GST_MSECOND;
    frame_key = "ms" + std::to_string(into_segment_ms);
  }

  std::string cached =
      cache_dir.empty() ? std::string() : cache_file(cache_dir, request, segment->index, frame_key);
  if (!cached.empty()) {
    if (GBytes *jpeg = read_file(cached)) {
      result.status = FrameResult::Status::ok;
      result.jpeg = adopt(jpeg);
      result.from_cache = true;
      result.cache_file = cached;
      return result;
    }
  }

  GBytes *init = read_file(rendition_dir + "/" + index->init_uri);
  GBytes *media = read_file(rendition_dir + "/" + segment->uri);
  if (!init || !media) {
    if (init) g_bytes_unref(init);
    if (media) g_bytes_unref(media);
    result.status = FrameResult::Status::no_media;
    result.detail =
        "a file of segment " + std::to_string(segment->index) + " of " + request.rendition + " is missing";
    return result;
  }
  GByteArray *joined = g_bytes_unref_to_array(init);
  gsize media_size = 0;
  const guint8 *media_data = static_cast<const guint8 *>(g_bytes_get_data(media, &media_size));
  g_byte_array_append(joined, media_data, guint(media_size));
  g_bytes_unref(media);

  std::string error;
  GstSample *frame = decode_frame(g_byte_array_free_to_bytes(joined), offset, &error);
  GBytes *jpeg = frame ? encode_jpeg(frame, request.width, &error) : nullptr;
  if (frame) gst_sample_unref(frame);
  if (!jpeg) {
    result.status = FrameResult::Status::failed;
    result.detail = error;
    return result;
  }
  result.status = FrameResult::Status::ok;
  result.jpeg = adopt(jpeg);
  if (!cached.empty()) {
    /* Written to a temporary file, then renamed: a reader never sees half. */
    gsize jpeg_size = 0;
    const char *jpeg_data = static_cast<const char *>(g_bytes_get_data(jpeg, &jpeg_size));
    if (g_file_set_contents(cached.c_str(), jpeg_data, gssize(jpeg_size), nullptr))
      result.cache_file = cached;
  }
  return result;
}

/* FrameRenderer */

struct FrameRenderer::Core {
  struct Job {
    FrameRequest request;
    Done done;
  };
  struct Entry {
    std::string path;
    uint64_t bytes;
  };

  std::string cache_dir;
  uint64_t cache_bytes;
  unsigned concurrency;
  unsigned running = 0;
  std::deque<Job> queue;
  /* The cache's files, least recently used first. */
  std::list<Entry> lru;
  std::map<std::string, std::list<Entry>::iterator> by_path;
  uint64_t cached_bytes = 0;

  void start_next(const std::shared_ptr<Core> &self);
  void remember(const std::string &path, uint64_t bytes);
};

namespace {

struct TaskData {
  FrameRequest request;
  std::string cache_dir;
};

struct Completion {
  std::shared_ptr<FrameRenderer::Core> core;
  FrameRenderer::Done done;
};

void run_render(GTask *task, gpointer, gpointer task_data, GCancellable *) {
  auto *data = static_cast<TaskData *>(task_data);
  auto *result = new FrameResult(render_frame(data->request, data->cache_dir));
  g_task_return_pointer(task, result, [](gpointer result) { delete static_cast<FrameResult *>(result); });
}

}  // namespace

void FrameRenderer::Core::remember(const std::string &path, uint64_t bytes) {
  auto found = by_path.find(path);
  if (found != by_path.end()) {
    cached_bytes -= found->second->bytes;
    lru.erase(found->second);
    by_path.erase(found);
  }
  lru.push_back({path, bytes});
  by_path[path] = std::prev(lru.end());
  cached_bytes += bytes;
  while (cached_bytes > cache_bytes && lru.size() > 1) {
    Entry &oldest = lru.front();
    g_unlink(oldest.path.c_str());
    cached_bytes -= oldest.bytes;
    by_path.erase(oldest.path);
    lru.pop_front();
  }
}

void FrameRenderer::Core::start_next(const std::shared_ptr<Core> &self) {
  while (running < concurrency && !queue.empty()) {
    Job job = std::move(queue.front());
    queue.pop_front();
    running++;
    auto *completion = new Completion{self, std::move(job.done)};
    GTask *task = g_task_new(
        nullptr, nullptr,
        [](GObject *, GAsyncResult *result, gpointer user_data) {
          std::unique_ptr<Completion> completion(static_cast<Completion *>(user_data));
          auto *frame = static_cast<FrameResult *>(g_task_propagate_pointer(G_TASK(result), nullptr));
          std::shared_ptr<Core> core = completion->core;
          core->running--;
          if (frame && frame->status == FrameResult::Status::ok && !frame->cache_file.empty())
            core->remember(frame->cache_file, g_bytes_get_size(frame->jpeg.get()));
          if (frame) {
            completion->done(*frame);
            delete frame;
          }
          core->start_next(core);
        },
        completion);
    g_task_set_task_data(task, new TaskData{std::move(job.request), cache_dir},
                         [](gpointer data) { delete static_cast<TaskData *>(data); });
    g_task_set_return_on_cancel(task, FALSE);
    g_task_run_in_thread(task, run_render);
    g_object_unref(task);
  }
}

FrameRenderer::FrameRenderer(std::string cache_dir, uint64_t cache_bytes, unsigned concurrency)
    : core_(std::make_shared<Core>()) {
  core_->cache_dir = std::move(cache_dir);
  core_->cache_bytes = cache_bytes;
  core_->concurrency = std::max(1u, concurrency);
  if (core_->cache_dir.empty()) return;
  if (g_mkdir_with_parents(core_->cache_dir.c_str(), 0700) != 0) {
    g_warning("frame cache %s: %s; frames are not cached", core_->cache_dir.c_str(), g_strerror(errno));
    core_->cache_dir.clear();
    return;
  }
  /* What an earlier run left, oldest first. */
  struct Found {
    std::string path;
    uint64_t bytes;
    gint64 modified;
  };
  std::vector<Found> found;
  if (GDir *dir = g_dir_open(core_->cache_dir.c_str(), 0, nullptr)) {
    while (const char *name = g_dir_read_name(dir)) {
      if (!g_str_has_suffix(name, ".jpg")) continue;
      std::string path = core_->cache_dir + "/" + name;
      GStatBuf info;
      if (g_stat(path.c_str(), &info) == 0)
        found.push_back({path, uint64_t(info.st_size), gint64(info.st_mtime)});
    }
    g_dir_close(dir);
  }
  std::sort(found.begin(), found.end(),
            [](const Found &a, const Found &b) { return a.modified < b.modified; });
  for (const Found &file : found) core_->remember(file.path, file.bytes);
}

FrameRenderer::~FrameRenderer() {
  /* Queued jobs are dropped (their callbacks destroyed unanswered); running
   * ones finish on their threads and report to the shared core. */
  core_->queue.clear();
}

void FrameRenderer::render(FrameRequest request, Done done) {
  core_->queue.push_back({std::move(request), std::move(done)});
  core_->start_next(core_);
}

unsigned FrameRenderer::running() const {
  return core_->running;
}

size_t FrameRenderer::queued() const {
  return core_->queue.size();
}

}  // namespace onair::playback
