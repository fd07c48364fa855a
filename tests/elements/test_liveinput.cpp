/* onair — liveinput: slate on a stalled publisher, back to live on a new
 * publish, nominal frame rate and monotonic timestamps throughout.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* C++ headers before gstcheck.h, whose fail() macro breaks <iostream> */
#include <algorithm>
#include <atomic>
#include <cstring>
#include <functional>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <gst/app/gstappsink.h>
#include <gst/check/gstcheck.h>

#include "publishers.h"

/* ---- The pipeline under test ------------------------------------------------ */

struct Switch {
  std::string source;
  gint64 at;            /* monotonic µs */
  size_t frames_before; /* video frames out when it was seen */
};

struct Harness {
  GstElement *pipeline = nullptr;
  GstBus *bus = nullptr;
  std::mutex lock; /* guards the fields below, written by streaming threads */
  std::vector<GstClockTime> pts;
  std::vector<uint64_t> hashes; /* of each frame's pixels, sampled */
  std::vector<std::string> discontinuities;
  std::vector<size_t> discontinuity_frames; /* frames out before each */
  GstCaps *caps = nullptr;
  unsigned caps_changes = 0;
  std::vector<Switch> switches;
  std::vector<std::string> warnings;

  explicit Harness(const std::string &properties) {
    std::string description = "liveinput name=in " + properties +
                              " in.video ! appsink name=v sync=false in.audio ! fakesink name=a sync=false";
    GError *error = nullptr;
    pipeline = gst_parse_launch(description.c_str(), &error);
    fail_unless(pipeline != nullptr, "%s", error ? error->message : "");
    GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "v");
    GstAppSinkCallbacks callbacks = {};
    callbacks.new_sample = on_sample;
    gst_app_sink_set_callbacks(GST_APP_SINK(sink), &callbacks, this, nullptr);
    GstPad *pad = gst_element_get_static_pad(sink, "sink");
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, on_event, this, nullptr);
    gst_object_unref(pad);
    gst_object_unref(sink);
    bus = gst_element_get_bus(pipeline);
    fail_unless(gst_element_set_state(pipeline, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
  }

  ~Harness() {
    gst_element_set_state(pipeline, GST_STATE_NULL);
    gst_object_unref(bus);
    gst_object_unref(pipeline);
    if (caps) gst_caps_unref(caps);
  }

  static GstFlowReturn on_sample(GstAppSink *sink, gpointer user_data) {
    Harness *h = static_cast<Harness *>(user_data);
    GstSample *sample = gst_app_sink_pull_sample(sink);
    if (!sample) return GST_FLOW_FLUSHING;
    GstBuffer *buffer = gst_sample_get_buffer(sample);
    uint64_t hash = 14695981039346656037ull; /* FNV-1a over every 8th byte */
    GstMapInfo map;
    if (gst_buffer_map(buffer, &map, GST_MAP_READ)) {
      for (gsize i = 0; i < map.size; i += 8) hash = (hash ^ map.data[i]) * 1099511628211ull;
      gst_buffer_unmap(buffer, &map);
    }
    std::lock_guard<std::mutex> guard(h->lock);
    h->pts.push_back(GST_BUFFER_PTS(buffer));
    h->hashes.push_back(hash);
    GstCaps *caps = gst_sample_get_caps(sample);
    if (h->caps && !gst_caps_is_equal(h->caps, caps)) {
      h->caps_changes++;
      gchar *text = gst_caps_to_string(caps);
      g_print("output caps changed to %s\n", text);
      g_free(text);
    }
    gst_caps_replace(&h->caps, caps);
    gst_sample_unref(sample);
    return GST_FLOW_OK;
  }

  static GstPadProbeReturn on_event(GstPad *, GstPadProbeInfo *info, gpointer user_data) {
    Harness *h = static_cast<Harness *>(user_data);
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
    const GstStructure *s = gst_event_get_structure(event);
    if (GST_EVENT_TYPE(event) == GST_EVENT_CUSTOM_DOWNSTREAM && s &&
        gst_structure_has_name(s, "onair-discontinuity")) {
      std::lock_guard<std::mutex> guard(h->lock);
      h->discontinuities.push_back(gst_structure_get_string(s, "source"));
      h->discontinuity_frames.push_back(h->pts.size());
    }
    return GST_PAD_PROBE_OK;
  }

  size_t frame_count() {
    std::lock_guard<std::mutex> guard(lock);
    return pts.size();
  }

  void drain_bus(GstClockTime wait) {
    while (GstMessage *message = gst_bus_timed_pop(bus, wait)) {
      wait = 0;
      if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR) {
        GError *error = nullptr;
        gchar *debug = nullptr;
        gst_message_parse_error(message, &error, &debug);
        fail("error from %s: %s (%s)", GST_OBJECT_NAME(GST_MESSAGE_SRC(message)), error->message,
             debug ? debug : "");
      } else if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_WARNING) {
        GError *error = nullptr;
        gst_message_parse_warning(message, &error, nullptr);
        warnings.push_back(error->message);
        g_print("warning: %s\n", error->message);
        g_error_free(error);
      } else if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ELEMENT) {
        const GstStructure *s = gst_message_get_structure(message);
        if (gst_structure_has_name(s, "liveinput-switch"))
          switches.push_back({gst_structure_get_string(s, "source"), g_get_monotonic_time(), frame_count()});
      }
      gst_message_unref(message);
    }
  }

  /* Runs the bus until `done` holds or `seconds` pass; returns whether it held. */
  bool wait_for(const std::function<bool()> &done, double seconds) {
    gint64 deadline = g_get_monotonic_time() + gint64(seconds * G_TIME_SPAN_SECOND);
    while (!done()) {
      if (g_get_monotonic_time() > deadline) return false;
      drain_bus(20 * GST_MSECOND);
    }
    return true;
  }

  void run_for(double seconds) {
    wait_for([] { return false; }, seconds);
  }

  unsigned count_switches(const char *source) {
    unsigned n = 0;
    for (const Switch &s : switches)
      if (s.source == source) n++;
    return n;
  }

  /* Frames whose PTS falls in the 2 s of running time that start at the
   * PTS of frame `from`. */
  unsigned frames_in_two_seconds(size_t from) {
    std::lock_guard<std::mutex> guard(lock);
    fail_unless(from < pts.size());
    GstClockTime start = pts[from];
    unsigned n = 0;
    for (size_t i = from; i < pts.size(); i++)
      if (pts[i] >= start && pts[i] < start + 2 * GST_SECOND) n++;
    fail_unless(pts.back() >= start + 2 * GST_SECOND, "not 2 s of frames yet");
    return n;
  }

  /* The frames output while one source was on: from its `nth`
   * onair-discontinuity event to the next one (or the last frame). */
  struct Period {
    size_t frames = 0;
    size_t pictures = 0;     /* runs of identical frames: distinct pictures */
    size_t longest_hold = 0; /* frames in the longest run of one picture */
  };
  Period period(const char *source, unsigned nth) {
    std::lock_guard<std::mutex> guard(lock);
    size_t index = 0;
    for (; index < discontinuities.size(); index++)
      if (discontinuities[index] == source && nth-- == 0) break;
    fail_unless(index < discontinuities.size(), "no such %s period", source);
    size_t from = discontinuity_frames[index];
    size_t to = index + 1 < discontinuities.size() ? discontinuity_frames[index + 1] : pts.size();
    Period p;
    p.frames = to - from;
    size_t run = 0;
    for (size_t i = from; i < to; i++) {
      bool same = i > from && hashes[i] == hashes[i - 1];
      run = same ? run + 1 : 1;
      if (!same) p.pictures++;
      p.longest_hold = std::max(p.longest_hold, run);
    }
    return p;
  }

  void check_monotonic() {
    std::lock_guard<std::mutex> guard(lock);
    for (size_t i = 1; i < pts.size(); i++) {
      fail_unless(GST_CLOCK_TIME_IS_VALID(pts[i]), "frame %zu without PTS", i);
      fail_unless(pts[i] > pts[i - 1],
                  "PTS went backwards at frame %zu: %" GST_TIME_FORMAT " after %" GST_TIME_FORMAT, i,
                  GST_TIME_ARGS(pts[i]), GST_TIME_ARGS(pts[i - 1]));
    }
  }

  void check_caps(int width, int height, int fps) {
    std::lock_guard<std::mutex> guard(lock);
    fail_unless(caps != nullptr);
    gchar *text = gst_caps_to_string(caps);
    GstCaps *expected =
        gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, "I420", "width", G_TYPE_INT, width,
                            "height", G_TYPE_INT, height, "framerate", GST_TYPE_FRACTION, fps, 1,
                            "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, nullptr);
    fail_unless(gst_caps_is_subset(caps, expected), "caps %s", text);
    gst_caps_unref(expected);
    g_free(text);
  }
};

