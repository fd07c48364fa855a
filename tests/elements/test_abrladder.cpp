/* onair — abrladder: rungs, sizes, caps, one keyframe schedule, errors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* C++ and project headers before gstcheck.h, whose fail() macro breaks <iostream> */
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/video/video.h>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>
#include <gst/check/gstcheck.h>

#include "outputs.h"
#include <gst/check/gstharness.h>

/* ---- GstHarness: one rung, frames pushed with exact timestamps ---------- */

static GstStaticPadTemplate harness_src =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);
static GstStaticPadTemplate harness_sink =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

/* The rung's pad appears once caps arrive: hook it to the harness then. */
static void link_rendition_to_harness(GstElement *ladder, GstPad *pad, gpointer user_data) {
  if (g_str_equal(GST_PAD_NAME(pad), "src_0"))
    gst_harness_add_element_src_pad(static_cast<GstHarness *>(user_data), pad);
}

static GstHarness *new_single_rung_harness(const char *ladder, double gop, int width, int height,
                                           int preset = 1 /* ultrafast */) {
  GstHarness *h = gst_harness_new_full(gst_element_factory_make("abrladder", NULL), &harness_src, "sink",
                                       &harness_sink, NULL);
  g_signal_connect(h->element, "pad-added", G_CALLBACK(link_rendition_to_harness), h);
  g_object_set(h->element, "ladder", ladder, "gop-duration", gop, "speed-preset", preset, NULL);
  gchar *caps = g_strdup_printf("video/x-raw,format=I420,width=%d,height=%d,framerate=30/1", width, height);
  gst_harness_set_src_caps_str(h, caps);
  g_free(caps);
  return h;
}

static void push_frame(GstHarness *h, int width, int height, GstClockTime pts) {
  GstBuffer *buffer = gst_harness_create_buffer(h, width * height * 3 / 2);
  gst_buffer_memset(buffer, 0, 0x80, width * height * 3 / 2);
  GST_BUFFER_PTS(buffer) = pts;
  GST_BUFFER_DURATION(buffer) = GST_SECOND / 30;
  fail_unless_equals_int(gst_harness_push(h, buffer), GST_FLOW_OK);
}

/* Keyframe PTS (relative to the first output PTS) after EOS. */
static std::vector<GstClockTime> drain_keyframes(GstHarness *h, guint *count) {
  gst_harness_push_event(h, gst_event_new_eos());
  std::vector<GstClockTime> keyframes;
  GstClockTime first = GST_CLOCK_TIME_NONE;
  *count = 0;
  /* the encoder runs behind a queue: wait for everything up to EOS */
  GstBuffer *buffer = NULL;
  while (gst_harness_pull_until_eos(h, &buffer) && buffer) {
    (*count)++;
    if (!GST_CLOCK_TIME_IS_VALID(first) || GST_BUFFER_PTS(buffer) < first) first = GST_BUFFER_PTS(buffer);
    if (!GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT))
      keyframes.push_back(GST_BUFFER_PTS(buffer));
    gst_buffer_unref(buffer);
  }
  for (auto &k : keyframes) k -= first;
  return keyframes;
}

GST_START_TEST(test_harness_keyframes_every_gop) {
  GstHarness *h = new_single_rung_harness("144p:200", 2.0, 320, 180);
  for (int i = 0; i < 150; i++) push_frame(h, 320, 180, gst_util_uint64_scale(i, GST_SECOND, 30));
  guint count;
  auto keyframes = drain_keyframes(h, &count);
  fail_unless_equals_int(count, 150);
  std::vector<GstClockTime> expected = {0, 2 * GST_SECOND, 4 * GST_SECOND};
  fail_unless(keyframes == expected, "keyframes at %u places", (guint)keyframes.size());

  /* caps: size from the source's aspect, profile and level from the parser,
   * target bitrate and name from the rung */
  GstCaps *caps = gst_pad_get_current_caps(h->sinkpad);
  GstStructure *s = gst_caps_get_structure(caps, 0);
  gint width = 0, height = 0, fps_n = 0, fps_d = 0;
  guint bitrate = 0;
  gst_structure_get_int(s, "width", &width);
  gst_structure_get_int(s, "height", &height);
  gst_structure_get_fraction(s, "framerate", &fps_n, &fps_d);
  gst_structure_get_uint(s, "bitrate", &bitrate);
  fail_unless_equals_int(width, 256);
  fail_unless_equals_int(height, 144);
  fail_unless_equals_int(fps_n, 30);
  fail_unless_equals_int(bitrate, 200000);
  fail_unless_equals_string(gst_structure_get_string(s, "rendition"), "144p");
  fail_unless(gst_structure_get_string(s, "profile") != NULL);
  fail_unless(gst_structure_get_string(s, "level") != NULL);
  fail_unless(gst_structure_has_name(s, "video/x-h264"));
  gst_caps_unref(caps);
  gst_harness_teardown(h);
}
GST_END_TEST;

