/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "http/playback.h"

#include "http/fields.h"
#include "http/json.h"
#include "playback/hls_index.h"
#include "playback/renditions.h"

#include <gio/gio.h>

#include <memory>
#include <optional>

namespace onair::http {

namespace {

using playback::Rendition;

constexpr int64_t max_offset_ms = int64_t(1000) * 3600 * 24 * 366;
constexpr int min_frame_width = 16;
constexpr int max_frame_width = 3840;

/* A required integer query parameter. */
int64_t required_integer(QueryFields &query, const Request &request, const char *name, int64_t maximum) {
  if (!request.query().count(name)) {
    query.fail(name, "is required");
    return 0;
  }
  return query.integer(name, 0, 0, maximum);
}

/* The folder of a video's packaged output, or a 409 when there is none. */
std::optional<std::string> media_dir(const std::string &media_root, const store::VideoMedia &video,
                                     Problem *problem) {
  if (video.status == "pending" || video.status == "failed" || !video.media_path ||
      video.media_path->empty()) {
    *problem = {409, {}, "the video has no media yet (status " + video.status + ")", {}};
    return std::nullopt;
  }
  /* Written by the daemon itself, but a path never leaves the media root. */
  if (g_path_is_absolute(video.media_path->c_str()) || video.media_path->find("..") != std::string::npos) {
    g_warning("video %s: media_path %s is not below the media root", video.id.c_str(),
              video.media_path->c_str());
    *problem = {409, {}, "the video's media is not available", {}};
    return std::nullopt;
  }
  return media_root + "/" + *video.media_path;
}

std::string escaped(const std::string &text) {
  gchar *out = g_uri_escape_string(text.c_str(), nullptr, FALSE);
  std::string result(out);
  g_free(out);
  return result;
}

/* A seek waiting for the rendition's playlist to be read. */
struct SeekJob {
  std::shared_ptr<Pending> pending;
  std::string video_id;
  int64_t offset_ms;
  Rendition rendition;
  std::string segment_base; /* URL of the rendition's folder, with a slash */
  std::string frame_url;
};

void answer_seek(SeekJob &job, const char *data, gsize size) {
  std::string error;
  std::optional<playback::SegmentIndex> index =
      playback::parse_media_playlist(std::string(data, size), &error);
  if (!index) {
    g_warning("video %s, rendition %s: %s", job.video_id.c_str(), job.rendition.name.c_str(), error.c_str());
    return job.pending->problem({500, {}, "the rendition's playlist is unreadable", {}});
  }
  if (index->segments.empty()) return job.pending->problem({409, {}, "the video has no segment yet", {}});
  const playback::Segment *segment = index->find(job.offset_ms);
  if (!segment && !index->ended) segment = &index->segments.back();
  if (!segment)
    return job.pending->problem({422,
                                 {},
                                 "the offset is beyond the end of the video",
                                 {{"offset", "must be below the video's duration, " +
                                                 std::to_string(index->duration_ms()) + " ms"}}});

  JsonBuilder *builder = json_builder_new();
  json_builder_begin_object(builder);
  add_string(builder, "video_id", job.video_id);
  add_int(builder, "offset_ms", job.offset_ms);
  add_int(builder, "time_ms", segment->start_ms);
  json_builder_set_member_name(builder, "segment");
  json_builder_begin_object(builder);
  add_int(builder, "index", int64_t(segment->index));
  add_int(builder, "start_ms", segment->start_ms);
  add_int(builder, "duration_ms", segment->duration_ms);
  add_string(builder, "url", job.segment_base + segment->uri);
  json_builder_end_object(builder);
  json_builder_set_member_name(builder, "rendition");
  json_builder_begin_object(builder);
  add_string(builder, "name", job.rendition.name);
  add_int(builder, "width", job.rendition.width);
  add_int(builder, "height", job.rendition.height);
  add_int(builder, "bandwidth", job.rendition.bandwidth);
  json_builder_end_object(builder);
  add_string(builder, "frame_url", job.frame_url);
  json_builder_end_object(builder);
  job.pending->json(200, json_builder_get_root(builder));
  g_object_unref(builder);
}

void on_playlist_loaded(GObject *source, GAsyncResult *result, gpointer data) {
  std::unique_ptr<SeekJob> job(static_cast<SeekJob *>(data));
  char *contents = nullptr;
  gsize size = 0;
  GError *error = nullptr;
  if (!g_file_load_contents_finish(G_FILE(source), result, &contents, &size, nullptr, &error)) {
    job->pending->problem({409, {}, "the rendition " + job->rendition.name + " has no playlist yet", {}});
    g_clear_error(&error);
    return;
  }
  answer_seek(*job, contents, size);
  g_free(contents);
}

}  // namespace

PlaybackApi::PlaybackApi(db::Database &database, std::string public_base_url, store::MediaLinks links,
                         PlaybackOptions options)
    : base_(std::move(public_base_url)),
      media_root_(std::move(options.media_root)),
      links_(std::move(links)),
      media_(database),
      renderer_(options.frame_cache_dir, options.frame_cache_bytes, options.render_concurrency) {}

void PlaybackApi::add_routes(Router &router) {
  router.add("GET", "/api/v1/videos/{id}/seek", [this](Request &request) { seek(request); });
  router.add("GET", "/api/v1/videos/{id}/frames", [this](Request &request) { frames(request); });
}

void PlaybackApi::with_media(const std::string &id, const std::shared_ptr<Pending> &pending,
                             MediaFound found) {
  pending->watch(
      media_.get(id, [this, pending, found](const db::Error &error, std::optional<store::VideoMedia> video) {
        if (error) return pending->problem(problem_from_db_error(error));
        if (!video) return pending->problem(not_found("video"));
        Problem problem;
        std::optional<std::string> dir = media_dir(media_root_, *video, &problem);
        if (!dir) return pending->problem(problem);
        found(*video, *dir);
      }));
}

void PlaybackApi::seek(Request &request) {
  if (!valid_id(request, "id")) return;
  QueryFields query(request.query());
  int64_t offset = required_integer(query, request, "offset", max_offset_ms);
  std::string device = query.text("device").value_or("desktop");
  if (!query.finish()) return request.problem(query.problem());
  if (!playback::is_device_class(device))
    return request.problem(
        {422, {}, "unknown device class", {{"device", "must be " + playback::device_names()}}});

  auto pending = request.defer();
  with_media(request.param("id"), pending,
             [this, pending, offset, device](const store::VideoMedia &video, const std::string &dir) {
               std::optional<Rendition> rendition =
                   playback::rendition_for_device(playback::video_renditions(video.renditions.get()), device);
               if (!rendition) return pending->problem({409, {}, "the video has no video rendition yet", {}});

               auto *job =
                   new SeekJob{pending,
                               video.id,
                               offset,
                               *rendition,
                               links_.file(video.id, rendition->name + "/"),
                               base_ + "/api/v1/videos/" + video.id + "/frames?t=" + std::to_string(offset) +
                                   "&rendition=" + escaped(rendition->name)};
               /* Read on GIO's worker threads: the main loop never waits on a disk. */
               GFile *file = g_file_new_for_path((dir + "/" + rendition->name + "/index.m3u8").c_str());
               g_file_load_contents_async(file, nullptr, on_playlist_loaded, job);
               g_object_unref(file);
             });
}

void PlaybackApi::frames(Request &request) {
  if (!valid_id(request, "id")) return;
  QueryFields query(request.query());
  int64_t t = required_integer(query, request, "t", max_offset_ms);
  int64_t width = query.integer("width", 0, min_frame_width, max_frame_width);
  std::optional<std::string> wanted = query.text("rendition");
  if (!query.finish()) return request.problem(query.problem());

  auto pending = request.defer();
  with_media(
      request.param("id"), pending,
      [this, pending, t, width, wanted](const store::VideoMedia &video, const std::string &dir) {
        std::vector<Rendition> renditions = playback::video_renditions(video.renditions.get());
        if (renditions.empty())
          return pending->problem({409, {}, "the video has no video rendition yet", {}});
        const Rendition *rendition = &renditions.front();
        if (wanted) {
          rendition = nullptr;
          std::string names;
          for (const Rendition &candidate : renditions) {
            if (candidate.name == *wanted) rendition = &candidate;
            names += (names.empty() ? "" : ", ") + candidate.name;
          }
          if (!rendition)
            return pending->problem(
                {422, {}, "no such rendition", {{"rendition", "must be one of " + names}}});
        }

        playback::FrameRequest frame;
        frame.media_dir = dir;
        frame.video_id = video.id;
        frame.rendition = rendition->name;
        frame.t_ms = t;
        frame.width = int(width);
        /* A finished video's frames never change; others may be re-packaged. */
        std::string cache_control = video.status == "ready" ? "public, max-age=86400" : "no-cache";
        renderer_.render(std::move(frame), [pending, cache_control](const playback::FrameResult &result) {
          using Status = playback::FrameResult::Status;
          switch (result.status) {
            case Status::ok:
              return pending->bytes(
                  200, "image/jpeg", result.jpeg.get(),
                  {{"Cache-Control", cache_control}, {"X-Frame-Cache", result.from_cache ? "hit" : "miss"}});
            case Status::beyond_end:
              return pending->problem({422,
                                       {},
                                       "t is beyond the end of the video",
                                       {{"t", "must be below the video's duration, " +
                                                  std::to_string(result.duration_ms) + " ms"}}});
            case Status::no_media:
              return pending->problem({409, {}, result.detail, {}});
            case Status::failed:
              g_warning("frame rendering failed: %s", result.detail.c_str());
              return pending->problem({500, {}, "the frame could not be rendered", {}});
          }
        });
      });
}

}  // namespace onair::http
