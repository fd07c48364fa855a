/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "adfiller.h"

#include <gst/app/gstappsink.h>
#include <gst/base/gstadapter.h>

#include <atomic>
#include <cstring>
#include <thread>

GST_DEBUG_CATEGORY_EXTERN(gst_ad_splice_debug);
#define GST_CAT_DEFAULT gst_ad_splice_debug

namespace onair {

namespace {

/* Decoded frames a creative's decoder may run ahead of the program: enough
 * to ride over its jitter, few enough for 1080p (about 3 MB each). */
constexpr guint VIDEO_AHEAD = 4;

GstElement *make(const char *factory) {
  GstElement *element = gst_element_factory_make(factory, NULL);
  if (!element) GST_ERROR("no %s element", factory);
  return element;
}

/* Stops and frees a pipeline of ours. Stopping joins its streaming threads:
 * not on the program's. */
void stop_in_background(GstElement *pipeline) {
  std::thread([pipeline] {
    gst_element_set_state(pipeline, GST_STATE_NULL);
    gst_object_unref(pipeline);
  }).detach();
}

/* The program's caps as a capsfilter after videorate wants them: without a
 * framerate when the program has none (videorate is then left out). */
bool has_framerate(const GstCaps *caps) {
  gint num = 0, den = 1;
  const GstStructure *s = gst_caps_get_structure(caps, 0);
  return gst_structure_get_fraction(s, "framerate", &num, &den) && num > 0;
}

/* What the decoder's pad-added handler needs. Shared by the creative and the
 * handler, which may still run (on the decoder's thread) while the creative
 * goes. */
struct Branches {
  GstElement *pipeline = nullptr; /* owned by the creative; outlives the handler */
  GstCaps *video_caps = nullptr;
  GstCaps *audio_caps = nullptr;          /* NULL: the program takes no audio */
  std::atomic<GstElement *> video_sink{}; /* appsink, once the decoder has video */
  std::atomic<GstElement *> audio_sink{}; /* appsink, once the decoder has audio */
  std::atomic<bool> failed{false};

  ~Branches() {
    if (video_caps) gst_caps_unref(video_caps);
    if (audio_caps) gst_caps_unref(audio_caps);
  }

  /* Links a decoded stream: video and audio to their branches, anything
   * else (a second video, audio the program does not take) to a fakesink,
   * so that the decoder never stops on a not-linked pad. */
  void link(GstPad *pad) {
    GstCaps *caps = gst_pad_get_current_caps(pad);
    if (!caps) caps = gst_pad_query_caps(pad, NULL);
    const gchar *name = gst_structure_get_name(gst_caps_get_structure(caps, 0));
    bool video = g_str_has_prefix(name, "video/x-raw") && !video_sink.load();
    bool audio = g_str_has_prefix(name, "audio/x-raw") && audio_caps && !audio_sink.load();
    gst_caps_unref(caps);

    std::vector<GstElement *> chain;
    if (video) {
      chain = {make("queue"), make("videoconvert"), make("videoscale")};
      if (chain.back()) g_object_set(chain.back(), "add-borders", TRUE, NULL);
      if (has_framerate(video_caps)) chain.push_back(make("videorate"));
      chain.push_back(make("capsfilter"));
      if (chain.back()) g_object_set(chain.back(), "caps", video_caps, NULL);
      chain.push_back(make("appsink"));
      if (chain.back())
        g_object_set(chain.back(), "sync", FALSE, "max-buffers", VIDEO_AHEAD, "drop", FALSE, NULL);
    } else if (audio) {
      chain = {make("queue"), make("audioconvert"), make("audioresample"), make("capsfilter")};
      if (chain.back()) g_object_set(chain.back(), "caps", audio_caps, NULL);
      /* unbounded: the video appsink holds the decoder back */
      chain.push_back(make("appsink"));
      if (chain.back()) g_object_set(chain.back(), "sync", FALSE, "max-buffers", 0, NULL);
    } else {
      chain = {make("fakesink")};
      if (chain.back()) g_object_set(chain.back(), "sync", FALSE, "async", FALSE, NULL);
    }
    for (GstElement *element : chain)
      if (!element) {
        for (GstElement *made : chain)
          if (made) gst_object_unref(made);
        failed = true;
        return;
      }
    for (GstElement *element : chain) gst_bin_add(GST_BIN(pipeline), element);
    for (size_t i = 1; i < chain.size(); i++) gst_element_link(chain[i - 1], chain[i]);
    for (GstElement *element : chain) gst_element_sync_state_with_parent(element);
    GstPad *sink = gst_element_get_static_pad(chain.front(), "sink");
    if (gst_pad_link(pad, sink) != GST_PAD_LINK_OK) failed = true;
    gst_object_unref(sink);
    if (video) video_sink = chain.back();
    if (audio) audio_sink = chain.back();
  }
};

}  // namespace

struct AdFiller::Creative {
  std::string location;
  GstElement *pipeline = nullptr;
  std::shared_ptr<Branches> branches = std::make_shared<Branches>();
  GstBuffer *pending = nullptr; /* the first frame, pulled by ready() */
  bool failed = false;
  bool ended = false; /* EOS on its bus */
  bool shown = false;

