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

#include <gst/audio/audio.h>
#include <gst/base/gstbytereader.h>
#include <gst/mpegts/mpegts.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "adfiller.h"
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
      {GST_AD_SPLICE_MODE_REPLACE, "Replace: ad creatives, then a slate, in place of the program", "replace"},
      {0, NULL, NULL},
  };
  if (g_once_init_enter(&type)) g_once_init_leave(&type, g_enum_register_static("GstAdSpliceMode", values));
  return type;
}

namespace {

/* A break with no start time waits this long (of program) for its first
 * creative frame, so that it does not open on a frozen picture. */
constexpr GstClockTime READY_WAIT = GST_SECOND;
/* A timed break's creatives start decoding this long before it. */
constexpr GstClockTime PREPARE_AHEAD = 2 * GST_SECOND;
/* Audio that comes before the video has decided a splice near it waits at
 * most this long for the video (separate threads). */
constexpr auto AUDIO_WAIT = std::chrono::milliseconds(1200);

enum class Source { Api, Scte35 };

/* One ad break, from its cue to its end. */
struct Break {
  guint event_id = 0;
  std::string break_id;
  GstClockTime at = GST_CLOCK_TIME_NONE;       /* requested start (running time); NONE: next frame */
  GstClockTime duration = GST_CLOCK_TIME_NONE; /* planned; NONE: until a splice-in */
  GstClockTime start = GST_CLOCK_TIME_NONE;    /* running time of its first frame */
  Source source = Source::Api;
  std::vector<uint8_t> out_section;   /* from the input, else built at the start */
  std::vector<std::string> creatives; /* replace mode: URIs or files played in the break */
  std::vector<std::string> played;    /* replace mode: the creatives that were shown */
  /* replace mode */
  std::shared_ptr<onair::AdFiller> filler;           /* decodes its creatives, made ahead of its start */
  bool filler_tried = false;                         /* made, or could not be (no caps yet) */
  bool replace = false;                              /* its frames are the filler's */
  GstClockTime deferred_since = GST_CLOCK_TIME_NONE; /* waiting for its first creative frame */
};

/* Program time whose audio is replaced: a replace-mode break, from its
 * first frame to the first frame after it (NONE while it runs). */
struct Span {
  GstClockTime start = GST_CLOCK_TIME_NONE;
  GstClockTime end = GST_CLOCK_TIME_NONE;
  std::shared_ptr<onair::AdFiller> filler;
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
  std::vector<std::string> creatives; /* played in breaks that name none */
  std::string slate_location;
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
  /* replace mode: what the audio thread needs from the video thread */
  std::condition_variable video_moved; /* last_running_time, a splice, EOS or flushing */
  std::deque<Span> spans;
  GstCaps *audio_caps = nullptr;
  bool video_eos = false;
  bool flushing = false;

  /* video streaming thread only */
  GstSegment segment;
  GstCaps *video_caps = nullptr;
  std::shared_ptr<onair::AdFiller> filler; /* of the running replace-mode break */
  GstBuffer *last_picture = nullptr;       /* its last picture, shown again while the next decodes */