GST_START_TEST(test_harness_keyframe_after_gap) {
  /* A gap in the input skips the slots it jumps over: the first frame after
   * it is a keyframe, the grid continues from the original origin. */
  GstHarness *h = new_single_rung_harness("144p:200", 1.0, 320, 180);
  for (int i = 0; i < 45; i++) push_frame(h, 320, 180, gst_util_uint64_scale(i, GST_SECOND, 30));
  for (int i = 0; i < 45; i++) /* resumes at 5.5 s */
    push_frame(h, 320, 180, 5500 * GST_MSECOND + gst_util_uint64_scale(i, GST_SECOND, 30));
  guint count;
  auto keyframes = drain_keyframes(h, &count);
  fail_unless_equals_int(count, 90);
  std::vector<GstClockTime> expected = {0, GST_SECOND, 5500 * GST_MSECOND,
                                        6 * GST_SECOND + GST_SECOND / 30 * 15};
  fail_unless_equals_int(keyframes.size(), 4);
  fail_unless_equals_uint64(keyframes[0], 0);
  fail_unless_equals_uint64(keyframes[1], GST_SECOND);
  fail_unless_equals_uint64(keyframes[2], 5500 * GST_MSECOND);
  /* first frame at or past 6 s: 5.5 s + 15 frames */
  fail_unless_equals_uint64(keyframes[3], 5500 * GST_MSECOND + gst_util_uint64_scale(15, GST_SECOND, 30));
  gst_harness_teardown(h);
}
GST_END_TEST;

GST_START_TEST(test_harness_keyframe_at_switch_inside_lookahead) {
  /* An input switch (liveinput's onair-discontinuity) half a GOP after a
   * keyframe: with the medium preset the encoder still holds that keyframe
   * in its lookahead (40 frames), and the switch must still get its own
   * keyframe on the very next frame, then the grid restarts from it. */
  GstHarness *h = new_single_rung_harness("144p:200", 1.0, 320, 180, 6 /* medium */);
  for (int i = 0; i < 45; i++) push_frame(h, 320, 180, gst_util_uint64_scale(i, GST_SECOND, 30));
  gst_harness_push_event(
      h, gst_event_new_custom(GST_EVENT_CUSTOM_DOWNSTREAM, gst_structure_new_empty("onair-discontinuity")));
  for (int i = 45; i < 90; i++) push_frame(h, 320, 180, gst_util_uint64_scale(i, GST_SECOND, 30));
  guint count;
  auto keyframes = drain_keyframes(h, &count);
  fail_unless_equals_int(count, 90);
  fail_unless_equals_int(keyframes.size(), 4);
  fail_unless_equals_uint64(keyframes[0], 0);
  fail_unless_equals_uint64(keyframes[1], GST_SECOND);
  fail_unless_equals_uint64(keyframes[2], GST_SECOND * 3 / 2);
  fail_unless_equals_uint64(keyframes[3], GST_SECOND * 5 / 2);
  gst_harness_teardown(h);
}
GST_END_TEST;

