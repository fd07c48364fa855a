/* onair — newsflash: crawl motion per frame at 25, 30 and 60 fps, fades,
 * durations, pre-emption, bus messages, bad input, determinism, golden
 * images of each layer, colour emoji, and both overlay paths (composition
 * meta, blending)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Golden images: tests/data/newsflash-<layer>.png, 320x180, drawn by this
 * test (BGRx frames written with cairo) on a Debian 12 machine with
 * fonts-dejavu-core; compared with a PSNR of at least 40 dB. After a
 * deliberate change of the drawing, rewrite them with
 *   ONAIR_UPDATE_GOLDEN=1 meson test -C build test_newsflash
 * and look at them before committing.
 */

/* C++ and project headers before gstcheck.h, whose fail() macro breaks <iostream> */
#include <cairo.h>
#include <glib/gstdio.h>
#include <gst/video/video.h>
#include <cmath>
#include <cstring>
#include <algorithm>
#include <functional>
#include <string>
#include <vector>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

/* ---- helpers ------------------------------------------------------------ */

static const char *FONT = "DejaVu Sans Bold 10";

/* newsflash between a black videotestsrc and the harness's sink. */
struct Flash {
  GstHarness *h;
  GstElement *element;
  GstBus *bus;
  GstVideoInfo info;

  explicit Flash(int fps, const char *format = "I420", bool meta = false, int width = 320, int height = 180) {
    h = gst_harness_new("newsflash");
    element = h->element;
    g_object_set(element, "font-desc", FONT, NULL);
    bus = gst_bus_new();
    gst_element_set_bus(element, bus);
    gchar *caps = g_strdup_printf("video/x-raw,format=%s,width=%d,height=%d,framerate=%d/1", format, width,
                                  height, fps);
    gchar *src =
        g_strdup_printf(/* num-buffers: the source runs ahead of the test into an unbounded queue */
                        "videotestsrc pattern=black is-live=false num-buffers=200 ! capsfilter caps=\"%s\"",
                        caps);
    gst_harness_add_src_parse(h, src, FALSE);
    if (meta) {
      gchar *with_meta = g_strdup_printf(
          "video/x-raw(meta:GstVideoOverlayComposition),format=%s,width=%d,"
          "height=%d,framerate=%d/1",
          format, width, height, fps);
      gst_harness_set_sink_caps_str(h, with_meta);
      gst_harness_add_propose_allocation_meta(h, GST_VIDEO_OVERLAY_COMPOSITION_META_API_TYPE, NULL);
      g_free(with_meta);
    } else {
      gst_harness_set_sink_caps_str(h, caps);
    }
    GstCaps *parsed = gst_caps_from_string(caps);
    gst_video_info_from_caps(&info, parsed);
    gst_caps_unref(parsed);
    g_free(src);
    g_free(caps);
  }
  ~Flash() {
    gst_element_set_bus(element, NULL);
    gst_object_unref(bus);
    gst_harness_teardown(h);
  }
  /* The next frame through newsflash. */
  GstBuffer *next() {
    fail_unless_equals_int(gst_harness_push_from_src(h), GST_FLOW_OK);
    GstBuffer *buffer = gst_harness_pull(h);
    fail_unless(buffer != NULL);
    return buffer;
  }
  guint64 show(const char *layer, const char *text, const char *options = NULL) {
    GstStructure *s = options ? gst_structure_from_string(options, NULL) : NULL;
    if (options) fail_unless(s != NULL, "bad options %s", options);
    guint64 id = 0;
    g_signal_emit_by_name(element, "show", layer, text, s, &id);
    if (s) gst_structure_free(s);
    return id;
  }
  /* The element messages posted so far, as "started:ID:TIME" /
   * "ended:ID:TIME:REASON" with TIME in frames of `fps`; warnings as
   * "warning". */
  std::vector<std::string> messages(int fps) {
    std::vector<std::string> out;
    while (GstMessage *m = gst_bus_pop(bus)) {
      if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_WARNING) {
        out.push_back("warning");
      } else if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ELEMENT) {
        const GstStructure *s = gst_message_get_structure(m);
        guint64 id = 0, rt = 0;
        fail_unless(gst_structure_get_uint64(s, "id", &id));
        fail_unless(gst_structure_get_uint64(s, "running-time", &rt));
        fail_unless(gst_structure_get_string(s, "layer") != NULL);
        std::string text = gst_structure_has_name(s, "newsflash-item-started") ? "started:" : "ended:";
        text += std::to_string(id) + ":" + std::to_string((long)std::llround((double)rt * fps / GST_SECOND));
        if (const char *reason = gst_structure_get_string(s, "reason")) text += std::string(":") + reason;
        out.push_back(text);
      }
      gst_message_unref(m);
    }
    return out;
  }
};

/* Luma above black (Y - 16) of an I420 frame, per pixel. */
static std::vector<double> luma(GstBuffer *buffer, GstVideoInfo *info) {
  GstVideoFrame frame;
  fail_unless(gst_video_frame_map(&frame, info, buffer, GST_MAP_READ));
  int w = GST_VIDEO_FRAME_WIDTH(&frame), h = GST_VIDEO_FRAME_HEIGHT(&frame);
  std::vector<double> out((size_t)w * h);
  const guint8 *y = (const guint8 *)GST_VIDEO_FRAME_PLANE_DATA(&frame, 0);
  int stride = GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 0);
  for (int r = 0; r < h; r++)
    for (int c = 0; c < w; c++) out[(size_t)r * w + c] = std::max(0, y[r * stride + c] - 16);
  gst_video_frame_unmap(&frame);
  return out;
}

static std::vector<guint8> bytes(GstBuffer *buffer) {
  GstMapInfo map;
  fail_unless(gst_buffer_map(buffer, &map, GST_MAP_READ));
  std::vector<guint8> out(map.data, map.data + map.size);
  gst_buffer_unmap(buffer, &map);
  return out;
}

static bool all_black(GstBuffer *buffer, GstVideoInfo *info) {
  for (double v : luma(buffer, info))
    if (v > 0) return false;
  return true;
}

/* ---- crawl motion ------------------------------------------------------- */

/* A thin bar scrolls at 100 px/s: its intensity-weighted centroid moves by
 * 100 / fps pixels every frame, fractions included. */
GST_START_TEST(test_crawl_moves_evenly) {
  const double speed = 100.0;
  for (int fps : {25, 30, 60}) {
    Flash flash(fps);
    g_object_set(flash.element, "crawl-speed", speed, "box-opacity", 0.0, "fade-duration", (guint64)0, NULL);
    fail_unless(flash.show("crawl", "|") > 0);
    std::vector<double> centroids;
    double max_step_error = 0;
    int frames = fps * 3; /* the bar crosses 300 of the 320 pixels */
    for (int n = 0; n < frames; n++) {
      GstBuffer *buffer = flash.next();
      std::vector<double> y = luma(buffer, &flash.info);
      gst_buffer_unref(buffer);
      double sum = 0, moment = 0;
      int left = 320, right = -1;
      for (size_t i = 0; i < y.size(); i++) {
        int x = (int)(i % 320);
        if (y[i] <= 0) continue;
        sum += y[i];
        moment += y[i] * x;
        left = std::min(left, x);
        right = std::max(right, x);
      }
      if (sum == 0 || left < 2 || right > 317) continue; /* entering or leaving */
      centroids.push_back(moment / sum);
      /* from the running time alone: x = 320 - speed * t, plus where the
       * bar sits in its glyph */
      if (centroids.size() > 1) {
        double step = centroids[centroids.size() - 2] - centroids.back();
        max_step_error = std::max(max_step_error, std::fabs(step - speed / fps));
      }
    }
    fail_unless(centroids.size() > (size_t)fps * 2, "%d fps: the bar was seen on %zu frames", fps,
                centroids.size());
    GST_INFO("%d fps: %zu frames, step %.3f px, worst step error %.3f px", fps, centroids.size(), speed / fps,
             max_step_error);
    fail_unless(max_step_error <= 0.5, "%d fps: a step is off by %.3f px", fps, max_step_error);
    /* and no drift over the whole crossing */
    double travelled = centroids.front() - centroids.back();
    double expected = speed / fps * (centroids.size() - 1);
    fail_unless(std::fabs(travelled - expected) <= 0.5, "%d fps: %.2f px travelled, %.2f expected", fps,
                travelled, expected);
  }
}
GST_END_TEST;

