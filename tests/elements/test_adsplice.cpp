/* onair — adsplice: ad breaks from signals and SCTE-35, keyframe-aligned
 * segments and markers in every rendition, SCTE-35 in TS output; in
 * mode=replace creatives (converted to the program's caps) and the slate in
 * the break, in picture and sound, and discontinuities at its edges
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* C++ and project headers before gstcheck.h, whose fail() macro breaks <iostream> */
#include <glib/gstdio.h>
#include <gst/app/gstappsink.h>
#include <gst/mpegts/mpegts.h>
#include <gst/video/video.h>
#include <cmath>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>
#include <gst/check/gstcheck.h>

#include "outputs.h"

/* ---- helpers ------------------------------------------------------------ */

/* One segment of a media playlist with the tags written before it. */
struct Entry {
  std::vector<std::string> tags;
  double start = 0; /* sum of the EXTINF before it */
  double duration = 0;
  std::string uri;
  bool has(const std::string &prefix) const {
    for (auto &t : tags)
      if (t.rfind(prefix, 0) == 0) return true;
    return false;
  }
  std::string tag(const std::string &prefix) const {
    for (auto &t : tags)
      if (t.rfind(prefix, 0) == 0) return t;
    return "";
  }
};

static std::vector<Entry> parse_playlist(const std::string &text) {
  std::vector<Entry> entries;
  Entry current;
  double position = 0;
  gchar **lines = g_strsplit(text.c_str(), "\n", -1);
  for (gchar **line = lines; *line; line++) {
    std::string l = *line;
    if (l.empty()) continue;
    if (l.rfind("#EXTINF:", 0) == 0) {
      current.duration = g_ascii_strtod(l.c_str() + 8, NULL);
    } else if (l[0] == '#') {
      current.tags.push_back(l);
    } else {
      current.uri = l;
      current.start = position;
      position += current.duration;
      entries.push_back(current);
      current = Entry();
    }
  }
  g_strfreev(lines);
  return entries;
}

/* The value of NAME=VALUE in a tag's attribute list. */
static std::string attribute(const std::string &tag, const std::string &name) {
  size_t pos = tag.find(name + "=");
  if (pos == std::string::npos) return "";
  pos += name.size() + 1;
  size_t end = tag[pos] == '"' ? tag.find('"', pos + 1) + 1 : tag.find(',', pos);
  return tag.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
}

static std::vector<guint8> from_hex(const std::string &hex) {
  std::vector<guint8> bytes;
  fail_unless(hex.rfind("0x", 0) == 0, "not hex: %s", hex.c_str());
  for (size_t i = 2; i + 1 < hex.size(); i += 2) bytes.push_back((guint8)std::stoi(hex.substr(i, 2), 0, 16));
  return bytes;
}

/* Parses a splice_info_section with gstmpegts: the one splice_insert. */
struct Insert {
  guint id = 0;
  bool out = false;
  bool cancel = false;
  guint64 duration = 0; /* 90 kHz, 0: none */
};

static Insert parse_insert(const std::vector<guint8> &bytes) {
  GstMpegtsSection *section =
      gst_mpegts_section_new(500, (guint8 *)g_memdup2(bytes.data(), bytes.size()), bytes.size());
  fail_unless(section != NULL, "not a section");
  fail_unless_equals_int(section->section_type, GST_MPEGTS_SECTION_SCTE_SIT);
  const GstMpegtsSCTESIT *sit = gst_mpegts_section_get_scte_sit(section);
  fail_unless(sit != NULL, "the splice_info_section does not parse");
  fail_unless_equals_int(sit->splice_command_type, GST_MTS_SCTE_SPLICE_COMMAND_INSERT);
  fail_unless_equals_int(sit->splices->len, 1);
  const GstMpegtsSCTESpliceEvent *event =
      static_cast<const GstMpegtsSCTESpliceEvent *>(g_ptr_array_index(sit->splices, 0));
  Insert insert;
  insert.id = event->splice_event_id;
  insert.out = event->out_of_network_indicator;
  insert.cancel = event->splice_event_cancel_indicator;
  insert.duration = event->duration_flag ? event->break_duration : 0;
  gst_mpegts_section_unref(section);
  return insert;
}

/* init.mp4 + one segment: (keyframe, pts_time) of its first packet, as
 * ffprobe reads them. */
static std::pair<bool, double> first_packet(const std::string &dir, const std::string &uri) {
  std::string joined = dir + "/probe-" + uri + ".mp4";
  join_rendition(dir, {uri}, joined);
  std::string out = run_command(
      "ffprobe -v error -show_entries packet=pts_time,flags -read_intervals %+#1 "
      "-of csv=p=0 " +
      joined);
  g_unlink(joined.c_str());
  double pts = -1;
  bool key = false;
  gchar **fields = g_strsplit(out.c_str(), ",", 2);
  if (fields[0] && fields[1]) {
    pts = g_ascii_strtod(fields[0], NULL);
    key = fields[1][0] == 'K';
  }
  g_strfreev(fields);
  return {key, pts};
}

/* ffprobe decodes a rendition (init + every segment) without an error. */
static void check_decodes(const std::string &dir, const std::vector<Entry> &entries) {
  std::string joined = dir + "/all.mp4";
  std::vector<std::string> uris;
  for (auto &e : entries) uris.push_back(e.uri);
  join_rendition(dir, uris, joined);
  int status = 0;
  std::string out =
      run_command("ffprobe -v error -show_entries stream=codec_type -of csv=p=0 " + joined, &status);
  g_unlink(joined.c_str());
  fail_unless(status == 0 && out.find("stderr") == std::string::npos, "%s: %s", dir.c_str(), out.c_str());
}

struct Messages {
  std::mutex lock;
  std::vector<GstStructure *> breaks; /* adsplice-break-start/-end */
  std::vector<std::string> warnings;
  ~Messages() {
    for (auto *s : breaks) gst_structure_free(s);
  }
};

static GstBusSyncReply collect(GstBus *bus, GstMessage *message, gpointer user_data) {
  Messages *messages = static_cast<Messages *>(user_data);
  const GstStructure *s = gst_message_get_structure(message);
  std::lock_guard<std::mutex> lock(messages->lock);
  if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ELEMENT && s &&
      g_str_has_prefix(gst_structure_get_name(s), "adsplice-"))
    messages->breaks.push_back(gst_structure_copy(s));
  if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_WARNING) {
    GError *error = NULL;
    gst_message_parse_warning(message, &error, NULL);
    messages->warnings.push_back(error->message);
    g_error_free(error);
  }
  return GST_BUS_PASS;
}

/* Calls `action` (with the adsplice) on the streaming thread right before
 * the first frame at or past each time, in order: the break then starts on
 * exactly that frame. */
struct Cue {
  GstClockTime at;
  std::function<void(GstElement *)> action;
  bool done = false;
};

struct Cues {
  GstElement *ads;
  std::vector<Cue> cues;
};

static GstPadProbeReturn cue_probe(GstPad *pad, GstPadProbeInfo *info, gpointer user_data) {
  Cues *cues = static_cast<Cues *>(user_data);
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  for (Cue &cue : cues->cues)
    if (!cue.done && GST_BUFFER_PTS(buffer) >= cue.at) {
      cue.done = true;
      cue.action(cues->ads);
    }
  return GST_PAD_PROBE_OK;
}

