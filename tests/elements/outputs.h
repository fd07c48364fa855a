/* onair — test helpers: the files a pipeline wrote (read, count, list,
 * remove) and running a pipeline to its end.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Include after gst/check/gstcheck.h (uses fail_unless).
 */
#pragma once

#include <glib/gstdio.h>
#include <gst/gst.h>

#include <string>
#include <vector>

/* The file's contents, or "" when it cannot be read. */
static inline std::string read_text(const std::string &path) {
  gchar *contents = NULL;
  gsize length = 0;
  if (!g_file_get_contents(path.c_str(), &contents, &length, NULL)) return "";
  std::string text(contents, length);
  g_free(contents);
  return text;
}

static inline bool exists(const std::string &path) {
  return g_file_test(path.c_str(), G_FILE_TEST_IS_REGULAR);
}

/* How often `needle` occurs in `text` (overlaps included). */
static inline int count(const std::string &text, const std::string &needle) {
  int n = 0;
  for (size_t pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) n++;
  return n;
}

static inline std::vector<std::string> list_dir(const std::string &dir) {
  std::vector<std::string> names;
  GDir *d = g_dir_open(dir.c_str(), 0, NULL);
  if (!d) return names;
  while (const gchar *name = g_dir_read_name(d)) names.push_back(name);
  g_dir_close(d);
  return names;
}

static inline void remove_tree(const std::string &path) {
  if (g_file_test(path.c_str(), G_FILE_TEST_IS_DIR)) {
    for (auto &name : list_dir(path)) remove_tree(path + "/" + name);
    g_rmdir(path.c_str());
  } else {
    g_unlink(path.c_str());
  }
}

/* A new directory under the temporary directory, named PREFIX-XXXXXX. */
static inline std::string make_temp_dir(const char *prefix) {
  gchar *dir = g_dir_make_tmp((std::string(prefix) + "-XXXXXX").c_str(), NULL);
  std::string path = dir;
  g_free(dir);
  return path;
}

/* The text of an error message. */
static inline std::string error_text(GstMessage *message) {
  GError *error = NULL;
  gst_message_parse_error(message, &error, NULL);
  std::string text = error ? error->message : "";
  g_clear_error(&error);
  return text;
}

/* Waits for `pipeline`'s error and returns its text; fails the test on EOS,
 * or when none comes within `timeout` (the pipeline hangs). */
static inline std::string wait_for_error(GstElement *pipeline, GstClockTime timeout = 30 * GST_SECOND) {
  GstBus *bus = gst_element_get_bus(pipeline);
  GstMessage *message =
      gst_bus_timed_pop_filtered(bus, timeout, (GstMessageType)(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  gst_object_unref(bus);
  fail_unless(message != NULL, "the pipeline hangs: no error within %" GST_TIME_FORMAT,
              GST_TIME_ARGS(timeout));
  fail_unless(GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR, "expected an error, got EOS");
  std::string text = error_text(message);
  gst_message_unref(message);
  return text;
}

/* Plays `pipeline` until EOS or an error (failing the test after `timeout`)
 * and stops it: returns the error's message, "" after EOS. */
static inline std::string play_to_end(GstElement *pipeline, GstBus *bus,
                                      GstClockTime timeout = 120 * GST_SECOND) {
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  GstMessage *message =
      gst_bus_timed_pop_filtered(bus, timeout, (GstMessageType)(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  fail_unless(message != NULL, "no EOS within %" GST_TIME_FORMAT, GST_TIME_ARGS(timeout));
  std::string result = GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR ? error_text(message) : "";
  gst_message_unref(message);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  return result;
}

/* Runs a command, returns its stdout (and its stderr after "\nstderr: ",
 * when it wrote any); fails the test if it cannot run. */
static inline std::string run_command(const std::string &command, int *status = nullptr) {
  gchar *out = NULL, *err = NULL;
  gint exit_status = 0;
  GError *error = NULL;
  gboolean ok = g_spawn_command_line_sync(command.c_str(), &out, &err, &exit_status, &error);
  fail_unless(ok, "cannot run %s: %s", command.c_str(), error ? error->message : "");
  std::string text = out ? out : "";
  if (status) *status = exit_status;
  if (err && *err) text += std::string("\nstderr: ") + err;
  g_free(out);
  g_free(err);
  return text;
}

/* A rendition's init.mp4 followed by `segments` (file names in `dir`),
 * written to `joined`: one file, as a player reads them. */
static inline void join_rendition(const std::string &dir, const std::vector<std::string> &segments,
                                  const std::string &joined, const std::string &init = "init.mp4") {
  std::string data = read_text(dir + "/" + init);
  for (const std::string &name : segments) data += read_text(dir + "/" + name);
  fail_unless(g_file_set_contents(joined.c_str(), data.data(), data.size(), NULL), "cannot write %s",
              joined.c_str());
}