GST_START_TEST(test_harness_input_size_change_keeps_renditions) {
  /* a publisher switching from 640x360 to 1280x720 mid-stream: the rung keeps
   * its size and every frame comes out */
  GstHarness *h = new_single_rung_harness("360p:800", 1.0, 640, 360);
  for (int i = 0; i < 30; i++) push_frame(h, 640, 360, gst_util_uint64_scale(i, GST_SECOND, 30));
  gst_harness_set_src_caps_str(h, "video/x-raw,format=I420,width=1280,height=720,framerate=30/1");
  for (int i = 30; i < 60; i++) push_frame(h, 1280, 720, gst_util_uint64_scale(i, GST_SECOND, 30));
  guint count;
  drain_keyframes(h, &count);
  fail_unless_equals_int(count, 60);
  GstCaps *caps = gst_pad_get_current_caps(h->sinkpad);
  gint width = 0, height = 0;
  gst_structure_get_int(gst_caps_get_structure(caps, 0), "width", &width);
  gst_structure_get_int(gst_caps_get_structure(caps, 0), "height", &height);
  fail_unless(width == 640 && height == 360, "rendition became %dx%d", width, height);
  gst_caps_unref(caps);
  gst_harness_teardown(h);
}
GST_END_TEST;

/* ---- pipelines: every rung on its own appsink ---------------------------- */

struct Rendition {
  GstCaps *caps = nullptr;
  std::vector<GstClockTime> keyframes;
  guint frames = 0;
};

struct Run {
  std::mutex lock;
  std::map<std::string, Rendition> pads;
  GstElement *pipeline = nullptr;
};

static GstPadProbeReturn count_probe(GstPad *pad, GstPadProbeInfo *info, gpointer user_data) {
  Run *run = static_cast<Run *>(user_data);
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  std::lock_guard<std::mutex> lock(run->lock);
  Rendition &r = run->pads[GST_PAD_NAME(GST_PAD_PEER(pad))];
  r.frames++;
  if (!GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT))
    r.keyframes.push_back(GST_BUFFER_PTS(buffer));
  if (!r.caps) r.caps = gst_pad_get_current_caps(pad);
  return GST_PAD_PROBE_OK;
}

static void on_pad_added(GstElement *ladder, GstPad *pad, gpointer user_data) {
  Run *run = static_cast<Run *>(user_data);
  /* applications look at the element from pad-added: it must not be locked */
  gchar *renditions = NULL;
  g_object_get(ladder, "renditions", &renditions, NULL);
  g_free(renditions);
  if (GST_PAD_IS_SINK(pad)) return; /* the requested audio input */
  GstElement *sink = gst_element_factory_make("fakesink", NULL);
  g_object_set(sink, "sync", FALSE, "async", FALSE, NULL);
  gst_bin_add(GST_BIN(run->pipeline), sink);
  gst_element_sync_state_with_parent(sink);
  GstPad *sinkpad = gst_element_get_static_pad(sink, "sink");
  fail_unless_equals_int(gst_pad_link(pad, sinkpad), GST_PAD_LINK_OK);
  gst_pad_add_probe(sinkpad, GST_PAD_PROBE_TYPE_BUFFER, count_probe, run, NULL);
  gst_object_unref(sinkpad);
}

/* Runs `source ! abrladder <properties>` with fakesinks on every pad; returns
 * the error message, if any. */
static std::string run_ladder(Run *run, const char *source, const char *properties,
                              const char *audio = NULL) {
  gchar *description = g_strdup_printf("%s ! abrladder name=ladder speed-preset=ultrafast %s %s", source,
                                       properties, audio ? audio : "");
  GError *error = NULL;
  run->pipeline = gst_parse_launch(description, &error);
  g_free(description);
  fail_unless(run->pipeline != NULL, "%s", error ? error->message : "");
  GstElement *ladder = gst_bin_get_by_name(GST_BIN(run->pipeline), "ladder");
  g_signal_connect(ladder, "pad-added", G_CALLBACK(on_pad_added), run);
  gst_object_unref(ladder);

  GstBus *bus = gst_element_get_bus(run->pipeline);
  std::string result = play_to_end(run->pipeline, bus);
  gst_object_unref(bus);
  gst_object_unref(run->pipeline);
  return result;
}

static void free_run(Run *run) {
  for (auto &[name, r] : run->pads)
    if (r.caps) gst_caps_unref(r.caps);
}