  std::mutex audio_lock;
  GstAdapter *adapter = gst_adapter_new();

  GstAppSink *video_sink() const {
    return branches->failed ? nullptr : (GstAppSink *)branches->video_sink.load();
  }
  GstAppSink *audio_sink() const {
    return branches->failed ? nullptr : (GstAppSink *)branches->audio_sink.load();
  }

  ~Creative() {
    if (pending) gst_buffer_unref(pending);
    g_object_unref(adapter);
    if (pipeline) stop_in_background(pipeline);
  }
};

AdFiller::AdFiller(std::vector<std::string> creatives, const std::string &slate_location, GstCaps *video_caps,
                   GstCaps *audio_caps, Warn warn)
    : creatives_(std::move(creatives)),
      video_caps_(gst_caps_ref(video_caps)),
      audio_caps_(audio_caps ? gst_caps_ref(audio_caps) : nullptr),
      warn_(std::move(warn)) {
  gst_audio_info_init(&audio_info_);
  if (audio_caps_ && !gst_audio_info_from_caps(&audio_info_, audio_caps_)) {
    gst_caps_unref(audio_caps_);
    audio_caps_ = nullptr;
  }
  std::lock_guard<std::mutex> lock(lock_);
  start_slate(slate_location);
  while (running_.size() < 2 && next_index_ < creatives_.size()) running_.push_back(start(next_index_++));
}

AdFiller::~AdFiller() {
  running_.clear();
  if (slate_pipeline_) stop_in_background(slate_pipeline_);
  if (slate_) gst_buffer_unref(slate_);
  gst_caps_unref(video_caps_);
  if (audio_caps_) gst_caps_unref(audio_caps_);
}

/* One picture at the program's caps: the image at `location`, else black. */
void AdFiller::start_slate(const std::string &location) {
  std::string description = "videotestsrc pattern=black num-buffers=1";
  if (!location.empty()) {
    gchar *uri = gst_uri_is_valid(location.c_str()) ? g_strdup(location.c_str())
                                                    : gst_filename_to_uri(location.c_str(), NULL);
    if (uri) {
      gchar *quoted = g_strescape(uri, NULL);
      description = std::string("uridecodebin uri=\"") + quoted +
                    "\" ! videoconvert ! videoscale add-borders=true ! imagefreeze num-buffers=1";
      g_free(quoted);
    }
    g_free(uri);
  }
  description += " ! videoconvert ! capsfilter name=caps ! appsink name=sink sync=false";
  GError *error = NULL;
  GstElement *pipeline = gst_parse_launch(description.c_str(), &error);
  if (!pipeline || error) {
    warn_(std::string("The ad slate cannot be made: ") + (error ? error->message : "?"));
    g_clear_error(&error);
    if (pipeline) gst_object_unref(pipeline);
    return;
  }
  GstElement *filter = gst_bin_get_by_name(GST_BIN(pipeline), "caps");
  g_object_set(filter, "caps", video_caps_, NULL);
  gst_object_unref(filter);
  slate_pipeline_ = pipeline;
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
}

GstBuffer *AdFiller::slate(GstClockTime timeout) {
  if (slate_) return gst_buffer_ref(slate_);
  if (!slate_pipeline_) return nullptr;
  GstElement *sink = gst_bin_get_by_name(GST_BIN(slate_pipeline_), "sink");
  GstSample *sample = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), timeout);
  gst_object_unref(sink);
  if (sample) {
    slate_ = gst_buffer_ref(gst_sample_get_buffer(sample));
    gst_sample_unref(sample);
    return gst_buffer_ref(slate_);
  }
  GstBus *bus = gst_element_get_bus(slate_pipeline_);
  GstMessage *message = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
  gst_object_unref(bus);
  if (message) {
    GError *error = NULL;
    gst_message_parse_error(message, &error, NULL);
    warn_(std::string("The ad slate image does not decode: ") + error->message + "; black instead");
    g_error_free(error);
    gst_message_unref(message);
    stop_in_background(slate_pipeline_);
    slate_pipeline_ = nullptr;
    start_slate("");
  }
  return nullptr;
}