/* ---- fades and durations ------------------------------------------------ */

/* A white box fades in over 10 frames and out over the last 10 of its 50:
 * the mean luma of its area follows alpha = elapsed / fade. */
GST_START_TEST(test_fade_ramps_and_item_ends_on_time) {
  Flash flash(25);
  g_object_set(flash.element, "box-color", 0xffffffffu, "box-opacity", 1.0, "lower-third-slide", 0.0, NULL);
  fail_unless(flash.show("lower-third", "Fade",
                         "options, duration=(guint64)2000000000, fade=(guint64)400000000") > 0);
  std::vector<std::vector<double>> frames;
  for (int n = 0; n < 52; n++) {
    GstBuffer *buffer = flash.next();
    frames.push_back(luma(buffer, &flash.info));
    gst_buffer_unref(buffer);
  }
  /* the box: what is lit at full alpha */
  std::vector<size_t> box;
  for (size_t i = 0; i < frames[25].size(); i++)
    if (frames[25][i] > 200) box.push_back(i);
  fail_unless(box.size() > 500, "the box has %zu pixels", box.size());
  auto alpha = [&](int n) {
    double sum = 0;
    for (size_t i : box) sum += frames[n][i];
    return sum / box.size() / 219.0;
  };
  for (int n = 0; n <= 10; n++)
    fail_unless(std::fabs(alpha(n) - n / 10.0) <= 0.03, "fade in, frame %d: alpha %.3f", n, alpha(n));
  for (int n = 40; n < 50; n++)
    fail_unless(std::fabs(alpha(n) - (50 - n) / 10.0) <= 0.03, "fade out, frame %d: alpha %.3f", n, alpha(n));
  /* 2 s at 25 fps: frames 0 to 49; frame 50 is clean */
  for (double v : frames[50]) fail_unless(v == 0, "the item is still drawn at its end");
  std::vector<std::string> messages = flash.messages(25);
  fail_unless_equals_int(messages.size(), 2);
  fail_unless_equals_string(messages[0].c_str(), "started:1:0");
  fail_unless_equals_string(messages[1].c_str(), "ended:1:50:done");
}
GST_END_TEST;

/* While it fades in, a lower third slides from the left by a fraction of the
 * frame width that shrinks with the fade: 32 px on 320 over 10 frames. */
GST_START_TEST(test_lower_third_slides_in) {
  Flash flash(25);
  g_object_set(flash.element, "box-color", 0xffffffffu, "box-opacity", 1.0, "lower-third-slide", 0.1,
               "fade-duration", (guint64)400000000, NULL);
  fail_unless(flash.show("lower-third", "Slide") > 0);
  std::vector<int> left;
  for (int n = 0; n <= 12; n++) {
    GstBuffer *buffer = flash.next();
    std::vector<double> y = luma(buffer, &flash.info);
    gst_buffer_unref(buffer);
    int edge = 320;
    for (size_t i = 0; i < y.size(); i++)
      if (y[i] > 0) edge = std::min(edge, (int)(i % 320));
    left.push_back(edge);
  }
  int home = left[12];
  fail_unless_equals_int(left[11], home);
  fail_unless_equals_int(left[10], home);
  for (int n = 1; n < 10; n++) {
    int expected = std::max(0, home - (int)std::lround((1.0 - n / 10.0) * 32));
    fail_unless(std::abs(left[n] - expected) <= 1, "frame %d: left edge %d, expected %d", n, left[n],
                expected);
  }
}
GST_END_TEST;

/* Without a fade an item is on its frames [start, start + duration) exactly. */
GST_START_TEST(test_item_disappears_on_the_frame_its_duration_ends) {
  for (int fps : {25, 30, 60}) {
    Flash flash(fps);
    g_object_set(flash.element, "fade-duration", (guint64)0, NULL);
    fail_unless(flash.show("fullscreen", "Gone in a second", "options, duration=(guint64)1000000000") > 0);
    for (int n = 0; n <= fps; n++) {
      GstBuffer *buffer = flash.next();
      bool black = all_black(buffer, &flash.info);
      gst_buffer_unref(buffer);
      fail_unless(black == (n == fps), "%d fps, frame %d: %s", fps, n, black ? "clean" : "drawn");
    }
  }
}
GST_END_TEST;

/* Mean alpha of a white box over black in the area lit in `full`. */
static std::vector<size_t> lit_area(const std::vector<double> &full) {
  std::vector<size_t> area;
  for (size_t i = 0; i < full.size(); i++)
    if (full[i] > 200) area.push_back(i);
  return area;
}

static double mean_alpha(const std::vector<double> &frame, const std::vector<size_t> &area) {
  double sum = 0;
  for (size_t i : area) sum += frame[i];
  return sum / area.size() / 219.0;
}

/* An item removed or cleared leaves its queue at once (the message is
 * posted then, at the running time of the last frame) and fades out from
 * there over its fade time: 10 frames of 0.4 s at 25 fps. */
GST_START_TEST(test_removed_and_cleared_items_fade_out) {
  for (const char *layer : {"lower-third", "fullscreen", "crawl"}) {
    Flash flash(25);
    g_object_set(flash.element, "box-color", 0xffffffffu, "box-opacity", 1.0, "lower-third-slide", 0.0,
                 "fullscreen-dim", 0.0, "fade-duration", (guint64)0, NULL);
    bool crawl = g_str_equal(layer, "crawl");
    guint64 id =
        flash.show(layer, "Gone soon",
                   crawl ? "options, loops=0, fade=(guint64)400000000" : "options, fade=(guint64)400000000");
    fail_unless(id > 0);
    std::vector<std::vector<double>> frames;
    for (int n = 0; n < 22; n++) {
      if (n == 12 && crawl) g_signal_emit_by_name(flash.element, "clear", layer);
      if (n == 12 && !crawl) {
        gboolean removed = FALSE;
        g_signal_emit_by_name(flash.element, "remove", id, &removed);
        fail_unless(removed);
      }
      GstBuffer *buffer = flash.next();
      frames.push_back(luma(buffer, &flash.info));
      gst_buffer_unref(buffer);
    }
    std::vector<size_t> area = lit_area(frames[11]);
    fail_unless(area.size() > 300, "%s: %zu pixels lit", layer, area.size());
    fail_unless(mean_alpha(frames[11], area) > 0.97, "%s: alpha %.3f", layer, mean_alpha(frames[11], area));
    /* removed at frame 11's running time: alpha 1 - (n - 11) / 10 */
    for (int n = 12; n < 21; n++) {
      double expected = 1.0 - (n - 11) / 10.0;
      double alpha = mean_alpha(frames[n], area);
      fail_unless(std::fabs(alpha - expected) <= 0.05, "%s, frame %d: alpha %.3f, expected %.3f", layer, n,
                  alpha, expected);
    }
    for (double v : frames[21]) fail_unless(v == 0, "%s: still drawn after its fade", layer);
    std::vector<std::string> messages = flash.messages(25);
    fail_unless_equals_int(messages.size(), 2);
    std::string ended = "ended:" + std::to_string(id) + (crawl ? ":11:cleared" : ":11:removed");
    fail_unless_equals_string(messages[1].c_str(), ended.c_str());
  }
}
GST_END_TEST;