/* Runs `description` (with an adsplice named "ads") to EOS, after `setup`
 * (if any) had the pipeline; returns the error message, empty if none. */
static std::string run(const std::string &description, Cues *cues, Messages *messages,
                       const std::function<void(GstElement *)> &setup = nullptr) {
  GError *error = NULL;
  GstElement *pipeline = gst_parse_launch(description.c_str(), &error);
  fail_unless(pipeline != NULL, "%s", error ? error->message : "");
  GstElement *ads = gst_bin_get_by_name(GST_BIN(pipeline), "ads");
  fail_unless(ads != NULL);
  if (cues) {
    cues->ads = ads;
    GstPad *sink = gst_element_get_static_pad(ads, "sink");
    gst_pad_add_probe(sink, GST_PAD_PROBE_TYPE_BUFFER, cue_probe, cues, NULL);
    gst_object_unref(sink);
  }
  if (setup) setup(pipeline);
  GstBus *bus = gst_element_get_bus(pipeline);
  gst_bus_set_sync_handler(bus, collect, messages, NULL);
  std::string result = play_to_end(pipeline, bus);
  gst_bus_set_sync_handler(bus, NULL, NULL, NULL);
  gst_object_unref(bus);
  gst_object_unref(ads);
  gst_object_unref(pipeline);
  return result;
}

static std::string ladder_pipeline(const std::string &dir, int seconds) {
  return "videotestsrc is-live=true num-buffers=" + std::to_string(seconds * 30) +
         " pattern=ball ! video/x-raw,width=320,height=180,framerate=30/1 ! adsplice name=ads ! "
         "abrladder name=l ladder=180p:300,90p:100 gop-duration=2 speed-preset=ultrafast ! "
         "abrsink name=sink mode=live playlist-length=0 location=" +
         dir +
         " audiotestsrc is-live=true samplesperbuffer=1600 num-buffers=" + std::to_string(seconds * 30) +
         " ! audio/x-raw,rate=48000,channels=2 ! l.audio";
}

static void splice_out(GstElement *ads, double duration, guint id) {
  gboolean ok = FALSE;
  g_signal_emit_by_name(ads, "splice-out", duration, id, &ok);
  fail_unless(ok, "splice-out %u refused", id);
}

/* Media time of presentation time 0 in abrsink's timeline */
static const double ORIGIN = 10.0;
static const double FRAME = 1.0 / 30;
static const double AUDIO_FRAME = 1024.0 / 48000; /* AAC */

/* Checks the break from `out` to `in` (seconds of running time) in one
 * rendition's playlist; returns its entries. */
static std::vector<Entry> check_break(const std::string &dir, const std::string &rendition, double out,
                                      double in, double planned, guint id, bool video) {
  std::string text = read_text(dir + "/" + rendition + "/index.m3u8");
  std::vector<Entry> entries = parse_playlist(text);
  fail_unless(entries.size() >= 3, "%s:\n%s", rendition.c_str(), text.c_str());
  std::string base = dir + "/" + rendition;
  /* segment starts in running time: the first one's from ffprobe */
  double origin = first_packet(base, entries[0].uri).second - ORIGIN;
  for (Entry &entry : entries) entry.start += origin;
  /* video starts on the first frame at or after the splice; audio (live)
   * on the frame the splice falls in: at most one AAC frame before it */
  double early = video ? 0.002 : AUDIO_FRAME + 0.002;
  double slack = video ? FRAME + 0.001 : 0.002;
  int cue_out = -1, cue_in = -1;
  for (size_t i = 0; i < entries.size(); i++) {
    if (entries[i].has("#EXT-X-CUE-OUT:")) {
      fail_unless(cue_out < 0, "%s: two CUE-OUT\n%s", rendition.c_str(), text.c_str());
      cue_out = (int)i;
    }
    if (entries[i].has("#EXT-X-CUE-IN")) cue_in = (int)i;
  }
  fail_unless(cue_out >= 0 && cue_in > cue_out, "%s: no CUE-OUT ... CUE-IN\n%s", rendition.c_str(),
              text.c_str());
  const Entry &first = entries[cue_out];
  fail_unless(first.start >= out - early && first.start <= out + slack,
              "%s: break starts at %.3f, not %.3f\n%s", rendition.c_str(), first.start, out, text.c_str());
  gchar *expected = g_strdup_printf("#EXT-X-CUE-OUT:DURATION=%.3f", planned);
  fail_unless(first.tag("#EXT-X-CUE-OUT:") == expected, "%s: %s", rendition.c_str(), text.c_str());
  g_free(expected);
  const Entry &back = entries[cue_in];
  fail_unless(back.start >= in - early && back.start <= in + slack, "%s: break ends at %.3f, not %.3f\n%s",
              rendition.c_str(), back.start, in, text.c_str());
  for (int i = cue_out + 1; i < cue_in; i++) {
    std::string cont = entries[i].tag("#EXT-X-CUE-OUT-CONT:");
    fail_unless(!cont.empty(), "%s: segment %d in the break has no CUE-OUT-CONT\n%s", rendition.c_str(), i,
                text.c_str());
    double elapsed = g_ascii_strtod(attribute(cont, "ElapsedTime").c_str(), NULL);
    fail_unless(std::fabs(elapsed - (entries[i].start - first.start)) < 0.002, "%s", cont.c_str());
  }
  for (size_t i = 0; i < entries.size(); i++)
    if ((int)i <= cue_out || (int)i >= cue_in)
      fail_if(entries[i].has("#EXT-X-CUE-OUT-CONT"), "%s", text.c_str());

  /* DATERANGE: one ID for the break, its sections decode */
  std::string range_out = first.tag("#EXT-X-DATERANGE:");
  std::string range_in = back.tag("#EXT-X-DATERANGE:");
  fail_unless(!range_out.empty() && !range_in.empty(), "%s", text.c_str());
  fail_unless(attribute(range_out, "ID") == attribute(range_in, "ID"), "%s", text.c_str());
  fail_unless(attribute(range_out, "START-DATE") == attribute(range_in, "START-DATE"), "%s", text.c_str());
  fail_unless_equals_int(count(text, "#EXT-X-DATERANGE:"), 2);
  Insert insert = parse_insert(from_hex(attribute(range_out, "SCTE35-OUT")));
  fail_unless_equals_int(insert.id, id);
  fail_unless(insert.out);
  fail_unless_equals_uint64(insert.duration, (guint64)std::llround(planned * 90000));
  Insert back_in = parse_insert(from_hex(attribute(range_in, "SCTE35-IN")));
  fail_unless_equals_int(back_in.id, id);
  fail_if(back_in.out);
  double lasted = g_ascii_strtod(attribute(range_in, "DURATION").c_str(), NULL);
  fail_unless(std::fabs(lasted - (in - out)) < 0.002, "%s", range_in.c_str());

  if (video) {
    /* both edges start with a keyframe at the splice time (ffprobe) */
    for (const Entry *edge : {&first, &back}) {
      auto [key, pts] = first_packet(base, edge->uri);
      fail_unless(key, "%s/%s does not start with a keyframe", rendition.c_str(), edge->uri.c_str());
      double expected_time = (edge == &first ? out : in) + ORIGIN;
      fail_unless(std::fabs(pts - expected_time) <= FRAME / 2, "%s/%s starts at %.3f, not %.3f",
                  rendition.c_str(), edge->uri.c_str(), pts, expected_time);
    }
  }
  check_decodes(base, entries);
  return entries;
}

