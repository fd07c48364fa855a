/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* live_break: a live channel with one replace-mode ad break, for the browser
 * test (adbreak.mjs).
 *
 *   live_break --output DIR --creative FILE [--seconds 30] [--break-at 12]
 *              [--break-duration 6] [--break-id 4242] [--mode replace]
 *              [--ladder 360p:600,180p:200] [--gop 1] [--playlist-length 0]
 *
 * Runs, in real time,
 *   videotestsrc is-live=true pattern=ball ! adsplice name=ads mode=MODE creatives=<FILE>
 *     ! abrladder ! abrsink mode=live location=DIR
 *   audiotestsrc is-live=true ! ads.audio_sink ads.audio_src ! ladder.audio
 * schedules a break with adsplice's "splice-out-at" signal before it plays,
 * sends EOS --seconds after it is set to PLAYING and exits once abrsink has
 * finished. Its stdout is one JSON object per line: {"event":"playing"},
 * {"event":"break-start"|"break-end", "break-id", "id", "running-time"} from
 * adsplice's bus messages, {"event":"eos"}; errors and warnings go to stderr.
 * Exit: 0 done, 1 error, 2 bad arguments.
 */

#include <gst/gst.h>

#include <cstdio>
#include <string>

namespace {

/* How long abrsink may take to finish after EOS. */
constexpr guint EOS_TIMEOUT_S = 30;

struct Options {
  std::string output;
  std::string creative;
  std::string mode = "replace";
  std::string ladder = "360p:600,180p:200";
  double seconds = 30;
  double break_at = 12;
  double break_duration = 6;
  guint break_id = 4242;
  double gop = 1;
  guint playlist_length = 0;
};

struct State {
  GMainLoop *loop = nullptr;
  GstElement *pipeline = nullptr;
  int exit_code = 0;
  bool eos_sent = false;
};

void say(const std::string &json) {
  std::printf("%s\n", json.c_str());
  std::fflush(stdout);
}

std::string json_string(const gchar *text) {
  gchar *escaped = g_strescape(text ? text : "", NULL);
  std::string out = std::string("\"") + escaped + "\"";
  g_free(escaped);
  return out;
}

gboolean on_bus(GstBus *, GstMessage *message, gpointer user_data) {
  State *state = static_cast<State *>(user_data);
  switch (GST_MESSAGE_TYPE(message)) {
    case GST_MESSAGE_ERROR:
    case GST_MESSAGE_WARNING: {
      GError *error = NULL;
      gchar *debug = NULL;
      bool fatal = GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR;
      if (fatal)
        gst_message_parse_error(message, &error, &debug);
      else
        gst_message_parse_warning(message, &error, &debug);
      std::fprintf(stderr, "%s from %s: %s\n%s\n", fatal ? "ERROR" : "WARNING", GST_OBJECT_NAME(message->src),
                   error->message, debug ? debug : "");
      g_clear_error(&error);
      g_free(debug);
      if (fatal) {
        state->exit_code = 1;
        g_main_loop_quit(state->loop);
      }
      break;
    }
    case GST_MESSAGE_EOS:
      say("{\"event\":\"eos\"}");
      g_main_loop_quit(state->loop);
      break;
    case GST_MESSAGE_STATE_CHANGED:
      if (GST_MESSAGE_SRC(message) == GST_OBJECT(state->pipeline)) {
        GstState current;
        gst_message_parse_state_changed(message, NULL, &current, NULL);
        if (current == GST_STATE_PLAYING) say("{\"event\":\"playing\"}");
      }
      break;
    case GST_MESSAGE_ELEMENT: {
      const GstStructure *s = gst_message_get_structure(message);
      bool start = gst_structure_has_name(s, "adsplice-break-start");
      if (!start && !gst_structure_has_name(s, "adsplice-break-end")) break;
      guint id = 0;
      guint64 running_time = 0;
      gst_structure_get_uint(s, "id", &id);
      gst_structure_get_uint64(s, "running-time", &running_time);
      char seconds[G_ASCII_DTOSTR_BUF_SIZE];
      g_ascii_formatd(seconds, sizeof seconds, "%.6f", (double)running_time / GST_SECOND);
      say(std::string("{\"event\":\"") + (start ? "break-start" : "break-end") +
          "\",\"break-id\":" + json_string(gst_structure_get_string(s, "break-id")) +
          ",\"id\":" + std::to_string(id) + ",\"running-time\":" + seconds + "}");
      break;
    }
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

/* Ends the channel --seconds after it started: EOS from the sources,
 * so that abrsink closes its last segments and ends its playlists. */
gboolean check_end(gpointer user_data) {
  State *state = static_cast<State *>(user_data);
  if (state->eos_sent) {
    std::fprintf(stderr, "ERROR: no EOS within %u s of sending it\n", EOS_TIMEOUT_S);
    state->exit_code = 1;
    g_main_loop_quit(state->loop);
    return G_SOURCE_REMOVE;
  }
  gst_element_send_event(state->pipeline, gst_event_new_eos());
  state->eos_sent = true;
  g_timeout_add_seconds(EOS_TIMEOUT_S, check_end, state);
  return G_SOURCE_REMOVE;
}

bool parse(int argc, char **argv, Options *options) {
  for (int i = 1; i < argc; i++) {
    std::string arg = argv[i];
    if (i + 1 >= argc) return false;
    const char *value = argv[++i];
    if (arg == "--output")
      options->output = value;
    else if (arg == "--creative")
      options->creative = value;
    else if (arg == "--mode")
      options->mode = value;
    else if (arg == "--ladder")
      options->ladder = value;
    else if (arg == "--seconds")
      options->seconds = g_ascii_strtod(value, NULL);
    else if (arg == "--break-at")
      options->break_at = g_ascii_strtod(value, NULL);
    else if (arg == "--break-duration")
      options->break_duration = g_ascii_strtod(value, NULL);
    else if (arg == "--break-id")
      options->break_id = (guint)g_ascii_strtoull(value, NULL, 10);
    else if (arg == "--gop")
      options->gop = g_ascii_strtod(value, NULL);
    else if (arg == "--playlist-length")
      options->playlist_length = (guint)g_ascii_strtoull(value, NULL, 10);
    else
      return false;
  }
  return !options->output.empty() && !options->creative.empty() && options->seconds > 0 &&
         options->break_at > 0 && options->break_duration > 0;
}

}  // namespace

int main(int argc, char **argv) {
  gst_init(&argc, &argv);
  Options options;
  if (!parse(argc, argv, &options)) {
    std::fprintf(
        stderr,
        "usage: %s --output DIR --creative FILE [--seconds S] [--break-at S] [--break-duration S]\n"
        "       [--break-id N] [--mode replace|signal] [--ladder SPEC] [--gop S] [--playlist-length N]\n",
        argv[0]);
    return 2;
  }

  char gop[G_ASCII_DTOSTR_BUF_SIZE];
  g_ascii_formatd(gop, sizeof gop, "%g", options.gop);
  std::string description =
      "videotestsrc is-live=true pattern=ball ! video/x-raw,width=640,height=360,framerate=30/1 "
      "! adsplice name=ads mode=" +
      options.mode + " creatives=<\"" + options.creative + "\"> ! abrladder name=l ladder=" + options.ladder +
      " gop-duration=" + gop + " speed-preset=ultrafast ! abrsink name=sink mode=live playlist-length=" +
      std::to_string(options.playlist_length) + " location=\"" + options.output +
      "\" audiotestsrc is-live=true samplesperbuffer=1600 wave=sine volume=0.1 "
      "! audio/x-raw,rate=48000,channels=2 ! ads.audio_sink ads.audio_src ! l.audio";
  std::fprintf(stderr, "pipeline: %s\n", description.c_str());

  GError *error = NULL;
  State state;
  state.pipeline = gst_parse_launch(description.c_str(), &error);
  if (!state.pipeline) {
    std::fprintf(stderr, "ERROR: %s\n", error ? error->message : "cannot build the pipeline");
    g_clear_error(&error);
    return 1;
  }
  if (error) { /* a recoverable parse error, e.g. a missing property */
    std::fprintf(stderr, "ERROR: %s\n", error->message);
    g_clear_error(&error);
    gst_object_unref(state.pipeline);
    return 1;
  }

  state.loop = g_main_loop_new(NULL, FALSE);
  GstBus *bus = gst_element_get_bus(state.pipeline);
  gst_bus_add_watch(bus, on_bus, &state);

  /* The break, scheduled before the pipeline plays: its running time is in
   * the future and its creative is decoded ahead of it. */
  GstElement *ads = gst_bin_get_by_name(GST_BIN(state.pipeline), "ads");
  gboolean ok = FALSE;
  g_signal_emit_by_name(ads, "splice-out-at", options.break_duration, options.break_id,
                        (guint64)(options.break_at * GST_SECOND), &ok);
  gst_object_unref(ads);
  if (!ok) {
    std::fprintf(stderr, "ERROR: adsplice refused the break (splice-out-at)\n");
    state.exit_code = 1;
  } else if (gst_element_set_state(state.pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    std::fprintf(stderr, "ERROR: the pipeline does not start\n");
    state.exit_code = 1;
  } else {
    /* Live sources: running time follows the clock from PLAYING on. */
    g_timeout_add((guint)(options.seconds * 1000), check_end, &state);
    g_main_loop_run(state.loop);
  }

  gst_element_set_state(state.pipeline, GST_STATE_NULL);
  gst_bus_remove_watch(bus);
  gst_object_unref(bus);
  gst_object_unref(state.pipeline);
  g_main_loop_unref(state.loop);
  return state.exit_code;
}