/* ---- Tests ------------------------------------------------------------------ */

GST_START_TEST(test_slate_without_input) {
  Harness h("");
  h.run_for(2.6);
  fail_unless(h.frame_count() > 10, "no slate frames");
  size_t from = 5;
  unsigned n = h.frames_in_two_seconds(from);
  g_print("slate only: %u frames in 2 s\n", n);
  fail_unless(n >= 54 && n <= 66, "%u frames in 2 s", n);
  fail_unless_equals_int(h.count_switches("live"), 0);
  h.check_caps(1280, 720, 30);
  h.check_monotonic();
}
GST_END_TEST;

/* Nobody has published yet: the slate is on from the start with a
 * listening input too (rtmp://, srt://), at the nominal rate. */
GST_START_TEST(test_slate_before_first_publish) {
  std::vector<std::string> inputs = {"uri=rtmp://127.0.0.1:" + std::to_string(free_port()) + "/live/secret"};
  GstElementFactory *srt = gst_element_factory_find("srtsrc");
  if (srt) {
    inputs.push_back("uri=srt://127.0.0.1:" + std::to_string(free_port(SOCK_DGRAM)) + "?mode=listener");
    gst_object_unref(srt);
  }
  for (const std::string &input : inputs) {
    Harness h(input);
    h.run_for(2.6);
    g_print("%s, nobody publishing: %zu frames in 2.6 s\n", input.c_str(), h.frame_count());
    fail_unless(h.frame_count() > 10, "%s: %zu frames in 2.6 s before any publisher", input.c_str(),
                h.frame_count());
    unsigned n = h.frames_in_two_seconds(5);
    fail_unless(n >= 54 && n <= 66, "%s: %u frames in 2 s", input.c_str(), n);
    fail_unless_equals_int(h.count_switches("live"), 0);
    h.check_caps(1280, 720, 30);
    h.check_monotonic();
  }
}
GST_END_TEST;

