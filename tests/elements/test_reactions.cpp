/* onair — reactions: exact windows, timed metadata, determinism, a spike,
 * refused kinds, super reactions, both overlay paths
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* C++ and project headers before gstcheck.h, whose fail() macro breaks <iostream> */
#include <gst/video/video.h>

#include <map>
#include <string>
#include <vector>

#include "common/timedmetadata.h"

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

static const char *CAPS = "video/x-raw,format=I420,width=320,height=240,framerate=30/1";
static const char *META_CAPS =
    "video/x-raw(meta:GstVideoOverlayComposition),format=I420,width=320,height=240,framerate=30/1";

/* frame number -> adds made from the sink pad probe, right before it */
struct Add {
  const char *kind;
  guint count;
  bool super;
};
using Schedule = std::map<guint64, std::vector<Add>>;

struct ProbeData {
  GstElement *element;
  const Schedule *schedule;
  guint64 frame = 0;
  std::vector<gboolean> results;
};

static GstPadProbeReturn add_probe(GstPad *, GstPadProbeInfo *, gpointer user_data) {
  ProbeData *data = static_cast<ProbeData *>(user_data);
  auto it = data->schedule->find(data->frame++);
  if (it == data->schedule->end()) return GST_PAD_PROBE_OK;
  for (const Add &add : it->second) {
    gboolean ok = FALSE;
    if (add.super)
      g_signal_emit_by_name(data->element, "add-super", add.kind, &ok);
    else
      g_signal_emit_by_name(data->element, "add", add.kind, add.count, &ok);
    data->results.push_back(ok);
  }
  return GST_PAD_PROBE_OK;
}

struct Run {
  std::vector<onair::TimedMetadata> events;
  std::vector<std::string> messages; /* "id start duration total counts" */
  std::vector<std::string> checksums;
  std::vector<std::vector<std::pair<guint, guint>>> rect_sizes; /* meta path */
  std::vector<gboolean> add_results;
  guint64 frames_out = 0;
  guint64 max_sprites_drawn = 0;
  guint64 stats_frames = 0, processing_time = 0;
  std::string totals;
  bool had_meta = false;
};

