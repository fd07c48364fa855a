/* onair — cutting mp4mux's fragmented output into CMAF segments
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* C++ and project headers before gstcheck.h, whose fail() macro breaks <iostream> */
#include <gst/app/gstappsink.h>
#include <random>
#include "fmp4.h"
#include <gst/check/gstcheck.h>

using onair::Fmp4Fragment;
using onair::Fmp4Splitter;

/* 60 frames at 30 fps with a keyframe every 10, through the real muxer. */
static std::vector<uint8_t> make_fragmented_mp4(const char *encoder_options) {
  gchar *description = g_strdup_printf(
      "videotestsrc num-buffers=60 ! video/x-raw,width=160,height=90,framerate=30/1 ! "
      "x264enc %s key-int-max=10 speed-preset=ultrafast ! h264parse ! "
      "mp4mux fragment-duration=100000 streamable=true ! appsink name=out sync=false",
      encoder_options);
  GstElement *pipeline = gst_parse_launch(description, NULL);
  g_free(description);
  fail_unless(pipeline != NULL);
  GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "out");
  fail_unless_equals_int(gst_element_set_state(pipeline, GST_STATE_PLAYING), GST_STATE_CHANGE_ASYNC);
  std::vector<uint8_t> bytes;
  while (GstSample *sample = gst_app_sink_pull_sample(GST_APP_SINK(sink))) {
    GstMapInfo map;
    GstBuffer *buffer = gst_sample_get_buffer(sample);
    gst_buffer_map(buffer, &map, GST_MAP_READ);
    bytes.insert(bytes.end(), map.data, map.data + map.size);
    gst_buffer_unmap(buffer, &map);
    gst_sample_unref(sample);
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(sink);
  gst_object_unref(pipeline);
  return bytes;
}

struct Collected {
  std::vector<uint8_t> init;
  std::vector<Fmp4Fragment> fragments;
};

static void collect(Fmp4Splitter &splitter, Collected *out) {
  splitter.on_init = [out](std::vector<uint8_t> init) { out->init = std::move(init); };
  splitter.on_fragment = [out](Fmp4Fragment f) { out->fragments.push_back(std::move(f)); };
}

static void push_in_random_chunks(Fmp4Splitter &splitter, const std::vector<uint8_t> &bytes, unsigned seed) {
  std::mt19937 random(seed);
  size_t pos = 0;
  while (pos < bytes.size()) {
    size_t n = std::min<size_t>(bytes.size() - pos, 1 + random() % 5000);
    fail_unless(splitter.push(bytes.data() + pos, n), "%s", splitter.error().c_str());
    pos += n;
  }
}