GST_START_TEST(test_stall_and_return) {
  SKIP_WITHOUT_FFMPEG();
  uint16_t port = free_port();
  Harness h("uri=rtmp://127.0.0.1:" + std::to_string(port) + "/live/secret");
  h.run_for(0.3); /* the server listens once PLAYING */
  gint64 published = g_get_monotonic_time();
  Child *ffmpeg = ffmpeg_publish(port, "secret", 60);
  fail_unless(h.wait_for([&] { return h.count_switches("live") == 1; }, 15),
              "never went live; ffmpeg said:\n%s", child_log(ffmpeg).c_str());
  h.wait_for([] { return false; }, std::max(0.0, 4.0 - (g_get_monotonic_time() - published) / 1e6));
  fail_if(child_exited(ffmpeg), "ffmpeg ended early:\n%s", child_log(ffmpeg).c_str());

  kill_child(ffmpeg);
  gint64 killed = g_get_monotonic_time();
  fail_unless(h.wait_for([&] { return h.count_switches("slate") == 1; }, 5), "no switch to the slate");
  double delay = (h.switches.back().at - killed) / 1e6;
  g_print("slate %.3f s after the kill\n", delay);
  fail_unless(delay <= 1.5, "slate came %.3f s after the kill", delay);

  /* the nominal rate on the slate, starting a little after the switch */
  size_t from = h.switches.back().frames_before + 5;
  h.wait_for([&] { return h.frame_count() > from + 70; }, 5);
  h.run_for(0.3);
  unsigned n = h.frames_in_two_seconds(from);
  g_print("slate after the kill: %u frames in 2 s\n", n);
  fail_unless(n >= 54 && n <= 66, "%u frames in 2 s", n);

  Child *again = ffmpeg_publish(port, "secret", 60);
  fail_unless(h.wait_for([&] { return h.count_switches("live") == 2; }, 15),
              "never went back to live; ffmpeg said:\n%s", child_log(again).c_str());
  from = h.switches.back().frames_before + 5;
  h.wait_for([&] { return h.frame_count() > from + 70; }, 5);
  h.run_for(0.3);
  n = h.frames_in_two_seconds(from);
  g_print("live again: %u frames in 2 s\n", n);
  fail_unless(n >= 54 && n <= 66, "%u frames in 2 s", n);

  h.check_monotonic();
  h.check_caps(1280, 720, 30);
  std::lock_guard<std::mutex> guard(h.lock);
  fail_unless(h.discontinuities.size() >= 3, "%zu discontinuity events", h.discontinuities.size());
  fail_unless(h.discontinuities[0] == "live" && h.discontinuities[1] == "slate" &&
              h.discontinuities[2] == "live");
}
GST_END_TEST;