/* The running times (s) of the one break's start and end on the bus. */
static std::pair<double, double> break_times(Messages *messages) {
  std::lock_guard<std::mutex> lock(messages->lock);
  fail_unless_equals_int(messages->breaks.size(), 2);
  fail_unless(gst_structure_has_name(messages->breaks[0], "adsplice-break-start"));
  fail_unless(gst_structure_has_name(messages->breaks[1], "adsplice-break-end"));
  guint64 out = 0, in = 0;
  gst_structure_get_uint64(messages->breaks[0], "running-time", &out);
  gst_structure_get_uint64(messages->breaks[1], "running-time", &in);
  return {(double)out / GST_SECOND, (double)in / GST_SECOND};
}

/* ---- tests -------------------------------------------------------------- */

GST_START_TEST(test_signal_break_marks_every_rendition) {
  std::string dir = make_temp_dir("adsplice");
  Cues cues;
  cues.cues.push_back({2500 * GST_MSECOND, [](GstElement *ads) { splice_out(ads, 3.0, 1234); }});
  Messages messages;
  std::string error = run(ladder_pipeline(dir, 8), &cues, &messages);
  fail_unless(error.empty(), "%s", error.c_str());

  /* the bus heard both edges: OUT on the first frame at 2.5 s or after,
   * auto-return 3 s later */
  auto [out, in] = break_times(&messages);
  fail_unless(out >= 2.5 && out < 2.5 + FRAME, "%f", out);
  fail_unless(std::fabs(in - out - 3.0) < 0.001, "%f", in);
  {
    std::lock_guard<std::mutex> lock(messages.lock);
    fail_unless_equals_string(gst_structure_get_string(messages.breaks[1], "reason"), "auto-return");
  }

  /* in every rendition */
  for (const char *rendition : {"180p", "90p"}) check_break(dir, rendition, out, in, 3.0, 1234, true);
  check_break(dir, "audio", out, in, 3.0, 1234, false);

  /* DASH: one Event for the break, in the Period's EventStream */
  std::string mpd = read_text(dir + "/manifest.mpd");
  fail_unless(mpd.find("<EventStream schemeIdUri=\"urn:scte:scte35:2014:xml+bin\" timescale=\"90000\">") !=
                  std::string::npos,
              "%s", mpd.c_str());
  fail_unless_equals_int(count(mpd, "<Event "), 1);
  gchar *times = g_strdup_printf("presentationTime=\"%lld\" duration=\"270000\"", std::llround(out * 90000));
  fail_unless(mpd.find(times) != std::string::npos, "%s in %s", times, mpd.c_str());
  g_free(times);
  size_t binary = mpd.find("<Binary>");
  fail_unless(binary != std::string::npos, "%s", mpd.c_str());
  binary += 8;
  std::string base64 = mpd.substr(binary, mpd.find("</Binary>") - binary);
  gsize size = 0;
  guchar *bytes = g_base64_decode(base64.c_str(), &size);
  Insert insert = parse_insert(std::vector<guint8>(bytes, bytes + size));
  g_free(bytes);
  fail_unless_equals_int(insert.id, 1234);
  fail_unless(insert.out);
  fail_unless(mpd.find("<Signal xmlns=\"http://www.scte.org/schemas/35/2016\">") != std::string::npos, "%s",
              mpd.c_str());
  remove_tree(dir);
}
GST_END_TEST;

GST_START_TEST(test_early_splice_in) {
  std::string dir = make_temp_dir("adsplice");
  Cues cues;
  cues.cues.push_back({2 * GST_SECOND, [](GstElement *ads) { splice_out(ads, 30.0, 7); }});
  cues.cues.push_back({3500 * GST_MSECOND, [](GstElement *ads) {
                         gboolean ok = FALSE;
                         g_signal_emit_by_name(ads, "splice-in", 8u, &ok);
                         fail_if(ok, "splice-in of a break that does not run");
                         g_signal_emit_by_name(ads, "splice-in", 7u, &ok);
                         fail_unless(ok);
                       }});
  Messages messages;
  std::string error = run(ladder_pipeline(dir, 6), &cues, &messages);
  fail_unless(error.empty(), "%s", error.c_str());
  auto [out, in] = break_times(&messages);
  fail_unless(out >= 2.0 && out < 2.0 + FRAME && in >= 3.5 && in < 3.5 + FRAME, "%f %f", out, in);
  for (const char *rendition : {"180p", "90p"}) check_break(dir, rendition, out, in, 30.0, 7, true);
  check_break(dir, "audio", out, in, 30.0, 7, false);
  std::lock_guard<std::mutex> lock(messages.lock);
  fail_unless_equals_string(gst_structure_get_string(messages.breaks[1], "reason"), "splice-in");
  double elapsed = 0;
  gst_structure_get_double(messages.breaks[1], "elapsed", &elapsed);
  fail_unless(std::fabs(elapsed - (in - out)) < 0.001, "%f", elapsed);
  remove_tree(dir);
}
GST_END_TEST;

GST_START_TEST(test_cancel_and_bad_cues) {
  std::string dir = make_temp_dir("adsplice");
  Cues cues;
  cues.cues.push_back({1 * GST_SECOND, [](GstElement *ads) {
                         gboolean ok = FALSE;
                         g_signal_emit_by_name(ads, "splice-out-at", 2.0, 5u, (guint64)(3 * GST_SECOND), &ok);
                         fail_unless(ok);
                         /* overlapping, in the past, no duration, an id in use */
                         g_signal_emit_by_name(ads, "splice-out-at", 2.0, 6u, (guint64)(4 * GST_SECOND), &ok);
                         fail_if(ok, "an overlapping break was accepted");
                         g_signal_emit_by_name(ads, "splice-out-at", 2.0, 6u, (guint64)(GST_SECOND / 2), &ok);
                         fail_if(ok, "a break in the past was accepted");
                         g_signal_emit_by_name(ads, "splice-out", 0.0, 6u, &ok);
                         fail_if(ok, "a break of 0 s was accepted");
                         g_signal_emit_by_name(ads, "splice-out", -1.0, 6u, &ok);
                         fail_if(ok, "a break of -1 s was accepted");
                         g_signal_emit_by_name(ads, "splice-out-at", 1.0, 5u, (guint64)(8 * GST_SECOND), &ok);
                         fail_if(ok, "a second break with the same id was accepted");
                       }});
  cues.cues.push_back({2 * GST_SECOND, [](GstElement *ads) {
                         gboolean ok = FALSE;
                         g_signal_emit_by_name(ads, "cancel", 5u, &ok);
                         fail_unless(ok);
                         g_signal_emit_by_name(ads, "cancel", 5u, &ok);
                         fail_if(ok, "cancelled twice");
                       }});
  Messages messages;
  std::string error = run(ladder_pipeline(dir, 5), &cues, &messages);
  fail_unless(error.empty(), "%s", error.c_str());
  for (const char *rendition : {"180p", "90p", "audio"}) {
    std::string text = read_text(dir + "/" + rendition + "/index.m3u8");
    fail_unless(text.find("#EXTINF:") != std::string::npos, "%s", rendition);
    fail_if(text.find("CUE") != std::string::npos || text.find("DATERANGE") != std::string::npos, "%s",
            text.c_str());
  }
  fail_if(read_text(dir + "/manifest.mpd").find("EventStream") != std::string::npos);
  std::lock_guard<std::mutex> lock(messages.lock);
  fail_unless_equals_int(messages.breaks.size(), 0);
  /* every refusal is on the bus, and says why */
  fail_unless(messages.warnings.size() >= 6, "%d warnings", (int)messages.warnings.size());
  fail_unless(messages.warnings[0].find("overlaps") != std::string::npos, "%s", messages.warnings[0].c_str());
  fail_unless(messages.warnings[1].find("past") != std::string::npos, "%s", messages.warnings[1].c_str());
  remove_tree(dir);
}
GST_END_TEST;

