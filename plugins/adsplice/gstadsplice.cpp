/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:element-adsplice
 * @title: adsplice
 *
 * Ad breaks on raw video, placed in front of abrladder. A break starts on a
 * cue: the #GstAdSplice::splice-out action signal (now, or at a running time
 * with #GstAdSplice::splice-out-at), or an SCTE-35 splice_insert arriving
 * with the input (tsdemux `send-scte35-events=true`: its "scte-sit" events
 * reach adsplice through the decoder). It ends when its duration is over
 * (auto-return), on #GstAdSplice::splice-in, or on an SCTE-35 splice_insert
 * back into the network. A time_signal counts too when it carries a
 * segmentation_descriptor of a break, advertisement, placement opportunity
 * or ad block (start or end). #GstAdSplice::cancel drops a break that has not
 * started yet.
 *
 * Right before the first frame of a break and the first frame after it,
 * adsplice sends two serialized custom downstream events:
 *
 * - `onair-splice` (fields `kind` "out" or "in", `id` the splice_event_id,
 *   `break-id` a string unique per break, `duration` in seconds (planned at
 *   "out", elapsed at "in", -1 unknown), `running-time` of that frame,
 *   `section` a #GstBuffer holding the splice_info_section): abrladder
 *   forces a keyframe on that frame in every rung and abrsink starts a new
 *   segment there in every rendition, marked with EXT-X-CUE-OUT/-CONT/-IN,
 *   EXT-X-DATERANGE (SCTE35-OUT/-IN) and an EventStream Event in the MPD;
 * - a "scte-sit" MPEG-TS section event (gstmpegts) with a splice_insert in
 *   running time, which `mpegtsmux scte-35-pid=N` behind an encoder writes on
 *   its SCTE-35 PID.
 *
 * Each break start and end is posted on the bus as an element message
 * `adsplice-break-start` / `adsplice-break-end` (fields `id`, `break-id`,
 * `running-time`, `duration` planned in seconds or -1, `source` "api" or
 * "scte35"; at the start also `creatives` (a #GStrv, what the break asked
 * for), at the end also `elapsed` in seconds, `reason` "auto-return",
 * "splice-in" or "scte35", and `creatives-played` (a #GStrv: the creatives
 * shown, in order; empty in #GstAdSplice:mode signal)).
 *
 * In #GstAdSplice:mode signal the program passes through untouched; only the
 * markers go downstream.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -e videotestsrc is-live=true ! video/x-raw,width=640,height=360,framerate=30/1 ! \
 *     adsplice name=ads ! abrladder ladder="360p:800,180p:300" ! abrsink location=/tmp/live \
 *     audiotestsrc is-live=true ! ladder.audio
 * ]| then `g_signal_emit_by_name (ads, "splice-out", 30.0, 1234, &ok)` starts a
 * 30 s break on the next frame.
 * |[
 * gst-launch-1.0 -e srtsrc uri=srt://:9000?mode=listener ! tsdemux send-scte35-events=true name=d \
 *     d. ! queue ! decodebin ! videoconvert ! adsplice ! abrladder name=l ! abrsink location=/tmp/live \
 *     d. ! queue ! decodebin ! audioconvert ! l.audio
 * ]| Breaks signalled by SCTE-35 in an MPEG-TS input.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstadsplice.h"

#include <gst/base/gstbytereader.h>
#include <gst/mpegts/mpegts.h>

#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "splicesection.h"
#include "spliceevent.h"

typedef enum {
  GST_AD_SPLICE_MODE_SIGNAL,
  GST_AD_SPLICE_MODE_REPLACE,
} GstAdSpliceMode;

#define DEFAULT_MODE GST_AD_SPLICE_MODE_SIGNAL

#define GST_TYPE_AD_SPLICE_MODE (gst_ad_splice_mode_get_type())
static GType gst_ad_splice_mode_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_AD_SPLICE_MODE_SIGNAL, "Signal: the program passes through, markers go downstream", "signal"},
      {GST_AD_SPLICE_MODE_REPLACE, "Replace: ad creatives and slate during the break (not implemented yet)",
       "replace"},
      {0, NULL, NULL},
  };
  if (g_once_init_enter(&type)) g_once_init_leave(&type, g_enum_register_static("GstAdSpliceMode", values));
  return type;
}