/* An item whose `expires` comes while it is on screen fades out so as to be
 * gone on the first frame at or after it, ended with reason "expired". */
GST_START_TEST(test_item_expires_on_screen) {
  Flash flash(25);
  g_object_set(flash.element, "box-color", 0xffffffffu, "box-opacity", 1.0, "lower-third-slide", 0.0, NULL);
  guint64 id = flash.show("lower-third", "Until one second",
                          "options, fade=(guint64)400000000, expires=(guint64)1000000000");
  fail_unless(id > 0);
  std::vector<std::vector<double>> frames;
  for (int n = 0; n < 27; n++) {
    GstBuffer *buffer = flash.next();
    frames.push_back(luma(buffer, &flash.info));
    gst_buffer_unref(buffer);
  }
  std::vector<size_t> area = lit_area(frames[12]);
  fail_unless(area.size() > 300);
  for (int n = 15; n < 25; n++)
    fail_unless(std::fabs(mean_alpha(frames[n], area) - (25 - n) / 10.0) <= 0.03, "frame %d: alpha %.3f", n,
                mean_alpha(frames[n], area));
  for (int n : {25, 26})
    for (double v : frames[n]) fail_unless(v == 0, "frame %d: drawn after it expired", n);
  std::vector<std::string> messages = flash.messages(25);
  fail_unless_equals_int(messages.size(), 2);
  std::string ended = "ended:" + std::to_string(id) + ":25:expired";
  fail_unless_equals_string(messages[1].c_str(), ended.c_str());
}
GST_END_TEST;

/* Style properties set while playing apply from the next frame, to the
 * items already on screen too; a style file set while playing likewise,
 * with every style key (lower-third-slide, crawl-separator included). */
GST_START_TEST(test_style_changes_while_playing) {
  Flash flash(25, "BGRx");
  g_object_set(flash.element, "box-color", 0xff0000ffu, "box-opacity", 1.0, "fade-duration", (guint64)0,
               "lower-third-slide", 0.0, NULL);
  fail_unless(flash.show("lower-third", "Style") > 0);
  /* the tape is measured again too */
  fail_unless(flash.show("crawl", "Ticker", "options, loops=0") > 0);
  auto count = [](GstBuffer *buffer, int channel) {
    std::vector<guint8> px = bytes(buffer);
    int n = 0;
    for (size_t i = 0; i + 3 < px.size(); i += 4)
      if (px[i + channel] > 200 && px[i + (channel + 1) % 3] < 50) n++;
    return n;
  };
  GstBuffer *buffer = flash.next();
  int blue = count(buffer, 0); /* BGRx: blue first */
  gst_buffer_unref(buffer);
  fail_unless(blue > 300, "%d blue pixels", blue);
  g_object_set(flash.element, "box-color", 0xffff0000u, NULL);
  buffer = flash.next();
  fail_unless(count(buffer, 2) >= blue * 9 / 10, "the box did not turn red on the next frame");
  fail_unless(count(buffer, 0) < blue / 10);
  gst_buffer_unref(buffer);

  gchar *dir = g_dir_make_tmp("newsflash-XXXXXX", NULL);
  gchar *path = g_build_filename(dir, "live.style", NULL);
  fail_unless(g_file_set_contents(path,
                                  "[newsflash]\nbox-color=0xff00ff00\nlower-third-slide=0.25\n"
                                  "crawl-separator=\\s|\\s\n",
                                  -1, NULL));
  g_object_set(flash.element, "style-location", path, NULL);
  buffer = flash.next();
  fail_unless(count(buffer, 1) >= blue * 9 / 10, "the style file's box colour is not used");
  gst_buffer_unref(buffer);
  gdouble slide = 0;
  gchar *separator = NULL;
  g_object_get(flash.element, "lower-third-slide", &slide, "crawl-separator", &separator, NULL);
  fail_unless_equals_float(slide, 0.25);
  fail_unless_equals_string(separator, " | ");
  g_free(separator);
  for (const std::string &m : flash.messages(25)) fail_if(m == "warning", "the style file was refused");
  g_unlink(path);
  g_rmdir(dir);
  g_free(path);
  g_free(dir);
}
GST_END_TEST;

/* After a flushing seek the running time starts again: the item on screen
 * starts again from its beginning and lasts its whole duration from there. */
GST_START_TEST(test_flush_restarts_the_items_on_screen) {
  Flash flash(25);
  g_object_set(flash.element, "fade-duration", (guint64)0, NULL);
  for (int n = 0; n < 10; n++) gst_buffer_unref(flash.next());
  guint64 id = flash.show("lower-third", "One second", "options, duration=(guint64)1000000000");
  for (int n = 10; n < 20; n++) {
    GstBuffer *buffer = flash.next();
    fail_if(all_black(buffer, &flash.info));
    gst_buffer_unref(buffer);
  }
  fail_unless(gst_harness_push_event(flash.h, gst_event_new_flush_start()));
  fail_unless(gst_harness_push_event(flash.h, gst_event_new_flush_stop(TRUE)));
  /* the next frame (pts 0.8 s) at running time 0 */
  GstSegment segment;
  gst_segment_init(&segment, GST_FORMAT_TIME);
  segment.start = 800 * GST_MSECOND;
  segment.time = 0;
  fail_unless(gst_harness_push_event(flash.h, gst_event_new_segment(&segment)));
  int drawn = 0;
  for (int n = 0; n < 40; n++) {
    GstBuffer *buffer = flash.next();
    if (!all_black(buffer, &flash.info)) drawn++;
    gst_buffer_unref(buffer);
  }
  fail_unless_equals_int(drawn, 25);
  std::vector<std::string> messages;
  for (const std::string &m : flash.messages(25))
    if (m != "warning") messages.push_back(m);
  std::string ID = std::to_string(id);
  std::vector<std::string> expected = {"started:" + ID + ":10", "started:" + ID + ":0",
                                       "ended:" + ID + ":25:done"};
  fail_unless_equals_int(messages.size(), expected.size());
  for (size_t i = 0; i < expected.size(); i++)
    fail_unless_equals_string(messages[i].c_str(), expected[i].c_str());
}
GST_END_TEST;

/* New caps mid-stream: the items on screen are laid out again at the new
 * size (without a size in font-desc the text follows the frame height). */