static void write_ts_with_sit(const std::string &path, GstMpegtsSCTESIT *sit);

/* A TS file with SCTE-35 cues through tsdemux (send-scte35-events),
 * decoding, adsplice, a ladder of `ladder` and abrsink live into `output`. */
static std::string run_from_ts(const std::string &ts, const std::string &ladder, const std::string &output,
                               Messages *messages) {
  return run(
      "filesrc location=" + ts +
          " ! tsdemux send-scte35-events=true ! h264parse ! avdec_h264 ! videoconvert ! adsplice name=ads ! "
          "abrladder ladder=" +
          ladder +
          " gop-duration=2 speed-preset=ultrafast ! abrsink mode=live playlist-length=0 location=" + output,
      nullptr, messages);
}

/* Sends a splice_insert (running time) to mpegtsmux as an application
 * would, before the stream starts. */
static void write_ts_with_cue(const std::string &path, guint id, GstClockTime at, GstClockTime duration) {
  write_ts_with_sit(path, gst_mpegts_scte_splice_out_new(id, at, duration));
}

static void write_ts_with_sit(const std::string &path, GstMpegtsSCTESIT *sit) {
  std::string description =
      "videotestsrc num-buffers=180 pattern=ball ! video/x-raw,width=320,height=180,framerate=30/1 ! "
      "x264enc key-int-max=30 speed-preset=ultrafast ! h264parse ! mpegtsmux name=mux scte-35-pid=500 ! "
      "filesink location=" +
      path;
  GstElement *pipeline = gst_parse_launch(description.c_str(), NULL);
  GstElement *mux = gst_bin_get_by_name(GST_BIN(pipeline), "mux");
  gst_element_set_state(pipeline, GST_STATE_PAUSED);
  gst_element_get_state(pipeline, NULL, NULL, GST_CLOCK_TIME_NONE);
  GstMpegtsSection *section = gst_mpegts_section_from_scte_sit(sit, 500);
  fail_unless(gst_mpegts_section_send_event(section, mux));
  gst_mpegts_section_unref(section);
  GstBus *bus = gst_element_get_bus(pipeline);
  std::string error = play_to_end(pipeline, bus, 60 * GST_SECOND);
  fail_unless(error.empty(), "%s", error.c_str());
  gst_object_unref(bus);
  gst_object_unref(mux);
  gst_object_unref(pipeline);
}

GST_START_TEST(test_scte35_in_ts_input_starts_a_break) {
  std::string dir = make_temp_dir("adsplice");
  std::string ts = dir + "/input.ts";
  write_ts_with_cue(ts, 4242, 2 * GST_SECOND, 2 * GST_SECOND);
  std::string probe = run_command("ffprobe -v error -show_entries stream=codec_name -of csv=p=0 " + ts);
  fail_unless(probe.find("scte_35") != std::string::npos, "%s", probe.c_str());

  std::string output = dir + "/out";
  Messages messages;
  std::string error = run_from_ts(ts, "180p:300,90p:100", output, &messages);
  fail_unless(error.empty(), "%s", error.c_str());
  /* the splice time the cue named, and its duration */
  auto [out, in] = break_times(&messages);
  fail_unless(std::fabs(out - 2.0) < 0.001 && std::fabs(in - 4.0) < 0.001, "%f %f", out, in);
  {
    std::lock_guard<std::mutex> lock(messages.lock);
    fail_unless_equals_string(gst_structure_get_string(messages.breaks[0], "source"), "scte35");
  }
  for (const char *rendition : {"180p", "90p"}) check_break(output, rendition, out, in, 2.0, 4242, true);
  remove_tree(dir);
}
GST_END_TEST;

/* A time_signal at 1.5 s with a segmentation_descriptor "provider
 * advertisement start" of 2 s (gstmpegts has no builder for its payload). */
GST_START_TEST(test_scte35_time_signal_starts_a_break) {
  std::string dir = make_temp_dir("adsplice");
  std::string ts = dir + "/input.ts";
  GstMpegtsSCTESIT *sit = gst_mpegts_scte_sit_new();
  sit->splice_command_type = GST_MTS_SCTE_SPLICE_COMMAND_TIME;
  sit->splice_time_specified = TRUE;
  sit->splice_time = 1500 * GST_MSECOND;
  guint64 duration = 2 * 90000;
  const guint8 payload[] = {'C',
                            'U',
                            'E',
                            'I',
                            0x00,
                            0x00,
                            0x01,
                            0x00, /* segmentation_event_id 256 */
                            0x7f, /* not cancelled */
                            0xff, /* program segmentation, duration, delivery not restricted */
                            (guint8)(duration >> 32),
                            (guint8)(duration >> 24),
                            (guint8)(duration >> 16),
                            (guint8)(duration >> 8),
                            (guint8)duration,
                            0x00,
                            0x00, /* no UPID */
                            0x30, /* provider advertisement start */
                            0x00,
                            0x00};
  g_ptr_array_add(sit->descriptors, gst_mpegts_descriptor_from_custom(0x02, payload, sizeof payload));
  write_ts_with_sit(ts, sit);

  std::string output = dir + "/out";
  Messages messages;
  std::string error = run_from_ts(ts, "180p:300", output, &messages);
  fail_unless(error.empty(), "%s", error.c_str());
  auto [out, in] = break_times(&messages);
  fail_unless(std::fabs(out - 1.5) < 0.001 && std::fabs(in - 3.5) < 0.001, "%f %f", out, in);
  std::string text = read_text(output + "/180p/index.m3u8");
  std::vector<Entry> entries = parse_playlist(text);
  bool marked = false;
  for (const Entry &entry : entries)
    if (entry.has("#EXT-X-CUE-OUT:DURATION=2.000")) {
      marked = true;
      /* the time_signal as it came, with its descriptor */
      std::string hex = attribute(entry.tag("#EXT-X-DATERANGE:"), "SCTE35-OUT");
      fail_unless(hex.find("43554549") != std::string::npos, "%s", text.c_str());
    }
  fail_unless(marked, "%s", text.c_str());
  fail_unless(text.find("#EXT-X-CUE-IN") != std::string::npos, "%s", text.c_str());
  remove_tree(dir);
}
GST_END_TEST;

struct SeenSections {
  std::mutex lock;
  std::vector<Insert> inserts;
};