static void check_size(Run &run, const char *pad, int width, int height, const char *name) {
  fail_unless(run.pads.count(pad), "no pad %s", pad);
  GstStructure *s = gst_caps_get_structure(run.pads[pad].caps, 0);
  gint w = 0, h = 0;
  gst_structure_get_int(s, "width", &w);
  gst_structure_get_int(s, "height", &h);
  fail_unless(w == width && h == height, "%s is %dx%d, expected %dx%d", pad, w, h, width, height);
  fail_unless_equals_string(gst_structure_get_string(s, "rendition"), name);
}

GST_START_TEST(test_rungs_above_source_are_dropped) {
  Run run;
  std::string error =
      run_ladder(&run, "videotestsrc num-buffers=20 ! video/x-raw,width=1280,height=720,framerate=30/1", "");
  fail_unless(error.empty(), "%s", error.c_str());
  /* default ladder 1080/720/480/360/144: 1080p is dropped */
  fail_unless_equals_int(run.pads.size(), 4);
  check_size(run, "src_0", 1280, 720, "720p");
  check_size(run, "src_1", 854, 480, "480p");
  check_size(run, "src_2", 640, 360, "360p");
  check_size(run, "src_3", 256, 144, "144p");
  for (auto &[name, r] : run.pads) fail_unless_equals_int(r.frames, 20);
  free_run(&run);
}
GST_END_TEST;

GST_START_TEST(test_portrait_keeps_orientation) {
  Run run;
  std::string error =
      run_ladder(&run, "videotestsrc num-buffers=10 ! video/x-raw,width=1080,height=1920,framerate=30/1",
                 "ladder=1080p:4000,720p:2000,480p:1000,144p:150");
  fail_unless(error.empty(), "%s", error.c_str());
  fail_unless_equals_int(run.pads.size(), 4);
  check_size(run, "src_0", 1080, 1920, "1080p");
  check_size(run, "src_1", 720, 1280, "720p");
  check_size(run, "src_2", 480, 854, "480p");
  check_size(run, "src_3", 144, 256, "144p");
  free_run(&run);
}
GST_END_TEST;

GST_START_TEST(test_non_square_pixels_follow_display_aspect) {
  Run run;
  /* anamorphic 16:9 PAL: 720x576 with 64:45 pixels shows as 1024x576 */
  std::string error = run_ladder(
      &run,
      "videotestsrc num-buffers=5 ! video/x-raw,width=720,height=576,pixel-aspect-ratio=64/45,framerate=25/1",
      "ladder=576p:2000,288p:600");
  fail_unless(error.empty(), "%s", error.c_str());
  check_size(run, "src_0", 1024, 576, "576p");
  check_size(run, "src_1", 512, 288, "288p");
  free_run(&run);
}
GST_END_TEST;

GST_START_TEST(test_keyframes_aligned_across_rungs) {
  Run run;
  std::string error = run_ladder(
      &run, "videotestsrc num-buffers=150 pattern=ball ! video/x-raw,width=1280,height=720,framerate=30/1",
      "ladder=720p:2000,480p:1000,360p:600,144p:150 gop-duration=1");
  fail_unless(error.empty(), "%s", error.c_str());
  fail_unless_equals_int(run.pads.size(), 4);
  const std::vector<GstClockTime> &reference = run.pads["src_0"].keyframes;
  fail_unless_equals_int(reference.size(), 5);
  for (size_t i = 1; i < reference.size(); i++)
    fail_unless_equals_uint64(reference[i] - reference[i - 1], GST_SECOND);
  for (auto &[name, r] : run.pads) {
    fail_unless(r.keyframes == reference, "%s has its keyframes elsewhere", name.c_str());
    fail_unless_equals_int(r.frames, 150);
  }
  free_run(&run);
}
GST_END_TEST;

static bool have_factory(const char *name) {
  GstElementFactory *factory = gst_element_factory_find(name);
  if (!factory) {
    g_print("%s is not installed: skipping its part\n", name);
    return false;
  }
  gst_object_unref(factory);
  return true;
}