GST_START_TEST(test_caps_change_lays_out_again) {
  GstHarness *h = gst_harness_new("newsflash");
  g_object_set(h->element, "font-desc", "DejaVu Sans Bold", "fade-duration", (guint64)0, "box-color",
               0xffffffffu, "box-opacity", 1.0, NULL);
  guint64 id = 0;
  g_signal_emit_by_name(h->element, "show", "lower-third", "Resize", NULL, &id);
  fail_unless(id > 0);
  g_signal_emit_by_name(h->element, "show", "crawl", "Ticker", NULL, &id);
  fail_unless(id > 0);
  auto lit_rows = [&](int width, int height, GstClockTime pts) {
    gchar *caps = g_strdup_printf("video/x-raw,format=I420,width=%d,height=%d,framerate=25/1", width, height);
    gst_harness_set_caps_str(h, caps, caps);
    GstCaps *parsed = gst_caps_from_string(caps);
    GstVideoInfo info;
    gst_video_info_from_caps(&info, parsed);
    gst_caps_unref(parsed);
    g_free(caps);
    GstBuffer *buffer = gst_buffer_new_allocate(NULL, info.size, NULL);
    GstVideoFrame frame;
    gst_video_frame_map(&frame, &info, buffer, GST_MAP_WRITE);
    for (guint p = 0; p < 3; p++)
      memset(GST_VIDEO_FRAME_PLANE_DATA(&frame, p), p ? 128 : 16,
             GST_VIDEO_FRAME_PLANE_STRIDE(&frame, p) * GST_VIDEO_FRAME_COMP_HEIGHT(&frame, p));
    gst_video_frame_unmap(&frame);
    GST_BUFFER_PTS(buffer) = pts;
    GST_BUFFER_DURATION(buffer) = 40 * GST_MSECOND;
    fail_unless_equals_int(gst_harness_push(h, buffer), GST_FLOW_OK);
    GstBuffer *out = gst_harness_pull(h);
    std::vector<double> y = luma(out, &info);
    gst_buffer_unref(out);
    int rows = 0;
    for (int r = 0; r < height; r++)
      for (int c = 0; c < width; c++)
        if (y[(size_t)r * width + c] > 200) {
          rows++;
          break;
        }
    return rows;
  };
  int small = lit_rows(320, 180, 0);
  int large = lit_rows(640, 360, 40 * GST_MSECOND);
  fail_unless(small > 5);
  fail_unless(std::abs(large - 2 * small) <= 4, "box %d rows high at 180 and %d at 360", small, large);
  gst_harness_teardown(h);
}
GST_END_TEST;

/* ---- queue: pre-emption, reasons, get-queue ----------------------------- */

GST_START_TEST(test_priority_preempts_and_the_preempted_comes_back) {
  Flash flash(25);
  g_object_set(flash.element, "fade-duration", (guint64)0, NULL);
  guint64 a = flash.show("lower-third", "Regular programme", "options, subtitle=\"more later\"");
  fail_unless(a > 0);
  std::vector<std::vector<guint8>> frames;
  guint64 b = 0;
  for (int n = 0; n < 30; n++) {
    if (n == 10) {
      b = flash.show("lower-third", "<b>BREAKING</b>", "options, priority=5, duration=(guint64)400000000");
      fail_unless(b > a);
    }
    GstBuffer *buffer = flash.next();
    frames.push_back(bytes(buffer));
    gst_buffer_unref(buffer);
  }
  fail_unless(frames[5] == frames[9]);
  fail_unless(frames[5] != frames[10], "the breaking item did not pre-empt");
  fail_unless(frames[10] == frames[19]);
  fail_unless(frames[5] == frames[20], "the pre-empted item did not come back");
  std::vector<std::string> messages = flash.messages(25);
  std::vector<std::string> expected = {"started:1:0", "ended:1:10:preempted", "started:2:10",
                                       "ended:2:20:done", "started:1:20"};
  fail_unless_equals_int(messages.size(), expected.size());
  for (size_t i = 0; i < expected.size(); i++)
    fail_unless_equals_string(messages[i].c_str(), expected[i].c_str());
}
GST_END_TEST;

/* Crawl items follow each other on one tape: each is announced when it
 * enters the frame and ended when its last pass has left it; items of one
 * priority take turns, pass by pass, and the ticker is never empty between
 * the first entering and the last leaving. */
GST_START_TEST(test_crawl_items_follow_each_other_on_the_tape) {
  Flash flash(25);
  g_object_set(flash.element, "crawl-speed", 2000.0, "box-opacity", 0.0, "fade-duration", (guint64)0, NULL);
  guint64 a = flash.show("crawl", "A", "options, loops=2");
  guint64 b = flash.show("crawl", "B", "options, loops=2");
  std::vector<bool> lit;
  for (int n = 0; n < 30; n++) {
    GstBuffer *buffer = flash.next();
    lit.push_back(!all_black(buffer, &flash.info));
    gst_buffer_unref(buffer);
  }
  std::vector<std::string> messages = flash.messages(25);
  std::vector<std::string> order;
  std::vector<int> frames;
  for (const std::string &m : messages) {
    gchar **parts = g_strsplit(m.c_str(), ":", -1);
    frames.push_back(atoi(parts[2]));
    order.push_back(std::string(parts[0]) + ":" + parts[1] + (parts[3] ? std::string(":") + parts[3] : ""));
    g_strfreev(parts);
  }
  std::string A = std::to_string(a), B = std::to_string(b);
  std::vector<std::string> expected = {"started:" + A, "started:" + B, "ended:" + A + ":done",
                                       "ended:" + B + ":done"};
  fail_unless_equals_int(order.size(), expected.size());
  for (size_t i = 0; i < expected.size(); i++)
    fail_unless_equals_string(order[i].c_str(), expected[i].c_str());
  fail_unless(std::is_sorted(frames.begin(), frames.end()));
  /* B enters right behind A, not after A has crossed the frame (320 px at
   * 80 px a frame: 4 frames) */
  fail_unless(frames[1] - frames[0] <= 1, "B entered %d frames after A", frames[1] - frames[0]);
  for (int n = frames[0] + 1; n < frames[3]; n++) fail_unless(lit[n], "frame %d: the ticker is empty", n);
}
GST_END_TEST;

/* A crawl item taken off the tape leaves no hole in it: new crawl-text
 * enters at once, not after the old (long) text would have crossed. */
GST_START_TEST(test_crawl_text_replaced_enters_at_once) {
  Flash flash(25);
  g_object_set(flash.element, "crawl-speed", 100.0, "crawl-text",
               "A long line of news that takes many seconds to cross the frame, and then some more", NULL);
  for (int n = 0; n < 20; n++) gst_buffer_unref(flash.next());
  g_object_set(flash.element, "crawl-text", "New", NULL);
  for (int n = 20; n < 23; n++) gst_buffer_unref(flash.next());
  std::vector<std::string> messages = flash.messages(25);
  std::vector<std::string> expected = {"started:1:0", "ended:1:19:removed", "started:2:20"};
  fail_unless_equals_int(messages.size(), expected.size());
  for (size_t i = 0; i < expected.size(); i++)
    fail_unless_equals_string(messages[i].c_str(), expected[i].c_str());
}
GST_END_TEST;

/* Lit runs of columns in the crawl strip of an I420 frame, as centroids;
 * `whole` tells whether each run is clear of the frame's edges. */
static std::vector<double> bars(GstBuffer *buffer, GstVideoInfo *info, std::vector<bool> *whole) {
  std::vector<double> y = luma(buffer, info);
  int w = GST_VIDEO_INFO_WIDTH(info), h = GST_VIDEO_INFO_HEIGHT(info);
  std::vector<double> column(w, 0.0);
  for (int r = 0; r < h; r++)
    for (int c = 0; c < w; c++) column[c] += y[(size_t)r * w + c];
  std::vector<double> out;
  whole->clear();
  for (int c = 0; c < w;) {
    if (column[c] <= 0) {
      c++;
      continue;
    }
    double sum = 0, moment = 0;
    int first = c;
    for (; c < w && column[c] > 0; c++) sum += column[c], moment += column[c] * c;
    out.push_back(moment / sum);
    whole->push_back(first >= 2 && c <= w - 2);
  }
  return out;
}

