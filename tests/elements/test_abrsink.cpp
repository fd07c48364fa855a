/* onair — abrsink: files, playlists, live window, markers, bad locations
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* C++ and project headers before gstcheck.h, whose fail() macro breaks <iostream> */
#include <glib/gstdio.h>
#include <atomic>
#include <cstring>
#include <string>
#include <vector>
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/check/gstcheck.h>

#include "bytes.h"
#include "outputs.h"

struct MarkerAfter {
  guint64 sequence;
  bool sent = false;
};

/* On the first segment message with `sequence`, marks a discontinuity. */
static GstBusSyncReply marker_on_segment(GstBus *bus, GstMessage *message, gpointer user_data) {
  MarkerAfter *marker = static_cast<MarkerAfter *>(user_data);
  const GstStructure *s = gst_message_get_structure(message);
  if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ELEMENT && s && gst_structure_has_name(s, "abrsink-segment")) {
    guint64 sequence = 0;
    gst_structure_get_uint64(s, "sequence", &sequence);
    if (sequence == marker->sequence && !marker->sent) {
      marker->sent = true;
      gboolean ok = FALSE;
      g_signal_emit_by_name(GST_MESSAGE_SRC(message), "add-marker", "discontinuity", NULL, -1.0, NULL, &ok);
      fail_unless(ok);
    }
  }
  return GST_BUS_PASS;
}

static std::string run(const std::string &description, MarkerAfter *marker = nullptr) {
  GError *error = NULL;
  GstElement *pipeline = gst_parse_launch(description.c_str(), &error);
  fail_unless(pipeline != NULL, "%s", error ? error->message : "");
  GstBus *bus = gst_element_get_bus(pipeline);
  if (marker) gst_bus_set_sync_handler(bus, marker_on_segment, marker, NULL);
  std::string result = play_to_end(pipeline, bus);
  gst_bus_set_sync_handler(bus, NULL, NULL, NULL);
  gst_object_unref(bus);
  gst_object_unref(pipeline);
  return result;
}

GST_START_TEST(test_vod_output) {
  std::string dir = make_temp_dir("abrsink");
  MarkerAfter marker{1};
  std::string error = run(
      /* live sources keep the renditions in step, so "the next segment" of
       * each is well defined when the marker is added */
      "videotestsrc is-live=true num-buffers=180 pattern=ball ! "
      "video/x-raw,width=640,height=360,framerate=30/1 ! "
      "abrladder name=l ladder=360p:800,144p:150 gop-duration=1 speed-preset=ultrafast ! "
      "abrsink mode=vod location=" +
          dir + " audiotestsrc is-live=true num-buffers=260 ! l.audio",
      &marker);
  fail_unless(error.empty(), "%s", error.c_str());

  std::string master = read_text(dir + "/master.m3u8");
  fail_unless_equals_int(count(master, "#EXT-X-STREAM-INF:"), 2);
  fail_unless(master.find("RESOLUTION=640x360") != std::string::npos, "%s", master.c_str());
  fail_unless(master.find("RESOLUTION=256x144") != std::string::npos);
  fail_unless(master.find("FRAME-RATE=30.000") != std::string::npos);
  fail_unless(master.find("AVERAGE-BANDWIDTH=") != std::string::npos);
  fail_unless(master.find("CODECS=\"avc1.") != std::string::npos);
  fail_unless(master.find(",mp4a.40.2\"") != std::string::npos);
  fail_unless(master.find("#EXT-X-MEDIA:TYPE=AUDIO") != std::string::npos);
  /* the bigger variant first */
  fail_unless(master.find("360p/index.m3u8") < master.find("144p/index.m3u8"));

  for (const char *rendition : {"360p", "144p", "audio"}) {
    std::string base = dir + "/" + rendition;
    std::string playlist = read_text(base + "/index.m3u8");
    fail_unless(playlist.find("#EXT-X-PLAYLIST-TYPE:VOD") != std::string::npos, "%s", playlist.c_str());
    fail_unless(playlist.find("#EXT-X-ENDLIST") != std::string::npos);
    fail_unless(exists(base + "/init.mp4"));
    fail_unless_equals_int(count(playlist, "#EXT-X-DISCONTINUITY\n"), 1);
    int segments = count(playlist, "#EXTINF:");
    fail_unless(segments >= 5, "%s has %d segments", rendition, segments);
    for (int i = 0; i < segments; i++) {
      gchar *name = g_strdup_printf("/seg_%05d.m4s", i);
      fail_unless(exists(base + name), "missing %s%s", rendition, name);
      g_free(name);
    }
    /* nothing half-written left behind */
    for (auto &name : list_dir(base))
      fail_unless(name == "index.m3u8" || name == "init.mp4" || g_str_has_suffix(name.c_str(), ".m4s"),
                  "stray file %s", name.c_str());
  }
  /* one-second keyframes: six one-second video segments */
  std::string video = read_text(dir + "/360p/index.m3u8");
  fail_unless_equals_int(count(video, "#EXTINF:1.00000,"), 6);

  std::string mpd = read_text(dir + "/manifest.mpd");
  fail_unless(mpd.find("type=\"static\"") != std::string::npos, "%s", mpd.c_str());
  fail_unless(mpd.find("<Representation id=\"360p\"") != std::string::npos);
  fail_unless(mpd.find("<Representation id=\"audio\"") != std::string::npos);
  fail_unless(mpd.find("initialization=\"144p/init.mp4\"") != std::string::npos);
  remove_tree(dir);
}
GST_END_TEST;

GST_START_TEST(test_live_window_and_cleanup) {
  std::string dir = make_temp_dir("abrsink");
  std::string error =
      run("videotestsrc num-buffers=300 ! video/x-raw,width=320,height=180,framerate=30/1 ! "
          "abrladder ladder=180p:300 gop-duration=1 speed-preset=ultrafast ! "
          "abrsink mode=live playlist-length=3 location=" +
          dir);
  fail_unless(error.empty(), "%s", error.c_str());
  std::string playlist = read_text(dir + "/180p/index.m3u8");
  fail_unless_equals_int(count(playlist, "#EXTINF:"), 3);
  fail_unless(playlist.find("#EXT-X-MEDIA-SEQUENCE:7\n") != std::string::npos, "%s", playlist.c_str());
  fail_unless_equals_int(count(playlist, "#EXT-X-PROGRAM-DATE-TIME:"), 3);
  fail_unless(playlist.find("PLAYLIST-TYPE") == std::string::npos);
  /* the stream ended: players are told */
  fail_unless(playlist.find("#EXT-X-ENDLIST") != std::string::npos);
  /* old segments are deleted, a window's worth kept after they leave it */
  fail_if(exists(dir + "/180p/seg_00000.m4s"));
  fail_if(exists(dir + "/180p/seg_00003.m4s"));
  fail_unless(exists(dir + "/180p/seg_00004.m4s"));
  fail_unless(exists(dir + "/180p/seg_00009.m4s"));
  std::string mpd = read_text(dir + "/manifest.mpd");
  fail_unless(mpd.find("startNumber=\"7\"") != std::string::npos, "%s", mpd.c_str());
  remove_tree(dir);
}
GST_END_TEST;