static GstPadProbeReturn section_probe(GstPad *pad, GstPadProbeInfo *info, gpointer user_data) {
  SeenSections *seen = static_cast<SeenSections *>(user_data);
  GstMpegtsSection *section = gst_event_parse_mpegts_section(GST_PAD_PROBE_INFO_EVENT(info));
  if (!section) return GST_PAD_PROBE_OK;
  const GstMpegtsSCTESIT *sit =
      section->section_type == GST_MPEGTS_SECTION_SCTE_SIT ? gst_mpegts_section_get_scte_sit(section) : NULL;
  /* splice_null heartbeats (scte-35-null-interval) aside */
  if (sit && sit->splice_command_type == GST_MTS_SCTE_SPLICE_COMMAND_INSERT) {
    std::vector<guint8> bytes(section->data, section->data + section->section_length);
    Insert insert = parse_insert(bytes);
    std::lock_guard<std::mutex> lock(seen->lock);
    seen->inserts.push_back(insert);
  }
  gst_mpegts_section_unref(section);
  return GST_PAD_PROBE_OK;
}

static void on_demux_pad(GstElement *demux, GstPad *pad, gpointer user_data) {
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, section_probe, user_data, NULL);
}

GST_START_TEST(test_ts_output_carries_scte35) {
  std::string dir = make_temp_dir("adsplice");
  std::string ts = dir + "/out.ts";
  Cues cues;
  cues.cues.push_back({2 * GST_SECOND, [](GstElement *ads) { splice_out(ads, 1.5, 99); }});
  Messages messages;
  std::string error =
      run("videotestsrc is-live=true num-buffers=150 ! video/x-raw,width=320,height=180,"
          "framerate=30/1 ! adsplice name=ads ! x264enc key-int-max=30 speed-preset=ultrafast "
          "tune=zerolatency ! h264parse ! mpegtsmux scte-35-pid=500 ! filesink location=" +
              ts,
          &cues, &messages);
  fail_unless(error.empty(), "%s", error.c_str());

  /* ffprobe: an SCTE-35 data stream on PID 500 (0x1f4) */
  std::string streams =
      run_command("ffprobe -v error -show_entries stream=codec_name,codec_type,id -of csv=p=0 " + ts);
  fail_unless(streams.find("scte_35,data,0x1f4") != std::string::npos, "%s", streams.c_str());
  fail_unless(streams.find("h264,video") != std::string::npos, "%s", streams.c_str());

  /* tsdemux reads the sections back: the break's OUT and its IN */
  SeenSections seen;
  std::string description =
      "filesrc location=" + ts + " ! tsdemux name=demux send-scte35-events=true ! fakesink";
  GstElement *pipeline = gst_parse_launch(description.c_str(), NULL);
  GstElement *demux = gst_bin_get_by_name(GST_BIN(pipeline), "demux");
  g_signal_connect(demux, "pad-added", G_CALLBACK(on_demux_pad), &seen);
  GstBus *bus = gst_element_get_bus(pipeline);
  error = play_to_end(pipeline, bus, 60 * GST_SECOND);
  fail_unless(error.empty(), "%s", error.c_str());
  gst_object_unref(bus);
  gst_object_unref(demux);
  gst_object_unref(pipeline);

  std::lock_guard<std::mutex> lock(seen.lock);
  bool out = false, in = false;
  for (const Insert &insert : seen.inserts) {
    if (insert.id != 99) continue;
    if (insert.out) {
      out = true;
      fail_unless_equals_uint64(insert.duration, 135000);
    } else {
      in = true;
    }
  }
  fail_unless(out && in, "%d sections read back, out %d in %d", (int)seen.inserts.size(), out, in);
  remove_tree(dir);
}
GST_END_TEST;

/* ---- mode=replace ------------------------------------------------------- */

/* Writes an MP4 creative: `seconds` of a solid colour (0xAARRGGBB) at
 * 160x90, 25 fps, and a sine of `volume` at 44.1 kHz mono: a picture size,
 * frame rate and sound format unlike the program's, so adsplice has to
 * convert all of them. */
static void write_creative(const std::string &path, double seconds, guint colour, double volume) {
  int frames = (int)std::lround(seconds * 25);
  int audio_buffers = (int)std::lround(seconds * 30);
  gchar *description = g_strdup_printf(
      "videotestsrc num-buffers=%d pattern=solid-color foreground-color=%u "
      "! video/x-raw,width=160,height=90,framerate=25/1 ! x264enc speed-preset=ultrafast key-int-max=25 "
      "! h264parse ! mp4mux name=m ! filesink location=%s "
      "audiotestsrc num-buffers=%d samplesperbuffer=1470 wave=sine volume=%f "
      "! audio/x-raw,rate=44100,channels=1 ! audioconvert ! avenc_aac ! aacparse ! m.",
      frames, colour, path.c_str(), audio_buffers, volume);
  GstElement *pipeline = gst_parse_launch(description, NULL);
  g_free(description);
  fail_unless(pipeline != NULL);
  GstBus *bus = gst_element_get_bus(pipeline);
  std::string error = play_to_end(pipeline, bus);
  gst_object_unref(bus);
  gst_object_unref(pipeline);
  fail_unless(error.empty(), "writing %s: %s", path.c_str(), error.c_str());
}

/* What left adsplice: the luma at the centre of every frame and the sound. */
struct Output {
  std::mutex lock;
  std::vector<std::pair<double, int>> lumas; /* running time (s), Y */
  double audio_start = -1;                   /* running time (s) of the first sample */
  std::vector<gint16> samples;               /* left channel */
};

static GstFlowReturn on_video(GstAppSink *sink, gpointer user_data) {
  Output *output = static_cast<Output *>(user_data);
  GstSample *sample = gst_app_sink_pull_sample(sink);
  GstVideoInfo info;
  gst_video_info_from_caps(&info, gst_sample_get_caps(sample));
  GstVideoFrame frame;
  GstBuffer *buffer = gst_sample_get_buffer(sample);
  fail_unless(gst_video_frame_map(&frame, &info, buffer, GST_MAP_READ));
  const guint8 *y = (const guint8 *)GST_VIDEO_FRAME_PLANE_DATA(&frame, 0);
  int luma = y[GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 0) * (info.height / 2) + info.width / 2];
  gst_video_frame_unmap(&frame);
  GstClockTime running_time =
      gst_segment_to_running_time(gst_sample_get_segment(sample), GST_FORMAT_TIME, GST_BUFFER_PTS(buffer));
  {
    std::lock_guard<std::mutex> lock(output->lock);
    output->lumas.emplace_back((double)running_time / GST_SECOND, luma);
  }
  gst_sample_unref(sample);
  return GST_FLOW_OK;
}

static GstFlowReturn on_audio(GstAppSink *sink, gpointer user_data) {
  Output *output = static_cast<Output *>(user_data);
  GstSample *sample = gst_app_sink_pull_sample(sink);
  GstBuffer *buffer = gst_sample_get_buffer(sample);
  GstMapInfo map;
  fail_unless(gst_buffer_map(buffer, &map, GST_MAP_READ));
  {
    std::lock_guard<std::mutex> lock(output->lock);
    if (output->audio_start < 0)
      output->audio_start = (double)gst_segment_to_running_time(gst_sample_get_segment(sample),
                                                                GST_FORMAT_TIME, GST_BUFFER_PTS(buffer)) /
                            GST_SECOND;
    const gint16 *data = (const gint16 *)map.data;
    for (gsize i = 0; i + 1 < map.size / 2; i += 2) output->samples.push_back(data[i]);
  }
  gst_buffer_unmap(buffer, &map);
  gst_sample_unref(sample);
  return GST_FLOW_OK;
}