std::shared_ptr<AdFiller::Creative> AdFiller::start(size_t index) {
  auto creative = std::make_shared<Creative>();
  creative->location = creatives_[index];
  creative->branches->video_caps = gst_caps_ref(video_caps_);
  if (audio_caps_) creative->branches->audio_caps = gst_caps_ref(audio_caps_);

  std::string uri = creative->location;
  if (!gst_uri_is_valid(uri.c_str())) {
    GError *error = NULL;
    gchar *converted = gst_filename_to_uri(uri.c_str(), &error);
    if (!converted) {
      warn_("Ad creative " + creative->location + " is not a file or URI: " + error->message);
      g_error_free(error);
      creative->failed = true;
      return creative;
    }
    uri = converted;
    g_free(converted);
  }
  GstElement *decoder = make("uridecodebin");
  if (!decoder) {
    creative->failed = true;
    return creative;
  }
  creative->pipeline = creative->branches->pipeline = gst_pipeline_new(NULL);
  g_object_set(decoder, "uri", uri.c_str(), NULL);
  gst_bin_add(GST_BIN(creative->pipeline), decoder);
  g_signal_connect_data(
      decoder, "pad-added", G_CALLBACK(+[](GstElement *, GstPad *pad, gpointer data) {
        (*static_cast<std::shared_ptr<Branches> *>(data))->link(pad);
      }),
      new std::shared_ptr<Branches>(creative->branches),
      [](gpointer data, GClosure *) { delete static_cast<std::shared_ptr<Branches> *>(data); },
      (GConnectFlags)0);
  GST_INFO("ad creative %s: decoding %s", creative->location.c_str(), uri.c_str());
  if (gst_element_set_state(creative->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    check_bus(*creative); /* the error message says why */
  return creative;
}

void AdFiller::check_bus(Creative &creative) {
  if (!creative.pipeline || creative.failed) return;
  GstBus *bus = gst_element_get_bus(creative.pipeline);
  while (GstMessage *message = gst_bus_pop_filtered(
             bus, (GstMessageType)(GST_MESSAGE_ERROR | GST_MESSAGE_EOS | GST_MESSAGE_WARNING))) {
    if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_EOS) {
      creative.ended = true;
    } else if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR) {
      GError *error = NULL;
      gst_message_parse_error(message, &error, NULL);
      if (!creative.failed)
        warn_("Ad creative " + creative.location + " does not decode: " + error->message +
              "; the break goes on with the next creative or the slate");
      creative.failed = true;
      g_error_free(error);
    }
    gst_message_unref(message);
  }
  gst_object_unref(bus);
}