GST_START_TEST(test_live_mpd_is_dynamic_while_running) {
  std::string dir = make_temp_dir("abrsink");
  std::string description =
      "videotestsrc is-live=true num-buffers=75 ! video/x-raw,width=160,height=90,framerate=25/1 "
      "! abrladder ladder=90p:200 gop-duration=1 speed-preset=ultrafast ! "
      "abrsink name=sink mode=live playlist-length=2 location=" +
      dir;
  GstElement *pipeline = gst_parse_launch(description.c_str(), NULL);
  GstBus *bus = gst_element_get_bus(pipeline);
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  std::string mpd;
  /* wait for the second segment, then look at the MPD while live */
  for (int seen = 0; seen < 2;) {
    GstMessage *message = gst_bus_timed_pop_filtered(
        bus, 30 * GST_SECOND, (GstMessageType)(GST_MESSAGE_ELEMENT | GST_MESSAGE_ERROR));
    fail_unless(message != NULL);
    fail_if(GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR);
    if (gst_structure_has_name(gst_message_get_structure(message), "abrsink-segment")) seen++;
    gst_message_unref(message);
  }
  mpd = read_text(dir + "/manifest.mpd");
  fail_unless(mpd.find("type=\"dynamic\"") != std::string::npos, "%s", mpd.c_str());
  fail_unless(mpd.find("availabilityStartTime=") != std::string::npos);
  fail_unless(mpd.find("timeShiftBufferDepth=") != std::string::npos);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(bus);
  gst_object_unref(pipeline);
  remove_tree(dir);
}
GST_END_TEST;

struct Reader {
  std::string dir;
  std::atomic<bool> stop{false};
  int reads = 0;
  std::string broken;
};

/* Reads the manifests as fast as it can while they are rewritten: a reader
 * must only ever see a whole file (written elsewhere, then renamed). */
static gpointer read_manifests(gpointer data) {
  Reader *reader = static_cast<Reader *>(data);
  const std::pair<std::string, std::string> files[] = {
      {reader->dir + "/master.m3u8", "index.m3u8\n"},
      {reader->dir + "/180p/index.m3u8", ".m4s\n"},
      {reader->dir + "/manifest.mpd", "</MPD>\n"},
  };
  while (!reader->stop && reader->broken.empty()) {
    for (const auto &[path, ending] : files) {
      gchar *contents = NULL;
      gsize length = 0;
      if (!g_file_get_contents(path.c_str(), &contents, &length, NULL)) continue; /* not written yet */
      std::string text(contents, length);
      g_free(contents);
      reader->reads++;
      auto ends_with = [&text](const std::string &tail) {
        return text.size() > tail.size() && text.compare(text.size() - tail.size(), tail.size(), tail) == 0;
      };
      /* a finished live playlist ends with ENDLIST */
      bool whole = ends_with(ending) || ends_with("#EXT-X-ENDLIST\n");
      if (!whole) reader->broken = path + " read as:\n" + text;
    }
  }
  return NULL;
}

GST_START_TEST(test_readers_never_see_partial_files) {
  std::string dir = make_temp_dir("abrsink");
  Reader reader;
  reader.dir = dir;
  GThread *thread = g_thread_new("reader", read_manifests, &reader);
  std::string error =
      run("videotestsrc is-live=true num-buffers=120 ! video/x-raw,width=320,height=180,framerate=30/1 ! "
          "abrladder ladder=180p:300 gop-duration=0.2 speed-preset=ultrafast ! "
          "abrsink mode=live playlist-length=4 location=" +
          dir);
  reader.stop = true;
  g_thread_join(thread);
  fail_unless(error.empty(), "%s", error.c_str());
  fail_unless(reader.broken.empty(), "%s", reader.broken.c_str());
  fail_unless(reader.reads > 100, "only %d reads", reader.reads);
  remove_tree(dir);
}
GST_END_TEST;

GST_START_TEST(test_segment_duration_groups_keyframe_intervals) {
  std::string dir = make_temp_dir("abrsink");
  std::string error =
      run("videotestsrc num-buffers=180 ! video/x-raw,width=320,height=180,framerate=30/1 ! "
          "abrladder ladder=180p:300 gop-duration=0.5 speed-preset=ultrafast ! "
          "abrsink mode=vod segment-duration=2 location=" +
          dir);
  fail_unless(error.empty(), "%s", error.c_str());
  std::string playlist = read_text(dir + "/180p/index.m3u8");
  /* 6 s of half-second GOPs in segments of at least 2 s, cut on keyframes */
  fail_unless_equals_int(count(playlist, "#EXTINF:2.00000,"), 3);
  fail_unless(playlist.find("#EXT-X-TARGETDURATION:2\n") != std::string::npos, "%s", playlist.c_str());
  remove_tree(dir);
}
GST_END_TEST;

/* Runs `description` to EOS, then again after `between`, on the same
 * pipeline object. */