/* Two items on the tape move as one: at 25, 30 and 60 fps every bar steps by
 * exactly speed / fps, also while the second enters behind the first, and
 * the distance between them (the first's width and the separator) never
 * changes. */
GST_START_TEST(test_crawl_moves_evenly_across_items) {
  const double speed = 100.0;
  for (int fps : {25, 30, 60}) {
    Flash flash(fps);
    g_object_set(flash.element, "crawl-speed", speed, "box-opacity", 0.0, "fade-duration", (guint64)0,
                 "crawl-separator", "          ", NULL);
    fail_unless(flash.show("crawl", "|") > 0);
    fail_unless(flash.show("crawl", "|") > 0);
    std::vector<double> previous, distances;
    std::vector<bool> whole, previous_whole;
    double max_step_error = 0;
    int steps = 0;
    for (int n = 0; n < fps * 3; n++) {
      GstBuffer *buffer = flash.next();
      std::vector<double> now = bars(buffer, &flash.info, &whole);
      gst_buffer_unref(buffer);
      bool all_whole = std::all_of(whole.begin(), whole.end(), [](bool b) { return b; });
      if (now.size() == 2 && all_whole) distances.push_back(now[1] - now[0]);
      /* the same bars, clear of the edges, on both frames */
      if (now.size() == previous.size() && !now.empty() && all_whole &&
          std::all_of(previous_whole.begin(), previous_whole.end(), [](bool b) { return b; })) {
        for (size_t i = 0; i < now.size(); i++) {
          max_step_error = std::max(max_step_error, std::fabs(previous[i] - now[i] - speed / fps));
          steps++;
        }
      }
      previous = now;
      previous_whole = whole;
    }
    fail_unless(distances.size() > (size_t)fps / 2, "%d fps: both items in view on %zu frames only", fps,
                distances.size());
    fail_unless(steps > fps * 2, "%d fps: %d steps measured", fps, steps);
    fail_unless(max_step_error <= 0.5, "%d fps: a step is off by %.3f px", fps, max_step_error);
    auto [low, high] = std::minmax_element(distances.begin(), distances.end());
    GST_INFO("%d fps: distance %.3f..%.3f px, worst step error %.3f px", fps, *low, *high, max_step_error);
    fail_unless(*high - *low <= 0.1, "%d fps: the distance between the items varies: %.3f..%.3f", fps, *low,
                *high);
  }
}
GST_END_TEST;

/* A breaking item cuts the tape: the items on it fade out where they are
 * and the breaking one enters from the right edge at once. */
GST_START_TEST(test_crawl_breaking_item_cuts_the_tape) {
  Flash flash(25);
  g_object_set(flash.element, "crawl-speed", 100.0, "box-opacity", 0.0, "fade-duration", (guint64)400000000,
               "crawl-separator", "", NULL);
  guint64 a = flash.show("crawl", "|");
  std::vector<std::vector<double>> seen;
  guint64 b = 0;
  for (int n = 0; n < 45; n++) {
    if (n == 30) b = flash.show("crawl", "|", "options, priority=5");
    GstBuffer *buffer = flash.next();
    std::vector<bool> whole;
    seen.push_back(bars(buffer, &flash.info, &whole));
    gst_buffer_unref(buffer);
  }
  std::vector<std::string> messages = flash.messages(25);
  std::string A = std::to_string(a), B = std::to_string(b);
  std::vector<std::string> expected = {"started:" + A + ":0", "ended:" + A + ":30:preempted",
                                       "started:" + B + ":30"};
  /* and A, waiting again, follows B on the tape */
  fail_unless_equals_int(messages.size(), expected.size() + 1);
  for (size_t i = 0; i < expected.size(); i++)
    fail_unless_equals_string(messages[i].c_str(), expected[i].c_str());
  fail_unless(g_str_has_prefix(messages[3].c_str(), ("started:" + A + ":").c_str()), "%s",
              messages[3].c_str());
  /* A is at 320 - 4 n (+ its place in the glyph); B enters at the right */
  fail_unless_equals_int(seen[29].size(), 1);
  double a_at = seen[29][0];
  for (int n = 31; n < 45; n++) {
    double a_now = a_at - 4 * (n - 29);
    bool a_seen =
        std::any_of(seen[n].begin(), seen[n].end(), [&](double x) { return std::fabs(x - a_now) < 3; });
    bool b_seen = std::any_of(seen[n].begin(), seen[n].end(), [&](double x) { return x > 250; });
    /* A fades out over 10 frames from frame 30 */
    fail_unless(a_seen == (n < 40), "frame %d: A %s", n, a_seen ? "still drawn" : "gone");
    fail_unless(b_seen, "frame %d: B is not entering", n);
  }
}
GST_END_TEST;

GST_START_TEST(test_reasons_and_get_queue) {
  Flash flash(25);
  guint64 a = flash.show("lower-third", "A");
  guint64 b = flash.show("lower-third", "B", "options, priority=-1");
  guint64 c = flash.show("crawl", "C", "options, priority=5, loops=0");
  guint64 d = flash.show("crawl", "D", "options, expires=(guint64)200000000");
  gst_buffer_unref(flash.next());

  GstStructure *queue = NULL;
  g_signal_emit_by_name(flash.element, "get-queue", &queue);
  fail_unless(queue != NULL);
  const GValue *crawl = gst_structure_get_value(queue, "crawl");
  fail_unless_equals_int(gst_value_array_get_size(crawl), 2);
  const GstStructure *head = gst_value_get_structure(gst_value_array_get_value(crawl, 0));
  guint64 id = 0;
  fail_unless(gst_structure_get_uint64(head, "id", &id));
  fail_unless_equals_uint64(id, c);
  fail_unless_equals_string(gst_structure_get_string(head, "state"), "playing");
  fail_unless_equals_string(
      gst_structure_get_string(gst_value_get_structure(gst_value_array_get_value(crawl, 1)), "state"),
      "waiting");
  fail_unless_equals_int(gst_value_array_get_size(gst_structure_get_value(queue, "lower-third")), 2);
  fail_unless_equals_int(gst_value_array_get_size(gst_structure_get_value(queue, "fullscreen")), 0);
  gst_structure_free(queue);

  gboolean removed = FALSE;
  g_signal_emit_by_name(flash.element, "remove", a, &removed);
  fail_unless(removed);
  g_signal_emit_by_name(flash.element, "remove", a, &removed);
  fail_if(removed);
  for (int n = 1; n < 6; n++) gst_buffer_unref(flash.next()); /* D expires waiting at frame 5 */
  g_signal_emit_by_name(flash.element, "clear", NULL);
  gst_buffer_unref(flash.next());

  std::vector<std::string> messages = flash.messages(25);
  auto has = [&](const std::string &m) {
    return std::find(messages.begin(), messages.end(), m) != messages.end();
  };
  std::string A = std::to_string(a), B = std::to_string(b), C = std::to_string(c), D = std::to_string(d);
  fail_unless(has("started:" + A + ":0"));
  fail_unless(has("started:" + C + ":0"));
  fail_unless(has("ended:" + A + ":0:removed"));
  fail_unless(has("started:" + B + ":1"));
  fail_unless(has("ended:" + D + ":5:expired"));
  fail_unless(has("ended:" + B + ":5:cleared"));
  fail_unless(has("ended:" + C + ":5:cleared"));
  fail_unless_equals_int(messages.size(), 7);
}
GST_END_TEST;