static Run run(const Schedule &schedule, guint frames, bool meta, const char *properties = "") {
  GstElement *element = gst_element_factory_make("reactions", NULL);
  gchar **pairs = g_strsplit((std::string("seed=7 ") + properties).c_str(), " ", -1);
  for (gchar **pair = pairs; *pair; pair++) {
    gchar **kv = g_strsplit(*pair, "=", 2);
    if (kv[0] && kv[1]) gst_util_set_object_arg(G_OBJECT(element), kv[0], kv[1]);
    g_strfreev(kv);
  }
  g_strfreev(pairs);
  GstHarness *h = gst_harness_new_with_element(element, "sink", "src");
  gst_object_unref(element);
  GstBus *bus = gst_bus_new();
  gst_element_set_bus(h->element, bus);
  if (meta) gst_harness_add_propose_allocation_meta(h, GST_VIDEO_OVERLAY_COMPOSITION_META_API_TYPE, NULL);
  gst_harness_set_caps_str(h, CAPS, meta ? META_CAPS : CAPS);
  ProbeData data{h->element, &schedule};
  GstPad *sinkpad = gst_element_get_static_pad(h->element, "sink");
  gst_pad_add_probe(sinkpad, GST_PAD_PROBE_TYPE_BUFFER, add_probe, &data, NULL);
  gst_object_unref(sinkpad);

  Run result;
  GstVideoInfo info;
  gst_video_info_from_caps(&info, gst_caps_from_string(CAPS));
  for (guint i = 0; i < frames; i++) {
    GstBuffer *buffer = gst_buffer_new_allocate(NULL, info.size, NULL);
    gst_buffer_memset(buffer, 0, 0x40, info.size);
    GST_BUFFER_PTS(buffer) = gst_util_uint64_scale(i, GST_SECOND, 30);
    GST_BUFFER_DURATION(buffer) = gst_util_uint64_scale(1, GST_SECOND, 30);
    fail_unless_equals_int(gst_harness_push(h, buffer), GST_FLOW_OK);
    GstBuffer *out = gst_harness_pull(h);
    result.frames_out++;
    GstMapInfo map;
    gst_buffer_map(out, &map, GST_MAP_READ);
    gchar *sum = g_compute_checksum_for_data(G_CHECKSUM_SHA1, map.data, map.size);
    gst_buffer_unmap(out, &map);
    std::string checksum = sum;
    g_free(sum);
    GstVideoOverlayCompositionMeta *composition = gst_buffer_get_video_overlay_composition_meta(out);
    std::vector<std::pair<guint, guint>> sizes;
    if (composition) {
      result.had_meta = true;
      for (guint r = 0; r < gst_video_overlay_composition_n_rectangles(composition->overlay); r++) {
        GstVideoOverlayRectangle *rect = gst_video_overlay_composition_get_rectangle(composition->overlay, r);
        gint x, y;
        guint w, hh;
        gst_video_overlay_rectangle_get_render_rectangle(rect, &x, &y, &w, &hh);
        sizes.emplace_back(w, hh);
        checksum += " " + std::to_string(x) + "," + std::to_string(y);
      }
    }
    result.rect_sizes.push_back(sizes);
    result.checksums.push_back(checksum);
    gst_buffer_unref(out);
  }
  gst_harness_push_event(h, gst_event_new_eos());
  for (GstEvent *event; (event = gst_harness_try_pull_event(h));) {
    onair::TimedMetadata metadata;
    if (onair::parse_timed_metadata_event(event, &metadata)) result.events.push_back(metadata);
    gst_event_unref(event);
  }
  for (GstMessage *message; (message = gst_bus_pop_filtered(bus, GST_MESSAGE_ELEMENT));) {
    const GstStructure *s = gst_message_get_structure(message);
    if (gst_structure_has_name(s, "reactions-window")) {
      guint64 start = 0, duration = 0, total = 0;
      gst_structure_get_uint64(s, "start", &start);
      gst_structure_get_uint64(s, "duration", &duration);
      gst_structure_get_uint64(s, "total", &total);
      result.messages.push_back(std::string(gst_structure_get_string(s, "id")) + " " + std::to_string(start) +
                                " " + std::to_string(duration) + " " + std::to_string(total) + " " +
                                gst_structure_get_string(s, "counts"));
    }
    gst_message_unref(message);
  }
  GstStructure *stats = NULL;
  g_signal_emit_by_name(h->element, "get-stats", &stats);
  fail_unless(stats != NULL);
  gst_structure_get_uint64(stats, "max-sprites-drawn", &result.max_sprites_drawn);
  gst_structure_get_uint64(stats, "frames", &result.stats_frames);
  gst_structure_get_uint64(stats, "processing-time", &result.processing_time);
  result.totals = gst_structure_get_string(stats, "totals");
  gst_structure_free(stats);
  result.add_results = data.results;
  gst_element_set_bus(h->element, NULL);
  gst_object_unref(bus);
  gst_harness_teardown(h);
  return result;
}

/* frame 15 (500 ms) opens window 1, frame 30 window 2, frame 45 window 3 */
static const Schedule SCHEDULE = {
    {0, {{"👍", 3, false}}},  {5, {{"❤️", 2, false}, {"like", 1, false}}},
    {14, {{"😂", 1, false}}}, {16, {{"😂", 7, false}, {"🔥", 1, true}}},
    {40, {{"👏", 5, false}}}, {59, {{"😢", 2, false}}},
};