static void run_twice(const std::string &description, GstState between) {
  GstElement *pipeline = gst_parse_launch(description.c_str(), NULL);
  fail_unless(pipeline != NULL);
  GstBus *bus = gst_element_get_bus(pipeline);
  for (int round = 0; round < 2; round++) {
    gst_element_set_state(pipeline, GST_STATE_PLAYING);
    GstMessage *message = gst_bus_timed_pop_filtered(bus, 120 * GST_SECOND,
                                                     (GstMessageType)(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
    fail_unless(message != NULL, "round %d: no EOS within 120 s", round);
    if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR)
      fail("round %d: %s", round, error_text(message).c_str());
    gst_message_unref(message);
    gst_element_set_state(pipeline, between);
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(bus);
  gst_object_unref(pipeline);
}

GST_START_TEST(test_second_run_of_the_same_pipeline) {
  /* through NULL, fed by a plain encoder: the rendition is named after its pad */
  std::string dir = make_temp_dir("abrsink");
  run_twice(
      "videotestsrc num-buffers=60 ! video/x-raw,width=160,height=90,framerate=30/1 ! "
      "x264enc key-int-max=15 speed-preset=ultrafast ! h264parse ! abrsink mode=vod location=" +
          dir,
      GST_STATE_NULL);
  std::string playlist = read_text(dir + "/video_0/index.m3u8");
  fail_unless(playlist.find("#EXT-X-ENDLIST") != std::string::npos, "%s", playlist.c_str());
  fail_if(exists(dir + "/init.mp4"), "a rendition wrote into the output root");
  remove_tree(dir);

  /* through READY, with the ladder: its renditions stay linked */
  dir = make_temp_dir("abrsink");
  run_twice(
      "videotestsrc num-buffers=60 ! video/x-raw,width=320,height=180,framerate=30/1 ! "
      "abrladder ladder=180p:300,90p:100 gop-duration=1 speed-preset=ultrafast ! "
      "abrsink mode=vod location=" +
          dir,
      GST_STATE_READY);
  fail_unless(read_text(dir + "/master.m3u8").find("90p/index.m3u8") != std::string::npos);
  fail_unless_equals_int(count(read_text(dir + "/180p/index.m3u8"), "#EXTINF:"), 2);
  remove_tree(dir);
}
GST_END_TEST;

/* What liveinput sends on each of its pads at an input switch. */
static GstEvent *discontinuity_event() {
  return gst_event_new_custom(GST_EVENT_CUSTOM_DOWNSTREAM, gst_structure_new_empty("onair-discontinuity"));
}

/* Sends onair-discontinuity (as liveinput does on a switch) before the first
 * frame at or past 2.5 s. */
static GstPadProbeReturn switch_at_2500ms(GstPad *pad, GstPadProbeInfo *info, gpointer user_data) {
  bool *sent = static_cast<bool *>(user_data);
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  if (!*sent && GST_BUFFER_PTS(buffer) >= 2500 * GST_MSECOND) {
    *sent = true;
    gst_pad_push_event(pad, discontinuity_event());
  }
  return GST_PAD_PROBE_OK;
}

GST_START_TEST(test_input_switch_starts_a_marked_segment) {
  std::string dir = make_temp_dir("abrsink");
  std::string description =
      "videotestsrc name=src num-buffers=150 ! video/x-raw,width=320,height=180,framerate=30/1 ! "
      "abrladder ladder=180p:300,90p:100 gop-duration=2 speed-preset=ultrafast ! "
      "abrsink mode=vod location=" +
      dir;
  GstElement *pipeline = gst_parse_launch(description.c_str(), NULL);
  GstElement *src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  GstPad *pad = gst_element_get_static_pad(src, "src");
  bool sent = false;
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, switch_at_2500ms, &sent, NULL);
  GstBus *bus = gst_element_get_bus(pipeline);
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  GstMessage *message = gst_bus_timed_pop_filtered(bus, 120 * GST_SECOND,
                                                   (GstMessageType)(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  fail_unless(message != NULL && GST_MESSAGE_TYPE(message) == GST_MESSAGE_EOS);
  gst_message_unref(message);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(bus);
  gst_object_unref(pad);
  gst_object_unref(src);
  gst_object_unref(pipeline);
  fail_unless(sent);

  /* segments [0,2) [2,2.5) | [2.5,4.5) [4.5,5): the switch starts a new
   * keyframe schedule and a marked segment, in every rendition */
  for (const char *rendition : {"180p", "90p"}) {
    std::string playlist = read_text(dir + "/" + rendition + "/index.m3u8");
    const char *expected =
        "#EXTINF:2.00000,\nseg_00000.m4s\n#EXTINF:0.50000,\nseg_00001.m4s\n"
        "#EXT-X-DISCONTINUITY\n#EXTINF:2.00000,\nseg_00002.m4s\n#EXTINF:0.50000,\nseg_00003.m4s\n";
    fail_unless(playlist.find(expected) != std::string::npos, "%s:\n%s", rendition, playlist.c_str());
  }
  remove_tree(dir);
}
GST_END_TEST;

GST_START_TEST(test_unwritable_location) {
  GstElement *sink = gst_element_factory_make("abrsink", NULL);
  g_object_set(sink, "location", "/proc/onair-cannot-write-here", NULL);
  GstBus *bus = gst_bus_new();
  gst_element_set_bus(sink, bus);
  fail_unless_equals_int(gst_element_set_state(sink, GST_STATE_READY), GST_STATE_CHANGE_FAILURE);
  GstMessage *message = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
  fail_unless(message != NULL);
  std::string error = error_text(message);
  fail_unless(error.find("/proc/onair-cannot-write-here") != std::string::npos, "%s", error.c_str());
  gst_message_unref(message);
  gst_element_set_state(sink, GST_STATE_NULL);
  gst_object_unref(bus);
  gst_object_unref(sink);
}
GST_END_TEST;

GST_START_TEST(test_unknown_marker_kind) {
  GstElement *sink = gst_element_factory_make("abrsink", NULL);
  gboolean ok = TRUE;
  g_signal_emit_by_name(sink, "add-marker", "confetti", NULL, -1.0, NULL, &ok);
  fail_if(ok);
  g_signal_emit_by_name(sink, "add-marker", "daterange", NULL, 10.0, NULL, &ok);
  fail_if(ok, "a date range without an ID was accepted");
  gst_object_unref(sink);
}
GST_END_TEST;

/* Encoded samples to feed abrsink by hand. */
static std::vector<GstSample *> encode(const std::string &description) {
  GError *error = NULL;
  GstElement *pipeline = gst_parse_launch((description + " ! appsink name=out sync=false").c_str(), &error);
  fail_unless(pipeline != NULL, "%s", error ? error->message : "");
  GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "out");
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  std::vector<GstSample *> samples;
  GstClockTime origin = GST_CLOCK_TIME_NONE;
  while (GstSample *sample = gst_app_sink_pull_sample(GST_APP_SINK(sink))) {
    /* from 0 (x264enc starts at 1000 hours) */
    GstBuffer *buffer = gst_buffer_copy(gst_sample_get_buffer(sample));
    if (!GST_CLOCK_TIME_IS_VALID(origin)) origin = GST_BUFFER_PTS(buffer);
    GST_BUFFER_PTS(buffer) -= origin;
    if (GST_BUFFER_DTS_IS_VALID(buffer)) GST_BUFFER_DTS(buffer) -= origin;
    samples.push_back(gst_sample_new(buffer, gst_sample_get_caps(sample), NULL, NULL));
    gst_buffer_unref(buffer);
    gst_sample_unref(sample);
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(sink);
  gst_object_unref(pipeline);
  return samples;
}

static void push(GstElement *appsrc, GstSample *sample) {
  GstCaps *caps = gst_sample_get_caps(sample);
  GstCaps *current = NULL;
  g_object_get(appsrc, "caps", &current, NULL);
  if (!current || !gst_caps_is_equal(current, caps)) g_object_set(appsrc, "caps", caps, NULL);
  if (current) gst_caps_unref(current);
  fail_unless_equals_int(
      gst_app_src_push_buffer(GST_APP_SRC(appsrc), gst_buffer_ref(gst_sample_get_buffer(sample))),
      GST_FLOW_OK);
}

/* Waits (at most 10 s) for the playlist to list `uri`. */
static bool listed_soon(const std::string &playlist, const std::string &uri) {
  for (int i = 0; i < 200; i++) {
    if (exists(playlist) && read_text(playlist).find(uri) != std::string::npos) return true;
    g_usleep(50 * 1000);
  }
  return false;
}

static double extinf_sum(const std::string &playlist) {
  double sum = 0;
  for (size_t at = playlist.find("#EXTINF:"); at != std::string::npos; at = playlist.find("#EXTINF:", at + 1))
    sum += g_ascii_strtod(playlist.c_str() + at + 8, NULL);
  return sum;
}

/* A live abrsink (HLS only) fed by two appsrcs: `v`, 30 fps H.264 with a
 * keyframe every second, and `a`, AAC in frames of 1024 samples at 48 kHz.
 * The samples are encoded first and pushed by the test. */
struct LiveAv {
  std::vector<GstSample *> video, audio;
  std::string dir = make_temp_dir("abrsink");
  GstElement *pipeline = nullptr, *v = nullptr, *a = nullptr;
  size_t next_audio = 0;

  LiveAv(int video_frames, int audio_frames) {
    video = encode("videotestsrc num-buffers=" + std::to_string(video_frames) +
                   " ! video/x-raw,width=160,height=90,framerate=30/1 ! "
                   "x264enc key-int-max=30 bframes=0 speed-preset=ultrafast ! h264parse ! "
                   "video/x-h264,stream-format=avc,alignment=au");
    audio = encode("audiotestsrc num-buffers=" + std::to_string(audio_frames) +
                   " samplesperbuffer=1024 ! audio/x-raw,rate=48000,channels=2 ! avenc_aac ! aacparse");
    GError *error = NULL;
    pipeline =
        gst_parse_launch(("appsrc name=v format=time ! abrsink name=s mode=live dash=false location=" + dir +
                          " appsrc name=a format=time ! s.audio_0")
                             .c_str(),
                         &error);
    fail_unless(pipeline != NULL, "%s", error ? error->message : "");
    v = gst_bin_get_by_name(GST_BIN(pipeline), "v");
    a = gst_bin_get_by_name(GST_BIN(pipeline), "a");
    gst_element_set_state(pipeline, GST_STATE_PLAYING);
  }
  ~LiveAv() {
    gst_element_set_state(pipeline, GST_STATE_NULL);
    for (GstSample *sample : video) gst_sample_unref(sample);
    for (GstSample *sample : audio) gst_sample_unref(sample);
    gst_object_unref(v);
    gst_object_unref(a);
    gst_object_unref(pipeline);
    remove_tree(dir);
  }
  GstClockTime video_pts(size_t i) const { return GST_BUFFER_PTS(gst_sample_get_buffer(video[i])); }
  /* the audio frames not pushed yet that end by `end` */
  void push_audio_until(GstClockTime end) {
    while (next_audio < audio.size()) {
      GstBuffer *b = gst_sample_get_buffer(audio[next_audio]);
      if (GST_BUFFER_PTS(b) + GST_BUFFER_DURATION(b) > end) break;
      push(a, audio[next_audio++]);
    }
  }
  /* the audio up to `end`, and waits until it has left its appsrc for
   * abrsink (where it waits for the video): the two appsrcs' threads
   * otherwise race, and the video could reach a cut before any audio did */
  void push_audio_first(GstClockTime end) {
    push_audio_until(end);
    for (int i = 0; i < 500; i++) {
      guint64 queued = 1;
      g_object_get(a, "current-level-buffers", &queued, NULL);
      if (queued == 0) return;
      g_usleep(10 * 1000);
    }
    fail("the audio stayed in its appsrc");
  }
  /* video frames [from, to), each with the audio up to it */
  void push_video(size_t from, size_t to) {
    for (size_t i = from; i < to; i++) {
      push(v, video[i]);
      push_audio_until(video_pts(i));
    }
  }
  /* end of stream on both, and the pipeline's EOS */
  void finish() {
    gst_app_src_end_of_stream(GST_APP_SRC(v));
    gst_app_src_end_of_stream(GST_APP_SRC(a));
    GstBus *bus = gst_element_get_bus(pipeline);
    GstMessage *message = gst_bus_timed_pop_filtered(bus, 30 * GST_SECOND,
                                                     (GstMessageType)(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
    fail_unless(message && GST_MESSAGE_TYPE(message) == GST_MESSAGE_EOS);
    gst_message_unref(message);
    gst_object_unref(bus);
  }
  std::string playlist_path(const char *rendition) const { return dir + "/" + rendition + "/index.m3u8"; }
  std::string playlist(const char *rendition) const { return read_text(playlist_path(rendition)); }
  bool listed_soon(const char *rendition, const char *uri) const {
    return ::listed_soon(playlist_path(rendition), uri);
  }
};

/* Live: a segment is written as soon as the frame that starts the next one
 * arrives, with nothing after it (a muxer left running would hold its last
 * frame until one more came), and audio is cut with it; the segments cover
 * the stream without gaps. */
GST_START_TEST(test_live_segment_written_at_its_cut) {
  LiveAv t(90, 140);
  fail_unless_equals_int(t.video.size(), 90);
  fail_unless(t.audio.size() >= 130);

  /* up to and with the keyframe at 1 s; audio up to that point */
  t.push_audio_first(t.video_pts(30));
  t.push_video(0, 31);
  fail_unless(!GST_BUFFER_FLAG_IS_SET(gst_sample_get_buffer(t.video[30]), GST_BUFFER_FLAG_DELTA_UNIT));
  fail_unless(t.listed_soon("video_0", "seg_00000.m4s"),
              "the first video segment was not written when the next keyframe came");
  fail_unless(t.listed_soon("audio", "seg_00000.m4s"),
              "the first audio segment was not written with the video's");
  std::string vlist = t.playlist("video_0");
  fail_unless(vlist.find("#EXTINF:1.00000,") != std::string::npos, "%s", vlist.c_str());
  double first_audio = extinf_sum(t.playlist("audio"));
  fail_unless(first_audio > 1.0 - 0.022 && first_audio < 1.0 + 0.022, "audio segment of %.3f s", first_audio);

  /* the rest, then the end */
  t.push_video(31, t.video.size());
  t.finish();

  /* the segments cover everything that was pushed (audio's end of stream
   * may reach abrsink before the video's last cut does: two or three) */
  vlist = t.playlist("video_0");
  std::string alist = t.playlist("audio");
  fail_unless_equals_int(count(vlist, "#EXTINF:"), 3);
  fail_unless(count(alist, "#EXTINF:") >= 2, "%s", alist.c_str());
  fail_unless(std::abs(extinf_sum(vlist) - 3.0) < 0.001, "%s", vlist.c_str());
  GstBuffer *last = gst_sample_get_buffer(t.audio[t.next_audio - 1]);
  double audio_pushed = (double)(GST_BUFFER_PTS(last) + GST_BUFFER_DURATION(last)) / GST_SECOND;
  fail_unless(std::abs(extinf_sum(alist) - audio_pushed) < 0.002, "audio: %.4f s listed, %.4f s pushed\n%s",
              extinf_sum(alist), audio_pushed, alist.c_str());
}
GST_END_TEST;

/* The types of a file's top-level MP4 boxes, in order. */
static std::vector<std::string> top_level_boxes(const std::string &path) {
  std::string data = read_text(path);
  std::vector<std::string> types;
  size_t at = 0;
  while (data.size() - at >= 8) {
    uint64_t size = onair::get_u32(reinterpret_cast<const uint8_t *>(data.data() + at));
    types.emplace_back(data, at + 4, 4);
    if (size < 8 || size > data.size() - at) {
      types.push_back("(broken)");
      break;
    }
    at += size;
  }
  return types;
}

/* The names in `dir` that end in ".tmp". */
static std::vector<std::string> temporary_files(const std::string &dir) {
  std::vector<std::string> found;
  for (const std::string &name : list_dir(dir))
    if (g_str_has_suffix(name.c_str(), ".tmp")) found.push_back(name);
  return found;
}

/* Those names, for a message. */
static std::string temporary_names(const std::string &dir) {
  std::string names;
  for (const std::string &name : temporary_files(dir)) names += name + " ";
  return names;
}

/* Waits (at most 10 s) for a file of `dir` ending in ".tmp" that holds data. */
static bool partial_soon(const std::string &dir) {
  for (int i = 0; i < 200; i++) {
    for (const std::string &name : temporary_files(dir)) {
      GStatBuf st;
      if (g_stat((dir + "/" + name).c_str(), &st) == 0 && st.st_size > 0) return true;
    }
    g_usleep(50 * 1000);
  }
  return false;
}

/* Live, segments are muxed as fragments of about half a second (CMAF chunks),
 * each written to the segment's file as soon as it is complete: when the
 * segment ends only its last fragment is left to mux and write. A 1 s
 * segment of 30 fps is three fragments (14 + 14 + 2 frames). */
GST_START_TEST(test_live_video_fragments_written_as_they_come) {
  LiveAv t(90, 140);
  t.push_audio_first(t.video_pts(30));
  t.push_video(0, 31);
  fail_unless(t.listed_soon("video_0", "seg_00000.m4s"));
  std::vector<std::string> boxes = top_level_boxes(t.dir + "/video_0/seg_00000.m4s");
  std::string joined;
  for (const std::string &type : boxes) joined += type + " ";
  fail_unless(joined == "moof mdat moof mdat moof mdat ", "video segment boxes: %s", joined.c_str());
  /* audio too (frames of 1024 samples at 48 kHz: 22 + 22 + the rest) */
  fail_unless(t.listed_soon("audio", "seg_00000.m4s"));
  boxes = top_level_boxes(t.dir + "/audio/seg_00000.m4s");
  fail_unless(boxes.size() == 6 && boxes.back() == "mdat", "audio segment: %zu boxes", boxes.size());

  /* 20 frames into the next segment: its first fragment (14 frames) is on
   * disk already, in the file the segment will be, not listed yet */
  t.push_video(31, 51);
  fail_unless(partial_soon(t.dir + "/video_0"),
              "the second segment's first fragment was not written as it came");
  fail_if(t.playlist("video_0").find("seg_00001.m4s") != std::string::npos);

  t.push_video(51, t.video.size());
  t.finish();
  std::string vlist = t.playlist("video_0");
  fail_unless_equals_int(count(vlist, "#EXTINF:"), 3);
  for (const char *uri : {"seg_00001.m4s", "seg_00002.m4s"}) {
    boxes = top_level_boxes(t.dir + "/video_0/" + uri);
    fail_unless(boxes.size() >= 4 && boxes.size() % 2 == 0 && boxes.back() == "mdat", "%s: %zu boxes", uri,
                boxes.size());
  }
  /* nothing left in the making */
  fail_unless(temporary_files(t.dir + "/video_0").empty(), "%s", temporary_names(t.dir + "/video_0").c_str());
  fail_unless(temporary_files(t.dir + "/audio").empty());
}
GST_END_TEST;

/* Live: each segment's muxer is made while the segment before it is under
 * way, not at its cut, where making one (0.1-0.5 ms) would hold back the
 * segments just cut: no muxer is made while the video's thread handles a
 * keyframe, the first one apart. */
struct MuxerWatch {
  std::atomic<GThread *> video_thread{nullptr};
  std::atomic<int> keyframes{0};
  std::atomic<bool> in_keyframe{false};
  std::atomic<int> made{0};
  std::atomic<int> made_at_cut{0};
};

static GstPadProbeReturn watch_video(GstPad *, GstPadProbeInfo *info, gpointer data) {
  auto *watch = static_cast<MuxerWatch *>(data);
  bool key = !GST_BUFFER_FLAG_IS_SET(GST_PAD_PROBE_INFO_BUFFER(info), GST_BUFFER_FLAG_DELTA_UNIT);
  watch->video_thread = g_thread_self();
  if (key) watch->keyframes++;
  /* until the next buffer comes: this one's handling (a cut) is under way */
  watch->in_keyframe = key && watch->keyframes > 1;
  return GST_PAD_PROBE_OK;
}

static void watch_added(GstBin *, GstElement *element, gpointer data) {
  auto *watch = static_cast<MuxerWatch *>(data);
  GstElementFactory *factory = gst_element_get_factory(element);
  if (!factory || g_strcmp0(GST_OBJECT_NAME(factory), "mp4mux") != 0) return;
  watch->made++;
  if (g_thread_self() == watch->video_thread.load() && watch->in_keyframe) watch->made_at_cut++;
}

GST_START_TEST(test_live_muxers_made_ahead_of_their_cut) {
  LiveAv t(120, 190);
  GstElement *sink = gst_bin_get_by_name(GST_BIN(t.pipeline), "s");
  MuxerWatch watch;
  g_signal_connect(sink, "element-added", G_CALLBACK(watch_added), &watch);
  GstPad *pad = gst_element_get_static_pad(sink, "video_0");
  fail_unless(pad != NULL);
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, watch_video, &watch, NULL);
  t.push_audio_first(t.video_pts(30));
  t.push_video(0, t.video.size());
  t.finish();
  fail_unless_equals_int(count(t.playlist("video_0"), "#EXTINF:"), 4);
  fail_unless_equals_int(watch.keyframes.load(), 4);
  fail_unless(watch.made.load() >= 4, "the watch saw %d muxers made", watch.made.load());
  fail_unless(watch.made_at_cut.load() == 0, "%d of %d muxers made at a cut", watch.made_at_cut.load(),
              watch.made.load());
  gst_object_unref(pad);
  gst_object_unref(sink);
}
GST_END_TEST;

/* Live: the muxers (aggregators) learn their input's latency at once. One
 * that is not answered asks again before every buffer it takes, a walk up
 * the whole pipeline each time, and warns "Latency query failed". */
static void count_latency_failures(GstDebugCategory *category, GstDebugLevel level, const gchar *,
                                   const gchar *, gint, GObject *, GstDebugMessage *message, gpointer data) {
  if (level == GST_LEVEL_WARNING && g_strcmp0(gst_debug_category_get_name(category), "aggregator") == 0 &&
      strstr(gst_debug_message_get(message), "Latency query failed"))
    (*static_cast<std::atomic<int> *>(data))++;
}

GST_START_TEST(test_live_muxers_learn_their_latency) {
  std::atomic<int> failures{0};
  gst_debug_set_threshold_for_name("aggregator", GST_LEVEL_WARNING);
  gst_debug_add_log_function(count_latency_failures, &failures, NULL);
  {
    LiveAv t(60, 95);
    t.push_audio_first(t.video_pts(30));
    t.push_video(0, t.video.size());
    t.finish();
    fail_unless_equals_int(count(t.playlist("video_0"), "#EXTINF:"), 2);
  }
  gst_debug_remove_log_function(count_latency_failures);
  gst_debug_unset_threshold_for_name("aggregator");
  fail_unless_equals_int(failures.load(), 0);
}
GST_END_TEST;

/* Stopped in the middle of a segment: the file it was being written to is
 * deleted, not left behind. */
GST_START_TEST(test_live_stop_deletes_segment_in_the_making) {
  LiveAv t(60, 95);
  t.push_audio_first(t.video_pts(30));
  t.push_video(0, 50);
  fail_unless(t.listed_soon("video_0", "seg_00000.m4s"));
  fail_unless(partial_soon(t.dir + "/video_0"));
  gst_element_set_state(t.pipeline, GST_STATE_NULL);
  fail_unless(temporary_files(t.dir + "/video_0").empty(), "%s left behind",
              temporary_names(t.dir + "/video_0").c_str());
  fail_unless(exists(t.dir + "/video_0/seg_00000.m4s"));
}
GST_END_TEST;

/* The temporary files a process that died while writing left behind (a
 * segment in the making, a playlist half replaced) are deleted when the
 * next run starts; other files there are not. */
GST_START_TEST(test_leftovers_of_a_dead_run_deleted_at_start) {
  std::string dir = make_temp_dir("abrsink");
  fail_unless(g_mkdir((dir + "/video_0").c_str(), 0755) == 0);
  /* not a rendition of this output (no init.mp4): another one's, below it */
  fail_unless(g_mkdir((dir + "/other").c_str(), 0755) == 0);
  const char *leftovers[] = {"video_0/partial_7.m4s.tmp",  "video_0/index.m3u8.replaced-12.tmp",
                             "video_0/index.m3u8.tmp",     "video_0/seg_00003.m4s.tmp",
                             "video_0/init_2.mp4.tmp",     "master.m3u8.tmp",
                             "manifest.mpd.replaced-3.tmp"};
  const char *others[] = {"video_0/init.mp4",          "video_0/notes.tmp", "video_0/seg_00003.m4s",
                          "video_0/partial_x.m4s.tmp", "keep.txt",          "other/index.m3u8.tmp"};
  for (const char *name : leftovers)
    fail_unless(g_file_set_contents((dir + "/" + name).c_str(), "x", 1, NULL));
  for (const char *name : others) fail_unless(g_file_set_contents((dir + "/" + name).c_str(), "x", 1, NULL));

  GstElement *sink = gst_element_factory_make("abrsink", NULL);
  g_object_set(sink, "location", dir.c_str(), NULL);
  gst_util_set_object_arg(G_OBJECT(sink), "mode", "live");
  gst_element_set_state(sink, GST_STATE_READY);
  for (const char *name : leftovers)
    fail_unless(exists(dir + "/" + name), "%s deleted before the start", name);
  gst_element_set_state(sink, GST_STATE_PAUSED);
  for (const char *name : leftovers) fail_if(exists(dir + "/" + name), "%s left", name);
  for (const char *name : others) fail_unless(exists(dir + "/" + name), "%s deleted", name);
  gst_element_set_state(sink, GST_STATE_NULL);
  gst_object_unref(sink);
  remove_tree(dir);
}
GST_END_TEST;

/* Live: a segment that cannot be put in place (its name is taken by a
 * directory here) is an error that names it, and no playlist lists it. */
GST_START_TEST(test_live_segment_not_put_in_place_is_not_listed) {
  LiveAv t(90, 140);
  t.push_audio_first(t.video_pts(30));
  t.push_video(0, 31);
  fail_unless(t.listed_soon("video_0", "seg_00000.m4s"));
  std::string taken = t.dir + "/video_0/seg_00001.m4s";
  fail_unless(g_mkdir(taken.c_str(), 0755) == 0);
  fail_unless(g_file_set_contents((taken + "/in-the-way").c_str(), "x", 1, NULL));
  t.push_video(31, 61);
  std::string error = wait_for_error(t.pipeline);
  fail_unless(error.find("seg_00001.m4s") != std::string::npos, "%s", error.c_str());
  fail_if(t.playlist("video_0").find("seg_00001.m4s") != std::string::npos, "%s",
          t.playlist("video_0").c_str());
  g_unlink((taken + "/in-the-way").c_str());
  g_rmdir(taken.c_str());
}
GST_END_TEST;

/* Live, an input switch (liveinput sends onair-discontinuity on each of its
 * pads): the video cuts at its keyframe and the audio follows; the audio's
 * own event may come only after its segment was cut there, before its next
 * buffer. That segment is still the one after the switch: every playlist
 * marks it, or a player would line up the renditions' discontinuity
 * sequences wrongly. */
GST_START_TEST(test_live_switch_marks_audio_cut_before_its_event) {
  LiveAv t(60, 95);
  fail_unless_equals_int(t.video.size(), 60);

  /* the first second of audio, into abrsink (where it waits for the
   * video); then the first second of video, and the switch reaches the
   * video, which cuts at its keyframe at 1 s: the audio, there already, is
   * cut with it */
  t.push_audio_first(t.video_pts(30));
  for (size_t i = 0; i < 30; i++) push(t.v, t.video[i]);
  fail_unless(gst_element_send_event(t.v, discontinuity_event()));
  push(t.v, t.video[30]);
  fail_unless(t.listed_soon("video_0", "seg_00000.m4s"));
  fail_unless(t.listed_soon("audio", "seg_00000.m4s"), "the audio was not cut with the video");
  /* then the audio's own event, before its next buffer */
  fail_unless(gst_element_send_event(t.a, discontinuity_event()));
  t.push_video(31, t.video.size());
  t.finish();

  std::string vlist = t.playlist("video_0");
  std::string alist = t.playlist("audio");
  fail_unless(vlist.find("seg_00000.m4s\n#EXT-X-DISCONTINUITY\n") != std::string::npos, "video:\n%s",
              vlist.c_str());
  fail_unless_equals_int(count(alist, "#EXT-X-DISCONTINUITY\n"), 1);
  fail_unless(alist.find("seg_00000.m4s\n#EXT-X-DISCONTINUITY\n") != std::string::npos, "audio:\n%s",
              alist.c_str());
}
GST_END_TEST;

struct Noise {
  GstElement *sink = nullptr;
  int stream_starts = 0; /* the pipeline's, as the application sees them */
  int from_inside = 0;   /* state changes, latency, stream starts of abrsink's children */
  int segments = 0;
};

static GstBusSyncReply count_noise(GstBus *, GstMessage *message, gpointer user_data) {
  Noise *noise = static_cast<Noise *>(user_data);
  GstObject *src = GST_MESSAGE_SRC(message);
  switch (GST_MESSAGE_TYPE(message)) {
    case GST_MESSAGE_STREAM_START:
      if (src && !GST_OBJECT_PARENT(src)) noise->stream_starts++;
      [[fallthrough]];
    case GST_MESSAGE_STATE_CHANGED:
    case GST_MESSAGE_LATENCY:
      if (src && GST_OBJECT_PARENT(src) == GST_OBJECT(noise->sink)) noise->from_inside++;
      break;
    case GST_MESSAGE_ELEMENT:
      if (gst_structure_has_name(gst_message_get_structure(message), "abrsink-segment")) noise->segments++;
      break;
    default:
      break;
  }
  return GST_BUS_PASS;
}

/* In live mode every segment has a muxer of its own (VOD: a queue, muxer
 * and appsink per rendition): their state changes, latency and stream
 * starts stay inside the sink, the application is told once that the
 * stream started, and the end of stream comes (play_to_end). */
static void check_quiet(const char *mode, int min_segments) {
  std::string dir = make_temp_dir("abrsink");
  std::string description = std::string(
                                "videotestsrc is-live=true num-buffers=150 ! "
                                "video/x-raw,width=160,height=90,framerate=30/1 ! "
                                "abrladder name=l ladder=90p:150 gop-duration=1 speed-preset=ultrafast ! "
                                "abrsink name=sink playlist-length=0 mode=") +
                            mode + " location=" + dir +
                            " audiotestsrc is-live=true num-buffers=230 ! l.audio";
  GstElement *pipeline = gst_parse_launch(description.c_str(), NULL);
  fail_unless(pipeline != NULL);
  Noise noise;
  noise.sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
  GstBus *bus = gst_element_get_bus(pipeline);
  gst_bus_set_sync_handler(bus, count_noise, &noise, NULL);
  std::string error = play_to_end(pipeline, bus);
  fail_unless(error.empty(), "%s", error.c_str());
  gst_bus_set_sync_handler(bus, NULL, NULL, NULL);
  fail_unless(noise.segments >= min_segments, "%s: %d segments", mode, noise.segments);
  fail_unless_equals_int(noise.stream_starts, 1);
  fail_unless_equals_int(noise.from_inside, 0);
  gst_object_unref(noise.sink);
  gst_object_unref(bus);
  gst_object_unref(pipeline);
  remove_tree(dir);
}

GST_START_TEST(test_live_muxers_keep_their_messages) {
  check_quiet("live", 8);
}
GST_END_TEST;

GST_START_TEST(test_vod_posts_one_stream_start) {
  check_quiet("vod", 8);
}
GST_END_TEST;

struct MasterWrites {
  std::string path;
  ino_t inode = 0;
  int writes = 0;
};

/* At each segment: a new file in place of the multivariant playlist (each
 * write renames a new one over it) counts as a write. */
static GstBusSyncReply count_master_writes(GstBus *, GstMessage *message, gpointer user_data) {
  MasterWrites *count = static_cast<MasterWrites *>(user_data);
  const GstStructure *s = gst_message_get_structure(message);
  GStatBuf st;
  if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ELEMENT && gst_structure_has_name(s, "abrsink-segment") &&
      g_stat(count->path.c_str(), &st) == 0 && st.st_ino != count->inode) {
    count->inode = st.st_ino;
    count->writes++;
  }
  return GST_BUS_PASS;
}

/* Live: the multivariant playlist is written when it changes materially, not
 * at every segment as its average bandwidth moves a little; at the end it
 * holds the figures measured. */
GST_START_TEST(test_live_master_not_rewritten_per_segment) {
  std::string dir = make_temp_dir("abrsink");
  GstElement *pipeline = gst_parse_launch(
      ("videotestsrc num-buffers=360 pattern=ball ! video/x-raw,width=320,height=180,framerate=30/1 ! "
       "abrladder ladder=180p:300 gop-duration=1 speed-preset=ultrafast ! "
       "abrsink mode=live playlist-length=0 dash=false location=" +
       dir)
          .c_str(),
      NULL);
  fail_unless(pipeline != NULL);
  MasterWrites writes;
  writes.path = dir + "/master.m3u8";
  GstBus *bus = gst_element_get_bus(pipeline);
  gst_bus_set_sync_handler(bus, count_master_writes, &writes, NULL);
  std::string error = play_to_end(pipeline, bus);
  fail_unless(error.empty(), "%s", error.c_str());
  gst_bus_set_sync_handler(bus, NULL, NULL, NULL);
  gst_object_unref(bus);
  gst_object_unref(pipeline);
  fail_unless_equals_int(count(read_text(dir + "/180p/index.m3u8"), "#EXTINF:"), 12);
  fail_unless(writes.writes >= 1 && writes.writes <= 6,
              "the multivariant playlist was written at %d of 12 segments", writes.writes);
  std::string master = read_text(dir + "/master.m3u8");
  fail_unless(master.find("AVERAGE-BANDWIDTH=") != std::string::npos, "%s", master.c_str());
  remove_tree(dir);
}
GST_END_TEST;

/* A demuxer straight into abrsink, no parser: flvdemux and qtdemux give
 * H.264 without `alignment` (whole access units all the same), flvdemux
 * without a frame size when the FLV has no onMetaData, and no durations.
 * abrsink completes the caps (the size and rate from the SPS) and the
 * durations itself. */
static void check_demuxed(const std::string &dir, const std::string &description) {
  std::string error = run(description);
  fail_unless(error.empty(), "%s: %s", description.c_str(), error.c_str());
  std::string master = read_text(dir + "/master.m3u8");
  fail_unless(master.find("RESOLUTION=320x180,FRAME-RATE=30.000,CODECS=\"avc1.") != std::string::npos, "%s",
              master.c_str());
  fail_unless(master.find(",mp4a.40.2\"") != std::string::npos, "%s", master.c_str());

  /* one-second GOPs: four one-second segments, the last one too (its last
   * frame has a duration), 120 frames in all */
  std::string video = read_text(dir + "/video_0/index.m3u8");
  fail_unless_equals_int(count(video, "#EXTINF:"), 4);
  fail_unless_equals_int(count(video, "#EXTINF:1.00000,") + count(video, "#EXTINF:1.00100,"), 4);
  std::string joined = dir + "/video.mp4";
  join_rendition(dir + "/video_0", {"seg_00000.m4s", "seg_00001.m4s", "seg_00002.m4s", "seg_00003.m4s"},
                 joined);
  int status = 0;
  std::string frames = run_command(
      "ffprobe -v error -count_frames -show_entries stream=nb_read_frames,width,height -of csv=p=0 " + joined,
      &status);
  fail_unless(status == 0, "%s", frames.c_str());
  fail_unless_equals_string(frames.c_str(), "320,180,120\n");
  fail_unless(count(read_text(dir + "/audio/index.m3u8"), "#EXTINF:") >= 4);
}

/* Width, height and frames (ffprobe) of `init` and `segments` of a
 * rendition, joined. */
static std::string probe_joined(const std::string &dir, const std::vector<std::string> &segments,
                                const std::string &init) {
  std::string joined = dir + "/joined.mp4";
  join_rendition(dir, segments, joined, init);
  int status = 0;
  std::string frames = run_command(
      "ffprobe -v error -count_frames -show_entries stream=width,height,nb_read_frames -of csv=p=0 " + joined,
      &status);
  fail_unless(status == 0, "%s", frames.c_str());
  return frames;
}

/* Live: a publisher that changes its resolution mid-stream (a new sequence
 * header in its FLV: 1.5 s at 160x90, then 3 s at 320x180, one-second
 * GOPs). The segment ends where the new coding starts, short of its 2 s,
 * with a discontinuity in both playlists, and the video's segments from
 * there on name an initialization segment of their own, which describes
 * the new size. */
GST_START_TEST(test_live_new_coding_mid_stream) {
  std::string dir = make_temp_dir("abrsink");
  std::string flv = dir + "/change.flv";
  std::string error = run(
      "concat name=c ! h264parse ! video/x-h264,stream-format=avc ! flvmux name=m streamable=true ! filesink "
      "location=" +
      flv +
      " videotestsrc num-buffers=45 ! video/x-raw,width=160,height=90,framerate=30/1 ! x264enc "
      "key-int-max=30 "
      "bframes=0 speed-preset=ultrafast ! c. "
      "videotestsrc num-buffers=90 pattern=ball ! video/x-raw,width=320,height=180,framerate=30/1 ! x264enc "
      "key-int-max=30 bframes=0 speed-preset=ultrafast ! c. "
      "audiotestsrc num-buffers=211 samplesperbuffer=1024 ! audio/x-raw,rate=48000,channels=2 ! avenc_aac ! "
      "aacparse ! m.");
  fail_unless(error.empty(), "%s", error.c_str());
  std::string out = dir + "/out";
  error =
      run("filesrc location=" + flv + " ! flvdemux name=d d.video ! abrsink name=s mode=live dash=false " +
          "segment-duration=2 playlist-length=0 location=" + out + " d.audio ! s.");
  fail_unless(error.empty(), "%s", error.c_str());

  /* [0, 1.5) cut by the new coding, [1.5, 3.5), [3.5, 4.5) */
  std::string video = read_text(out + "/video_0/index.m3u8");
  fail_unless_equals_int(count(video, "#EXTINF:"), 3);
  fail_unless(video.find("#EXT-X-MAP:URI=\"init.mp4\"\n") != std::string::npos, "%s", video.c_str());
  fail_unless(
      video.find("#EXTINF:1.50000,\nseg_00000.m4s\n#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"init_1.mp4\"\n") !=
          std::string::npos,
      "%s", video.c_str());
  fail_unless_equals_int(count(video, "#EXT-X-DISCONTINUITY\n"), 1);
  fail_unless_equals_int(count(video, "#EXT-X-MAP:"), 2);
  std::string audio = read_text(out + "/audio/index.m3u8");
  fail_unless_equals_int(count(audio, "#EXT-X-DISCONTINUITY\n"), 1);
  fail_unless(count(audio, "#EXT-X-MAP:") == 1, "%s", audio.c_str());
  double first_audio = g_ascii_strtod(audio.c_str() + audio.find("#EXTINF:") + 8, NULL);
  fail_unless(std::abs(first_audio - 1.5) < 0.03, "%s", audio.c_str());

  fail_unless_equals_string(probe_joined(out + "/video_0", {"seg_00000.m4s"}, "init.mp4").c_str(),
                            "160,90,45\n");
  fail_unless_equals_string(
      probe_joined(out + "/video_0", {"seg_00001.m4s", "seg_00002.m4s"}, "init_1.mp4").c_str(),
      "320,180,90\n");
  /* the new initialization segment alone says the new size */
  std::string alone = probe_joined(out + "/video_0", {}, "init_1.mp4");
  fail_unless(alone.rfind("320,180,", 0) == 0, "%s", alone.c_str());
  remove_tree(dir);
}
GST_END_TEST;

/* 4 s of 320x180 H.264 (one-second GOPs) and AAC as an FLV without
 * onMetaData (no size in flvdemux's caps). */
static std::string make_flv(const std::string &dir) {
  std::string flv = dir + "/in.flv";
  int status = 0;
  std::string out = run_command(
      "ffmpeg -nostdin -v error -f lavfi -i testsrc2=size=320x180:rate=30 -f lavfi -i sine=sample_rate=48000 "
      "-t 4 -c:v libx264 -preset ultrafast -g 30 -keyint_min 30 -sc_threshold 0 -c:a aac "
      "-flvflags no_metadata " +
          flv,
      &status);
  fail_unless(status == 0, "ffmpeg: %s", out.c_str());
  return flv;
}

GST_START_TEST(test_demuxer_without_parser) {
  std::string dir = make_temp_dir("abrsink");
  std::string flv = make_flv(dir), mp4 = dir + "/in.mp4";
  int status = 0;
  std::string out = run_command("ffmpeg -nostdin -v error -i " + flv + " -c copy " + mp4, &status);
  fail_unless(status == 0, "ffmpeg: %s", out.c_str());

  for (const char *mode : {"live", "vod"}) {
    std::string output = dir + "/flv-" + mode;
    check_demuxed(output, "filesrc location=" + flv + " ! flvdemux name=d d.video ! abrsink name=s mode=" +
                              mode + " dash=false playlist-length=0 location=" + output + " d.audio ! s.");
  }
  std::string output = dir + "/mp4";
  check_demuxed(output, "filesrc location=" + mp4 + " ! qtdemux name=d d.video_0 ! abrsink name=s mode=vod " +
                            "dash=false location=" + output + " d.audio_0 ! s.");
  remove_tree(dir);
}
GST_END_TEST;

/* VOD: audio that ends long before the video (whose muxing runs behind)
 * is still cut where the video is, not left in one last segment. */
GST_START_TEST(test_vod_audio_waits_for_the_video_cuts) {
  std::string dir = make_temp_dir("abrsink");
  std::string flv = make_flv(dir);
  std::string output = dir + "/out";
  std::string error = run(
      "filesrc location=" + flv + " ! flvdemux name=d d.video ! queue max-size-buffers=0 max-size-bytes=0 " +
      "max-size-time=0 ! identity sleep-time=20000 ! abrsink name=s mode=vod dash=false location=" + output +
      " d.audio ! s.");
  fail_unless(error.empty(), "%s", error.c_str());
  fail_unless_equals_int(count(read_text(output + "/video_0/index.m3u8"), "#EXTINF:"), 4);
  std::string audio = read_text(output + "/audio/index.m3u8");
  fail_unless_equals_int(count(audio, "#EXTINF:"), 4);
  fail_unless_equals_int(count(audio, "#EXTINF:2.") + count(audio, "#EXTINF:3.") + count(audio, "#EXTINF:4."),
                         0);
  remove_tree(dir);
}
GST_END_TEST;

/* An upstream asking before it sends: such caps are accepted for what they
 * will be, H.264 cut otherwise than in access units is not. */
GST_START_TEST(test_demuxer_caps_accepted) {
  for (const char *mode : {"live", "vod"}) {
    GstElement *sink = gst_element_factory_make("abrsink", NULL);
    fail_unless(sink != NULL);
    g_object_set(sink, "location", "/nonexistent", NULL);
    gst_util_set_object_arg(G_OBJECT(sink), "mode", mode);
    GstPad *pad = gst_element_request_pad_simple(sink, "video_%u");
    fail_unless(pad != NULL);
    /* an avcC record (Baseline, level 4.0, 1920x1080; no size in the caps) */
    const char *record = "0142c028ffe100196742c028da01e0089f970110000003001000000303c0f1832a01000468ce3c80";
    GstCaps *demuxed = gst_caps_from_string(
        (std::string("video/x-h264, stream-format=avc, codec_data=(buffer)") + record).c_str());
    GstCaps *nal = gst_caps_from_string(
        (std::string("video/x-h264, stream-format=avc, alignment=nal, codec_data=(buffer)") + record)
            .c_str());
    fail_unless(gst_pad_query_accept_caps(pad, demuxed), "%s", mode);
    fail_if(gst_pad_query_accept_caps(pad, nal), "%s", mode);
    gst_caps_unref(demuxed);
    gst_caps_unref(nal);
    gst_element_release_request_pad(sink, pad);
    gst_object_unref(pad);
    gst_object_unref(sink);
  }
}
GST_END_TEST;

static Suite *abrsink_suite(void) {
  Suite *s = suite_create("abrsink");
  TCase *tc = tcase_create("general");
  tcase_set_timeout(tc, 180);
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_vod_output);
  tcase_add_test(tc, test_live_window_and_cleanup);
  tcase_add_test(tc, test_live_mpd_is_dynamic_while_running);
  tcase_add_test(tc, test_readers_never_see_partial_files);
  tcase_add_test(tc, test_segment_duration_groups_keyframe_intervals);
  tcase_add_test(tc, test_second_run_of_the_same_pipeline);
  tcase_add_test(tc, test_input_switch_starts_a_marked_segment);
  tcase_add_test(tc, test_unwritable_location);
  tcase_add_test(tc, test_unknown_marker_kind);
  tcase_add_test(tc, test_live_segment_written_at_its_cut);
  tcase_add_test(tc, test_live_switch_marks_audio_cut_before_its_event);
  tcase_add_test(tc, test_live_video_fragments_written_as_they_come);
  tcase_add_test(tc, test_live_stop_deletes_segment_in_the_making);
  tcase_add_test(tc, test_live_segment_not_put_in_place_is_not_listed);
  tcase_add_test(tc, test_leftovers_of_a_dead_run_deleted_at_start);
  tcase_add_test(tc, test_live_new_coding_mid_stream);
  tcase_add_test(tc, test_live_muxers_made_ahead_of_their_cut);
  tcase_add_test(tc, test_live_muxers_learn_their_latency);
  tcase_add_test(tc, test_live_muxers_keep_their_messages);
  tcase_add_test(tc, test_vod_posts_one_stream_start);
  tcase_add_test(tc, test_live_master_not_rewritten_per_segment);
  tcase_add_test(tc, test_demuxer_without_parser);
  tcase_add_test(tc, test_demuxer_caps_accepted);
  tcase_add_test(tc, test_vod_audio_waits_for_the_video_cuts);
  return s;
}

GST_CHECK_MAIN(abrsink);