GST_START_TEST(test_alternative_encoders) {
  if (have_factory("x265enc")) {
    Run run;
    std::string error =
        run_ladder(&run, "videotestsrc num-buffers=60 ! video/x-raw,width=640,height=360,framerate=30/1",
                   "ladder=360p:800:h265,144p:150 gop-duration=1");
    fail_unless(error.empty(), "%s", error.c_str());
    fail_unless(gst_structure_has_name(gst_caps_get_structure(run.pads["src_0"].caps, 0), "video/x-h265"));
    fail_unless(gst_structure_has_name(gst_caps_get_structure(run.pads["src_1"].caps, 0), "video/x-h264"));
    fail_unless_equals_int(run.pads["src_0"].keyframes.size(), 2);
    fail_unless(run.pads["src_0"].keyframes == run.pads["src_1"].keyframes,
                "H.265 and H.264 keyframes differ");
    free_run(&run);
  }
  if (have_factory("openh264enc")) {
    Run run;
    std::string error =
        run_ladder(&run, "videotestsrc num-buffers=60 ! video/x-raw,width=640,height=360,framerate=30/1",
                   "encoder=openh264 ladder=360p:800,144p:150 gop-duration=1");
    fail_unless(error.empty(), "%s", error.c_str());
    fail_unless_equals_int(run.pads.size(), 2);
    fail_unless_equals_int(run.pads["src_0"].keyframes.size(), 2);
    fail_unless(run.pads["src_0"].keyframes == run.pads["src_1"].keyframes);
    fail_unless_equals_int(run.pads["src_1"].frames, 60);
    free_run(&run);
  }
}
GST_END_TEST;

GST_START_TEST(test_audio_rendition) {
  Run run;
  std::string error =
      run_ladder(&run, "videotestsrc num-buffers=30 ! video/x-raw,width=320,height=180,framerate=30/1",
                 "ladder=180p:300 audio-bitrate=96", "audiotestsrc num-buffers=40 ! ladder.audio");
  fail_unless(error.empty(), "%s", error.c_str());
  fail_unless(run.pads.count("audio_src"), "no audio_src pad");
  GstStructure *s = gst_caps_get_structure(run.pads["audio_src"].caps, 0);
  fail_unless(gst_structure_has_name(s, "audio/mpeg"));
  gint version = 0;
  gst_structure_get_int(s, "mpegversion", &version);
  fail_unless_equals_int(version, 4);
  fail_unless(run.pads["audio_src"].frames > 30);
  free_run(&run);
}
GST_END_TEST;