GST_START_TEST(test_windows_have_exact_counts) {
  Run r = run(SCHEDULE, 60, false);
  fail_unless_equals_int(r.frames_out, 60);
  /* the element's own CPU time is accounted: more than nothing (it blends
   * sprites into 60 frames), less than the whole run took */
  fail_unless_equals_int(r.stats_frames, 60);
  fail_unless(r.processing_time > 0 && r.processing_time < 60 * GST_SECOND,
              "processing-time %" G_GUINT64_FORMAT, r.processing_time);
  fail_unless_equals_int(r.events.size(), 4);
  fail_unless_equals_string(r.events[0].id.c_str(), "reactions-0");
  fail_unless_equals_uint64(r.events[0].running_time, 0);
  fail_unless_equals_uint64(r.events[0].duration, 500 * GST_MSECOND);
  fail_unless_equals_string(r.events[0].payload.c_str(), "{\"👍\":4,\"❤️\":2,\"😂\":1}");
  fail_unless_equals_string(r.events[0].hls_class.c_str(), "com.onair.reactions");
  fail_unless_equals_string(r.events[0].hls_attribute.c_str(), "X-REACTIONS");
  fail_unless_equals_string(r.events[0].dash_scheme.c_str(), "urn:onair:reactions:2026");
  fail_unless_equals_string(r.events[1].id.c_str(), "reactions-1");
  fail_unless_equals_uint64(r.events[1].running_time, 500 * GST_MSECOND);
  fail_unless_equals_string(r.events[1].payload.c_str(), "{\"😂\":7,\"🔥\":1}");
  /* window 2 (frames 30-44) has the 👏; window 3 the 😢, sent at EOS */
  fail_unless_equals_string(r.events[2].id.c_str(), "reactions-2");
  fail_unless_equals_string(r.events[2].payload.c_str(), "{\"👏\":5}");
  fail_unless_equals_string(r.events[3].id.c_str(), "reactions-3");
  fail_unless_equals_string(r.events[3].payload.c_str(), "{\"😢\":2}");
  fail_unless_equals_int(r.messages.size(), 4);
  fail_unless_equals_string(r.messages[0].c_str(),
                            "reactions-0 0 500000000 7 {\"👍\":4,\"❤️\":2,\"😂\":1}");
  fail_unless_equals_string(r.messages[1].c_str(), "reactions-1 500000000 500000000 8 {\"😂\":7,\"🔥\":1}");
  for (gboolean ok : r.add_results) fail_unless(ok);
}
GST_END_TEST;

/* 60 frames are 0-1967 ms: frame 59 is in window 3, sent at EOS */
GST_START_TEST(test_last_window_sent_at_eos) {
  Schedule schedule = {{59, {{"😢", 2, false}}}};
  Run r = run(schedule, 60, false);
  fail_unless_equals_int(r.events.size(), 1);
  fail_unless_equals_string(r.events[0].id.c_str(), "reactions-3");
  fail_unless_equals_uint64(r.events[0].running_time, 1500 * GST_MSECOND);
  fail_unless_equals_string(r.events[0].payload.c_str(), "{\"😢\":2}");
}
GST_END_TEST;

GST_START_TEST(test_frames_identical_between_runs) {
  Run a = run(SCHEDULE, 60, false);
  Run b = run(SCHEDULE, 60, false);
  fail_unless(a.checksums == b.checksums);
  /* and something was drawn */
  Run empty = run({}, 60, false);
  int differing = 0;
  for (size_t i = 0; i < a.checksums.size(); i++) differing += a.checksums[i] != empty.checksums[i];
  fail_unless(differing > 30, "only %d frames show reactions", differing);
  /* another seed, other paths */
  Run c = run(SCHEDULE, 60, false, "seed=8");
  fail_unless(a.checksums != c.checksums);
}
GST_END_TEST;

GST_START_TEST(test_spike_keeps_counts_and_frames) {
  Schedule schedule = {{3, {{"🔥", 100000, false}, {"👍", 1, false}}}, {4, {{"❤️", 100000, false}}}};
  Run r = run(schedule, 45, false, "max-sprites=40");
  fail_unless_equals_int(r.frames_out, 45);
  fail_unless_equals_int(r.events.size(), 1);
  fail_unless_equals_string(r.events[0].payload.c_str(), "{\"👍\":1,\"❤️\":100000,\"🔥\":100000}");
  fail_unless(r.max_sprites_drawn > 0);
  fail_unless(r.max_sprites_drawn <= 40, "%" G_GUINT64_FORMAT " sprites drawn", r.max_sprites_drawn);
  fail_unless_equals_string(r.totals.c_str(), "{\"👍\":1,\"❤️\":100000,\"🔥\":100000}");
}
GST_END_TEST;