/* Root mean square (full scale 1) of the program sound from `from` to `to`
 * seconds of running time. */
static double rms(Output *output, double from, double to) {
  std::lock_guard<std::mutex> lock(output->lock);
  size_t first = (size_t)std::lround((from - output->audio_start) * 48000);
  size_t last = std::min(output->samples.size(), (size_t)std::lround((to - output->audio_start) * 48000));
  fail_unless(first < last, "no sound from %.3f to %.3f", from, to);
  double sum = 0;
  for (size_t i = first; i < last; i++) sum += (double)output->samples[i] * output->samples[i];
  return std::sqrt(sum / (last - first)) / 32768;
}

/* Plays a white, loud program (320x180, 30 fps; a 0.8 sine at 48 kHz
 * stereo) for `seconds` through `adsplice mode=replace` with `properties`,
 * into appsinks. */
static void run_replace(const std::string &properties, int seconds, Cues *cues, Messages *messages,
                        Output *output) {
  int frames = seconds * 30;
  gchar *description = g_strdup_printf(
      "videotestsrc is-live=true num-buffers=%d pattern=white "
      "! video/x-raw,format=I420,width=320,height=180,framerate=30/1 "
      "! adsplice name=ads mode=replace %s ! appsink name=video sync=false "
      "audiotestsrc is-live=true num-buffers=%d samplesperbuffer=1600 wave=sine volume=0.8 "
      "! audio/x-raw,format=S16LE,rate=48000,channels=2,layout=interleaved ! ads.audio_sink "
      "ads.audio_src ! appsink name=audio sync=false",
      frames, properties.c_str(), frames);
  std::string text = description;
  g_free(description);
  std::string result = run(text, cues, messages, [output](GstElement *pipeline) {
    for (const char *name : {"video", "audio"}) {
      GstElement *appsink = gst_bin_get_by_name(GST_BIN(pipeline), name);
      GstAppSinkCallbacks callbacks = {};
      callbacks.new_sample = g_str_equal(name, "video") ? on_video : on_audio;
      gst_app_sink_set_callbacks(GST_APP_SINK(appsink), &callbacks, output, NULL);
      gst_object_unref(appsink);
    }
  });
  fail_unless(result.empty(), "%s", result.c_str());
}

/* How many frames from `from` to `to` (s) have a luma within 25 of `luma`;
 * and how many frames there are. */
static std::pair<int, int> frames_like(Output *output, double from, double to, int luma) {
  std::lock_guard<std::mutex> lock(output->lock);
  int like = 0, all = 0;
  for (auto [time, y] : output->lumas)
    if (time >= from - 0.001 && time < to - 0.001) {
      all++;
      like += std::abs(y - luma) <= 25;
    }
  return {like, all};
}

static const int WHITE = 235, GREEN = 145, BLACK = 16;

GST_START_TEST(test_replace_plays_creatives_then_slate) {
  std::string dir = make_temp_dir("adsplice");
  std::string creative = dir + "/green.mp4";
  write_creative(creative, 1.2, 0xff00ff00, 0.2);

  Cues cues;
  cues.cues.push_back({2 * GST_SECOND, [creative](GstElement *ads) {
                         const gchar *creatives[] = {creative.c_str(), NULL};
                         gboolean ok = FALSE;
                         g_signal_emit_by_name(ads, "splice-out-full", 3.0, 42u, GST_CLOCK_TIME_NONE,
                                               creatives, &ok);
                         fail_unless(ok);
                       }});
  Messages messages;
  Output output;
  run_replace("", 7, &cues, &messages, &output);

  /* the break starts once its first creative frame is ready (within 1 s
   * of the cue) and returns 3 s later */
  auto [out, in] = break_times(&messages);
  fail_unless(out >= 2.0 && out <= 3.0 + FRAME, "%f", out);
  fail_unless(std::fabs(in - out - 3.0) < FRAME, "%f %f", out, in);
  {
    std::lock_guard<std::mutex> lock(messages.lock);
    const GValue *played = gst_structure_get_value(messages.breaks[1], "creatives-played");
    fail_unless(played && G_VALUE_HOLDS(played, G_TYPE_STRV));
    gchar **names = (gchar **)g_value_get_boxed(played);
    fail_unless(names && names[0] && creative == names[0] && !names[1]);
    fail_unless(messages.warnings.empty(), "%s",
                messages.warnings.empty() ? "" : messages.warnings[0].c_str());
  }

  /* pictures: program, 1.2 s of the creative at the program's 30 fps, the
   * (black) slate, the program again; not one frame lost */
  auto [white_before, before] = frames_like(&output, 0, out, WHITE);
  fail_unless(before > 0 && white_before == before, "%d of %d", white_before, before);
  auto [green, creative_span] = frames_like(&output, out, out + 1.2, GREEN);
  fail_unless(green >= creative_span - 1 && creative_span >= 35, "%d green of %d", green, creative_span);
  auto [black, slate_span] = frames_like(&output, out + 1.2 + FRAME, in, BLACK);
  fail_unless(black == slate_span && slate_span >= 50, "%d black of %d", black, slate_span);
  auto [white_after, after] = frames_like(&output, in, 7, WHITE);
  fail_unless(after > 0 && white_after == after, "%d of %d", white_after, after);
  fail_unless_equals_int((int)output.lumas.size(), 7 * 30);

  /* sound: the program's up to the splice, the creative's (quieter), the
   * slate's silence, the program's again; edges to the sample (the AAC
   * encoder's first frame of priming aside) */
  double loud = 0.8 / std::sqrt(2.0);
  fail_unless(std::fabs(rms(&output, out - 0.5, out - 0.001) - loud) < 0.02, "%f",
              rms(&output, out - 0.5, out - 0.001));
  double ad = rms(&output, out + 0.1, out + 1.1);
  fail_unless(ad > 0.05 && ad < 0.25, "the creative's sound: %f", ad);
  fail_unless(rms(&output, out + 1.3, in - 0.001) < 0.001, "%f", rms(&output, out + 1.3, in - 0.001));
  fail_unless(std::fabs(rms(&output, in, in + 0.5) - loud) < 0.02, "%f", rms(&output, in, in + 0.5));
  remove_tree(dir);
}
GST_END_TEST;

