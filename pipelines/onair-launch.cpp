/* onair-launch — runs a pipeline file without the daemon
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   onair-launch [--print|--print-description|--check] FILE [NAME=VALUE...]
 *
 * Runs until the end of the stream. SIGINT or SIGTERM sends EOS, so that the
 * playlists are finished; a second one stops at once. Exit status: 0 after
 * EOS, 1 on an error from the pipeline, 2 when the file or the values are
 * wrong, 130 when stopped without EOS.
 */

#include <glib-unix.h>
#include <gst/gst.h>

#include <clocale>
#include <cstdio>
#include <cstring>
#include <string>

#include "onairpipeline.h"

namespace pipeline = onair::pipeline;

namespace {

enum ExitStatus { kExitEos = 0, kExitError = 1, kExitInvalid = 2, kExitForced = 130 };

/* The build defines ONAIR_BUILD_TOOL_DIR, ONAIR_BUILD_PLUGIN_DIR,
 * ONAIR_SOURCE_PIPELINE_DIR and ONAIR_PIPELINE_DIR (pipelines/meson.build). */
bool running_uninstalled() {
  g_autofree gchar *exe = g_file_read_link("/proc/self/exe", nullptr);
  if (!exe) return false;
  g_autofree gchar *dir = g_path_get_dirname(exe);
  return g_strcmp0(dir, ONAIR_BUILD_TOOL_DIR) == 0;
}

/* Run from the build tree, the freshly built plugin comes first, as under
 * `meson devenv`; an installed onair-launch uses the installed plugin. */
void use_built_plugin() {
  if (!running_uninstalled()) return;
  const char *current = g_getenv("GST_PLUGIN_PATH");
  if (current) {
    g_auto(GStrv) dirs = g_strsplit(current, G_SEARCHPATH_SEPARATOR_S, -1);
    for (gchar **dir = dirs; *dir; dir++)
      if (g_strcmp0(*dir, ONAIR_BUILD_PLUGIN_DIR) == 0) return;
  }
  std::string path = ONAIR_BUILD_PLUGIN_DIR;
  if (current && *current) path += G_SEARCHPATH_SEPARATOR_S + std::string(current);
  g_setenv("GST_PLUGIN_PATH", path.c_str(), TRUE);
}

/* FILE as given; or, for a bare name ("test-card"), the shipped file. */
std::string find_pipeline_file(const std::string &given) {
  if (g_file_test(given.c_str(), G_FILE_TEST_EXISTS) || given.find('/') != std::string::npos) return given;
  const char *dir = running_uninstalled() ? ONAIR_SOURCE_PIPELINE_DIR : ONAIR_PIPELINE_DIR;
  for (const std::string &name : {given, given + ".pipeline"}) {
    g_autofree gchar *candidate = g_build_filename(dir, name.c_str(), nullptr);
    if (g_file_test(candidate, G_FILE_TEST_IS_REGULAR)) return candidate;
  }
  return given;
}

void print_errors(const pipeline::Diagnostics &errors) {
  for (const auto &error : errors) std::fprintf(stderr, "%s\n", error.format().c_str());
}

struct Run {
  GMainLoop *loop = nullptr;
  GstElement *pipeline = nullptr;
  int status = kExitEos;
  int interrupts = 0;
  bool live = false;
  bool buffering = false;
  bool verbose = false;
  bool playing = false;
};

gboolean on_signal(gpointer data) {
  Run *run = static_cast<Run *>(data);
  if (++run->interrupts == 1) {
    std::fprintf(
        stderr,
        "onair-launch: stopping: sent EOS, waiting for the pipeline to finish (again to stop at once)\n");
    gst_element_send_event(run->pipeline, gst_event_new_eos());
  } else {
    std::fprintf(stderr, "onair-launch: stopped without EOS\n");
    run->status = kExitForced;
    g_main_loop_quit(run->loop);
  }
  return G_SOURCE_CONTINUE;
}

void print_problem(const char *kind, GstMessage *message, GError *error, const gchar *debug) {
  g_autofree gchar *path = gst_object_get_path_string(GST_MESSAGE_SRC(message));
  std::fprintf(stderr, "%s from %s: %s\n", kind, path, error->message);
  if (debug) std::fprintf(stderr, "  %s\n", debug);
}

gboolean on_message(GstBus *bus, GstMessage *message, gpointer data) {
  Run *run = static_cast<Run *>(data);
  switch (GST_MESSAGE_TYPE(message)) {
    case GST_MESSAGE_ERROR: {
      g_autoptr(GError) error = nullptr;
      g_autofree gchar *debug = nullptr;
      gst_message_parse_error(message, &error, &debug);
      print_problem("ERROR", message, error, debug);
      run->status = kExitError;
      g_main_loop_quit(run->loop);
      break;
    }
    case GST_MESSAGE_WARNING: {
      g_autoptr(GError) error = nullptr;
      g_autofree gchar *debug = nullptr;
      gst_message_parse_warning(message, &error, &debug);
      print_problem("WARNING", message, error, debug);
      break;
    }
    case GST_MESSAGE_EOS:
      std::fprintf(stderr, "onair-launch: end of stream\n");
      g_main_loop_quit(run->loop);
      break;
    case GST_MESSAGE_STATE_CHANGED:
      if (GST_MESSAGE_SRC(message) == GST_OBJECT(run->pipeline)) {
        GstState state;
        gst_message_parse_state_changed(message, nullptr, &state, nullptr);
        if (state == GST_STATE_PLAYING && !run->playing) {
          run->playing = true;
          std::fprintf(stderr, "onair-launch: playing (Ctrl-C to stop with EOS)\n");
        }
      }
      break;
    case GST_MESSAGE_CLOCK_LOST:
      /* a new clock is chosen by going through PAUSED */
      gst_element_set_state(run->pipeline, GST_STATE_PAUSED);
      gst_element_set_state(run->pipeline, GST_STATE_PLAYING);
      break;
    case GST_MESSAGE_BUFFERING: {
      if (run->live) break;
      gint percent = 0;
      gst_message_parse_buffering(message, &percent);
      if (percent < 100 && !run->buffering) {
        run->buffering = true;
        gst_element_set_state(run->pipeline, GST_STATE_PAUSED);
      } else if (percent == 100 && run->buffering) {
        run->buffering = false;
        gst_element_set_state(run->pipeline, GST_STATE_PLAYING);
      }
      break;
    }
    case GST_MESSAGE_LATENCY:
      gst_bin_recalculate_latency(GST_BIN(run->pipeline));
      break;
    case GST_MESSAGE_REQUEST_STATE: {
      GstState state;
      gst_message_parse_request_state(message, &state);
      gst_element_set_state(run->pipeline, state);
      break;
    }
    case GST_MESSAGE_ELEMENT:
      if (run->verbose) {
        g_autofree gchar *path = gst_object_get_path_string(GST_MESSAGE_SRC(message));
        g_autofree gchar *text = gst_structure_to_string(gst_message_get_structure(message));
        std::printf("%s: %s\n", path, text);
      }
      break;
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

int run_pipeline(const std::string &name, const std::string &description, bool verbose) {
  g_autoptr(GstParseContext) context = gst_parse_context_new();
  g_autoptr(GError) error = nullptr;
  GstElement *element =
      gst_parse_launch_full(description.c_str(), context, GST_PARSE_FLAG_FATAL_ERRORS, &error);
  if (!element) {
    std::fprintf(stderr, "onair-launch: %s\n", error ? error->message : "cannot build the pipeline");
    return kExitInvalid;
  }
  Run run;
  run.verbose = verbose;
  run.loop = g_main_loop_new(nullptr, FALSE);
  run.pipeline = GST_ELEMENT(gst_object_ref_sink(element));
  /* messages name elements by path: /GstPipeline:test-card/GstAbrSink:sink */
  if (GST_IS_PIPELINE(run.pipeline)) gst_object_set_name(GST_OBJECT(run.pipeline), name.c_str());
  GstBus *bus = gst_element_get_bus(run.pipeline);
  guint bus_watch = gst_bus_add_watch(bus, on_message, &run);
  gst_object_unref(bus);
  guint sigint = g_unix_signal_add(SIGINT, on_signal, &run);
  guint sigterm = g_unix_signal_add(SIGTERM, on_signal, &run);

  GstStateChangeReturn ret = gst_element_set_state(run.pipeline, GST_STATE_PLAYING);
  run.live = ret == GST_STATE_CHANGE_NO_PREROLL;
  /* a failed change posts its error on the bus: the loop prints it and ends */
  g_main_loop_run(run.loop);
  if (ret == GST_STATE_CHANGE_FAILURE && run.status == kExitEos) run.status = kExitError;

  gst_element_set_state(run.pipeline, GST_STATE_NULL);
  g_source_remove(sigint);
  g_source_remove(sigterm);
  g_source_remove(bus_watch);
  gst_object_unref(run.pipeline);
  g_main_loop_unref(run.loop);
  return run.status;
}

}  // namespace

int main(int argc, char **argv) {
  setlocale(LC_ALL, "");
  use_built_plugin();
  /* element messages (stdout) and problems (stderr) interleave in order */
  setvbuf(stdout, nullptr, _IOLBF, 0);

  gboolean print = FALSE, print_description = FALSE, check_only = FALSE, verbose = FALSE;
  GOptionEntry entries[] = {
      {"print", 0, 0, G_OPTION_ARG_NONE, &print, "Print the gst-launch-1.0 command line and exit", nullptr},
      {"print-description", 0, 0, G_OPTION_ARG_NONE, &print_description,
       "Print the description gst_parse_launch() takes, on one line, and exit", nullptr},
      {"check", 0, 0, G_OPTION_ARG_NONE, &check_only,
       "Check the file and the values (elements, properties, links) and exit", nullptr},
      {"verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Print the description and element messages", nullptr},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr}};
  g_autoptr(GOptionContext) options = g_option_context_new("FILE [NAME=VALUE...]");
  g_option_context_set_summary(
      options,
      "Runs a pipeline file (pipelines/*.pipeline) with the given parameter values.\n"
      "FILE may also be the name of a shipped file: test-card, live-abr, ...");
  g_option_context_add_main_entries(options, entries, nullptr);
  g_option_context_add_group(options, gst_init_get_option_group());
  g_autoptr(GError) error = nullptr;
  if (!g_option_context_parse(options, &argc, &argv, &error)) {
    std::fprintf(stderr, "onair-launch: %s\n", error->message);
    return kExitInvalid;
  }
  if (argc < 2 || print + print_description + check_only > 1) {
    g_autofree gchar *help = g_option_context_get_help(options, TRUE, nullptr);
    std::fprintf(stderr, "%s", help);
    return kExitInvalid;
  }

  std::string path = find_pipeline_file(argv[1]);
  pipeline::Values values;
  for (int i = 2; i < argc; i++) {
    const char *equals = strchr(argv[i], '=');
    if (!equals || equals == argv[i]) {
      std::fprintf(stderr, "onair-launch: \"%s\": parameters are given as NAME=VALUE\n", argv[i]);
      return kExitInvalid;
    }
    std::string name(argv[i], equals - argv[i]);
    if (values.count(name)) {
      std::fprintf(stderr, "onair-launch: %s is given twice\n", name.c_str());
      return kExitInvalid;
    }
    values[name] = equals + 1;
  }

  pipeline::Loaded loaded = pipeline::load(path);
  if (!loaded.file) {
    print_errors(loaded.errors);
    return kExitInvalid;
  }
  const pipeline::PipelineFile &file = *loaded.file;

  if (print || print_description) {
    pipeline::Rendered rendered = pipeline::render(file, values);
    if (!rendered.ok()) {
      print_errors(rendered.errors);
      return kExitInvalid;
    }
    if (print_description) {
      std::printf("%s\n", rendered.description.c_str());
      return kExitEos;
    }
    if (!rendered.command_line_errors.empty()) {
      print_errors(rendered.command_line_errors);
      return kExitInvalid;
    }
    std::printf("%s", rendered.command_line.c_str());
    return kExitEos;
  }

  pipeline::Diagnostics errors = pipeline::check(file, values);
  if (!errors.empty()) {
    print_errors(errors);
    return kExitInvalid;
  }
  if (check_only) {
    std::printf("%s: ok\n", path.c_str());
    return kExitEos;
  }

  pipeline::Rendered rendered = pipeline::render(file, values);
  if (verbose) std::printf("%s\n", rendered.description.c_str());
  return run_pipeline(file.name, rendered.description, verbose);
}