/* One publisher after another on the same key, each at its own size and
 * aspect ratio: the decoder renegotiates mid-stream, the output does not. */
GST_START_TEST(test_resolution_change) {
  SKIP_WITHOUT_FFMPEG();
  uint16_t port = free_port();
  Harness h("uri=rtmp://127.0.0.1:" + std::to_string(port) + "/live/secret timeout=3.0");
  h.run_for(0.3);
  Child *first = ffmpeg_publish(port, "secret", 3, "320x180");
  fail_unless(h.wait_for([&] { return h.count_switches("live") == 1; }, 15),
              "never went live; ffmpeg said:\n%s", child_log(first).c_str());
  fail_unless(h.wait_for([&] { return child_exited(first); }, 15));
  Child *second = ffmpeg_publish(port, "secret", 3, "640x480");
  size_t before = h.frame_count();
  h.wait_for([&] { return child_exited(second); }, 15);
  g_print("second publisher: %zu frames\n", h.frame_count() - before);
  fail_unless(h.frame_count() > before + 60);
  fail_unless_equals_int(h.count_switches("slate"), 0);
  h.check_caps(1280, 720, 30);
  fail_unless_equals_int(h.caps_changes, 0);
  h.check_monotonic();
}
GST_END_TEST;

/* SRT callers to liveinput's listener: ffmpeg, H.264 + AAC in MPEG-TS, paced
 * in real time. */
static bool srt_available() {
  if (!ffmpeg_can_publish() || !ffmpeg_has_srt()) return false;
  GstElementFactory *factory = gst_element_factory_find("srtsrc");
  if (factory) gst_object_unref(factory);
  return factory != nullptr;
}

#define SKIP_WITHOUT_SRT()                                                                  \
  do {                                                                                      \
    if (!srt_available()) {                                                                 \
      g_print("SKIP %s: ffmpeg with libx264, aac and srt, or srtsrc, missing\n", __func__); \
      return;                                                                               \
    }                                                                                       \
  } while (0)

static std::string srt_listener(uint16_t port) {
  return "uri=srt://127.0.0.1:" + std::to_string(port) +
         "?mode=listener width=320 height=180 timeout=1 channel-name=Slate";
}

/* Caller number `nth` (from 0) publishes `seconds` of 25 fps video and hangs
 * up: the output goes live, carries that caller's pictures at the output
 * rate for as long as it published, then the slate (one still picture). */
static void srt_caller(Harness &h, uint16_t port, unsigned nth, int seconds) {
  Child *ffmpeg = ffmpeg_publish_srt(port, seconds);
  fail_unless(h.wait_for([&] { return h.count_switches("live") == nth + 1; }, 15),
              "SRT caller %u never went live (%u switches to live); ffmpeg said:\n%s", nth + 1,
              h.count_switches("live"), child_log(ffmpeg).c_str());
  fail_unless(h.wait_for([&] { return child_exited(ffmpeg); }, 30), "SRT caller %u did not finish", nth + 1);
  fail_unless(exited_ok(ffmpeg), "SRT caller %u failed:\n%s", nth + 1, child_log(ffmpeg).c_str());
  fail_unless(h.wait_for([&] { return h.count_switches("slate") == nth + 1; }, 10),
              "no slate after SRT caller %u hung up", nth + 1);
  h.wait_for(
      [&] {
        std::lock_guard<std::mutex> guard(h.lock);
        return h.discontinuities.size() >= 2 * nth + 2 && h.pts.size() > h.discontinuity_frames.back() + 15;
      },
      5);

  Harness::Period live = h.period("live", nth);
  Harness::Period slate = h.period("slate", nth);
  g_print(
      "SRT caller %u: live %zu frames (%d s sent), %zu pictures (%d sent), a picture held for at most %zu "
      "frames; then slate %zu frames, %zu pictures\n",
      nth + 1, live.frames, seconds, live.pictures, seconds * 25, live.longest_hold, slate.frames,
      slate.pictures);
  /* The caller's pictures, all but a few: the first ones may come before
   * the switch, the last ones stay in the demuxer and decoder (0.4 s). */
  int sent = seconds * 25;
  fail_unless(live.pictures >= size_t(sent - 10) && live.pictures <= size_t(sent + 1),
              "SRT caller %u: %zu distinct pictures out, %d sent", nth + 1, live.pictures, sent);
  /* none held (25 fps made 30: a picture lasts one or two frames) */
  fail_unless(live.longest_hold <= 9, "SRT caller %u: one picture repeated for %zu frames (%.2f s)", nth + 1,
              live.longest_hold, live.longest_hold / 30.0);
  /* as long as it was sent, at the output rate */
  double shown = live.frames / 30.0;
  fail_unless(shown > seconds - 0.5 && shown < seconds + 0.3,
              "SRT caller %u: %zu live frames (%.2f s at 30 fps)", nth + 1, live.frames, shown);
  fail_unless(slate.frames >= 15 && slate.pictures == 1, "slate: %zu frames, %zu pictures", slate.frames,
              slate.pictures);
}