GST_START_TEST(test_replace_skips_a_bad_creative_and_cuts_a_long_one) {
  std::string dir = make_temp_dir("adsplice");
  std::string bad = dir + "/broken.mp4", creative = dir + "/long.mp4";
  g_file_set_contents(bad.c_str(), "this is not a video", -1, NULL);
  write_creative(creative, 3.0, 0xff00ff00, 0.2);
  Cues cues;
  cues.cues.push_back({GST_SECOND, [](GstElement *ads) { splice_out(ads, 1.0, 9); }});
  Messages messages;
  Output output;
  /* the break names no creatives: the element's creatives play */
  run_replace("creatives=<\"" + bad + "\",\"" + creative + "\">", 4, &cues, &messages, &output);

  auto [out, in] = break_times(&messages);
  fail_unless(std::fabs(in - out - 1.0) < FRAME, "%f %f", out, in);
  {
    std::lock_guard<std::mutex> lock(messages.lock);
    bool named = false;
    for (const std::string &warning : messages.warnings)
      named = named || (warning.find("broken.mp4") != std::string::npos &&
                        warning.find("does not decode") != std::string::npos);
    fail_unless(named, "no warning names the broken creative");
    gchar **names = NULL;
    gst_structure_get(messages.breaks[1], "creatives-played", G_TYPE_STRV, &names, NULL);
    fail_unless(names && names[0] && creative == names[0] && !names[1]);
    g_strfreev(names);
  }
  /* the long creative is cut at the break's end; the program goes on */
  auto [green, span] = frames_like(&output, out, in, GREEN);
  fail_unless(green >= span - 1 && span >= 29, "%d green of %d", green, span);
  auto [white, after] = frames_like(&output, in, 4, WHITE);
  fail_unless(after > 0 && white == after, "%d of %d", white, after);
  fail_unless_equals_int((int)output.lumas.size(), 4 * 30);
  remove_tree(dir);
}
GST_END_TEST;

GST_START_TEST(test_replace_break_marks_discontinuities) {
  std::string dir = make_temp_dir("adsplice");
  std::string creative = dir + "/green.mp4";
  write_creative(creative, 1.0, 0xff00ff00, 0.2);
  std::string output = dir + "/out";
  std::string description =
      "videotestsrc is-live=true num-buffers=240 pattern=ball ! "
      "video/x-raw,width=320,height=180,framerate=30/1 "
      "! adsplice name=ads mode=replace creatives=<\"" +
      creative +
      "\"> ! abrladder name=l ladder=180p:300,90p:100 gop-duration=2 speed-preset=ultrafast "
      "! abrsink name=sink mode=live playlist-length=0 location=" +
      output +
      " audiotestsrc is-live=true samplesperbuffer=1600 num-buffers=240 ! audio/x-raw,rate=48000,channels=2 "
      "! ads.audio_sink ads.audio_src ! l.audio";
  Cues cues;
  /* a timed break: its creative is ready when its time comes */
  cues.cues.push_back({GST_SECOND, [](GstElement *ads) {
                         gboolean ok = FALSE;
                         g_signal_emit_by_name(ads, "splice-out-at", 2.0, 11u, (guint64)(2500 * GST_MSECOND),
                                               &ok);
                         fail_unless(ok);
                       }});
  Messages messages;
  std::string error = run(description, &cues, &messages);
  fail_unless(error.empty(), "%s", error.c_str());
  auto [out, in] = break_times(&messages);
  fail_unless(out >= 2.5 && out < 2.5 + FRAME, "%f", out);
  for (const char *rendition : {"180p", "90p", "audio"}) {
    std::vector<Entry> entries =
        check_break(output, rendition, out, in, 2.0, 11, g_strcmp0(rendition, "audio"));
    /* both edges are discontinuities, nothing else is */
    int discontinuities = 0;
    for (const Entry &entry : entries)
      for (const std::string &tag : entry.tags)
        if (tag == "#EXT-X-DISCONTINUITY") {
          discontinuities++;
          fail_unless(entry.has("#EXT-X-CUE-OUT:") || entry.has("#EXT-X-CUE-IN"), "%s: %s", rendition,
                      read_text(output + "/" + rendition + "/index.m3u8").c_str());
        }
    fail_unless_equals_int(discontinuities, 2);
  }
  remove_tree(dir);
}
GST_END_TEST;

/* Every version of each rendition's playlist (and the MPD next to it), as
 * a player reloading it would see them: read on each abrsink-segment. */
struct Snapshots {
  std::string dir;
  std::mutex lock;
  std::map<std::string, std::vector<std::string>> playlists; /* rendition → versions */
  std::vector<std::string> mpds;
};

static GstBusSyncReply snapshot(GstBus *bus, GstMessage *message, gpointer user_data) {
  Snapshots *snapshots = static_cast<Snapshots *>(user_data);
  const GstStructure *s = gst_message_get_structure(message);
  if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ELEMENT && gst_structure_has_name(s, "abrsink-segment")) {
    std::string rendition = gst_structure_get_string(s, "rendition");
    std::string text = read_text(snapshots->dir + "/" + rendition + "/index.m3u8");
    std::lock_guard<std::mutex> lock(snapshots->lock);
    auto &versions = snapshots->playlists[rendition];
    if (versions.empty() || versions.back() != text) versions.push_back(text);
    if (rendition == "180p") snapshots->mpds.push_back(read_text(snapshots->dir + "/manifest.mpd"));
  }
  return GST_BUS_PASS;
}

static guint64 header_number(const std::string &text, const std::string &tag) {
  size_t pos = text.find(tag + ":");
  return pos == std::string::npos ? 0 : g_ascii_strtoull(text.c_str() + pos + tag.size() + 1, NULL, 10);
}

