/* onair — liveinput: slate on a stalled publisher, back to live on a new
 * publish, nominal frame rate and monotonic timestamps throughout.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* C++ headers before gstcheck.h, whose fail() macro breaks <iostream> */
#include <algorithm>
#include <atomic>
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
  std::vector<std::string> discontinuities;
  GstCaps *caps = nullptr;
  unsigned caps_changes = 0;
  std::vector<Switch> switches;

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
    std::lock_guard<std::mutex> guard(h->lock);
    h->pts.push_back(GST_BUFFER_PTS(gst_sample_get_buffer(sample)));
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

  kill(ffmpeg->pid, SIGKILL);
  waitpid(ffmpeg->pid, nullptr, 0);
  ffmpeg->pid = -1;
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

static Suite *liveinput_suite(void) {
  Suite *s = suite_create("liveinput");
  TCase *tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_add_checked_fixture(tc, nullptr, kill_children);
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_slate_without_input);
  tcase_add_test(tc, test_stall_and_return);
  tcase_add_test(tc, test_resolution_change);
  return s;
}

GST_CHECK_MAIN(liveinput);