/* ---- bad input ---------------------------------------------------------- */

GST_START_TEST(test_bad_input_is_refused_and_the_stream_runs_on) {
  Flash flash(25);
  gst_buffer_unref(flash.next());
  fail_unless_equals_uint64(flash.show("sidebar", "hello"), 0);
  fail_unless_equals_uint64(flash.show("crawl", "<b>unclosed"), 0);
  fail_unless_equals_uint64(flash.show("lower-third", "fine", "options, subtitle=\"<i>bad</b>\""), 0);
  fail_unless_equals_uint64(flash.show("lower-third", "<span size=\"400000\">huge</span>"), 0);
  fail_unless_equals_uint64(flash.show("fullscreen", "dim", "options, dim=2.0"), 0);
  fail_unless_equals_uint64(flash.show("fullscreen", "dim", "options, priority=high"), 0);
  fail_unless_equals_uint64(flash.show("crawl", ""), 0);
  g_signal_emit_by_name(flash.element, "clear", "sidebar");
  std::vector<std::string> messages = flash.messages(25);
  fail_unless_equals_int(messages.size(), 8);
  for (const std::string &m : messages) fail_unless_equals_string(m.c_str(), "warning");
  /* a property with bad markup: a warning, the old value stays */
  g_object_set(flash.element, "crawl-text", "good", NULL);
  ASSERT_WARNING(g_object_set(flash.element, "crawl-text", "<b>bad", NULL));
  ASSERT_WARNING(g_object_set(flash.element, "font-desc", "Sans 50000", NULL));
  gchar *text = NULL;
  g_object_get(flash.element, "crawl-text", &text, NULL);
  fail_unless_equals_string(text, "good");
  g_free(text);
  /* and the stream goes on, with good items */
  fail_unless(flash.show("lower-third", "still here") > 0);
  for (int n = 0; n < 10; n++) gst_buffer_unref(flash.next());
}
GST_END_TEST;

/* ---- determinism -------------------------------------------------------- */

static std::vector<std::vector<guint8>> scenario() {
  Flash flash(30);
  g_object_set(flash.element, "crawl-text", "Markets close higher · <i>Rain</i> tomorrow · שלום", NULL);
  flash.show("lower-third", "Jane Doe", "options, subtitle=\"Correspondent\", duration=(guint64)1000000000");
  flash.show("fullscreen", "Disclaimer", "options, dim=0.5, duration=(guint64)800000000");
  std::vector<std::vector<guint8>> frames;
  for (int n = 0; n < 45; n++) {
    if (n == 20) flash.show("crawl", "<b>BREAKING</b>", "options, priority=3");
    GstBuffer *buffer = flash.next();
    frames.push_back(bytes(buffer));
    gst_buffer_unref(buffer);
  }
  return frames;
}

GST_START_TEST(test_two_runs_give_identical_frames) {
  auto run1 = scenario();
  auto run2 = scenario();
  fail_unless_equals_int(run1.size(), run2.size());
  for (size_t i = 0; i < run1.size(); i++) fail_unless(run1[i] == run2[i], "frame %zu differs", i);
}
GST_END_TEST;

/* ---- golden images ------------------------------------------------------ */

/* The frame at 1 s of one layer, compared with tests/data/newsflash-NAME.png. */
static void check_golden(const char *name, const std::function<void(Flash &)> &setup) {
  Flash flash(25, "BGRx");
  setup(flash);
  GstBuffer *buffer = NULL;
  for (int n = 0; n <= 25; n++) {
    if (buffer) gst_buffer_unref(buffer);
    buffer = flash.next();
  }
  GstVideoFrame frame;
  fail_unless(gst_video_frame_map(&frame, &flash.info, buffer, GST_MAP_READ));
  int w = GST_VIDEO_FRAME_WIDTH(&frame), h = GST_VIDEO_FRAME_HEIGHT(&frame);
  int stride = GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 0);
  const guint8 *data = (const guint8 *)GST_VIDEO_FRAME_PLANE_DATA(&frame, 0);

  const char *root = g_getenv("ONAIR_SOURCE_ROOT");
  fail_unless(root != NULL, "ONAIR_SOURCE_ROOT is not set");
  gchar *path = g_strdup_printf("%s/tests/data/newsflash-%s.png", root, name);
  if (g_strcmp0(g_getenv("ONAIR_UPDATE_GOLDEN"), "1") == 0) {
    /* BGRx is cairo's RGB24 on a little-endian machine */
    cairo_surface_t *out = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    for (int r = 0; r < h; r++)
      memcpy(cairo_image_surface_get_data(out) + r * cairo_image_surface_get_stride(out), data + r * stride,
             (size_t)w * 4);
    cairo_surface_mark_dirty(out);
    fail_unless_equals_int(cairo_surface_write_to_png(out, path), CAIRO_STATUS_SUCCESS);
    cairo_surface_destroy(out);
    GST_INFO("wrote %s", path);
  }
  cairo_surface_t *golden = cairo_image_surface_create_from_png(path);
  fail_unless_equals_int(cairo_surface_status(golden), CAIRO_STATUS_SUCCESS);
  fail_unless_equals_int(cairo_image_surface_get_width(golden), w);
  fail_unless_equals_int(cairo_image_surface_get_height(golden), h);
  const guint8 *ref = cairo_image_surface_get_data(golden);
  int ref_stride = cairo_image_surface_get_stride(golden);
  double squared = 0;
  bool drawn = false;
  for (int r = 0; r < h; r++)
    for (int c = 0; c < w; c++)
      for (int k = 0; k < 3; k++) {
        double d = (double)data[r * stride + c * 4 + k] - ref[r * ref_stride + c * 4 + k];
        squared += d * d;
        drawn = drawn || data[r * stride + c * 4 + k] > 0;
      }
  double mse = squared / (w * h * 3.0);
  double psnr = mse == 0 ? 99.0 : 10 * std::log10(255.0 * 255.0 / mse);
  GST_INFO("%s: PSNR %.2f dB", name, psnr);
  fail_unless(drawn, "%s: nothing drawn", name);
  fail_unless(psnr >= 40.0, "%s: PSNR %.2f dB against %s", name, psnr, path);
  cairo_surface_destroy(golden);
  gst_video_frame_unmap(&frame);
  gst_buffer_unref(buffer);
  g_free(path);
}

GST_START_TEST(test_golden_crawl) {
  check_golden("crawl", [](Flash &flash) {
    g_object_set(flash.element, "crawl-speed", 150.0, NULL);
    flash.show("crawl", "Markets <b>up</b> · שלום עולם · مرحبا", "options, loops=0");
  });
}
GST_END_TEST;

GST_START_TEST(test_golden_lower_third) {
  check_golden("lower-third", [](Flash &flash) {
    g_object_set(flash.element, "lower-third-title", "Jane <i>Doe</i>", "lower-third-subtitle",
                 "Correspondent · כתבת", "lower-third-position", 1, NULL);
  });
}
GST_END_TEST;

GST_START_TEST(test_golden_fullscreen) {
  check_golden("fullscreen", [](Flash &flash) {
    g_object_set(flash.element, "box-color", 0xffb00020u, NULL);
    flash.show("fullscreen", "<b>BREAKING NEWS</b>\nThe following contains flashing images",
               "options, dim=0.5");
  });
}
GST_END_TEST;

