/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* reactions_channel: a live channel with viewer reactions added on a fixed
 * schedule, for the reactions tests (reactions_manifests.mjs, reactions.mjs).
 *
 *   reactions_channel --output DIR [--seconds 8] [--playlist-length 0]
 *                     [--ladder 180p:300] [--gop 1]
 *
 * Runs, in real time,
 *   videotestsrc is-live=true pattern=ball num-buffers=<seconds × 30>
 *     ! video/x-raw,width=320,height=180,framerate=30/1 ! reactions name=react
 *     ! abrladder ! abrsink mode=live location=DIR
 * and, from a probe on the reactions sink pad, before frame i: when i % 3 == 0,
 * "add" of kind KINDS[(i / 3) % 7] with count 1 + i % 5; when i % 45 == 0, an
 * "add-super" of 🔥. Its stdout is one JSON object per line:
 * {"event":"playing"}, {"event":"window","id","start","duration" (seconds),
 * "counts" (the payload)} for each `reactions-window` message, {"event":"eos"};
 * errors go to stderr. Exit: 0 done, 1 error, 2 bad arguments.
 */

#include <gst/gst.h>

#include <cstdio>
#include <string>

namespace {

const char *const KINDS[] = {"👍", "❤️", "😂", "😮", "😢", "👏", "🔥"};

struct State {
  GMainLoop *loop = nullptr;
  GstElement *react = nullptr;
  guint64 frame = 0;
  int exit_code = 0;
};

void say(const std::string &json) {
  std::printf("%s\n", json.c_str());
  std::fflush(stdout);
}

GstPadProbeReturn schedule(GstPad *, GstPadProbeInfo *, gpointer user_data) {
  State *state = static_cast<State *>(user_data);
  guint64 i = state->frame++;
  gboolean ok = FALSE;
  if (i % 3 == 0) g_signal_emit_by_name(state->react, "add", KINDS[(i / 3) % 7], (guint)(1 + i % 5), &ok);
  if (i % 45 == 0) g_signal_emit_by_name(state->react, "add-super", "🔥", &ok);
  return GST_PAD_PROBE_OK;
}

gboolean on_message(GstBus *, GstMessage *message, gpointer user_data) {
  State *state = static_cast<State *>(user_data);
  switch (GST_MESSAGE_TYPE(message)) {
    case GST_MESSAGE_ERROR: {
      GError *error = NULL;
      gchar *debug = NULL;
      gst_message_parse_error(message, &error, &debug);
      std::fprintf(stderr, "error from %s: %s (%s)\n", GST_OBJECT_NAME(GST_MESSAGE_SRC(message)),
                   error->message, debug ? debug : "");
      g_error_free(error);
      g_free(debug);
      state->exit_code = 1;
      g_main_loop_quit(state->loop);
      break;
    }
    case GST_MESSAGE_EOS:
      say("{\"event\":\"eos\"}");
      g_main_loop_quit(state->loop);
      break;
    case GST_MESSAGE_ELEMENT: {
      const GstStructure *s = gst_message_get_structure(message);
      if (!gst_structure_has_name(s, "reactions-window")) break;
      guint64 start = 0, duration = 0;
      gst_structure_get_uint64(s, "start", &start);
      gst_structure_get_uint64(s, "duration", &duration);
      /* id and counts hold no character JSON would escape */
      char times[96];
      std::snprintf(times, sizeof times, "\"start\":%.6f,\"duration\":%.6f", (double)start / GST_SECOND,
                    (double)duration / GST_SECOND);
      say(std::string("{\"event\":\"window\",\"id\":\"") + gst_structure_get_string(s, "id") + "\"," + times +
          ",\"counts\":" + gst_structure_get_string(s, "counts") + "}");
      break;
    }
    default:
      break;
  }
  return TRUE;
}

}  // namespace

int main(int argc, char **argv) {
  gst_init(&argc, &argv);
  std::string output, ladder = "180p:300";
  double seconds = 8, gop = 1;
  guint playlist_length = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string name = argv[i], value = argv[i + 1];
    if (name == "--output")
      output = value;
    else if (name == "--seconds")
      seconds = g_ascii_strtod(value.c_str(), NULL);
    else if (name == "--playlist-length")
      playlist_length = (guint)g_ascii_strtoull(value.c_str(), NULL, 10);
    else if (name == "--ladder")
      ladder = value;
    else if (name == "--gop")
      gop = g_ascii_strtod(value.c_str(), NULL);
    else {
      std::fprintf(stderr, "unknown option %s\n", name.c_str());
      return 2;
    }
  }
  if (output.empty() || seconds <= 0) {
    std::fprintf(stderr, "usage: reactions_channel --output DIR [--seconds S] [--playlist-length N]\n");
    return 2;
  }
  char gop_text[32];
  g_ascii_formatd(gop_text, sizeof gop_text, "%g", gop);
  std::string description =
      "videotestsrc is-live=true pattern=ball num-buffers=" + std::to_string((int)(seconds * 30)) +
      " ! video/x-raw,width=320,height=180,framerate=30/1 ! reactions name=react ! "
      "abrladder ladder=" +
      ladder + " gop-duration=" + gop_text +
      " speed-preset=ultrafast ! abrsink mode=live playlist-length=" + std::to_string(playlist_length) +
      " location=" + output;
  GError *error = NULL;
  GstElement *pipeline = gst_parse_launch(description.c_str(), &error);
  if (!pipeline) {
    std::fprintf(stderr, "%s: %s\n", description.c_str(), error->message);
    return 1;
  }
  State state;
  state.loop = g_main_loop_new(NULL, FALSE);
  state.react = gst_bin_get_by_name(GST_BIN(pipeline), "react");
  GstPad *pad = gst_element_get_static_pad(state.react, "sink");
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, schedule, &state, NULL);
  gst_object_unref(pad);
  GstBus *bus = gst_element_get_bus(pipeline);
  gst_bus_add_watch(bus, on_message, &state);
  if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    std::fprintf(stderr, "cannot play %s\n", description.c_str());
    state.exit_code = 1;
  } else {
    say("{\"event\":\"playing\"}");
    g_main_loop_run(state.loop);
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_bus_remove_watch(bus);
  gst_object_unref(bus);
  gst_object_unref(state.react);
  gst_object_unref(pipeline);
  g_main_loop_unref(state.loop);
  return state.exit_code;
}
