/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "http/creatives.h"

#include <gst/pbutils/pbutils.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>

namespace onair::http {

namespace {

std::string real_path(const std::string &path) {
  char *resolved = realpath(path.c_str(), nullptr);
  if (!resolved) return {};
  std::string out(resolved);
  free(resolved);
  return out;
}

/* The URI of a creative, or an empty string and `why`. */
std::string resolve(const std::string &media_root, const std::string &creative, std::string *why) {
  const char *scheme = g_uri_peek_scheme(creative.c_str());
  if (scheme) {
    std::string lowered(scheme);
    if (lowered == "http" || lowered == "https") return creative;
    *why = "must be a file under the media root or an http(s) URI";
    return {};
  }
  if (creative.empty() || creative[0] == '/') {
    *why = "must be a path relative to the media root (or an http(s) URI)";
    return {};
  }
  std::string root = real_path(media_root);
  std::string path = real_path(media_root + "/" + creative);
  /* Dot segments and symbolic links may not lead out of the root. */
  if (root.empty() || path.empty() || path.compare(0, root.size() + 1, root + "/") != 0 ||
      !g_file_test(path.c_str(), G_FILE_TEST_IS_REGULAR)) {
    *why = "no such file under the media root";
    return {};
  }
  gchar *uri = g_filename_to_uri(path.c_str(), nullptr, nullptr);
  std::string out = uri ? uri : "";
  g_free(uri);
  if (out.empty()) *why = "is not a usable file name";
  return out;
}

/* One discoverer probing the creatives of one request. */
struct Probe {
  GstDiscoverer *discoverer = nullptr;
  std::map<std::string, std::vector<size_t>> indexes; /* by URI */
  std::vector<std::string> uris;
  std::vector<FieldError> errors;
  CreativesDone done;
  bool finished = false;

  ~Probe() {
    if (discoverer) {
      g_signal_handlers_disconnect_by_data(discoverer, this);
      gst_discoverer_stop(discoverer);
      g_object_unref(discoverer);
    }
  }

  void fail(size_t index, const std::string &message) {
    errors.push_back({"creatives[" + std::to_string(index) + "]", message});
  }

  static void on_discovered(GstDiscoverer *, GstDiscovererInfo *info, GError *error, gpointer data) {
    auto *probe = static_cast<Probe *>(data);
    std::string uri = gst_discoverer_info_get_uri(info);
    std::string why;
    switch (gst_discoverer_info_get_result(info)) {
      case GST_DISCOVERER_OK: {
        GList *video = gst_discoverer_info_get_video_streams(info);
        GList *audio = gst_discoverer_info_get_audio_streams(info);
        if (!video && !audio) why = "does not decode: it holds no audio or video";
        gst_discoverer_stream_info_list_free(video);
        gst_discoverer_stream_info_list_free(audio);
        break;
      }
      case GST_DISCOVERER_TIMEOUT:
        why = "could not be probed in time";
        break;
      case GST_DISCOVERER_MISSING_PLUGINS:
        why = "does not decode: no decoder for it";
        break;
      default:
        why = std::string("does not decode: ") + (error ? error->message : "not a media file");
    }
    if (why.empty()) return;
    auto found = probe->indexes.find(uri);
    if (found != probe->indexes.end())
      for (size_t index : found->second) probe->fail(index, why);
  }

  static void on_finished(GstDiscoverer *, gpointer data) {
    auto *probe = static_cast<Probe *>(data);
    if (probe->finished) return;
    probe->finished = true;
    /* Not from inside the discoverer's own signal: answer and free it on the next iteration. */
    g_idle_add_full(
        G_PRIORITY_DEFAULT,
        [](gpointer data) -> gboolean {
          std::unique_ptr<Probe> probe(static_cast<Probe *>(data));
          probe->answer();
          return G_SOURCE_REMOVE;
        },
        probe, nullptr);
  }

  void answer() {
    std::sort(errors.begin(), errors.end(),
              [](const FieldError &a, const FieldError &b) { return a.field < b.field; });
    done(errors, errors.empty() ? uris : std::vector<std::string>{});
  }
};

}  // namespace

void check_creatives(const std::string &media_root, const std::vector<std::string> &creatives, int timeout_s,
                     CreativesDone done) {
  auto probe = std::make_unique<Probe>();
  probe->done = std::move(done);
  for (size_t index = 0; index < creatives.size(); index++) {
    std::string why;
    std::string uri = resolve(media_root, creatives[index], &why);
    if (uri.empty()) probe->fail(index, why);
    probe->uris.push_back(uri);
    if (!uri.empty()) probe->indexes[uri].push_back(index);
  }
  if (probe->indexes.empty()) {
    /* Nothing to probe; still answered from the main loop, never inside the call. */
    Probe::on_finished(nullptr, probe.release());
    return;
  }
  GError *error = nullptr;
  probe->discoverer = gst_discoverer_new(GstClockTime(timeout_s) * GST_SECOND, &error);
  if (!probe->discoverer) {
    for (const auto &[uri, indexes] : probe->indexes)
      for (size_t index : indexes)
        probe->fail(index, std::string("cannot be probed: ") + (error ? error->message : "no discoverer"));
    g_clear_error(&error);
    Probe::on_finished(nullptr, probe.release());
    return;
  }
  g_signal_connect(probe->discoverer, "discovered", G_CALLBACK(Probe::on_discovered), probe.get());
  g_signal_connect(probe->discoverer, "finished", G_CALLBACK(Probe::on_finished), probe.get());
  gst_discoverer_start(probe->discoverer);
  size_t queued = 0;
  for (const auto &[uri, indexes] : probe->indexes) {
    if (gst_discoverer_discover_uri_async(probe->discoverer, uri.c_str()))
      queued++;
    else
      for (size_t index : indexes) probe->fail(index, "cannot be probed");
  }
  if (queued == 0) {
    Probe::on_finished(nullptr, probe.release());
    return;
  }
  /* Owned by the discoverer's signals until "finished". */
  probe.release();
}

}  // namespace onair::http