  /* audio streaming thread only */
  GstSegment audio_segment;
  GstAudioInfo audio_info;
};

struct _GstAdSplice {
  GstElement parent;
  GstPad *sinkpad;
  GstPad *srcpad;
  GstPad *audio_sinkpad;
  GstPad *audio_srcpad;
  GstAdSplicePrivate *priv;
};

GST_DEBUG_CATEGORY(gst_ad_splice_debug);
#define GST_CAT_DEFAULT gst_ad_splice_debug

enum {
  PROP_0,
  PROP_MODE,
  PROP_CREATIVES,
  PROP_SLATE_LOCATION,
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
static GstStaticPadTemplate audio_sink_template =
    GST_STATIC_PAD_TEMPLATE("audio_sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS("audio/x-raw"));
static GstStaticPadTemplate audio_src_template =
    GST_STATIC_PAD_TEMPLATE("audio_src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS("audio/x-raw"));

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
static GstFlowReturn gst_ad_splice_audio_chain(GstPad *pad, GstObject *parent, GstBuffer *buffer);
static gboolean gst_ad_splice_audio_sink_event(GstPad *pad, GstObject *parent, GstEvent *event);
static GstIterator *gst_ad_splice_iterate_internal_links(GstPad *pad, GstObject *parent);
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
   * (for client- or server-side ad insertion further on). replace: during a
   * break the picture and the sound (through audio_sink/audio_src) are the
   * break's creatives, decoded once and converted to the program's caps,
   * then the slate until the break ends; both edges are also marked as
   * discontinuities (EXT-X-DISCONTINUITY).
   */
  g_object_class_install_property(
      gobject_class, PROP_MODE,
      g_param_spec_enum(
          "mode", "Mode",
          "signal: mark breaks, the program passes through; replace: ads and slate in the break",
          GST_TYPE_AD_SPLICE_MODE, DEFAULT_MODE,
          (GParamFlags)(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY)));

  /**
   * GstAdSplice:creatives:
   *
   * In #GstAdSplice:mode replace, the files or URIs played one after the
   * other in a break that names no creatives of its own (see
   * #GstAdSplice::splice-out-full). A creative longer than what is left of
   * the break is cut at its end; a break longer than its creatives shows the
   * slate for the rest. A creative that does not decode is skipped, with a
   * warning on the bus. From gst-launch-1.0:
   * `creatives="<\"/ads/one.mp4\",\"file:///ads/two.mp4\">"`.
   */
  g_object_class_install_property(
      gobject_class, PROP_CREATIVES,
      gst_param_spec_array("creatives", "Creatives",
                           "Files or URIs played in a break that names none (replace mode)",
                           g_param_spec_string("creative", "Creative", "A file or URI", NULL,
                                               (GParamFlags)(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS)),
                           (GParamFlags)(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS)));

  /**
   * GstAdSplice:slate-location:
   *
   * The image shown in a break once its creatives are over (replace mode),
   * scaled with borders to the program's picture; empty: black.
   */
  g_object_class_install_property(
      gobject_class, PROP_SLATE_LOCATION,
      g_param_spec_string("slate-location", "Slate location", "Image shown in a break after its creatives",
                          NULL, (GParamFlags)(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS)));

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
  gst_element_class_add_static_pad_template(element_class, &audio_sink_template);
  gst_element_class_add_static_pad_template(element_class, &audio_src_template);
  gst_element_class_set_static_metadata(element_class, "Ad splicer", "Filter/Video",
                                        "Ad breaks from SCTE-35 or API cues: keyframe-aligned splice "
                                        "points and markers for the packager",
                                        "onair developers");
  gst_type_mark_as_plugin_api(GST_TYPE_AD_SPLICE_MODE, (GstPluginAPIFlags)0);
}

static void gst_ad_splice_init(GstAdSplice *self) {
  self->priv = new GstAdSplicePrivate();
  gst_segment_init(&self->priv->segment, GST_FORMAT_TIME);
  gst_segment_init(&self->priv->audio_segment, GST_FORMAT_TIME);
  gst_audio_info_init(&self->priv->audio_info);

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

  /* The program's sound, replaced in replace-mode breaks. */
  self->audio_sinkpad = gst_pad_new_from_static_template(&audio_sink_template, "audio_sink");
  gst_pad_set_chain_function(self->audio_sinkpad, GST_DEBUG_FUNCPTR(gst_ad_splice_audio_chain));
  gst_pad_set_event_function(self->audio_sinkpad, GST_DEBUG_FUNCPTR(gst_ad_splice_audio_sink_event));
  GST_PAD_SET_PROXY_CAPS(self->audio_sinkpad);
  GST_PAD_SET_PROXY_ALLOCATION(self->audio_sinkpad);
  GST_PAD_SET_PROXY_SCHEDULING(self->audio_sinkpad);
  gst_element_add_pad(GST_ELEMENT(self), self->audio_sinkpad);

  self->audio_srcpad = gst_pad_new_from_static_template(&audio_src_template, "audio_src");
  GST_PAD_SET_PROXY_CAPS(self->audio_srcpad);
  GST_PAD_SET_PROXY_ALLOCATION(self->audio_srcpad);
  GST_PAD_SET_PROXY_SCHEDULING(self->audio_srcpad);
  gst_element_add_pad(GST_ELEMENT(self), self->audio_srcpad);

  /* video to video, audio to audio (the default would cross them) */
  for (GstPad *pad : {self->sinkpad, self->srcpad, self->audio_sinkpad, self->audio_srcpad})
    gst_pad_set_iterate_internal_links_function(pad, GST_DEBUG_FUNCPTR(gst_ad_splice_iterate_internal_links));
}

static GstIterator *gst_ad_splice_iterate_internal_links(GstPad *pad, GstObject *parent) {
  GstAdSplice *self = GST_AD_SPLICE(parent);
  GstPad *other = pad == self->sinkpad         ? self->srcpad
                  : pad == self->srcpad        ? self->sinkpad
                  : pad == self->audio_sinkpad ? self->audio_srcpad
                                               : self->audio_sinkpad;
  GValue value = G_VALUE_INIT;
  g_value_init(&value, GST_TYPE_PAD);
  g_value_set_object(&value, other);
  GstIterator *it = gst_iterator_new_single(GST_TYPE_PAD, &value);
  g_value_unset(&value);
  return it;
}

static void gst_ad_splice_finalize(GObject *object) {
  GstAdSplice *self = GST_AD_SPLICE(object);
  GstAdSplicePrivate *priv = self->priv;
  if (priv->audio_caps) gst_caps_unref(priv->audio_caps);
  if (priv->video_caps) gst_caps_unref(priv->video_caps);
  if (priv->last_picture) gst_buffer_unref(priv->last_picture);
  delete priv;
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
    case PROP_CREATIVES: {
      self->priv->settings.creatives.clear();
      for (guint i = 0; i < gst_value_array_get_size(value); i++) {
        const gchar *creative = g_value_get_string(gst_value_array_get_value(value, i));
        if (creative && *creative) self->priv->settings.creatives.emplace_back(creative);
      }
      break;
    }
    case PROP_SLATE_LOCATION: {
      const gchar *location = g_value_get_string(value);
      self->priv->settings.slate_location = location ? location : "";
      break;
    }
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
    case PROP_CREATIVES: {
      for (const std::string &creative : self->priv->settings.creatives) {
        GValue item = G_VALUE_INIT;
        g_value_init(&item, G_TYPE_STRING);
        g_value_set_string(&item, creative.c_str());
        gst_value_array_append_and_take_value(value, &item);
      }
      break;
    }
    case PROP_SLATE_LOCATION:
      g_value_set_string(value, self->priv->settings.slate_location.c_str());
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
  marker.discontinuity = brk.replace;
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
 * then the next break's start. In replace mode a break with no start time
 * waits (up to READY_WAIT) for its first creative frame. */
static std::vector<Splice> due_splices(GstAdSplicePrivate *priv, GstClockTime running_time) {
  std::vector<Splice> due;
  std::lock_guard<std::mutex> lock(priv->state_lock);
  priv->last_running_time = running_time;
  if (priv->active) {
    Break &brk = *priv->active;
    bool over = GST_CLOCK_TIME_IS_VALID(brk.duration) && running_time >= brk.start + brk.duration;
    if (over && priv->return_reason.empty()) priv->return_reason = "auto-return";
    if (!priv->return_reason.empty()) {
      if (brk.filler) brk.played = brk.filler->played();
      for (Span &span : priv->spans)
        if (brk.replace && span.filler == brk.filler && !GST_CLOCK_TIME_IS_VALID(span.end))
          span.end = running_time;
      due.push_back(Splice{false, brk, running_time, priv->return_reason, std::move(priv->in_section)});
      priv->active.reset();
      priv->return_reason.clear();
      priv->in_section.clear();
    }
  }
  if (!priv->active && !priv->scheduled.empty()) {
    Break &next = priv->scheduled.front();
    bool due_now = !GST_CLOCK_TIME_IS_VALID(next.at) || running_time >= next.at;
    if (due_now && next.filler && !GST_CLOCK_TIME_IS_VALID(next.at) && !next.filler->ready()) {
      if (!GST_CLOCK_TIME_IS_VALID(next.deferred_since)) next.deferred_since = running_time;
      due_now = running_time - next.deferred_since >= READY_WAIT;
    }
    if (due_now) {
      next.start = running_time;
      next.replace = next.filler != nullptr;
      priv->active = std::move(next);
      priv->scheduled.pop_front();
      if (priv->active->replace)
        priv->spans.push_back(Span{running_time, GST_CLOCK_TIME_NONE, priv->active->filler});
      due.push_back(Splice{true, *priv->active, running_time, "", {}});
    }
  }
  /* Spans the audio no longer needs: all ended ones when no audio comes. */
  while (!priv->spans.empty() && GST_CLOCK_TIME_IS_VALID(priv->spans.front().end) &&
         (!priv->audio_caps || priv->spans.size() > 4))
    priv->spans.pop_front();
  priv->video_moved.notify_all();
  return due;
}

static GstAdSpliceMode current_mode(GstAdSplice *self) {
  std::lock_guard<std::mutex> lock(self->priv->settings_lock);
  return self->priv->settings.mode;
}

/* Replace mode: starts decoding the next break's creatives a little ahead
 * of it (right away for a break on the next frame), at the program's caps. */
static void prepare_filler(GstAdSplice *self, GstClockTime running_time) {
  GstAdSplicePrivate *priv = self->priv;
  if (!priv->video_caps) return;
  guint id;
  std::vector<std::string> creatives;
  GstCaps *audio_caps = nullptr;
  {
    std::lock_guard<std::mutex> lock(priv->state_lock);
    if (priv->scheduled.empty()) return;
    Break &next = priv->scheduled.front();
    if (next.filler_tried || (GST_CLOCK_TIME_IS_VALID(next.at) && next.at > running_time + PREPARE_AHEAD))
      return;
    next.filler_tried = true;
    id = next.event_id;
    creatives = next.creatives;
    if (priv->audio_caps) audio_caps = gst_caps_ref(priv->audio_caps);
  }
  std::string slate;
  {
    std::lock_guard<std::mutex> lock(priv->settings_lock);
    if (creatives.empty()) creatives = priv->settings.creatives;
    slate = priv->settings.slate_location;
  }
  GST_INFO_OBJECT(self, "break %u: preparing %zu creatives", id, creatives.size());
  auto filler =
      std::make_shared<onair::AdFiller>(creatives, slate, priv->video_caps, audio_caps,
                                        [self](const std::string &text) { post_warning(self, text); });
  if (audio_caps) gst_caps_unref(audio_caps);
  std::lock_guard<std::mutex> lock(priv->state_lock);
  for (Break &brk : priv->scheduled)
    if (brk.event_id == id && !brk.filler) brk.filler = filler;
}

/* A break's picture in place of the program frame `buffer`, with its times. */
static GstFlowReturn push_replacement(GstAdSplice *self, GstBuffer *buffer) {
  GstAdSplicePrivate *priv = self->priv;
  if (!gst_caps_is_equal(priv->video_caps, priv->filler->video_caps())) {
    GST_LOG_OBJECT(self, "the program's caps changed in the break: its frames pass");
    return gst_pad_push(self->srcpad, buffer);
  }
  GstBuffer *picture = priv->filler->next_video();
  if (picture)
    gst_buffer_replace(&priv->last_picture, picture);
  else if (priv->last_picture)
    picture = gst_buffer_ref(priv->last_picture);
  else
    picture = priv->filler->slate_picture(); /* the first creative is late */
  if (!picture) {
    GST_LOG_OBJECT(self, "no picture for the break yet: the program frame passes");
    return gst_pad_push(self->srcpad, buffer);
  }
  picture = gst_buffer_make_writable(picture);
  GST_BUFFER_PTS(picture) = GST_BUFFER_PTS(buffer);
  GST_BUFFER_DTS(picture) = GST_BUFFER_DTS(buffer);
  GST_BUFFER_DURATION(picture) = GST_BUFFER_DURATION(buffer);
  GST_BUFFER_OFFSET(picture) = GST_BUFFER_OFFSET(buffer);
  GST_BUFFER_OFFSET_END(picture) = GST_BUFFER_OFFSET_END(buffer);
  GST_BUFFER_FLAGS(picture) = GST_BUFFER_FLAGS(buffer);
  gst_buffer_unref(buffer);
  return gst_pad_push(self->srcpad, picture);
}

static GstFlowReturn gst_ad_splice_chain(GstPad *pad, GstObject *parent, GstBuffer *buffer) {
  GstAdSplice *self = GST_AD_SPLICE(parent);
  GstAdSplicePrivate *priv = self->priv;
  if (GST_BUFFER_PTS_IS_VALID(buffer)) {
    GstClockTime running_time =
        gst_segment_to_running_time(&priv->segment, GST_FORMAT_TIME, GST_BUFFER_PTS(buffer));
    if (GST_CLOCK_TIME_IS_VALID(running_time)) {
      if (current_mode(self) == GST_AD_SPLICE_MODE_REPLACE) prepare_filler(self, running_time);
      for (const Splice &splice : due_splices(priv, running_time)) {
        if (splice.brk.replace) {
          priv->filler = splice.out ? splice.brk.filler : nullptr;
          gst_buffer_replace(&priv->last_picture, NULL);
        }
        send_splice(self, splice);
      }
    }
  }
  if (priv->filler) return push_replacement(self, buffer);
  return gst_pad_push(self->srcpad, buffer);
}

/* Whether the video may still start or end a replace-mode break before the
 * running time `end`; with state_lock held. */
static bool audio_undecided(GstAdSplicePrivate *priv, GstClockTime end) {
  if (priv->flushing || priv->video_eos || !GST_CLOCK_TIME_IS_VALID(priv->last_running_time) ||
      priv->last_running_time >= end)
    return false;
  if (!priv->scheduled.empty()) {
    const Break &next = priv->scheduled.front();
    if (!GST_CLOCK_TIME_IS_VALID(next.at) || next.at < end) return true;
  }
  if (priv->active && priv->active->replace) {
    const Break &brk = *priv->active;
    if (!priv->return_reason.empty() ||
        (GST_CLOCK_TIME_IS_VALID(brk.duration) && brk.start + brk.duration < end))
      return true;
  }
  return false;
}

/* The program's sound, in replace mode the break's instead where a break
 * covers it (to the sample). */
static GstFlowReturn gst_ad_splice_audio_chain(GstPad *pad, GstObject *parent, GstBuffer *buffer) {
  GstAdSplice *self = GST_AD_SPLICE(parent);
  GstAdSplicePrivate *priv = self->priv;
  const GstAudioInfo &info = priv->audio_info;
  if (current_mode(self) != GST_AD_SPLICE_MODE_REPLACE || !GST_BUFFER_PTS_IS_VALID(buffer) || !info.bpf ||
      !info.rate || info.layout != GST_AUDIO_LAYOUT_INTERLEAVED)
    return gst_pad_push(self->audio_srcpad, buffer);
  GstClockTime start =
      gst_segment_to_running_time(&priv->audio_segment, GST_FORMAT_TIME, GST_BUFFER_PTS(buffer));
  if (!GST_CLOCK_TIME_IS_VALID(start)) return gst_pad_push(self->audio_srcpad, buffer);
  guint64 samples = gst_buffer_get_size(buffer) / info.bpf;
  GstClockTime end = start + gst_util_uint64_scale_int(samples, GST_SECOND, info.rate);

  struct Piece {
    guint64 from, to; /* samples */
    std::shared_ptr<onair::AdFiller> filler;
  };
  std::vector<Piece> pieces;
  {
    std::unique_lock<std::mutex> lock(priv->state_lock);
    auto deadline = std::chrono::steady_clock::now() + AUDIO_WAIT;
    while (audio_undecided(priv, end))
      if (priv->video_moved.wait_until(lock, deadline) == std::cv_status::timeout) {
        GST_DEBUG_OBJECT(self, "audio at %" GST_TIME_FORMAT " goes on before the video",
                         GST_TIME_ARGS(start));
        break;
      }
    while (!priv->spans.empty() && GST_CLOCK_TIME_IS_VALID(priv->spans.front().end) &&
           priv->spans.front().end <= start)
      priv->spans.pop_front();
    for (const Span &span : priv->spans) {
      GstClockTime from = MAX(span.start, start);
      GstClockTime to = GST_CLOCK_TIME_IS_VALID(span.end) ? MIN(span.end, end) : end;
      if (from >= to) continue;
      pieces.push_back(Piece{gst_util_uint64_scale_int_round(from - start, info.rate, GST_SECOND),
                             MIN(samples, gst_util_uint64_scale_int_round(to - start, info.rate, GST_SECOND)),
                             span.filler});
    }
  }
  if (pieces.empty()) return gst_pad_push(self->audio_srcpad, buffer);
  buffer = gst_buffer_make_writable(buffer);
  GstMapInfo map;
  if (!gst_buffer_map(buffer, &map, GST_MAP_READWRITE)) return gst_pad_push(self->audio_srcpad, buffer);
  for (const Piece &piece : pieces)
    if (piece.to > piece.from)
      piece.filler->fill_audio(map.data + piece.from * info.bpf, (piece.to - piece.from) * info.bpf);
  gst_buffer_unmap(buffer, &map);
  return gst_pad_push(self->audio_srcpad, buffer);
}

static gboolean gst_ad_splice_audio_sink_event(GstPad *pad, GstObject *parent, GstEvent *event) {
  GstAdSplice *self = GST_AD_SPLICE(parent);
  GstAdSplicePrivate *priv = self->priv;
  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_SEGMENT: {
      const GstSegment *segment;
      gst_event_parse_segment(event, &segment);
      if (segment->format == GST_FORMAT_TIME) gst_segment_copy_into(segment, &priv->audio_segment);
      break;
    }
    case GST_EVENT_CAPS: {
      GstCaps *caps;
      gst_event_parse_caps(event, &caps);
      if (!gst_audio_info_from_caps(&priv->audio_info, caps)) gst_audio_info_init(&priv->audio_info);
      std::lock_guard<std::mutex> lock(priv->state_lock);
      gst_caps_replace(&priv->audio_caps, caps);
      break;
    }
    case GST_EVENT_FLUSH_STOP:
      gst_segment_init(&priv->audio_segment, GST_FORMAT_TIME);
      break;
    default:
      break;
  }
  return gst_pad_event_default(pad, parent, event);
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
    case GST_EVENT_CAPS: {
      GstCaps *caps;
      gst_event_parse_caps(event, &caps);
      gst_caps_replace(&self->priv->video_caps, caps);
      break;
    }
    case GST_EVENT_EOS: {
      std::lock_guard<std::mutex> lock(self->priv->state_lock);
      self->priv->video_eos = true;
      self->priv->video_moved.notify_all();
      break;
    }
    case GST_EVENT_FLUSH_START: {
      std::lock_guard<std::mutex> lock(self->priv->state_lock);
      self->priv->flushing = true;
      self->priv->video_moved.notify_all();
      break;
    }
    case GST_EVENT_FLUSH_STOP: {
      gst_segment_init(&self->priv->segment, GST_FORMAT_TIME);
      std::lock_guard<std::mutex> lock(self->priv->state_lock);
      self->priv->flushing = false;
      self->priv->video_eos = false;
      self->priv->spans.clear();
      break;
    }
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
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY || transition == GST_STATE_CHANGE_READY_TO_PAUSED) {
    /* going down: audio waiting for the video lets go */
    std::lock_guard<std::mutex> lock(self->priv->state_lock);
    self->priv->flushing = transition == GST_STATE_CHANGE_PAUSED_TO_READY;
    self->priv->video_eos = false;
    self->priv->video_moved.notify_all();
  }
  GstStateChangeReturn ret = GST_ELEMENT_CLASS(parent_class)->change_state(element, transition);
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) {
    /* a new run starts with no break: running times start over */
    std::lock_guard<std::mutex> lock(self->priv->state_lock);
    self->priv->scheduled.clear();
    self->priv->active.reset();
    self->priv->return_reason.clear();
    self->priv->in_section.clear();
    self->priv->last_running_time = GST_CLOCK_TIME_NONE;
    self->priv->spans.clear();
    gst_caps_replace(&self->priv->audio_caps, NULL);
    gst_segment_init(&self->priv->segment, GST_FORMAT_TIME);
    gst_segment_init(&self->priv->audio_segment, GST_FORMAT_TIME);
    gst_caps_replace(&self->priv->video_caps, NULL);
    self->priv->filler.reset();
    gst_buffer_replace(&self->priv->last_picture, NULL);
  }
  return ret;
}