/* SRT: liveinput listens, one caller publishes 4 s; the live period carries
 * its pictures (not the slate) at the fixed caps, and the slate follows. */
GST_START_TEST(test_srt_input) {
  SKIP_WITHOUT_SRT();
  uint16_t port = free_port(SOCK_DGRAM);
  Harness h(srt_listener(port));
  h.run_for(0.5); /* srtsrc listens once PAUSED */
  srt_caller(h, port, 0, 4);
  h.check_caps(320, 180, 30);
  fail_unless_equals_int(h.caps_changes, 0);
  h.check_monotonic();
  std::lock_guard<std::mutex> guard(h.lock);
  fail_unless(
      h.discontinuities.size() == 2 && h.discontinuities[0] == "live" && h.discontinuities[1] == "slate",
      "%zu discontinuity events", h.discontinuities.size());
}
GST_END_TEST;

/* A caller hangs up and another calls: the listener takes the second one
 * and the output goes back from the slate to live. */
GST_START_TEST(test_srt_caller_returns) {
  SKIP_WITHOUT_SRT();
  uint16_t port = free_port(SOCK_DGRAM);
  Harness h(srt_listener(port));
  h.run_for(0.5);
  srt_caller(h, port, 0, 4);
  srt_caller(h, port, 1, 4);
  h.check_caps(320, 180, 30);
  fail_unless_equals_int(h.caps_changes, 0);
  h.check_monotonic();
  std::lock_guard<std::mutex> guard(h.lock);
  const char *expected[] = {"live", "slate", "live", "slate"};
  fail_unless_equals_int(h.discontinuities.size(), 4);
  for (size_t i = 0; i < 4; i++)
    fail_unless(h.discontinuities[i] == expected[i], "event %zu: %s", i, h.discontinuities[i].c_str());
}
GST_END_TEST;

/* A short clip made with ffmpeg (moving picture and a tone), in `path`. */
static void make_clip(const std::string &path, int seconds) {
  Child *ffmpeg = start_child(
      "ffmpeg -loglevel error -y -f lavfi -i testsrc2=size=320x240:rate=30 -f lavfi -i "
      "sine=frequency=440 -t " +
      std::to_string(seconds) + " -c:v libx264 -g 30 -c:a aac " + path);
  for (int i = 0; i < 600 && !child_exited(ffmpeg); i++) g_usleep(50000);
  fail_unless(exited_ok(ffmpeg), "ffmpeg failed:\n%s", child_log(ffmpeg).c_str());
}

/* A file plays in real time (it is paced to the clock, not decoded as fast
 * as possible), every picture of it, then the slate takes over. */
GST_START_TEST(test_file_input_is_paced) {
  SKIP_WITHOUT_FFMPEG();
  gchar *dir = g_dir_make_tmp("onair-clip-XXXXXX", nullptr);
  std::string clip = std::string(dir) + "/clip.mp4";
  make_clip(clip, 3);
  {
    Harness h("uri=file://" + clip + " width=320 height=180 timeout=1");
    fail_unless(h.wait_for([&] { return h.count_switches("live") == 1; }, 15), "the file never played");
    fail_unless(h.wait_for([&] { return h.count_switches("slate") == 1; }, 15), "no slate after the file");
    double played = (h.switches[1].at - h.switches[0].at) / 1e6;
    g_print("a 3 s file: live for %.2f s\n", played);
    /* 3 s of media, then 1 s without input; unpaced it would be about 1 s */
    fail_unless(played >= 3.0 && played <= 6.0, "live for %.2f s", played);
    h.run_for(0.5);
    auto live = h.period("live", 0);
    fail_unless(live.frames >= 85 && live.frames <= 125, "%zu live frames", live.frames);
    fail_unless(live.pictures >= 85, "%zu distinct pictures of 90", live.pictures);
    h.check_monotonic();
    fail_unless(h.warnings.empty());
  }
  g_unlink(clip.c_str());
  g_rmdir(dir);
  g_free(dir);
}
GST_END_TEST;