void AdFiller::advance() {
  running_.pop_front();
  while (running_.size() < 2 && next_index_ < creatives_.size()) running_.push_back(start(next_index_++));
}

AdFiller::Pull AdFiller::pull(Creative &creative, GstBuffer **frame) {
  if (creative.pending) {
    *frame = creative.pending;
    creative.pending = nullptr;
    return Pull::Frame;
  }
  check_bus(creative);
  creative.failed = creative.failed || creative.branches->failed;
  GstAppSink *sink = creative.video_sink();
  if (!creative.failed && sink) {
    if (GstSample *sample = gst_app_sink_try_pull_sample(sink, 0)) {
      *frame = gst_buffer_ref(gst_sample_get_buffer(sample));
      gst_sample_unref(sample);
      return Pull::Frame;
    }
    return gst_app_sink_is_eos(sink) ? Pull::Over : Pull::Later;
  }
  return creative.failed || creative.ended ? Pull::Over : Pull::Later;
}

bool AdFiller::ready() {
  std::lock_guard<std::mutex> lock(lock_);
  while (!running_.empty()) {
    Creative &creative = *running_.front();
    if (creative.pending) return true;
    switch (pull(creative, &creative.pending)) {
      case Pull::Frame:
        return true;
      case Pull::Later:
        return false;
      case Pull::Over:
        advance();
        break;
    }
  }
  GstBuffer *picture = slate(0);
  if (picture) gst_buffer_unref(picture);
  return picture || !slate_pipeline_;
}

GstBuffer *AdFiller::next_video() {
  std::lock_guard<std::mutex> lock(lock_);
  while (!running_.empty()) {
    Creative &creative = *running_.front();
    GstBuffer *frame = nullptr;
    switch (pull(creative, &frame)) {
      case Pull::Frame:
        if (!creative.shown) {
          creative.shown = true;
          played_.push_back(creative.location);
          GST_INFO("ad creative %s: on air", creative.location.c_str());
        }
        return frame;
      case Pull::Later:
        return nullptr; /* not decoded yet: the caller repeats its last frame */
      case Pull::Over:
        GST_INFO("ad creative %s: over", creative.location.c_str());
        advance();
        break;
    }
  }
  /* a break started before its slate was made waits for it a little */
  return slate(100 * GST_MSECOND);
}

void AdFiller::fill_audio(guint8 *dest, gsize bytes) {
  std::shared_ptr<Creative> creative;
  {
    std::lock_guard<std::mutex> lock(lock_);
    if (!running_.empty()) creative = running_.front();
  }
  gsize filled = 0;
  if (creative && audio_caps_) {
    std::lock_guard<std::mutex> lock(creative->audio_lock);
    GstAppSink *sink = creative->audio_sink();
    while (sink && gst_adapter_available(creative->adapter) < bytes) {
      GstSample *sample = gst_app_sink_try_pull_sample(sink, 0);
      if (!sample) break;
      gst_adapter_push(creative->adapter, gst_buffer_ref(gst_sample_get_buffer(sample)));
      gst_sample_unref(sample);
    }
    filled = MIN(bytes, gst_adapter_available(creative->adapter));
    /* whole frames only */
    if (audio_info_.bpf) filled -= filled % audio_info_.bpf;
    if (filled) {
      gst_adapter_copy(creative->adapter, dest, 0, filled);
      gst_adapter_flush(creative->adapter, filled);
    }
  }
  if (filled < bytes && audio_info_.finfo)
    gst_audio_format_info_fill_silence(audio_info_.finfo, dest + filled, bytes - filled);
  else if (filled < bytes)
    memset(dest + filled, 0, bytes - filled);
}

GstBuffer *AdFiller::slate_picture() {
  std::lock_guard<std::mutex> lock(lock_);
  return slate(0);
}

std::vector<std::string> AdFiller::played() {
  std::lock_guard<std::mutex> lock(lock_);
  return played_;
}

}  // namespace onair