namespace {

enum class Source { Api, Scte35 };

/* One ad break, from its cue to its end. */
struct Break {
  guint event_id = 0;
  std::string break_id;
  GstClockTime at = GST_CLOCK_TIME_NONE;       /* requested start (running time); NONE: next frame */
  GstClockTime duration = GST_CLOCK_TIME_NONE; /* planned; NONE: until a splice-in */
  GstClockTime start = GST_CLOCK_TIME_NONE;    /* running time of its first frame */
  Source source = Source::Api;
  std::vector<uint8_t> out_section; /* from the input, else built at the start */
  std::vector<std::string> creatives; /* replace mode: URIs or files played in the break */
  std::vector<std::string> played;    /* replace mode: the creatives that were shown */
};

/* What the streaming thread sends before a frame. */
struct Splice {
  bool out;
  Break brk;
  GstClockTime running_time;
  std::string reason;              /* in */
  std::vector<uint8_t> in_section; /* in, from the input */
};

struct Settings {
  GstAdSpliceMode mode = DEFAULT_MODE;
};

}  // namespace

struct GstAdSplicePrivate {
  std::mutex settings_lock;
  Settings settings;

  /* Breaks: changed by the action signals and the streaming thread. */
  std::mutex state_lock;
  std::deque<Break> scheduled; /* by start time; untimed ones first */
  std::optional<Break> active;
  std::string return_reason;       /* non-empty: end the active break on the next frame */
  std::vector<uint8_t> in_section; /* the SCTE-35 cue that ends it, if any */
  GstClockTime last_running_time = GST_CLOCK_TIME_NONE;
  guint breaks = 0; /* serial number, part of every break-id */

  /* streaming thread only */
  GstSegment segment;
};

struct _GstAdSplice {
  GstElement parent;
  GstPad *sinkpad;
  GstPad *srcpad;
  GstAdSplicePrivate *priv;
};

GST_DEBUG_CATEGORY_STATIC(gst_ad_splice_debug);
#define GST_CAT_DEFAULT gst_ad_splice_debug

enum {
  PROP_0,
  PROP_MODE,
};

enum {
  SIGNAL_SPLICE_OUT,
  SIGNAL_SPLICE_OUT_AT,
  SIGNAL_SPLICE_OUT_FULL,
  SIGNAL_SPLICE_IN,
  SIGNAL_CANCEL,
  LAST_SIGNAL,
};

static guint signals[LAST_SIGNAL];

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS("video/x-raw"));
static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS("video/x-raw"));

#define gst_ad_splice_parent_class parent_class
G_DEFINE_TYPE(GstAdSplice, gst_ad_splice, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE(adsplice, "adsplice", GST_RANK_NONE, GST_TYPE_AD_SPLICE,
                                      GST_DEBUG_CATEGORY_INIT(gst_ad_splice_debug, "onair-adsplice", 0,
                                                              "onair ad splicer");
                                      gst_mpegts_initialize());

static void gst_ad_splice_finalize(GObject *object);
static void gst_ad_splice_set_property(GObject *object, guint prop_id, const GValue *value,
                                       GParamSpec *pspec);
static void gst_ad_splice_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec);
static GstStateChangeReturn gst_ad_splice_change_state(GstElement *element, GstStateChange transition);
static GstFlowReturn gst_ad_splice_chain(GstPad *pad, GstObject *parent, GstBuffer *buffer);
static gboolean gst_ad_splice_sink_event(GstPad *pad, GstObject *parent, GstEvent *event);
static gboolean gst_ad_splice_splice_out(GstAdSplice *self, gdouble duration, guint id);
static gboolean gst_ad_splice_splice_out_at(GstAdSplice *self, gdouble duration, guint id,
                                            guint64 running_time);
static gboolean gst_ad_splice_splice_out_full(GstAdSplice *self, gdouble duration, guint id,
                                              guint64 running_time, gchar **creatives);
static gboolean gst_ad_splice_splice_in(GstAdSplice *self, guint id);
static gboolean gst_ad_splice_cancel(GstAdSplice *self, guint id);