GST_START_TEST(test_split_on_keyframes) {
  std::vector<uint8_t> bytes = make_fragmented_mp4("bframes=2");
  Fmp4Splitter splitter;
  Collected out;
  collect(splitter, &out);
  push_in_random_chunks(splitter, bytes, 1);

  fail_unless(out.init.size() > 16);
  fail_unless(memcmp(out.init.data() + 4, "ftyp", 4) == 0);
  fail_unless(std::search(out.init.begin(), out.init.end(), "moov", "moov" + 4) != out.init.end());
  fail_unless_equals_int(out.fragments.size(), 6);
  uint32_t timescale = splitter.timescale();
  fail_unless(timescale > 0);
  uint64_t expected_start = out.fragments[0].decode_time;
  for (const Fmp4Fragment &f : out.fragments) {
    fail_unless(f.starts_with_sync);
    fail_unless_equals_int(f.samples, 10);
    fail_unless_equals_uint64(f.decode_time, expected_start);
    /* 10 frames of 1/30 s */
    fail_unless_equals_uint64(f.duration * 3, timescale);
    fail_unless(memcmp(f.data.data() + 4, "moof", 4) == 0);
    expected_start += f.duration;
  }

  /* the same fragments, byte for byte, however the input is cut: all at
   * once, and moof and mdat pushed one by one (each fragment then taken
   * from the input buffer as it is); and with the input going into the
   * memory of an earlier fragment (start_with), which the first fragment
   * then is */
  for (int way = 0; way < 3; way++) {
    Fmp4Splitter again;
    Collected other;
    collect(again, &other);
    size_t given = 0; /* a capacity no growth of the splitter's own gives */
    if (way == 2) {
      std::vector<uint8_t> used = bytes; /* full of other bytes */
      used.reserve(bytes.size() * 3 + 7);
      given = used.capacity();
      again.start_with(std::move(used));
    }
    if (way == 0) {
      fail_unless(again.push(bytes.data(), bytes.size()));
    } else {
      fail_unless(again.push(out.init.data(), out.init.size()));
      for (const Fmp4Fragment &f : out.fragments) fail_unless(again.push(f.data.data(), f.data.size()));
    }
    fail_unless_equals_int(other.fragments.size(), out.fragments.size());
    for (size_t i = 0; i < out.fragments.size(); i++) {
      fail_unless(other.fragments[i].data == out.fragments[i].data, "fragment %zu differs (way %d)", i, way);
      fail_unless_equals_uint64(other.fragments[i].decode_time, out.fragments[i].decode_time);
    }
    if (given)
      fail_unless(other.fragments[0].data.capacity() == given,
                  "the given memory was not used: %zu bytes, not %zu", other.fragments[0].data.capacity(),
                  given);
  }

  /* memory given from on_fragment, once a fragment took all the input:
   * the next fragment comes in it (and is the same) */
  {
    Fmp4Splitter again;
    std::vector<Fmp4Fragment> got;
    std::vector<uint8_t> recycled(16, 0xAB);
    recycled.reserve(bytes.size() * 2 + 13);
    size_t given = recycled.capacity();
    again.on_fragment = [&](Fmp4Fragment f) {
      got.push_back(std::move(f));
      if (got.size() == 1) again.start_with(std::move(recycled));
    };
    fail_unless(again.push(out.init.data(), out.init.size()));
    for (const Fmp4Fragment &f : out.fragments) fail_unless(again.push(f.data.data(), f.data.size()));
    fail_unless_equals_int(got.size(), out.fragments.size());
    for (size_t i = 0; i < got.size(); i++)
      fail_unless(got[i].data == out.fragments[i].data, "fragment %zu", i);
    fail_unless(got[1].data.capacity() == given,
                "the memory given between fragments was not used: %zu, not %zu", got[1].data.capacity(),
                given);
  }

  /* not while input waits to be cut: the memory stays the caller's */
  {
    Fmp4Splitter again;
    fail_unless(again.push(bytes.data(), out.init.size() + 20));
    std::vector<uint8_t> mine;
    mine.reserve(bytes.size() * 4);
    size_t capacity = mine.capacity();
    again.start_with(std::move(mine));
    fail_unless_equals_uint64(mine.capacity(), capacity);
  }
}
GST_END_TEST;

GST_START_TEST(test_rebase_decode_time) {
  std::vector<uint8_t> bytes = make_fragmented_mp4("bframes=0");
  Fmp4Splitter plain, rebased;
  Collected a, b;
  collect(plain, &a);
  collect(rebased, &b);
  rebased.set_decode_time_offset(int64_t(1) << 33); /* beyond 32 bits: tfdt must become version 1 */
  push_in_random_chunks(plain, bytes, 2);
  push_in_random_chunks(rebased, bytes, 3);
  fail_unless_equals_int(a.fragments.size(), b.fragments.size());

  /* the rewritten fragments are themselves a valid stream with the shifted
   * decode times and the same sample durations */
  Fmp4Splitter reread;
  Collected c;
  collect(reread, &c);
  fail_unless(reread.push(b.init.data(), b.init.size()));
  for (const Fmp4Fragment &f : b.fragments)
    fail_unless(reread.push(f.data.data(), f.data.size()), "%s", reread.error().c_str());
  fail_unless_equals_int(c.fragments.size(), a.fragments.size());
  for (size_t i = 0; i < a.fragments.size(); i++) {
    fail_unless_equals_uint64(c.fragments[i].decode_time, a.fragments[i].decode_time + (uint64_t(1) << 33));
    fail_unless_equals_uint64(c.fragments[i].duration, a.fragments[i].duration);
    fail_unless_equals_int(c.fragments[i].data.size(), a.fragments[i].data.size() + 4);
  }
}
GST_END_TEST;

GST_START_TEST(test_garbage_is_refused) {
  Fmp4Splitter splitter;
  const uint8_t mdat_first[] = {0, 0, 0, 8, 'm', 'd', 'a', 't'};
  fail_if(splitter.push(mdat_first, sizeof mdat_first));
  fail_unless(splitter.error().find("mdat") != std::string::npos);

  Fmp4Splitter tiny;
  const uint8_t bad_size[] = {0, 0, 0, 3, 'f', 't', 'y', 'p'};
  fail_if(tiny.push(bad_size, sizeof bad_size));
  fail_if(tiny.error().empty());
}
GST_END_TEST;

static Suite *fmp4_suite(void) {
  Suite *s = suite_create("fmp4");
  TCase *tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_split_on_keyframes);
  tcase_add_test(tc, test_rebase_decode_time);
  tcase_add_test(tc, test_garbage_is_refused);
  return s;
}

GST_CHECK_MAIN(fmp4);
