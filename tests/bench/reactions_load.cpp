/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* reactions_load: one run of the reactions benchmark (bench_reactions.py).
 *
 *   reactions_load baseline|reactions FRAMES [RATE]
 *
 * Runs in real time
 *   videotestsrc is-live=true pattern=black num-buffers=FRAMES
 *     ! video/x-raw,format=I420,width=1920,height=1080,framerate=30/1
 *     [! reactions name=react] ! fakesink sync=true
 * and with reactions, from a thread of its own, RATE reactions a second
 * (default 1000) through the "add" action signal, 10 calls every 10 ms,
 * spread over the seven default kinds. Prints one JSON line: frames out,
 * frames late (reaching the sink more than a frame after their running
 * time), adds, windows, the most sprites drawn on a frame, and CPU seconds
 * (user + system of the whole process).
 */

#include <gst/gst.h>
#include <sys/resource.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <thread>

namespace {

const char *const KINDS[] = {"👍", "❤️", "😂", "😮", "😢", "👏", "🔥"};

struct Counts {
  std::atomic<guint64> frames{0}, late{0};
  GstElement *pipeline = nullptr;
};

GstPadProbeReturn on_frame(GstPad *pad, GstPadProbeInfo *info, gpointer user_data) {
  Counts *counts = static_cast<Counts *>(user_data);
  counts->frames++;
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  GstClock *clock = gst_element_get_clock(counts->pipeline);
  if (!clock) return GST_PAD_PROBE_OK;
  GstClockTime now = gst_clock_get_time(clock) - gst_element_get_base_time(counts->pipeline);
  gst_object_unref(clock);
  GstEvent *event = gst_pad_get_sticky_event(pad, GST_EVENT_SEGMENT, 0);
  if (event) {
    const GstSegment *segment;
    gst_event_parse_segment(event, &segment);
    GstClockTime running = gst_segment_to_running_time(segment, GST_FORMAT_TIME, GST_BUFFER_PTS(buffer));
    if (GST_CLOCK_TIME_IS_VALID(running) && now > running + GST_SECOND / 30 + 40 * GST_MSECOND)
      counts->late++;
    gst_event_unref(event);
  }
  return GST_PAD_PROBE_OK;
}

}  // namespace

int main(int argc, char **argv) {
  gst_init(&argc, &argv);
  if (argc < 3) {
    std::fprintf(stderr, "usage: reactions_load baseline|reactions FRAMES [RATE]\n");
    return 2;
  }
  bool with = std::string(argv[1]) == "reactions";
  int frames = atoi(argv[2]);
  int rate = argc > 3 ? atoi(argv[3]) : 1000;
  std::string description = "videotestsrc is-live=true pattern=black num-buffers=" + std::to_string(frames) +
                            " ! video/x-raw,format=I420,width=1920,height=1080,framerate=30/1 ! " +
                            (with ? "reactions name=react ! " : "") + "fakesink name=sink sync=true";
  GError *error = NULL;
  GstElement *pipeline = gst_parse_launch(description.c_str(), &error);
  if (!pipeline) {
    std::fprintf(stderr, "%s\n", error->message);
    return 1;
  }
  Counts counts;
  counts.pipeline = pipeline;
  GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
  GstPad *pad = gst_element_get_static_pad(sink, "sink");
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, on_frame, &counts, NULL);
  gst_object_unref(pad);
  gst_object_unref(sink);
  GstElement *react = with ? gst_bin_get_by_name(GST_BIN(pipeline), "react") : NULL;

  std::atomic<bool> stop{false};
  std::atomic<guint64> adds{0};
  std::thread adder;
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  if (react) {
    adder = std::thread([&]() {
      /* rate / 100 adds every 10 ms, on a fixed schedule */
      gint64 next = g_get_monotonic_time();
      guint64 n = 0;
      while (!stop) {
        for (int i = 0; i < rate / 100; i++, n++) {
          gboolean ok = FALSE;
          g_signal_emit_by_name(react, "add", KINDS[n % 7], 1u, &ok);
          if (ok) adds++;
        }
        next += 10000;
        gint64 wait = next - g_get_monotonic_time();
        if (wait > 0) g_usleep(wait);
      }
    });
  }
  GstBus *bus = gst_element_get_bus(pipeline);
  GstMessage *message = gst_bus_timed_pop_filtered(bus, GST_CLOCK_TIME_NONE,
                                                   (GstMessageType)(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  int code = message && GST_MESSAGE_TYPE(message) == GST_MESSAGE_EOS ? 0 : 1;
  if (message) gst_message_unref(message);
  stop = true;
  if (adder.joinable()) adder.join();
  guint64 windows = 0, max_sprites = 0;
  if (react) {
    GstStructure *stats = NULL;
    g_signal_emit_by_name(react, "get-stats", &stats);
    gst_structure_get_uint64(stats, "windows", &windows);
    gst_structure_get_uint64(stats, "max-sprites-drawn", &max_sprites);
    gst_structure_free(stats);
    gst_object_unref(react);
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(bus);
  gst_object_unref(pipeline);
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  double cpu = usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 + usage.ru_stime.tv_sec +
               usage.ru_stime.tv_usec / 1e6;
  std::printf("{\"frames\":%" G_GUINT64_FORMAT ",\"late\":%" G_GUINT64_FORMAT ",\"adds\":%" G_GUINT64_FORMAT
              ",\"windows\":%" G_GUINT64_FORMAT ",\"max_sprites\":%" G_GUINT64_FORMAT ",\"cpu\":%.4f}\n",
              counts.frames.load(), counts.late.load(), adds.load(), windows, max_sprites, cpu);
  return code;
}