/* Colour emoji: some saturated pixels where only white text and a grey box
 * are drawn. */
GST_START_TEST(test_colour_emoji) {
  Flash flash(25, "BGRx");
  g_object_set(flash.element, "box-color", 0xff808080u, "fade-duration", (guint64)0, NULL);
  fail_unless(flash.show("lower-third", "Weather ☀️😀") > 0);
  GstBuffer *buffer = flash.next();
  std::vector<guint8> px = bytes(buffer);
  gst_buffer_unref(buffer);
  int coloured = 0;
  for (size_t i = 0; i + 3 < px.size(); i += 4) {
    int b = px[i], g = px[i + 1], r = px[i + 2];
    if (std::max({r, g, b}) - std::min({r, g, b}) > 80) coloured++;
  }
  fail_unless(coloured > 20, "only %d coloured pixels: is fonts-noto-color-emoji installed?", coloured);
}
GST_END_TEST;

/* ---- overlay paths ------------------------------------------------------ */

GST_START_TEST(test_overlay_meta_when_downstream_takes_it) {
  Flash flash(25, "I420", true);
  g_object_set(flash.element, "fade-duration", (guint64)0, NULL);
  flash.show("lower-third", "Meta");
  flash.show("crawl", "Ticker");
  flash.show("fullscreen", "Card", "options, dim=0.5");
  for (int n = 0; n < 3; n++) {
    GstBuffer *buffer = flash.next();
    GstVideoOverlayCompositionMeta *meta = gst_buffer_get_video_overlay_composition_meta(buffer);
    fail_unless(meta != NULL, "no overlay composition meta");
    /* the dim, the crawl, the lower third and the card */
    fail_unless_equals_int(gst_video_overlay_composition_n_rectangles(meta->overlay), 4);
    fail_unless(all_black(buffer, &flash.info), "the frame was drawn on");
    gst_buffer_unref(buffer);
  }
}
GST_END_TEST;

GST_START_TEST(test_blend_when_downstream_does_not) {
  Flash flash(25, "I420", false);
  g_object_set(flash.element, "fade-duration", (guint64)0, NULL);
  flash.show("lower-third", "Blend");
  GstBuffer *buffer = flash.next();
  fail_unless(gst_buffer_get_video_overlay_composition_meta(buffer) == NULL);
  fail_if(all_black(buffer, &flash.info), "nothing was blended");
  gst_buffer_unref(buffer);
}
GST_END_TEST;

/* Downstream takes the caps with the meta but does not list the meta in the
 * allocation query: newsflash renegotiates to the plain caps when downstream
 * takes them (as textoverlay does), else keeps the meta caps; it blends. */
GST_START_TEST(test_meta_caps_without_allocation_meta) {
  for (bool plain_too : {true, false}) {
    Flash flash(25, "I420");
    const char *with_meta =
        "video/x-raw(meta:GstVideoOverlayComposition),format=I420,width=320,height=180,"
        "framerate=25/1";
    std::string caps = with_meta;
    if (plain_too) caps += "; video/x-raw,format=I420,width=320,height=180,framerate=25/1";
    gst_harness_set_sink_caps_str(flash.h, caps.c_str());
    g_object_set(flash.element, "fade-duration", (guint64)0, NULL);
    flash.show("lower-third", "Blend");
    for (int n = 0; n < 3; n++) {
      GstBuffer *buffer = flash.next();
      fail_unless(gst_buffer_get_video_overlay_composition_meta(buffer) == NULL);
      fail_if(all_black(buffer, &flash.info), "nothing was blended");
      gst_buffer_unref(buffer);
    }
    GstCaps *current = gst_pad_get_current_caps(flash.h->sinkpad);
    fail_unless(current != NULL);
    bool has_meta = gst_caps_features_contains(gst_caps_get_features(current, 0),
                                               GST_CAPS_FEATURE_META_GST_VIDEO_OVERLAY_COMPOSITION);
    fail_unless(has_meta == !plain_too, "negotiated %" GST_PTR_FORMAT, current);
    gst_caps_unref(current);
  }
}
GST_END_TEST;

/* ---- formats ------------------------------------------------------------ */

/* The same scene (the three layers, the picture dimmed) on a flat colour in
 * `format`, converted to I420. */
static std::vector<guint8> scene_as_i420(const char *format) {
  GstHarness *h = gst_harness_new("newsflash");
  g_object_set(h->element, "font-desc", FONT, "fade-duration", (guint64)0, "crawl-speed", 150.0, NULL);
  gchar *caps = g_strdup_printf("video/x-raw,format=%s,width=320,height=180,framerate=25/1", format);
  gchar *src = g_strdup_printf(
      "videotestsrc pattern=solid-color foreground-color=0xff5080b0 num-buffers=20 ! capsfilter caps=\"%s\"",
      caps);
  gst_harness_add_src_parse(h, src, FALSE);
  gst_harness_set_sink_caps_str(h, caps);
  guint64 id = 0;
  g_signal_emit_by_name(h->element, "show", "crawl", "Markets <b>up</b> · Rain", NULL, &id);
  g_signal_emit_by_name(h->element, "show", "lower-third", "Jane Doe", NULL, &id);
  GstStructure *options = gst_structure_new("options", "dim", G_TYPE_DOUBLE, 0.5, NULL);
  g_signal_emit_by_name(h->element, "show", "fullscreen", "Card", options, &id);
  gst_structure_free(options);
  GstBuffer *buffer = NULL;
  for (int n = 0; n < 12; n++) {
    if (buffer) gst_buffer_unref(buffer);
    fail_unless_equals_int(gst_harness_push_from_src(h), GST_FLOW_OK);
    buffer = gst_harness_pull(h);
  }
  GstCaps *parsed = gst_caps_from_string(caps);
  GstVideoInfo in_info, out_info;
  fail_unless(gst_video_info_from_caps(&in_info, parsed));
  gst_caps_unref(parsed);
  gst_video_info_set_format(&out_info, GST_VIDEO_FORMAT_I420, 320, 180);
  out_info.colorimetry = in_info.colorimetry;
  out_info.fps_n = in_info.fps_n;
  out_info.fps_d = in_info.fps_d;
  if (GST_VIDEO_INFO_IS_RGB(&in_info)) gst_video_colorimetry_from_string(&out_info.colorimetry, "bt601");
  GstBuffer *out = gst_buffer_new_allocate(NULL, out_info.size, NULL);
  GstVideoFrame in_frame, out_frame;
  fail_unless(gst_video_frame_map(&in_frame, &in_info, buffer, GST_MAP_READ));
  fail_unless(gst_video_frame_map(&out_frame, &out_info, out, GST_MAP_WRITE));
  GstVideoConverter *converter = gst_video_converter_new(&in_info, &out_info, NULL);
  gst_video_converter_frame(converter, &in_frame, &out_frame);
  gst_video_converter_free(converter);
  gst_video_frame_unmap(&out_frame);
  gst_video_frame_unmap(&in_frame);
  std::vector<guint8> result = bytes(out);
  gst_buffer_unref(out);
  gst_buffer_unref(buffer);
  gst_harness_teardown(h);
  g_free(src);
  g_free(caps);
  return result;
}