static void gst_ad_splice_class_init(GstAdSpliceClass *klass) {
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);

  gobject_class->finalize = gst_ad_splice_finalize;
  gobject_class->set_property = gst_ad_splice_set_property;
  gobject_class->get_property = gst_ad_splice_get_property;

  /**
   * GstAdSplice:mode:
   *
   * signal: the program passes through and only the markers go downstream
   * (for client- or server-side ad insertion further on). replace (ads and
   * slate in place of the program) is not implemented yet and behaves like
   * signal, with a warning.
   */
  g_object_class_install_property(
      gobject_class, PROP_MODE,
      g_param_spec_enum("mode", "Mode", "signal: mark breaks, the program passes through; replace: not yet",
                        GST_TYPE_AD_SPLICE_MODE, DEFAULT_MODE,
                        (GParamFlags)(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY)));

  /**
   * GstAdSplice::splice-out:
   * @adsplice: the adsplice
   * @duration: length of the break in seconds (> 0); the program returns by
   *   itself at its end
   * @id: the splice_event_id, unused by any scheduled or running break
   *
   * Starts an ad break on the next frame.
   *
   * Returns: %TRUE if the break was accepted; %FALSE (and a warning on the
   *   bus) for a bad duration, a break already running or scheduled, or an
   *   id in use
   */
  signals[SIGNAL_SPLICE_OUT] = g_signal_new_class_handler(
      "splice-out", G_TYPE_FROM_CLASS(klass), (GSignalFlags)(G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK(gst_ad_splice_splice_out), NULL, NULL, NULL, G_TYPE_BOOLEAN, 2, G_TYPE_DOUBLE, G_TYPE_UINT);

  /**
   * GstAdSplice::splice-out-at:
   * @adsplice: the adsplice
   * @duration: length of the break in seconds (> 0)
   * @id: the splice_event_id
   * @running_time: where the break starts: on the first frame at or after
   *   this running time (nanoseconds), which must not be in the past
   *
   * Schedules an ad break.
   *
   * Returns: %TRUE if the break was accepted; %FALSE (and a warning on the
   *   bus) for a bad duration, a time in the past, an overlap with another
   *   break, or an id in use
   */
  signals[SIGNAL_SPLICE_OUT_AT] = g_signal_new_class_handler(
      "splice-out-at", G_TYPE_FROM_CLASS(klass), (GSignalFlags)(G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK(gst_ad_splice_splice_out_at), NULL, NULL, NULL, G_TYPE_BOOLEAN, 3, G_TYPE_DOUBLE,
      G_TYPE_UINT, G_TYPE_UINT64);

  /**
   * GstAdSplice::splice-out-full:
   * @adsplice: the adsplice
   * @duration: length of the break in seconds (> 0)
   * @id: the splice_event_id
   * @running_time: where the break starts (nanoseconds of running time, not
   *   in the past), or GST_CLOCK_TIME_NONE for the next frame
   * @creatives: (nullable) (array zero-terminated=1): in #GstAdSplice:mode
   *   replace, the files or URIs played one after the other in the break; %NULL
   *   or empty plays #GstAdSplice:creatives
   *
   * Schedules an ad break with its own creatives.
   *
   * Returns: %TRUE if the break was accepted; %FALSE (and a warning on the
   *   bus) as for #GstAdSplice::splice-out-at
   */
  signals[SIGNAL_SPLICE_OUT_FULL] = g_signal_new_class_handler(
      "splice-out-full", G_TYPE_FROM_CLASS(klass), (GSignalFlags)(G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK(gst_ad_splice_splice_out_full), NULL, NULL, NULL, G_TYPE_BOOLEAN, 4, G_TYPE_DOUBLE,
      G_TYPE_UINT, G_TYPE_UINT64, G_TYPE_STRV);

  /**
   * GstAdSplice::splice-in:
   * @adsplice: the adsplice
   * @id: the splice_event_id of the running break
   *
   * Ends the running break early: the program returns on the next frame.
   *
   * Returns: %FALSE if no break with @id is running
   */
  signals[SIGNAL_SPLICE_IN] = g_signal_new_class_handler(
      "splice-in", G_TYPE_FROM_CLASS(klass), (GSignalFlags)(G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK(gst_ad_splice_splice_in), NULL, NULL, NULL, G_TYPE_BOOLEAN, 1, G_TYPE_UINT);

  /**
   * GstAdSplice::cancel:
   * @adsplice: the adsplice
   * @id: the splice_event_id of a break that has not started
   *
   * Drops a break before it starts; nothing of it goes downstream. (A
   * running break ends with #GstAdSplice::splice-in.)
   *
   * Returns: %FALSE if no break with @id is waiting to start
   */
  signals[SIGNAL_CANCEL] = g_signal_new_class_handler(
      "cancel", G_TYPE_FROM_CLASS(klass), (GSignalFlags)(G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK(gst_ad_splice_cancel), NULL, NULL, NULL, G_TYPE_BOOLEAN, 1, G_TYPE_UINT);

  element_class->change_state = GST_DEBUG_FUNCPTR(gst_ad_splice_change_state);
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_set_static_metadata(element_class, "Ad splicer", "Filter/Video",
                                        "Ad breaks from SCTE-35 or API cues: keyframe-aligned splice "
                                        "points and markers for the packager",
                                        "onair developers");
  gst_type_mark_as_plugin_api(GST_TYPE_AD_SPLICE_MODE, (GstPluginAPIFlags)0);
}

static void gst_ad_splice_init(GstAdSplice *self) {
  self->priv = new GstAdSplicePrivate();
  gst_segment_init(&self->priv->segment, GST_FORMAT_TIME);

  self->sinkpad = gst_pad_new_from_static_template(&sink_template, "sink");
  gst_pad_set_chain_function(self->sinkpad, GST_DEBUG_FUNCPTR(gst_ad_splice_chain));
  gst_pad_set_event_function(self->sinkpad, GST_DEBUG_FUNCPTR(gst_ad_splice_sink_event));
  GST_PAD_SET_PROXY_CAPS(self->sinkpad);
  GST_PAD_SET_PROXY_ALLOCATION(self->sinkpad);
  GST_PAD_SET_PROXY_SCHEDULING(self->sinkpad);
  gst_element_add_pad(GST_ELEMENT(self), self->sinkpad);

  self->srcpad = gst_pad_new_from_static_template(&src_template, "src");
  GST_PAD_SET_PROXY_CAPS(self->srcpad);
  GST_PAD_SET_PROXY_ALLOCATION(self->srcpad);
  GST_PAD_SET_PROXY_SCHEDULING(self->srcpad);
  gst_element_add_pad(GST_ELEMENT(self), self->srcpad);
}

static void gst_ad_splice_finalize(GObject *object) {
  GstAdSplice *self = GST_AD_SPLICE(object);
  delete self->priv;
  G_OBJECT_CLASS(parent_class)->finalize(object);
}

static void gst_ad_splice_set_property(GObject *object, guint prop_id, const GValue *value,
                                       GParamSpec *pspec) {
  GstAdSplice *self = GST_AD_SPLICE(object);
  std::lock_guard<std::mutex> lock(self->priv->settings_lock);
  switch (prop_id) {
    case PROP_MODE:
      self->priv->settings.mode = (GstAdSpliceMode)g_value_get_enum(value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
}

static void gst_ad_splice_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec) {
  GstAdSplice *self = GST_AD_SPLICE(object);
  std::lock_guard<std::mutex> lock(self->priv->settings_lock);
  switch (prop_id) {
    case PROP_MODE:
      g_value_set_enum(value, self->priv->settings.mode);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
}

/* ---- cues -------------------------------------------------------------- */

static void post_warning(GstAdSplice *self, const std::string &text) {
  GST_ELEMENT_WARNING(self, STREAM, FAILED, ("%s", text.c_str()), (NULL));
}

static bool id_in_use(GstAdSplicePrivate *priv, guint id) {
  if (priv->active && priv->active->event_id == id) return true;
  for (const Break &b : priv->scheduled)
    if (b.event_id == id) return true;
  return false;
}

/* Adds a break to the schedule; returns an empty string or why it was
 * refused. Called with state_lock held. */
static std::string schedule_break(GstAdSplicePrivate *priv, Break brk) {
  if (id_in_use(priv, brk.event_id))
    return "splice event " + std::to_string(brk.event_id) + " is already scheduled or running";
  GstClockTime now = priv->last_running_time;
  if (GST_CLOCK_TIME_IS_VALID(brk.at) && GST_CLOCK_TIME_IS_VALID(now) && brk.at < now)
    return "splice event " + std::to_string(brk.event_id) + " asks for a start in the past";
  /* Overlaps: a break with no start time starts on the next frame. */
  GstClockTime start = GST_CLOCK_TIME_IS_VALID(brk.at) ? brk.at : (GST_CLOCK_TIME_IS_VALID(now) ? now : 0);
  auto end_of = [](GstClockTime from, GstClockTime duration) {
    return GST_CLOCK_TIME_IS_VALID(duration) ? from + duration : GST_CLOCK_TIME_NONE;
  };
  auto overlaps = [&](GstClockTime other_start, GstClockTime other_end) {
    GstClockTime end = end_of(start, brk.duration);
    bool starts_before_other_ends = !GST_CLOCK_TIME_IS_VALID(other_end) || start < other_end;
    bool ends_after_other_starts = !GST_CLOCK_TIME_IS_VALID(end) || end > other_start;
    return starts_before_other_ends && ends_after_other_starts;
  };
  if (priv->active && priv->return_reason.empty() &&
      overlaps(priv->active->start, end_of(priv->active->start, priv->active->duration)))
    return "splice event " + std::to_string(brk.event_id) + " overlaps the running break " +
           std::to_string(priv->active->event_id);
  for (const Break &other : priv->scheduled) {
    GstClockTime other_start = GST_CLOCK_TIME_IS_VALID(other.at) ? other.at : start;
    if (overlaps(other_start, end_of(other_start, other.duration)))
      return "splice event " + std::to_string(brk.event_id) + " overlaps the scheduled break " +
             std::to_string(other.event_id);
  }
  brk.break_id = "splice-" + std::to_string(brk.event_id) + "-" + std::to_string(++priv->breaks);
  auto position = priv->scheduled.begin();
  while (position != priv->scheduled.end() && GST_CLOCK_TIME_IS_VALID(brk.at) &&
         (!GST_CLOCK_TIME_IS_VALID(position->at) || position->at <= brk.at))
    ++position;
  priv->scheduled.insert(position, std::move(brk));
  return "";
}

static gboolean request_break(GstAdSplice *self, gdouble duration, guint id, GstClockTime at,
                              gchar **creatives = nullptr) {
  if (!(duration > 0) || duration > 24 * 3600) {
    post_warning(self, "Refused ad break " + std::to_string(id) + ": the duration must be above 0 s");
    return FALSE;
  }
  {
    std::lock_guard<std::mutex> lock(self->priv->settings_lock);
    if (self->priv->settings.mode == GST_AD_SPLICE_MODE_REPLACE)
      GST_WARNING_OBJECT(self, "mode=replace is not implemented yet: the break is only signalled");
  }
  Break brk;
  brk.event_id = id;
  brk.at = at;
  brk.duration = (GstClockTime)(duration * GST_SECOND);
  for (gchar **creative = creatives; creative && *creative; creative++) brk.creatives.emplace_back(*creative);
  std::string refused;
  {
    std::lock_guard<std::mutex> lock(self->priv->state_lock);
    refused = schedule_break(self->priv, std::move(brk));
  }
  if (!refused.empty()) {
    post_warning(self, "Refused ad break: " + refused);
    return FALSE;
  }
  GST_INFO_OBJECT(self, "ad break %u of %.3f s scheduled at %" GST_TIME_FORMAT, id, duration,
                  GST_TIME_ARGS(at));
  return TRUE;
}

static gboolean gst_ad_splice_splice_out(GstAdSplice *self, gdouble duration, guint id) {
  return request_break(self, duration, id, GST_CLOCK_TIME_NONE);
}

static gboolean gst_ad_splice_splice_out_at(GstAdSplice *self, gdouble duration, guint id,
                                            guint64 running_time) {
  if (!GST_CLOCK_TIME_IS_VALID(running_time)) {
    post_warning(self, "Refused ad break " + std::to_string(id) + ": no start time");
    return FALSE;
  }
  return request_break(self, duration, id, running_time);
}

static gboolean gst_ad_splice_splice_out_full(GstAdSplice *self, gdouble duration, guint id,
                                              guint64 running_time, gchar **creatives) {
  return request_break(self, duration, id, running_time, creatives);
}

/* Ends the running break `id` on the next frame; with state_lock held. */
static bool request_return(GstAdSplicePrivate *priv, guint id, const std::string &reason) {
  if (!priv->active || priv->active->event_id != id || !priv->return_reason.empty()) return false;
  priv->return_reason = reason;
  return true;
}

static gboolean gst_ad_splice_splice_in(GstAdSplice *self, guint id) {
  bool ok;
  {
    std::lock_guard<std::mutex> lock(self->priv->state_lock);
    ok = request_return(self->priv, id, "splice-in");
  }
  if (!ok) post_warning(self, "splice-in: no ad break " + std::to_string(id) + " is running");
  return ok;
}

static bool remove_scheduled(GstAdSplicePrivate *priv, guint id) {
  for (auto it = priv->scheduled.begin(); it != priv->scheduled.end(); ++it)
    if (it->event_id == id) {
      priv->scheduled.erase(it);
      return true;
    }
  return false;
}

static gboolean gst_ad_splice_cancel(GstAdSplice *self, guint id) {
  bool ok;
  {
    std::lock_guard<std::mutex> lock(self->priv->state_lock);
    ok = remove_scheduled(self->priv, id);
  }
  if (!ok) post_warning(self, "cancel: no ad break " + std::to_string(id) + " is waiting to start");
  GST_INFO_OBJECT(self, "ad break %u cancelled: %d", id, ok);
  return ok;
}

/* The fields of an SCTE-35 segmentation_descriptor (SCTE 35 10.3.3) that
 * say whether a break starts or ends; gstmpegts 1.22 leaves its payload
 * unparsed. */
struct Segmentation {
  guint event_id = 0;
  bool cancel = false;
  GstClockTime duration = GST_CLOCK_TIME_NONE;
  guint8 type_id = 0;
};

static bool read_segmentation(const GstMpegtsDescriptor *descriptor, Segmentation *out) {
  if (descriptor->tag != GST_MTS_SCTE_DESC_SEGMENTATION || descriptor->length < 9) return false;
  GstByteReader reader;
  gst_byte_reader_init(&reader, descriptor->data + 2, descriptor->length);
  guint32 identifier, event_id;
  guint8 flags;
  if (!gst_byte_reader_get_uint32_be(&reader, &identifier) || identifier != 0x43554549 /* CUEI */ ||
      !gst_byte_reader_get_uint32_be(&reader, &event_id) || !gst_byte_reader_get_uint8(&reader, &flags))
    return false;
  out->event_id = event_id;
  out->cancel = flags & 0x80;
  if (out->cancel) return true;
  guint8 segmentation_flags, components = 0, upid_length = 0;
  guint64 duration = 0;
  if (!gst_byte_reader_get_uint8(&reader, &segmentation_flags)) return false;
  bool program = segmentation_flags & 0x80, has_duration = segmentation_flags & 0x40;
  if (!program && (!gst_byte_reader_get_uint8(&reader, &components) ||
                   !gst_byte_reader_skip(&reader, 6 * (guint)components)))
    return false;
  if (has_duration) {
    guint8 high;
    guint32 low;
    if (!gst_byte_reader_get_uint8(&reader, &high) || !gst_byte_reader_get_uint32_be(&reader, &low))
      return false;
    duration = ((guint64)high << 32) | low; /* 40 bits of 90 kHz */
    out->duration = gst_util_uint64_scale(duration, 100000, 9);
  }
  return gst_byte_reader_skip(&reader, 1) /* upid type */ &&
         gst_byte_reader_get_uint8(&reader, &upid_length) && gst_byte_reader_skip(&reader, upid_length) &&
         gst_byte_reader_get_uint8(&reader, &out->type_id);
}

/* Segmentation types that open and close an ad break: break, provider and
 * distributor advertisement, placement opportunity and ad block. */
static bool starts_break(guint8 type_id) {
  return type_id == 0x22 || type_id == 0x30 || type_id == 0x32 || type_id == 0x34 || type_id == 0x36 ||
         type_id == 0x44 || type_id == 0x46;
}

static bool ends_break(guint8 type_id) {
  return type_id == 0x23 || type_id == 0x31 || type_id == 0x33 || type_id == 0x35 || type_id == 0x37 ||
         type_id == 0x45 || type_id == 0x47;
}

/* A time_signal: its segmentation descriptors say what happens at its time. */
static void handle_time_signal(GstAdSplice *self, const GstMpegtsSCTESIT *sit, const GstStructure *map,
                               const std::vector<uint8_t> &bytes) {
  GstClockTime at = GST_CLOCK_TIME_NONE;
  guint64 running_time;
  if (sit->splice_time_specified && map && gst_structure_get_uint64(map, "splice-time", &running_time))
    at = running_time;
  for (guint i = 0; sit->descriptors && i < sit->descriptors->len; i++) {
    Segmentation segmentation;
    if (!read_segmentation(static_cast<const GstMpegtsDescriptor *>(g_ptr_array_index(sit->descriptors, i)),
                           &segmentation))
      continue;
    guint id = segmentation.event_id;
    std::string refused;
    {
      std::lock_guard<std::mutex> lock(self->priv->state_lock);
      if (segmentation.cancel) {
        remove_scheduled(self->priv, id);
      } else if (starts_break(segmentation.type_id)) {
        Break brk;
        brk.event_id = id;
        GstClockTime now = self->priv->last_running_time;
        brk.at = GST_CLOCK_TIME_IS_VALID(at) && GST_CLOCK_TIME_IS_VALID(now) && at < now ? GST_CLOCK_TIME_NONE
                                                                                         : at;
        brk.duration = segmentation.duration;
        brk.source = Source::Scte35;
        brk.out_section = bytes;
        refused = schedule_break(self->priv, std::move(brk));
      } else if (ends_break(segmentation.type_id)) {
        if (request_return(self->priv, id, "scte35"))
          self->priv->in_section = bytes;
        else if (!remove_scheduled(self->priv, id))
          refused = "the end of segmentation event " + std::to_string(id) + ", which is not running";
      }
    }
    if (!refused.empty())
      post_warning(self, "Ignored an SCTE-35 time_signal: " + refused);
    else
      GST_INFO_OBJECT(self, "SCTE-35 time_signal, segmentation %u type 0x%02x at %" GST_TIME_FORMAT, id,
                      segmentation.type_id, GST_TIME_ARGS(at));
  }
}

/* An SCTE-35 section from the input (tsdemux send-scte35-events=true). Its
 * splice times are in the input's PTS; tsdemux gives them in running time
 * in "running-time-map" (event-ID-splice-time). */
static void handle_scte35(GstAdSplice *self, GstEvent *event, GstMpegtsSection *section) {
  const GstMpegtsSCTESIT *sit = gst_mpegts_section_get_scte_sit(section);
  if (!sit) {
    post_warning(self, "An SCTE-35 section of the input does not parse");
    return;
  }
  const GstStructure *s = gst_event_get_structure(event);
  const GValue *map_value = gst_structure_get_value(s, "running-time-map");
  const GstStructure *map =
      map_value && GST_VALUE_HOLDS_STRUCTURE(map_value) ? gst_value_get_structure(map_value) : NULL;
  std::vector<uint8_t> bytes(section->data, section->data + section->section_length);
  if (sit->splice_command_type == GST_MTS_SCTE_SPLICE_COMMAND_TIME) {
    handle_time_signal(self, sit, map, bytes);
    return;
  }
  if (sit->splice_command_type != GST_MTS_SCTE_SPLICE_COMMAND_INSERT || !sit->splices) {
    GST_DEBUG_OBJECT(self, "SCTE-35 command 0x%02x ignored", sit->splice_command_type);
    return;
  }

  for (guint i = 0; i < sit->splices->len; i++) {
    const GstMpegtsSCTESpliceEvent *splice =
        static_cast<const GstMpegtsSCTESpliceEvent *>(g_ptr_array_index(sit->splices, i));
    guint id = splice->splice_event_id;
    GstClockTime at = GST_CLOCK_TIME_NONE;
    if (!splice->splice_immediate_flag && splice->program_splice_time_specified && map) {
      gchar *field = g_strdup_printf("event-%u-splice-time", id);
      guint64 running_time;
      if (gst_structure_get_uint64(map, field, &running_time)) at = running_time;
      g_free(field);
    }
    std::string refused;
    {
      std::lock_guard<std::mutex> lock(self->priv->state_lock);
      if (splice->splice_event_cancel_indicator) {
        remove_scheduled(self->priv, id);
      } else if (splice->out_of_network_indicator) {
        Break brk;
        brk.event_id = id;
        /* a cue a little late (it came with the frames) starts now */
        GstClockTime now = self->priv->last_running_time;
        brk.at = GST_CLOCK_TIME_IS_VALID(at) && GST_CLOCK_TIME_IS_VALID(now) && at < now ? GST_CLOCK_TIME_NONE
                                                                                         : at;
        if (splice->duration_flag && splice->break_duration > 0)
          brk.duration = gst_util_uint64_scale(splice->break_duration, 100000, 9);
        brk.source = Source::Scte35;
        brk.out_section = bytes;
        refused = schedule_break(self->priv, std::move(brk));
      } else if (request_return(self->priv, id, "scte35")) {
        self->priv->in_section = bytes;
      } else if (!remove_scheduled(self->priv, id)) {
        refused = "a splice back in for event " + std::to_string(id) + ", which is not running";
      }
    }
    if (!refused.empty())
      post_warning(self, "Ignored an SCTE-35 cue: " + refused);
    else
      GST_INFO_OBJECT(self, "SCTE-35 splice_insert %u (out %d, cancel %d) at %" GST_TIME_FORMAT, id,
                      splice->out_of_network_indicator, splice->splice_event_cancel_indicator,
                      GST_TIME_ARGS(at));
  }
}

/* ---- streaming --------------------------------------------------------- */

static const char *source_name(Source source) {
  return source == Source::Scte35 ? "scte35" : "api";
}

static double seconds_or_unknown(GstClockTime time) {
  return GST_CLOCK_TIME_IS_VALID(time) ? (double)time / GST_SECOND : -1;
}

/* Sends the splice's events right before its frame and posts its message. */
static void send_splice(GstAdSplice *self, const Splice &splice) {
  const Break &brk = splice.brk;
  onair::SpliceEvent marker;
  marker.out = splice.out;
  marker.event_id = brk.event_id;
  marker.break_id = brk.break_id;
  marker.running_time = splice.running_time;
  GstClockTime elapsed = splice.running_time - brk.start;
  if (splice.out) {
    marker.duration = seconds_or_unknown(brk.duration);
    marker.section = !brk.out_section.empty()
                         ? brk.out_section
                         : onair::splice_insert_bytes(brk.event_id, true, splice.running_time, brk.duration);
  } else {
    marker.duration = (double)elapsed / GST_SECOND;
    marker.section = !splice.in_section.empty()
                         ? splice.in_section
                         : onair::splice_insert_bytes(brk.event_id, false, splice.running_time, 0);
  }
  GST_INFO_OBJECT(self, "break %s %s at %" GST_TIME_FORMAT, brk.break_id.c_str(), splice.out ? "out" : "in",
                  GST_TIME_ARGS(splice.running_time));
  gst_pad_push_event(self->srcpad, onair::new_splice_event(marker));
  gst_pad_push_event(self->srcpad, onair::splice_insert_event(brk.event_id, splice.out, splice.running_time,
                                                              splice.out ? brk.duration : 0));

  GstStructure *s = gst_structure_new(
      splice.out ? "adsplice-break-start" : "adsplice-break-end", "id", G_TYPE_UINT, brk.event_id, "break-id",
      G_TYPE_STRING, brk.break_id.c_str(), "running-time", G_TYPE_UINT64, (guint64)splice.running_time,
      "duration", G_TYPE_DOUBLE, seconds_or_unknown(brk.duration), "source", G_TYPE_STRING,
      source_name(brk.source), NULL);
  auto set_strv = [s](const char *field, const std::vector<std::string> &values) {
    std::vector<const gchar *> strv;
    for (const std::string &value : values) strv.push_back(value.c_str());
    strv.push_back(nullptr);
    gst_structure_set(s, field, G_TYPE_STRV, strv.data(), NULL);
  };
  if (splice.out) set_strv("creatives", brk.creatives);
  if (!splice.out) {
    gst_structure_set(s, "elapsed", G_TYPE_DOUBLE, (double)elapsed / GST_SECOND, "reason", G_TYPE_STRING,
                      splice.reason.c_str(), NULL);
    set_strv("creatives-played", brk.played);
  }
  gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), s));
}

/* The splices due on a frame at `running_time`: the running break's end,
 * then the next break's start. */
static std::vector<Splice> due_splices(GstAdSplicePrivate *priv, GstClockTime running_time) {
  std::vector<Splice> due;
  std::lock_guard<std::mutex> lock(priv->state_lock);
  priv->last_running_time = running_time;
  if (priv->active) {
    const Break &brk = *priv->active;
    bool over = GST_CLOCK_TIME_IS_VALID(brk.duration) && running_time >= brk.start + brk.duration;
    if (over && priv->return_reason.empty()) priv->return_reason = "auto-return";
    if (!priv->return_reason.empty()) {
      due.push_back(Splice{false, brk, running_time, priv->return_reason, std::move(priv->in_section)});
      priv->active.reset();
      priv->return_reason.clear();
      priv->in_section.clear();
    }
  }
  if (!priv->active && !priv->scheduled.empty()) {
    Break &next = priv->scheduled.front();
    if (!GST_CLOCK_TIME_IS_VALID(next.at) || running_time >= next.at) {
      next.start = running_time;
      priv->active = std::move(next);
      priv->scheduled.pop_front();
      due.push_back(Splice{true, *priv->active, running_time, "", {}});
    }
  }
  return due;
}

static GstFlowReturn gst_ad_splice_chain(GstPad *pad, GstObject *parent, GstBuffer *buffer) {
  GstAdSplice *self = GST_AD_SPLICE(parent);
  GstAdSplicePrivate *priv = self->priv;
  if (GST_BUFFER_PTS_IS_VALID(buffer)) {
    GstClockTime running_time =
        gst_segment_to_running_time(&priv->segment, GST_FORMAT_TIME, GST_BUFFER_PTS(buffer));
    if (GST_CLOCK_TIME_IS_VALID(running_time))
      for (const Splice &splice : due_splices(priv, running_time)) send_splice(self, splice);
  }
  return gst_pad_push(self->srcpad, buffer);
}

static gboolean gst_ad_splice_sink_event(GstPad *pad, GstObject *parent, GstEvent *event) {
  GstAdSplice *self = GST_AD_SPLICE(parent);
  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_SEGMENT: {
      const GstSegment *segment;
      gst_event_parse_segment(event, &segment);
      if (segment->format == GST_FORMAT_TIME)
        gst_segment_copy_into(segment, &self->priv->segment);
      else
        GST_WARNING_OBJECT(self, "a %s segment: cues need time", gst_format_get_name(segment->format));
      break;
    }
    case GST_EVENT_FLUSH_STOP:
      gst_segment_init(&self->priv->segment, GST_FORMAT_TIME);
      break;
    case GST_EVENT_CUSTOM_DOWNSTREAM: {
      GstMpegtsSection *section = gst_event_parse_mpegts_section(event);
      if (section) {
        /* Consumed: the break's own section goes out at its splice point. */
        if (section->section_type == GST_MPEGTS_SECTION_SCTE_SIT) {
          handle_scte35(self, event, section);
          gst_mpegts_section_unref(section);
          gst_event_unref(event);
          return TRUE;
        }
        gst_mpegts_section_unref(section);
      }
      break;
    }
    default:
      break;
  }
  return gst_pad_event_default(pad, parent, event);
}

static GstStateChangeReturn gst_ad_splice_change_state(GstElement *element, GstStateChange transition) {
  GstAdSplice *self = GST_AD_SPLICE(element);
  GstStateChangeReturn ret = GST_ELEMENT_CLASS(parent_class)->change_state(element, transition);
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) {
    /* a new run starts with no break: running times start over */
    std::lock_guard<std::mutex> lock(self->priv->state_lock);
    self->priv->scheduled.clear();
    self->priv->active.reset();
    self->priv->return_reason.clear();
    self->priv->in_section.clear();
    self->priv->last_running_time = GST_CLOCK_TIME_NONE;
    gst_segment_init(&self->priv->segment, GST_FORMAT_TIME);
  }
  return ret;
}