GST_START_TEST(test_unknown_kind_refused) {
  Schedule schedule = {{2, {{"🦄", 1, false}, {"unicorn", 1, true}, {"", 3, false}, {"❤", 1, false}}}};
  Run r = run(schedule, 20, false);
  fail_unless_equals_int(r.add_results.size(), 4);
  fail_if(r.add_results[0]);
  fail_if(r.add_results[1]);
  fail_if(r.add_results[2]);
  fail_unless(r.add_results[3]); /* without U+FE0F */
  fail_unless_equals_int(r.frames_out, 20);
  fail_unless_equals_int(r.events.size(), 1);
  fail_unless_equals_string(r.events[0].payload.c_str(), "{\"❤️\":1}");
}
GST_END_TEST;

/* one sprite each: the composed picture is the sprite's size */
GST_START_TEST(test_super_drawn_bigger) {
  Run plain = run({{1, {{"👍", 1, false}}}}, 10, true, "show-counters=false");
  Run super = run({{1, {{"👍", 1, true}}}}, 10, true, "show-counters=false");
  fail_unless(plain.had_meta && super.had_meta);
  fail_unless_equals_int(plain.rect_sizes[5].size(), 1);
  fail_unless_equals_int(super.rect_sizes[5].size(), 1);
  guint p = plain.rect_sizes[5][0].first, s = super.rect_sizes[5][0].first;
  fail_unless(s > p * 2, "super %u px, plain %u px", s, p);
  /* and floats longer: the plain one is gone after its 2 s, the super one not */
  Run plain_late = run({{1, {{"👍", 1, false}}}}, 75, true, "show-counters=false");
  Run super_late = run({{1, {{"👍", 1, true}}}}, 75, true, "show-counters=false");
  fail_unless_equals_int(plain_late.rect_sizes[70].size(), 0);
  fail_unless_equals_int(super_late.rect_sizes[70].size(), 1);
}
GST_END_TEST;

GST_START_TEST(test_meta_and_blend_paths) {
  Run meta = run(SCHEDULE, 30, true);
  Run blend = run(SCHEDULE, 30, false);
  fail_unless(meta.had_meta);
  fail_if(blend.had_meta);
  /* the meta path leaves the pixels alone; the blend path draws them */
  Run empty = run({}, 30, false, "show-counters=false");
  for (size_t i = 0; i < meta.checksums.size(); i++)
    fail_unless(meta.checksums[i].substr(0, 40) == empty.checksums[i].substr(0, 40), "frame %zu: %s", i,
                meta.checksums[i].c_str());
  fail_unless(blend.checksums[10] != empty.checksums[10]);
  fail_unless_equals_int(meta.events.size(), blend.events.size());
}
GST_END_TEST;

GST_START_TEST(test_invalid_kinds_property) {
  GstElement *element = gst_element_factory_make("reactions", NULL);
  g_object_set(element, "kinds", "a,\"b", NULL);
  gchar *kinds = NULL;
  g_object_get(element, "kinds", &kinds, NULL);
  fail_unless_equals_string(kinds, "👍,❤️,😂,😮,😢,👏,🔥");
  g_free(kinds);
  g_object_set(element, "kinds", "🎉,💯", NULL);
  gboolean ok = FALSE;
  g_signal_emit_by_name(element, "add", "💯", 2u, &ok);
  fail_unless(ok);
  g_signal_emit_by_name(element, "add", "👍", 2u, &ok);
  fail_if(ok);
  gst_object_unref(element);
}
GST_END_TEST;

static Suite *reactions_suite(void) {
  Suite *s = suite_create("reactions");
  TCase *tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_windows_have_exact_counts);
  tcase_add_test(tc, test_last_window_sent_at_eos);
  tcase_add_test(tc, test_frames_identical_between_runs);
  tcase_add_test(tc, test_spike_keeps_counts_and_frames);
  tcase_add_test(tc, test_unknown_kind_refused);
  tcase_add_test(tc, test_super_drawn_bigger);
  tcase_add_test(tc, test_meta_and_blend_paths);
  tcase_add_test(tc, test_invalid_kinds_property);
  return s;
}

GST_CHECK_MAIN(reactions);