/* PSNR of two I420 320x180 pictures, luma and chroma apart. */
static void check_close(const char *format, const std::vector<guint8> &got, const std::vector<guint8> &ref,
                        bool luma_only) {
  fail_unless_equals_int(got.size(), ref.size());
  size_t luma_size = 320 * 180;
  auto psnr = [&](size_t from, size_t to) {
    double squared = 0;
    for (size_t i = from; i < to; i++) squared += ((double)got[i] - ref[i]) * ((double)got[i] - ref[i]);
    double mse = squared / (to - from);
    return mse == 0 ? 99.0 : 10 * std::log10(255.0 * 255.0 / mse);
  };
  double y = psnr(0, luma_size), uv = psnr(luma_size, ref.size());
  GST_INFO("%s: PSNR Y %.2f dB, UV %.2f dB", format, y, uv);
  fail_unless(y >= 30, "%s: luma PSNR %.2f dB against I420", format, y);
  if (!luma_only) fail_unless(uv >= 30, "%s: chroma PSNR %.2f dB against I420", format, uv);
}

static void check_formats(std::initializer_list<const char *> formats) {
  std::vector<guint8> ref = scene_as_i420("I420");
  for (const char *format : formats)
    check_close(format, scene_as_i420(format), ref, g_str_equal(format, "GRAY8"));
}

GST_START_TEST(test_formats_planar_yuv) {
  check_formats({"YV12", "NV12", "NV21", "Y42B", "Y444", "Y41B", "NV16", "NV61", "NV24", "A420", "GRAY8"});
}
GST_END_TEST;

GST_START_TEST(test_formats_packed_yuv) {
  check_formats({"YUY2", "UYVY", "YVYU", "VYUY", "AYUV", "v308", "IYU2"});
}
GST_END_TEST;

GST_START_TEST(test_formats_rgb) {
  check_formats({"BGRx", "BGRA", "RGBx", "RGBA", "xRGB", "ARGB", "xBGR", "ABGR", "RGB", "BGR"});
}
GST_END_TEST;

/* ---- static use and style file ------------------------------------------ */

GST_START_TEST(test_gst_launch_with_properties) {
  GError *error = NULL;
  GstElement *pipeline = gst_parse_launch(
      "videotestsrc num-buffers=40 ! video/x-raw,width=320,height=180,framerate=25/1 ! newsflash "
      "crawl-text=\"Hello <b>world</b>\" lower-third-title=Title fullscreen-text=Card ! fakesink",
      &error);
  fail_unless(pipeline != NULL, "%s", error ? error->message : "");
  fail_unless_equals_int(gst_element_set_state(pipeline, GST_STATE_PLAYING), GST_STATE_CHANGE_ASYNC);
  GstBus *bus = gst_element_get_bus(pipeline);
  GstMessage *m =
      gst_bus_timed_pop_filtered(bus, 30 * GST_SECOND, (GstMessageType)(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  fail_unless(m != NULL && GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS);
  gst_message_unref(m);
  gst_object_unref(bus);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);
}
GST_END_TEST;

GST_START_TEST(test_style_file) {
  gchar *dir = g_dir_make_tmp("newsflash-XXXXXX", NULL);
  gchar *good = g_build_filename(dir, "good.style", NULL);
  gchar *bad = g_build_filename(dir, "bad.style", NULL);
  fail_unless(g_file_set_contents(good,
                                  "[newsflash]\nfont-desc=DejaVu Sans 12\nbox-color=0xffb00020\n"
                                  "box-opacity=0.5\nlower-third-position=right\ncrawl-speed=150\n",
                                  -1, NULL));
  fail_unless(g_file_set_contents(bad, "[newsflash]\nbox-colour=red\n", -1, NULL));

  GstElement *element = gst_element_factory_make("newsflash", NULL);
  g_object_set(element, "style-location", good, NULL);
  fail_unless(gst_element_set_state(element, GST_STATE_PAUSED) != GST_STATE_CHANGE_FAILURE);
  guint color;
  gdouble opacity, speed;
  gint position;
  gchar *font;
  g_object_get(element, "box-color", &color, "box-opacity", &opacity, "crawl-speed", &speed,
               "lower-third-position", &position, "font-desc", &font, NULL);
  fail_unless_equals_int(color, 0xffb00020u);
  fail_unless_equals_float(opacity, 0.5);
  fail_unless_equals_float(speed, 150.0);
  fail_unless_equals_int(position, 2);
  fail_unless_equals_string(font, "DejaVu Sans 12");
  g_free(font);
  gst_element_set_state(element, GST_STATE_NULL);

  GstBus *bus = gst_bus_new();
  gst_element_set_bus(element, bus);
  g_object_set(element, "style-location", bad, NULL);
  fail_unless_equals_int(gst_element_set_state(element, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  GstMessage *m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
  fail_unless(m != NULL);
  GError *error = NULL;
  gst_message_parse_error(m, &error, NULL);
  fail_unless(strstr(error->message, "box-colour") != NULL, "%s", error->message);
  fail_unless(strstr(error->message, "bad.style") != NULL, "%s", error->message);
  g_error_free(error);
  gst_message_unref(m);
  gst_element_set_state(element, GST_STATE_NULL);
  gst_element_set_bus(element, NULL);
  gst_object_unref(bus);
  gst_object_unref(element);
  g_unlink(good);
  g_unlink(bad);
  g_rmdir(dir);
  g_free(good);
  g_free(bad);
  g_free(dir);
}
GST_END_TEST;

static Suite *newsflash_suite(void) {
  Suite *s = suite_create("newsflash");
  TCase *tc = tcase_create("general");
  tcase_set_timeout(tc, 120);
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_crawl_moves_evenly);
  tcase_add_test(tc, test_fade_ramps_and_item_ends_on_time);
  tcase_add_test(tc, test_lower_third_slides_in);
  tcase_add_test(tc, test_item_disappears_on_the_frame_its_duration_ends);
  tcase_add_test(tc, test_priority_preempts_and_the_preempted_comes_back);
  tcase_add_test(tc, test_crawl_items_follow_each_other_on_the_tape);
  tcase_add_test(tc, test_crawl_moves_evenly_across_items);
  tcase_add_test(tc, test_crawl_text_replaced_enters_at_once);
  tcase_add_test(tc, test_crawl_breaking_item_cuts_the_tape);
  tcase_add_test(tc, test_reasons_and_get_queue);
  tcase_add_test(tc, test_removed_and_cleared_items_fade_out);
  tcase_add_test(tc, test_item_expires_on_screen);
  tcase_add_test(tc, test_style_changes_while_playing);
  tcase_add_test(tc, test_flush_restarts_the_items_on_screen);
  tcase_add_test(tc, test_caps_change_lays_out_again);
  tcase_add_test(tc, test_bad_input_is_refused_and_the_stream_runs_on);
  tcase_add_test(tc, test_two_runs_give_identical_frames);
  tcase_add_test(tc, test_golden_crawl);
  tcase_add_test(tc, test_golden_lower_third);
  tcase_add_test(tc, test_golden_fullscreen);
  tcase_add_test(tc, test_colour_emoji);
  tcase_add_test(tc, test_overlay_meta_when_downstream_takes_it);
  tcase_add_test(tc, test_blend_when_downstream_does_not);
  tcase_add_test(tc, test_meta_caps_without_allocation_meta);
  tcase_add_test(tc, test_formats_planar_yuv);
  tcase_add_test(tc, test_formats_packed_yuv);
  tcase_add_test(tc, test_formats_rgb);
  tcase_add_test(tc, test_gst_launch_with_properties);
  tcase_add_test(tc, test_style_file);
  return s;
}

GST_CHECK_MAIN(newsflash);