GST_START_TEST(test_audio_requested_while_playing) {
  /* the audio pad is requested after the video renditions exist; pad-added
   * handlers query the element meanwhile */
  Run run;
  run.pipeline = gst_parse_launch(
      "videotestsrc is-live=true num-buffers=60 ! video/x-raw,width=160,height=90,framerate=30/1 ! "
      "abrladder name=ladder ladder=90p:100 speed-preset=ultrafast",
      NULL);
  GstElement *ladder = gst_bin_get_by_name(GST_BIN(run.pipeline), "ladder");
  g_signal_connect(ladder, "pad-added", G_CALLBACK(on_pad_added), &run);
  gst_element_set_state(run.pipeline, GST_STATE_PLAYING);
  for (int i = 0; i < 200; i++) {
    gchar *renditions = NULL;
    g_object_get(ladder, "renditions", &renditions, NULL);
    bool built = renditions && *renditions;
    g_free(renditions);
    if (built) break;
    g_usleep(10000);
  }
  GstElement *audio = gst_element_factory_make("audiotestsrc", NULL);
  g_object_set(audio, "is-live", TRUE, "num-buffers", 40, NULL);
  gst_bin_add(GST_BIN(run.pipeline), audio);
  GstPad *audio_pad = gst_element_request_pad_simple(ladder, "audio");
  fail_unless(audio_pad != NULL);
  GstPad *audio_src = gst_element_get_static_pad(audio, "src");
  fail_unless_equals_int(gst_pad_link(audio_src, audio_pad), GST_PAD_LINK_OK);
  gst_object_unref(audio_src);
  gst_element_sync_state_with_parent(audio);

  GstBus *bus = gst_element_get_bus(run.pipeline);
  GstMessage *message =
      gst_bus_timed_pop_filtered(bus, 60 * GST_SECOND, (GstMessageType)(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  fail_unless(message != NULL && GST_MESSAGE_TYPE(message) == GST_MESSAGE_EOS);
  gst_message_unref(message);
  gst_object_unref(bus);
  fail_unless(run.pads.count("audio_src"), "audio was not exposed");
  gst_element_set_state(run.pipeline, GST_STATE_NULL);
  gst_element_release_request_pad(ladder, audio_pad);
  gst_object_unref(audio_pad);
  gst_object_unref(ladder);
  gst_object_unref(run.pipeline);
  free_run(&run);
}
GST_END_TEST;

GST_START_TEST(test_bad_ladder_fails_state_change) {
  GstElement *pipeline = gst_pipeline_new(NULL);
  GstElement *ladder = gst_element_factory_make("abrladder", NULL);
  gst_bin_add(GST_BIN(pipeline), ladder);
  g_object_set(ladder, "ladder", "1080p:5000,720x:2800", NULL);
  /* the text is kept as given, so the user sees what they set */
  gchar *text = NULL;
  g_object_get(ladder, "ladder", &text, NULL);
  fail_unless_equals_string(text, "1080p:5000,720x:2800");
  g_free(text);
  fail_unless_equals_int(gst_element_set_state(pipeline, GST_STATE_READY), GST_STATE_CHANGE_FAILURE);
  GstBus *bus = gst_element_get_bus(pipeline);
  GstMessage *message = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
  fail_unless(message != NULL);
  std::string error = error_text(message);
  fail_unless(error.find("bad rung 2 '720x:2800'") != std::string::npos, "%s", error.c_str());
  gst_message_unref(message);
  gst_object_unref(bus);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);
}
GST_END_TEST;

GST_START_TEST(test_no_video_is_an_error_not_a_hang) {
  /* the input ends before any video arrived */
  GstElement *pipeline = gst_parse_launch("appsrc name=src format=time ! abrladder ! fakesink", NULL);
  GstElement *src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  gst_app_src_end_of_stream(GST_APP_SRC(src));
  std::string error = wait_for_error(pipeline);
  fail_unless(error.find("No video reached the ladder") != std::string::npos, "%s", error.c_str());
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(src);
  gst_object_unref(pipeline);

  /* a picture too small to encode */
  Run tiny;
  error = run_ladder(&tiny, "videotestsrc num-buffers=5 ! video/x-raw,width=1,height=720,framerate=30/1", "");
  fail_unless(error.find("at least 2x2") != std::string::npos, "%s", error.c_str());
  free_run(&tiny);

  /* audio only, the video input left unlinked */
  pipeline = gst_parse_launch("audiotestsrc num-buffers=10 ! abrladder.audio abrladder name=abrladder", NULL);
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  error = wait_for_error(pipeline);
  fail_unless(error.find("audio but no video") != std::string::npos, "%s", error.c_str());
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);
}
GST_END_TEST;

static Suite *abrladder_suite(void) {
  Suite *s = suite_create("abrladder");
  TCase *tc = tcase_create("general");
  tcase_set_timeout(tc, 180);
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_harness_keyframes_every_gop);
  tcase_add_test(tc, test_harness_keyframe_after_gap);
  tcase_add_test(tc, test_harness_keyframe_at_switch_inside_lookahead);
  tcase_add_test(tc, test_harness_input_size_change_keeps_renditions);
  tcase_add_test(tc, test_rungs_above_source_are_dropped);
  tcase_add_test(tc, test_portrait_keeps_orientation);
  tcase_add_test(tc, test_non_square_pixels_follow_display_aspect);
  tcase_add_test(tc, test_keyframes_aligned_across_rungs);
  tcase_add_test(tc, test_alternative_encoders);
  tcase_add_test(tc, test_audio_rendition);
  tcase_add_test(tc, test_audio_requested_while_playing);
  tcase_add_test(tc, test_bad_ladder_fails_state_change);
  tcase_add_test(tc, test_no_video_is_an_error_not_a_hang);
  return s;
}

GST_CHECK_MAIN(abrladder);