GST_START_TEST(test_replace_break_over_playlist_reloads) {
  std::string dir = make_temp_dir("adsplice");
  std::string creative = dir + "/green.mp4";
  write_creative(creative, 1.0, 0xff00ff00, 0.2);
  Snapshots snapshots;
  snapshots.dir = dir + "/out";
  /* 1 s segments, a window of 3: the break (4.5 s) outlasts the window */
  std::string description =
      "videotestsrc is-live=true num-buffers=360 pattern=ball ! "
      "video/x-raw,width=320,height=180,framerate=30/1 "
      "! adsplice name=ads mode=replace creatives=<\"" +
      creative +
      "\"> ! abrladder name=l ladder=180p:300,90p:100 gop-duration=1 speed-preset=ultrafast "
      "! abrsink name=sink mode=live playlist-length=3 location=" +
      snapshots.dir +
      " audiotestsrc is-live=true samplesperbuffer=1600 num-buffers=360 ! audio/x-raw,rate=48000,channels=2 "
      "! ads.audio_sink ads.audio_src ! l.audio";
  GstElement *pipeline = gst_parse_launch(description.c_str(), NULL);
  fail_unless(pipeline != NULL);
  GstElement *ads = gst_bin_get_by_name(GST_BIN(pipeline), "ads");
  gboolean ok = FALSE;
  g_signal_emit_by_name(ads, "splice-out-at", 4.5, 21u, (guint64)(3200 * GST_MSECOND), &ok);
  fail_unless(ok);
  gst_object_unref(ads);
  GstBus *bus = gst_element_get_bus(pipeline);
  gst_bus_set_sync_handler(bus, snapshot, &snapshots, NULL);
  std::string error = play_to_end(pipeline, bus);
  gst_bus_set_sync_handler(bus, NULL, NULL, NULL);
  gst_object_unref(bus);
  gst_object_unref(pipeline);
  fail_unless(error.empty(), "%s", error.c_str());

  std::lock_guard<std::mutex> lock(snapshots.lock);
  for (const char *rendition : {"180p", "90p", "audio"}) {
    const auto &versions = snapshots.playlists[rendition];
    fail_unless(versions.size() >= 8, "%s: %d versions", rendition, (int)versions.size());
    guint64 last_media = 0, last_discontinuity = 0;
    std::map<std::string, guint64> discontinuity_of; /* segment → its discontinuity sequence number */
    std::map<std::string, double> break_segments;    /* segment in the break → EXTINF */
    std::map<std::string, std::string> range_starts; /* DATERANGE ID → START-DATE */
    bool saw_out = false, saw_in = false;
    for (const std::string &text : versions) {
      guint64 media = header_number(text, "#EXT-X-MEDIA-SEQUENCE");
      guint64 discontinuity = header_number(text, "#EXT-X-DISCONTINUITY-SEQUENCE");
      fail_unless(media >= last_media && discontinuity >= last_discontinuity,
                  "%s: sequence numbers went back\n%s", rendition, text.c_str());
      last_media = media;
      last_discontinuity = discontinuity;
      /* a segment keeps its discontinuity sequence number from reload to
       * reload (RFC 8216 6.2.2): the header counts those slid out */
      guint64 number = discontinuity;
      bool in_break = false;
      double elapsed = 0;
      std::vector<Entry> entries = parse_playlist(text);
      for (size_t i = 0; i < entries.size(); i++) {
        const Entry &entry = entries[i];
        for (const std::string &tag : entry.tags)
          if (tag == "#EXT-X-DISCONTINUITY") number++;
        auto known = discontinuity_of.find(entry.uri);
        fail_unless(known == discontinuity_of.end() || known->second == number,
                    "%s: %s changed discontinuity number\n%s", rendition, entry.uri.c_str(), text.c_str());
        discontinuity_of[entry.uri] = number;
        /* CUE-OUT, CUE-OUT-CONT on every segment after it, CUE-IN: balanced
         * in each version, even once the CUE-OUT slid out of the window */
        if (entry.has("#EXT-X-CUE-OUT:")) {
          fail_if(in_break, "%s: CUE-OUT in a break\n%s", rendition, text.c_str());
          in_break = true;
          saw_out = true;
          elapsed = 0;
          break_segments[entry.uri] = entry.duration;
        } else if (entry.has("#EXT-X-CUE-IN")) {
          fail_unless(in_break || i == 0, "%s: CUE-IN with no break\n%s", rendition, text.c_str());
          in_break = false;
          saw_in = true;
        } else if (entry.has("#EXT-X-CUE-OUT-CONT:")) {
          double said =
              g_ascii_strtod(attribute(entry.tag("#EXT-X-CUE-OUT-CONT:"), "ElapsedTime").c_str(), NULL);
          fail_unless(in_break || i == 0, "%s: CUE-OUT-CONT outside a break\n%s", rendition, text.c_str());
          fail_unless(!in_break || std::fabs(said - elapsed) < 0.002, "%s: ElapsedTime %.3f, not %.3f\n%s",
                      rendition, said, elapsed, text.c_str());
          in_break = true;
          elapsed = said;
          break_segments[entry.uri] = entry.duration;
        } else {
          fail_if(in_break, "%s: %s in the break has no CUE-OUT-CONT\n%s", rendition, entry.uri.c_str(),
                  text.c_str());
        }
        elapsed += entry.duration;
        std::string range = entry.tag("#EXT-X-DATERANGE:");
        if (!range.empty()) {
          std::string id = attribute(range, "ID");
          auto start = range_starts.find(id);
          fail_unless(start == range_starts.end() || start->second == attribute(range, "START-DATE"), "%s",
                      text.c_str());
          range_starts[id] = attribute(range, "START-DATE");
          std::string hex = attribute(range, entry.has("#EXT-X-CUE-OUT:") ? "SCTE35-OUT" : "SCTE35-IN");
          Insert insert = parse_insert(from_hex(hex));
          fail_unless_equals_int(insert.id, 21);
        }
      }
    }
    fail_unless(saw_out && saw_in, "%s: the break was never seen whole", rendition);
    /* both edges slid out of the window by the end */
    fail_unless(last_discontinuity == 2, "%s: discontinuity sequence %d at the end\n%s", rendition,
                (int)last_discontinuity, versions.back().c_str());
    fail_unless_equals_int(range_starts.size(), 1);
    /* the segments inside the break add up to it */
    double sum = 0;
    for (auto &[uri, duration] : break_segments) sum += duration;
    double slack = g_str_equal(rendition, "audio") ? AUDIO_FRAME + 0.002 : FRAME + 0.002;
    fail_unless(std::fabs(sum - 4.5) <= slack, "%s: the break's segments last %.3f s", rendition, sum);
  }
  /* the MPD of the same moments: the break's Event from when it starts to
   * when it leaves the window */
  int with_event = 0;
  for (const std::string &mpd : snapshots.mpds)
    if (mpd.find("<Event ") != std::string::npos) {
      with_event++;
      fail_unless_equals_int(count(mpd, "<Event "), 1);
      fail_unless(mpd.find("urn:scte:scte35:2014:xml+bin") != std::string::npos, "%s", mpd.c_str());
    }
  fail_unless(with_event >= 4, "the MPD showed the break %d times", with_event);
  remove_tree(dir);
}
GST_END_TEST;

/* A break one frame after a regular keyframe: the short segment between
 * the two cuts must not take the break's markers away from the audio. */
GST_START_TEST(test_break_right_after_a_keyframe) {
  for (int frames_after : {1, 2, 3}) {
    std::string dir = make_temp_dir("adsplice");
    Cues cues;
    GstClockTime at = gst_util_uint64_scale(60 + frames_after, GST_SECOND, 30);
    cues.cues.push_back({at, [](GstElement *ads) { splice_out(ads, 2.0, 77); }});
    Messages messages;
    std::string error = run(ladder_pipeline(dir, 6), &cues, &messages);
    fail_unless(error.empty(), "%s", error.c_str());
    auto [out, in] = break_times(&messages);
    for (const char *rendition : {"180p", "90p"}) check_break(dir, rendition, out, in, 2.0, 77, true);
    check_break(dir, "audio", out, in, 2.0, 77, false);
    remove_tree(dir);
  }
}
GST_END_TEST;

static Suite *adsplice_suite(void) {
  gst_mpegts_initialize();
  Suite *s = suite_create("adsplice");
  TCase *tc = tcase_create("general");
  tcase_set_timeout(tc, 180);
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_signal_break_marks_every_rendition);
  tcase_add_test(tc, test_early_splice_in);
  tcase_add_test(tc, test_break_right_after_a_keyframe);
  tcase_add_test(tc, test_cancel_and_bad_cues);
  tcase_add_test(tc, test_scte35_in_ts_input_starts_a_break);
  tcase_add_test(tc, test_scte35_time_signal_starts_a_break);
  tcase_add_test(tc, test_ts_output_carries_scte35);
  tcase_add_test(tc, test_replace_plays_creatives_then_slate);
  tcase_add_test(tc, test_replace_skips_a_bad_creative_and_cuts_a_long_one);
  tcase_add_test(tc, test_replace_break_marks_discontinuities);
  tcase_add_test(tc, test_replace_break_over_playlist_reloads);
  return s;
}

GST_CHECK_MAIN(adsplice);