/* A missing file is not an error: a warning, the slate at the nominal
 * rate, and the file is tried again until it appears. */
GST_START_TEST(test_missing_input_is_retried) {
  SKIP_WITHOUT_FFMPEG();
  gchar *dir = g_dir_make_tmp("onair-clip-XXXXXX", nullptr);
  std::string clip = std::string(dir) + "/later.mp4";
  {
    Harness h("uri=file://" + clip + " width=320 height=180 timeout=1");
    h.run_for(2.6);
    fail_unless_equals_int(h.warnings.size(), 1);
    fail_unless(h.warnings[0].find("slate") != std::string::npos, "%s", h.warnings[0].c_str());
    unsigned n = h.frames_in_two_seconds(5);
    fail_unless(n >= 54 && n <= 66, "%u slate frames in 2 s", n);
    fail_unless_equals_int(h.count_switches("live"), 0);

    std::string partial = std::string(dir) + "/partial.mp4";
    make_clip(partial, 3);
    fail_unless(g_rename(partial.c_str(), clip.c_str()) == 0);
    fail_unless(h.wait_for([&] { return h.count_switches("live") == 1; }, 15),
                "the file that appeared was never played");
    h.check_monotonic();
  }
  g_unlink(clip.c_str());
  g_rmdir(dir);
  g_free(dir);
}
GST_END_TEST;

/* Without GStreamer's Pango plugin (Debian ships it apart, in gstreamer1.0-x)
 * liveinput cannot draw its slate: starting it fails with an error that names
 * the missing element, not with a critical from deep inside. */
GST_START_TEST(test_missing_element_is_named) {
  GstRegistry *registry = gst_registry_get();
  GstPluginFeature *feature = gst_registry_lookup_feature(registry, "textoverlay");
  fail_unless(feature != nullptr);
  gst_registry_remove_feature(registry, feature);

  GstElement *pipeline = gst_pipeline_new(nullptr);
  GstElement *input = gst_element_factory_make("liveinput", nullptr);
  fail_unless(input != nullptr);
  gst_bin_add(GST_BIN(pipeline), input);
  GstBus *bus = gst_element_get_bus(pipeline);
  fail_unless_equals_int(gst_element_set_state(pipeline, GST_STATE_READY), GST_STATE_CHANGE_FAILURE);
  GstMessage *message = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
  fail_unless(message != nullptr, "no error on the bus");
  GError *error = nullptr;
  gchar *debug = nullptr;
  gst_message_parse_error(message, &error, &debug);
  fail_unless(g_error_matches(error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN), "%s", error->message);
  fail_unless(strstr(error->message, "textoverlay") != nullptr, "%s", error->message);
  fail_unless(debug && strstr(debug, "gstreamer1.0-x") != nullptr, "%s", debug ? debug : "");
  g_error_free(error);
  g_free(debug);
  gst_message_unref(message);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(bus);
  gst_object_unref(pipeline);

  gst_registry_add_feature(registry, feature);
}
GST_END_TEST;

static Suite *liveinput_suite(void) {
  Suite *s = suite_create("liveinput");
  TCase *tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_add_checked_fixture(tc, nullptr, kill_children);
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_slate_without_input);
  tcase_add_test(tc, test_slate_before_first_publish);
  tcase_add_test(tc, test_stall_and_return);
  tcase_add_test(tc, test_resolution_change);
  tcase_add_test(tc, test_srt_input);
  tcase_add_test(tc, test_srt_caller_returns);
  tcase_add_test(tc, test_file_input_is_paced);
  tcase_add_test(tc, test_missing_input_is_retried);
  tcase_add_test(tc, test_missing_element_is_named);
  return s;
}

GST_CHECK_MAIN(liveinput);
