/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:element-abrladder
 * @title: abrladder
 *
 * Encodes raw video (and optionally raw audio) into the renditions of an
 * adaptive-bitrate ladder: one H.264 (or H.265) stream per rung on the
 * `src_%u` pads and one AAC stream on `audio_src`.
 *
 * The source is converted once; each rung is scaled (libswscale, bicubic) from the next larger rung
 * (cascaded scaling), rungs larger than the source are dropped (no upscaling)
 * and portrait sources keep their orientation. One keyframe schedule drives
 * every encoder: a keyframe is forced every #GstAbrLadder:gop-duration seconds
 * of running time on the same input frame in every rung, so the segments of all
 * renditions line up. The serialized events `onair-discontinuity` (liveinput's
 * input switch) and `onair-splice` (adsplice's ad break edges) force a
 * keyframe on the next frame and restart the schedule from it; they go on to
 * every rendition in order with the frames.
 *
 * Each src pad's caps carry width, height, framerate, profile and level (from
 * h264parse) plus `bitrate` (the rung's target, bits/s) and `rendition` (its
 * name, e.g. "720p"), so a sink can describe the rendition without guessing.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 -e videotestsrc is-live=true ! video/x-raw,width=1920,height=1080,framerate=30/1 ! \
 *     abrladder name=l ladder="1080p:5000,720p:2800,480p:1400,144p:200" ! abrsink location=/tmp/live \
 *     audiotestsrc is-live=true ! l.audio
 * ]| A live ABR ladder with audio, packaged as HLS and DASH.
 * |[
 * gst-launch-1.0 uridecodebin uri=file:///path/to/video.mp4 ! abrladder ! abrsink mode=vod location=/tmp/vod
 * ]| A file turned into a video-on-demand ladder with the default rungs.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstabrladder.h"

#include <gst/video/video.h>

#include <cmath>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "binchildren.h"
#include "probeevents.h"
#include "gstonairswscale.h"
#include "ladderspec.h"

#define DEFAULT_LADDER "1080p:5000,720p:2800,480p:1400,360p:800,144p:200"
#define DEFAULT_GOP_DURATION 2.0
#define DEFAULT_SPEED_PRESET GST_ABR_LADDER_PRESET_VERYFAST
#define DEFAULT_TUNE 0
#define DEFAULT_ENCODER GST_ABR_LADDER_ENCODER_X264
#define DEFAULT_AUDIO_BITRATE 128
#define DEFAULT_AUTO_LINK TRUE

/* Raw frames buffered in front of each encoder, so that one slow encoder does
 * not stall the others while keeping memory bounded (a 1080p I420 frame is
 * 3 MB). */
#define ENCODER_QUEUE_FRAMES 8

typedef enum {
  GST_ABR_LADDER_PRESET_ULTRAFAST = 1,
  GST_ABR_LADDER_PRESET_SUPERFAST,
  GST_ABR_LADDER_PRESET_VERYFAST,
  GST_ABR_LADDER_PRESET_FASTER,
  GST_ABR_LADDER_PRESET_FAST,
  GST_ABR_LADDER_PRESET_MEDIUM,
  GST_ABR_LADDER_PRESET_SLOW,
  GST_ABR_LADDER_PRESET_SLOWER,
  GST_ABR_LADDER_PRESET_VERYSLOW,
} GstAbrLadderPreset;

typedef enum {
  GST_ABR_LADDER_TUNE_STILLIMAGE = (1 << 0),
  GST_ABR_LADDER_TUNE_FASTDECODE = (1 << 1),
  GST_ABR_LADDER_TUNE_ZEROLATENCY = (1 << 2),
} GstAbrLadderTune;

typedef enum {
  GST_ABR_LADDER_ENCODER_X264,
  GST_ABR_LADDER_ENCODER_OPENH264,
} GstAbrLadderEncoder;

#define GST_TYPE_ABR_LADDER_PRESET (gst_abr_ladder_preset_get_type())
static GType gst_abr_ladder_preset_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_ABR_LADDER_PRESET_ULTRAFAST, "ultrafast", "ultrafast"},
      {GST_ABR_LADDER_PRESET_SUPERFAST, "superfast", "superfast"},
      {GST_ABR_LADDER_PRESET_VERYFAST, "veryfast", "veryfast"},
      {GST_ABR_LADDER_PRESET_FASTER, "faster", "faster"},
      {GST_ABR_LADDER_PRESET_FAST, "fast", "fast"},
      {GST_ABR_LADDER_PRESET_MEDIUM, "medium", "medium"},
      {GST_ABR_LADDER_PRESET_SLOW, "slow", "slow"},
      {GST_ABR_LADDER_PRESET_SLOWER, "slower", "slower"},
      {GST_ABR_LADDER_PRESET_VERYSLOW, "veryslow", "veryslow"},
      {0, NULL, NULL},
  };
  if (g_once_init_enter(&type))
    g_once_init_leave(&type, g_enum_register_static("GstAbrLadderPreset", values));
  return type;
}

#define GST_TYPE_ABR_LADDER_TUNE (gst_abr_ladder_tune_get_type())
static GType gst_abr_ladder_tune_get_type(void) {
  static GType type = 0;
  static const GFlagsValue values[] = {
      {GST_ABR_LADDER_TUNE_STILLIMAGE, "Still image", "stillimage"},
      {GST_ABR_LADDER_TUNE_FASTDECODE, "Fast decode", "fastdecode"},
      {GST_ABR_LADDER_TUNE_ZEROLATENCY, "Zero latency", "zerolatency"},
      {0, NULL, NULL},
  };
  if (g_once_init_enter(&type)) g_once_init_leave(&type, g_flags_register_static("GstAbrLadderTune", values));
  return type;
}

#define GST_TYPE_ABR_LADDER_ENCODER (gst_abr_ladder_encoder_get_type())
static GType gst_abr_ladder_encoder_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_ABR_LADDER_ENCODER_X264, "x264 (x264enc)", "x264"},
      {GST_ABR_LADDER_ENCODER_OPENH264, "OpenH264 (openh264enc)", "openh264"},
      {0, NULL, NULL},
  };
  if (g_once_init_enter(&type))
    g_once_init_leave(&type, g_enum_register_static("GstAbrLadderEncoder", values));
  return type;
}

namespace {

struct Settings {
  std::string ladder_text = DEFAULT_LADDER;
  std::vector<onair::Rung> rungs;
  std::string ladder_error; /* non-empty: the ladder text did not parse */
  double gop_duration = DEFAULT_GOP_DURATION;
  GstAbrLadderPreset preset = DEFAULT_SPEED_PRESET;
  guint tune = DEFAULT_TUNE;
  GstAbrLadderEncoder encoder = DEFAULT_ENCODER;
  guint audio_bitrate = DEFAULT_AUDIO_BITRATE;
  bool auto_link = DEFAULT_AUTO_LINK;
};

/* One rendition as built for the current input. */
struct Rendition {
  onair::Rung rung;
  onair::Dimensions size;
  GstPad *srcpad = nullptr; /* our ghost pad, src_%u */
};

}  // namespace

/* The encoders work on running time + this offset, in a segment starting at
 * 0 (converted before the source tee, converted back behind each parser).
 * GstVideoEncoder 1.22 compares force-key-unit requests with a running time
 * it computes from frame timestamps that x264enc's set_min_pts (1000 hours)
 * shifts, and before its first output frame from a default segment: in
 * that domain, with timestamps past the minimum and a 0-based segment, its
 * running time is ours + this offset at every frame, so keyframe requests
 * can name their exact frame. (Requests for "the next frame" are ignored
 * while an earlier one is still inside the encoder's lookahead, as after an
 * input stall.) */
static constexpr GstClockTime ENCODER_TIME_OFFSET = GST_SECOND * 60 * 60 * 1000;

struct GstAbrLadderPrivate {
  std::mutex settings_lock;
  Settings settings;

  /* Streaming state: written by the video streaming thread while building,
   * read by state changes once the pipeline is stopped. */
  std::mutex state_lock;
  bool built = false;
  bool renditions_exposed = false; /* expose() has added and linked them */
  std::vector<Rendition> renditions;
  std::unique_ptr<onair::BinChildren> dynamic_elements; /* everything built per input */
  GstClockTime next_keyframe = GST_CLOCK_TIME_NONE;
  guint keyframe_count = 0;
  /* The input's segment as it arrived (the encoders see a running-time
   * segment instead, see ENCODER_TIME_OFFSET); video streaming thread only. */
  GstSegment input_segment;

  GstElement *convert = nullptr;
  GstElement *format_filter = nullptr;
  GstElement *source_tee = nullptr;

  /* audio, present once the "audio" pad is requested */
  GstPad *audio_sinkpad = nullptr;
  GstPad *audio_srcpad = nullptr; /* exposed together with the video pads */
  bool audio_exposed = false;
  std::unique_ptr<onair::BinChildren> audio_elements;
  GstPad *audio_block_pad = nullptr;
  gulong audio_block_probe = 0;
};

struct _GstAbrLadder {
  GstBin parent;
  GstPad *sinkpad;
  GstAbrLadderPrivate *priv;
};

GST_DEBUG_CATEGORY_STATIC(gst_abr_ladder_debug);
#define GST_CAT_DEFAULT gst_abr_ladder_debug

enum {
  PROP_0,
  PROP_LADDER,
  PROP_GOP_DURATION,
  PROP_SPEED_PRESET,
  PROP_TUNE,
  PROP_ENCODER,
  PROP_AUDIO_BITRATE,
  PROP_AUTO_LINK,
  PROP_RENDITIONS,
};

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS("video/x-raw"));

static GstStaticPadTemplate audio_sink_template =
    GST_STATIC_PAD_TEMPLATE("audio", GST_PAD_SINK, GST_PAD_REQUEST, GST_STATIC_CAPS("audio/x-raw"));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE(
    "src_%u", GST_PAD_SRC, GST_PAD_SOMETIMES,
    GST_STATIC_CAPS("video/x-h264, stream-format = (string) { avc, byte-stream }, "
                    "alignment = (string) au; "
                    "video/x-h265, stream-format = (string) { hvc1, hev1, byte-stream }, "
                    "alignment = (string) au"));

static GstStaticPadTemplate audio_src_template =
    GST_STATIC_PAD_TEMPLATE("audio_src", GST_PAD_SRC, GST_PAD_SOMETIMES,
                            GST_STATIC_CAPS("audio/mpeg, mpegversion = (int) 4, "
                                            "stream-format = (string) { raw, adts }"));

#define gst_abr_ladder_parent_class parent_class
G_DEFINE_TYPE(GstAbrLadder, gst_abr_ladder, GST_TYPE_BIN);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE(abrladder, "abrladder", GST_RANK_NONE, GST_TYPE_ABR_LADDER,
                                      GST_DEBUG_CATEGORY_INIT(gst_abr_ladder_debug, "onair-abrladder", 0,
                                                              "onair ABR ladder"));

static void gst_abr_ladder_finalize(GObject *object);
static void gst_abr_ladder_set_property(GObject *object, guint prop_id, const GValue *value,
                                        GParamSpec *pspec);
static void gst_abr_ladder_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec);
static GstStateChangeReturn gst_abr_ladder_change_state(GstElement *element, GstStateChange transition);
static GstPad *gst_abr_ladder_request_new_pad(GstElement *element, GstPadTemplate *templ, const gchar *name,
                                              const GstCaps *caps);
static void gst_abr_ladder_release_pad(GstElement *element, GstPad *pad);
static GstPadProbeReturn gst_abr_ladder_input_probe(GstPad *pad, GstPadProbeInfo *info, gpointer user_data);
static GstPadProbeReturn gst_abr_ladder_keyframe_probe(GstPad *pad, GstPadProbeInfo *info,
                                                       gpointer user_data);

static void gst_abr_ladder_class_init(GstAbrLadderClass *klass) {
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);

  gobject_class->finalize = gst_abr_ladder_finalize;
  gobject_class->set_property = gst_abr_ladder_set_property;
  gobject_class->get_property = gst_abr_ladder_get_property;

  /**
   * GstAbrLadder:ladder:
   *
   * The rungs, largest first or in any order: `HEIGHTp:KBPS[:CODEC]` separated
   * by commas, e.g. "1080p:5000,720p:2800,480p:1400,144p:200". HEIGHT is the
   * short side of the picture (the width of a portrait source); the other side
   * follows the source's display aspect ratio, rounded to even. CODEC is h264
   * (default) or h265. Rungs larger than the source are dropped. A ladder that
   * does not parse makes the state change to READY fail with an error naming
   * the bad rung.
   */
  g_object_class_install_property(
      gobject_class, PROP_LADDER,
      g_param_spec_string(
          "ladder", "Ladder",
          "Rungs as HEIGHTp:KBPS[:h264|h265] separated by commas, "
          "e.g. \"1080p:5000,720p:2800,480p:1400,144p:200\"",
          DEFAULT_LADDER,
          (GParamFlags)(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY)));

  /**
   * GstAbrLadder:gop-duration:
   *
   * Seconds of running time between two keyframes. Every rung gets its
   * keyframes on the same input frames, which is where segments are cut.
   */
  g_object_class_install_property(
      gobject_class, PROP_GOP_DURATION,
      g_param_spec_double(
          "gop-duration", "GOP duration", "Seconds between keyframes, identical in every rung", 0.1, 60.0,
          DEFAULT_GOP_DURATION,
          (GParamFlags)(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING)));

  /**
   * GstAbrLadder:speed-preset:
   *
   * x264/x265 speed preset of every rung's encoder.
   */
  g_object_class_install_property(
      gobject_class, PROP_SPEED_PRESET,
      g_param_spec_enum("speed-preset", "Speed preset", "Encoder speed/quality preset of every rung",
                        GST_TYPE_ABR_LADDER_PRESET, DEFAULT_SPEED_PRESET,
                        (GParamFlags)(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY)));

  /**
   * GstAbrLadder:tune:
   *
   * x264/x265 tunings of every rung's encoder (zerolatency for lowest delay).
   */
  g_object_class_install_property(
      gobject_class, PROP_TUNE,
      g_param_spec_flags(
          "tune", "Tune", "Encoder tunings of every rung", GST_TYPE_ABR_LADDER_TUNE, DEFAULT_TUNE,
          (GParamFlags)(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY)));

  /**
   * GstAbrLadder:encoder:
   *
   * The H.264 encoder used for h264 rungs (h265 rungs always use x265enc).
   */
  g_object_class_install_property(
      gobject_class, PROP_ENCODER,
      g_param_spec_enum("encoder", "Encoder", "H.264 encoder of the rungs", GST_TYPE_ABR_LADDER_ENCODER,
                        DEFAULT_ENCODER,
                        (GParamFlags)(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY)));

  /**
   * GstAbrLadder:audio-bitrate:
   *
   * AAC bitrate of the audio rendition shared by all rungs, in kbit/s.
   */
  g_object_class_install_property(
      gobject_class, PROP_AUDIO_BITRATE,
      g_param_spec_uint("audio-bitrate", "Audio bitrate", "AAC bitrate in kbit/s", 16, 512,
                        DEFAULT_AUDIO_BITRATE,
                        (GParamFlags)(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY)));

  /**
   * GstAbrLadder:auto-link:
   *
   * When the first rendition pad is linked during #GstElement::pad-added
   * (as gst-launch-1.0 does for `abrladder ! abrsink`), link every other
   * rendition pad and the audio pad to the same element too.
   */
  g_object_class_install_property(
      gobject_class, PROP_AUTO_LINK,
      g_param_spec_boolean(
          "auto-link", "Auto link", "Link all renditions to the element the first one was linked to",
          DEFAULT_AUTO_LINK,
          (GParamFlags)(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY)));

  /**
   * GstAbrLadder:renditions:
   *
   * The renditions built for the current input ("720p 1280x720 2800kbps h264,
   * ..."), empty before the first caps arrive.
   */
  g_object_class_install_property(
      gobject_class, PROP_RENDITIONS,
      g_param_spec_string("renditions", "Renditions", "Renditions built for the current input", "",
                          (GParamFlags)(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

  element_class->change_state = GST_DEBUG_FUNCPTR(gst_abr_ladder_change_state);
  element_class->request_new_pad = GST_DEBUG_FUNCPTR(gst_abr_ladder_request_new_pad);
  element_class->release_pad = GST_DEBUG_FUNCPTR(gst_abr_ladder_release_pad);

  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &audio_sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_add_static_pad_template(element_class, &audio_src_template);

  gst_element_class_set_static_metadata(
      element_class, "ABR ladder", "Codec/Encoder/Video/Bin",
      "Encodes raw video into an adaptive-bitrate ladder with aligned keyframes", "onair developers");

  gst_type_mark_as_plugin_api(GST_TYPE_ABR_LADDER_PRESET, (GstPluginAPIFlags)0);
  gst_type_mark_as_plugin_api(GST_TYPE_ABR_LADDER_TUNE, (GstPluginAPIFlags)0);
  gst_type_mark_as_plugin_api(GST_TYPE_ABR_LADDER_ENCODER, (GstPluginAPIFlags)0);
}

static void gst_abr_ladder_init(GstAbrLadder *self) {
  self->priv = new GstAbrLadderPrivate();
  self->priv->dynamic_elements = std::make_unique<onair::BinChildren>(GST_BIN(self));
  self->priv->audio_elements = std::make_unique<onair::BinChildren>(GST_BIN(self));
  gst_segment_init(&self->priv->input_segment, GST_FORMAT_TIME);
  std::string error;
  auto rungs = onair::parse_ladder(DEFAULT_LADDER, &error);
  self->priv->settings.rungs = *rungs;

  /* The input chain is static: convert once to the encoders' format, then a
   * tee that the per-input renditions hang off. */
  GstAbrLadderPrivate *priv = self->priv;
  priv->convert = gst_element_factory_make("videoconvert", "convert");
  priv->format_filter = gst_element_factory_make("capsfilter", "format");
  priv->source_tee = gst_element_factory_make("tee", "source_tee");
  GstCaps *caps = gst_caps_from_string("video/x-raw, format=(string)I420");
  g_object_set(priv->format_filter, "caps", caps, NULL);
  gst_caps_unref(caps);
  gst_bin_add_many(GST_BIN(self), priv->convert, priv->format_filter, priv->source_tee, NULL);
  gst_element_link_many(priv->convert, priv->format_filter, priv->source_tee, NULL);

  GstPad *target = gst_element_get_static_pad(priv->convert, "sink");
  GstPadTemplate *templ = gst_static_pad_template_get(&sink_template);
  self->sinkpad = gst_ghost_pad_new_from_template("sink", target, templ);
  gst_object_unref(templ);
  gst_pad_add_probe(target, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, gst_abr_ladder_input_probe, self, NULL);
  gst_object_unref(target);
  gst_element_add_pad(GST_ELEMENT(self), self->sinkpad);

  GstPad *tee_sink = gst_element_get_static_pad(priv->source_tee, "sink");
  gst_pad_add_probe(tee_sink,
                    (GstPadProbeType)(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
                    gst_abr_ladder_keyframe_probe, self, NULL);
  gst_object_unref(tee_sink);
}

static void gst_abr_ladder_finalize(GObject *object) {
  GstAbrLadder *self = GST_ABR_LADDER(object);
  if (self->priv->audio_block_pad) gst_object_unref(self->priv->audio_block_pad);
  delete self->priv;
  G_OBJECT_CLASS(parent_class)->finalize(object);
}

static void gst_abr_ladder_set_property(GObject *object, guint prop_id, const GValue *value,
                                        GParamSpec *pspec) {
  GstAbrLadder *self = GST_ABR_LADDER(object);
  std::lock_guard<std::mutex> lock(self->priv->settings_lock);
  Settings &settings = self->priv->settings;

  switch (prop_id) {
    case PROP_LADDER: {
      const gchar *text = g_value_get_string(value);
      settings.ladder_text = text ? text : "";
      std::string error;
      auto rungs = onair::parse_ladder(settings.ladder_text, &error);
      if (rungs) {
        settings.rungs = *rungs;
        settings.ladder_error.clear();
      } else {
        settings.ladder_error = error;
        GST_WARNING_OBJECT(self, "Invalid ladder \"%s\": %s", settings.ladder_text.c_str(), error.c_str());
      }
      break;
    }
    case PROP_GOP_DURATION:
      settings.gop_duration = g_value_get_double(value);
      break;
    case PROP_SPEED_PRESET:
      settings.preset = (GstAbrLadderPreset)g_value_get_enum(value);
      break;
    case PROP_TUNE:
      settings.tune = g_value_get_flags(value);
      break;
    case PROP_ENCODER:
      settings.encoder = (GstAbrLadderEncoder)g_value_get_enum(value);
      break;
    case PROP_AUDIO_BITRATE:
      settings.audio_bitrate = g_value_get_uint(value);
      break;
    case PROP_AUTO_LINK:
      settings.auto_link = g_value_get_boolean(value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
}

static std::string describe_renditions(GstAbrLadderPrivate *priv) {
  std::string text;
  for (const Rendition &r : priv->renditions) {
    if (!text.empty()) text += ", ";
    text += r.rung.name + " " + std::to_string(r.size.width) + "x" + std::to_string(r.size.height) + " " +
            std::to_string(r.rung.kbps) + "kbps " + onair::codec_name(r.rung.codec);
  }
  return text;
}

static void gst_abr_ladder_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec) {
  GstAbrLadder *self = GST_ABR_LADDER(object);

  if (prop_id == PROP_RENDITIONS) {
    std::lock_guard<std::mutex> lock(self->priv->state_lock);
    g_value_set_string(value, describe_renditions(self->priv).c_str());
    return;
  }

  std::lock_guard<std::mutex> lock(self->priv->settings_lock);
  const Settings &settings = self->priv->settings;
  switch (prop_id) {
    case PROP_LADDER:
      g_value_set_string(value, settings.ladder_text.c_str());
      break;
    case PROP_GOP_DURATION:
      g_value_set_double(value, settings.gop_duration);
      break;
    case PROP_SPEED_PRESET:
      g_value_set_enum(value, settings.preset);
      break;
    case PROP_TUNE:
      g_value_set_flags(value, settings.tune);
      break;
    case PROP_ENCODER:
      g_value_set_enum(value, settings.encoder);
      break;
    case PROP_AUDIO_BITRATE:
      g_value_set_uint(value, settings.audio_bitrate);
      break;
    case PROP_AUTO_LINK:
      g_value_set_boolean(value, settings.auto_link);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
}

static const gchar *preset_nick(GstAbrLadderPreset preset) {
  GEnumClass *klass = G_ENUM_CLASS(g_type_class_peek(GST_TYPE_ABR_LADDER_PRESET));
  GEnumValue *v = g_enum_get_value(klass, preset);
  return v ? v->value_nick : "veryfast";
}

/* Creates and configures the encoder of one rung. */
static GstElement *make_encoder(GstAbrLadder *self, const Settings &settings, const onair::Rung &rung,
                                guint gop_frames, onair::BinChildren *list) {
  GstElement *encoder;
  /* Keyframes are forced by the shared schedule; the encoders' own interval
   * is only a safety net well beyond it, and scene cuts must not add
   * keyframes that other rungs would not have. */
  guint keyint = gop_frames ? gop_frames * 2 : 600;

  if (rung.codec == onair::VideoCodec::H265) {
    encoder = list->make("x265enc");
    if (!encoder) return NULL;
    gst_util_set_object_arg(G_OBJECT(encoder), "speed-preset", preset_nick(settings.preset));
    g_object_set(encoder, "bitrate", (guint)rung.kbps, "key-int-max", (gint)keyint, "option-string",
                 "scenecut=0:open-gop=0:repeat-headers=1", NULL);
    if (settings.tune & GST_ABR_LADDER_TUNE_ZEROLATENCY)
      gst_util_set_object_arg(G_OBJECT(encoder), "tune", "zerolatency");
    else if (settings.tune & GST_ABR_LADDER_TUNE_FASTDECODE)
      gst_util_set_object_arg(G_OBJECT(encoder), "tune", "fastdecode");
    return encoder;
  }

  if (settings.encoder == GST_ABR_LADDER_ENCODER_OPENH264) {
    encoder = list->make("openh264enc");
    if (!encoder) return NULL;
    gst_util_set_object_arg(G_OBJECT(encoder), "rate-control", "bitrate");
    g_object_set(encoder, "bitrate", (guint)rung.kbps * 1000, "gop-size", keyint, "scene-change-detection",
                 FALSE, NULL);
    return encoder;
  }

  encoder = list->make("x264enc");
  if (!encoder) return NULL;
  gst_util_set_object_arg(G_OBJECT(encoder), "speed-preset", preset_nick(settings.preset));
  if (settings.tune) {
    GFlagsClass *klass = G_FLAGS_CLASS(g_type_class_peek(GST_TYPE_ABR_LADDER_TUNE));
    std::string tune;
    for (guint i = 0; i < klass->n_values; i++) {
      if (settings.tune & klass->values[i].value) {
        if (!tune.empty()) tune += "+";
        tune += klass->values[i].value_nick;
      }
    }
    gst_util_set_object_arg(G_OBJECT(encoder), "tune", tune.c_str());
  }
  g_object_set(encoder, "bitrate", (guint)rung.kbps, "key-int-max", keyint, "option-string", "scenecut=0",
               NULL);
  return encoder;
}

/* Rewrites the parser's caps so they carry the rung's target bitrate and
 * name: sinks write BANDWIDTH and rendition names from them. Its segment goes
 * back from the encoders' time domain: buffer timestamps stay as they are,
 * their running time is the input's again. */
static GstPadProbeReturn gst_abr_ladder_rendition_event_probe(GstPad *pad, GstPadProbeInfo *info,
                                                              gpointer user_data) {
  const onair::Rung *rung = static_cast<const onair::Rung *>(user_data);
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
  if (GST_EVENT_TYPE(event) == GST_EVENT_SEGMENT) {
    GstSegment segment;
    gst_segment_init(&segment, GST_FORMAT_TIME);
    segment.start = segment.position = ENCODER_TIME_OFFSET;
    onair::replace_probe_event(info, gst_event_new_segment(&segment));
    return GST_PAD_PROBE_OK;
  }
  if (gst_video_event_is_force_key_unit(event) && GST_EVENT_TYPE(event) == GST_EVENT_CUSTOM_DOWNSTREAM) {
    /* the encoder's announcement of a forced keyframe, for sinks that cut
     * on it: its times in our running time */
    GstClockTime timestamp, stream_time, running_time;
    gboolean all_headers;
    guint count;
    if (!gst_video_event_parse_downstream_force_key_unit(event, &timestamp, &stream_time, &running_time,
                                                         &all_headers, &count))
      return GST_PAD_PROBE_OK;
    auto back = [](GstClockTime t) {
      return GST_CLOCK_TIME_IS_VALID(t) && t >= ENCODER_TIME_OFFSET ? t - ENCODER_TIME_OFFSET : t;
    };
    onair::replace_probe_event(
        info, gst_video_event_new_downstream_force_key_unit(timestamp, back(stream_time), back(running_time),
                                                            all_headers, count));
    return GST_PAD_PROBE_OK;
  }
  if (GST_EVENT_TYPE(event) != GST_EVENT_CAPS) return GST_PAD_PROBE_OK;

  GstCaps *caps;
  gst_event_parse_caps(event, &caps);
  caps = gst_caps_copy(caps);
  gst_caps_set_simple(caps, "bitrate", G_TYPE_UINT, (guint)rung->kbps * 1000, "rendition", G_TYPE_STRING,
                      rung->name.c_str(), NULL);
  GstEvent *replacement = gst_event_new_caps(caps);
  gst_caps_unref(caps);
  gst_event_unref(event);
  GST_PAD_PROBE_INFO_DATA(info) = replacement;
  return GST_PAD_PROBE_OK;
}

static void free_rung(gpointer data) {
  delete static_cast<onair::Rung *>(data);
}

static GstPad *expose_pad(GstAbrLadder *self, GstElement *last, const gchar *name,
                          GstStaticPadTemplate *static_templ) {
  GstPad *target = gst_element_get_static_pad(last, "src");
  GstPadTemplate *templ = gst_static_pad_template_get(static_templ);
  GstPad *ghost = gst_ghost_pad_new_from_template(name, target, templ);
  gst_object_unref(templ);
  gst_object_unref(target);
  gst_pad_set_active(ghost, TRUE);
  return ghost;
}

/* Builds the renditions for the input `caps`: called from the input probe, in
 * the streaming thread, before the caps reach the converter. */
static gboolean gst_abr_ladder_build(GstAbrLadder *self, GstCaps *caps) {
  GstAbrLadderPrivate *priv = self->priv;
  GstVideoInfo info;

  if (!gst_video_info_from_caps(&info, caps)) {
    GST_ELEMENT_ERROR(self, STREAM, FORMAT, ("Input caps are not usable video"),
                      ("caps: %" GST_PTR_FORMAT, caps));
    return FALSE;
  }

  Settings settings;
  {
    std::lock_guard<std::mutex> lock(priv->settings_lock);
    settings = priv->settings;
  }

  int display_width = (int)gst_util_uint64_scale_int(info.width, info.par_n > 0 ? info.par_n : 1,
                                                     info.par_d > 0 ? info.par_d : 1);
  int display_height = info.height;
  guint gop_frames = 0;
  if (info.fps_n > 0 && info.fps_d > 0)
    gop_frames = (guint)std::lround(settings.gop_duration * info.fps_n / info.fps_d);

  std::vector<Rendition> renditions;
  for (const onair::Rung &rung : settings.rungs) {
    auto size = onair::rung_dimensions(rung, display_width, display_height);
    if (size)
      renditions.push_back(Rendition{rung, *size});
    else
      GST_INFO_OBJECT(self, "dropping rung %s: larger than the %dx%d source", rung.name.c_str(),
                      display_width, display_height);
  }
  if (display_width < 2 || display_height < 2) {
    GST_ELEMENT_ERROR(self, STREAM, FORMAT,
                      ("The input is %dx%d: the ladder needs a picture of at least 2x2 pixels", display_width,
                       display_height),
                      ("caps: %" GST_PTR_FORMAT, caps));
    return FALSE;
  }
  if (renditions.empty()) {
    /* A source smaller than every rung still gets one rendition, at its own
     * size, with the smallest rung's bitrate. */
    onair::Rung rung = settings.rungs.back();
    int short_side = std::min(display_width, display_height) & ~1;
    rung.lines = short_side;
    rung.name = std::to_string(short_side) + "p";
    renditions.push_back(Rendition{rung, {display_width & ~1, display_height & ~1}});
  }

  /* Built without state_lock: adding children emits signals and may post
   * errors, and handlers may query the element. Only this streaming thread
   * builds; state changes wait for it. */
  auto built = std::make_unique<onair::BinChildren>(GST_BIN(self));
  onair::BinChildren &made = *built;
  auto fail = [&]() {
    for (Rendition &r : renditions)
      if (r.srcpad) gst_object_unref(r.srcpad);
    made.remove_all();
    return FALSE;
  };

  /* Cascade: each picture size hangs off the tee of the next larger one. */
  GstElement *picture_tee = priv->source_tee;
  int picture_width = info.width, picture_height = info.height;
  bool square = info.par_n == info.par_d;
  std::vector<GstElement *> to_sync;

  for (size_t i = 0; i < renditions.size(); i++) {
    Rendition &r = renditions[i];
    /* The largest rung always gets a scaler, passthrough while the input has
     * its size: a publisher changing resolution mid-stream then changes
     * nothing downstream. */
    if (i == 0 || r.size.width != picture_width || r.size.height != picture_height || !square) {
      GstElement *scale = made.adopt(GST_ELEMENT(g_object_new(GST_TYPE_ONAIR_SWSCALE, NULL)));
      GstElement *filter = made.make("capsfilter");
      GstElement *tee = made.make("tee");
      if (!scale || !filter || !tee) return fail();
      GstCaps *size_caps =
          gst_caps_new_simple("video/x-raw", "width", G_TYPE_INT, r.size.width, "height", G_TYPE_INT,
                              r.size.height, "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, NULL);
      g_object_set(filter, "caps", size_caps, NULL);
      gst_caps_unref(size_caps);
      if (!gst_element_link_many(picture_tee, scale, filter, tee, NULL)) {
        GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, (NULL),
                          ("could not link the scaler of rung %s", r.rung.name.c_str()));
        return fail();
      }
      to_sync.insert(to_sync.begin(), {tee, filter, scale});
      picture_tee = tee;
      picture_width = r.size.width;
      picture_height = r.size.height;
      square = true;
    }

    GstElement *queue = made.make("queue");
    GstElement *encoder = make_encoder(self, settings, r.rung, gop_frames, &made);
    GstElement *parser = made.make(r.rung.codec == onair::VideoCodec::H265 ? "h265parse" : "h264parse");
    if (!queue || !encoder || !parser) return fail();
    g_object_set(queue, "max-size-buffers", ENCODER_QUEUE_FRAMES, "max-size-bytes", 0, "max-size-time",
                 (guint64)0, NULL);
    if (!gst_element_link_many(picture_tee, queue, encoder, parser, NULL)) {
      GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, (NULL),
                        ("could not link the encoder of rung %s", r.rung.name.c_str()));
      return fail();
    }
    GstPad *parser_src = gst_element_get_static_pad(parser, "src");
    gst_pad_add_probe(parser_src, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, gst_abr_ladder_rendition_event_probe,
                      new onair::Rung(r.rung), free_rung);
    gst_object_unref(parser_src);
    to_sync.insert(to_sync.begin(), {parser, encoder, queue});

    gchar *name = g_strdup_printf("src_%u", (guint)i);
    r.srcpad = expose_pad(self, parser, name, &src_template);
    g_free(name);
  }

  /* Downstream first, so nothing pushes into an element still in NULL. */
  for (GstElement *element : to_sync) gst_element_sync_state_with_parent(element);

  std::lock_guard<std::mutex> lock(priv->state_lock);
  priv->dynamic_elements = std::move(built);
  priv->renditions = renditions;
  priv->built = true;
  GST_INFO_OBJECT(self, "renditions: %s", describe_renditions(priv).c_str());
  return TRUE;
}

/* Adds the built pads to the element (pad-added), links the rest to where
 * the first went when auto-link is on, then signals no-more-pads. Called
 * without state_lock: pad-added handlers may query the element. */
/* The element the first linked rendition pad goes to (a new reference), or
 * NULL: where auto-link sends the other pads. */
static GstElement *auto_link_target(GstAbrLadder *self) {
  std::vector<GstPad *> pads;
  {
    std::lock_guard<std::mutex> lock(self->priv->state_lock);
    for (const Rendition &r : self->priv->renditions) pads.push_back(GST_PAD(gst_object_ref(r.srcpad)));
  }
  GstElement *target = NULL;
  for (GstPad *pad : pads) {
    GstPad *peer = target ? NULL : gst_pad_get_peer(pad);
    if (peer) {
      target = gst_pad_get_parent_element(peer);
      gst_object_unref(peer);
    }
    gst_object_unref(pad);
  }
  return target;
}

static void gst_abr_ladder_expose(GstAbrLadder *self) {
  GstAbrLadderPrivate *priv = self->priv;
  std::vector<GstPad *> pads;
  bool auto_link;
  {
    std::lock_guard<std::mutex> lock(priv->settings_lock);
    auto_link = priv->settings.auto_link;
  }
  {
    std::lock_guard<std::mutex> lock(priv->state_lock);
    for (const Rendition &r : priv->renditions) pads.push_back(r.srcpad);
  }
  for (GstPad *pad : pads) gst_element_add_pad(GST_ELEMENT(self), pad);
  GstElement *link_target = auto_link ? auto_link_target(self) : NULL;
  if (link_target) {
    for (GstPad *pad : pads)
      if (!gst_pad_is_linked(pad) &&
          !gst_element_link_pads(GST_ELEMENT(self), GST_PAD_NAME(pad), link_target, NULL))
        GST_WARNING_OBJECT(self, "auto-link of %s to %s failed", GST_PAD_NAME(pad),
                           GST_ELEMENT_NAME(link_target));
  }

  /* The audio pad goes out here if it was requested in time; one requested
   * later sees renditions_exposed and goes out (and is linked) on its own. */
  GstPad *audio = NULL;
  {
    std::lock_guard<std::mutex> lock(priv->state_lock);
    if (priv->audio_srcpad && !priv->audio_exposed) {
      audio = priv->audio_srcpad;
      priv->audio_exposed = true;
    }
    priv->renditions_exposed = true;
  }
  if (audio) {
    gst_element_add_pad(GST_ELEMENT(self), audio);
    if (link_target && !gst_element_link_pads(GST_ELEMENT(self), GST_PAD_NAME(audio), link_target, NULL))
      GST_WARNING_OBJECT(self, "auto-link of audio_src to %s failed", GST_ELEMENT_NAME(link_target));
  }
  if (link_target) gst_object_unref(link_target);

  gst_element_no_more_pads(GST_ELEMENT(self));

  std::lock_guard<std::mutex> lock(priv->state_lock);
  if (priv->audio_block_probe) {
    gst_pad_remove_probe(priv->audio_block_pad, priv->audio_block_probe);
    priv->audio_block_probe = 0;
  }
}

static GstPadProbeReturn gst_abr_ladder_input_probe(GstPad *pad, GstPadProbeInfo *info, gpointer user_data) {
  GstAbrLadder *self = GST_ABR_LADDER(user_data);
  GstAbrLadderPrivate *priv = self->priv;
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);

  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_CAPS: {
      bool built;
      {
        std::lock_guard<std::mutex> lock(priv->state_lock);
        built = priv->built;
      }
      if (built) {
        GST_DEBUG_OBJECT(self, "caps changed; the ladder keeps its sizes");
        break;
      }
      GstCaps *caps;
      gst_event_parse_caps(event, &caps);
      if (!gst_abr_ladder_build(self, caps)) return GST_PAD_PROBE_DROP;
      gst_abr_ladder_expose(self);
      break;
    }
    case GST_EVENT_EOS: {
      std::lock_guard<std::mutex> lock(priv->state_lock);
      if (!priv->built) {
        GST_ELEMENT_ERROR(self, STREAM, FAILED, ("No video reached the ladder before the end of the stream"),
                          ("EOS arrived on the sink pad before any caps"));
      }
      break;
    }
    case GST_EVENT_FLUSH_STOP: {
      std::lock_guard<std::mutex> lock(priv->state_lock);
      priv->next_keyframe = GST_CLOCK_TIME_NONE;
      break;
    }
    case GST_EVENT_CUSTOM_DOWNSTREAM:
      if (gst_event_has_name(event, "onair-discontinuity") || gst_event_has_name(event, "onair-splice")) {
        /* the input switched (liveinput) or an ad break starts or ends
         * (adsplice): every rung gets a keyframe on the next frame and the
         * schedule restarts from it, so the packager can start a segment
         * exactly there; the event itself goes on to every rung, in order */
        std::lock_guard<std::mutex> lock(priv->state_lock);
        priv->next_keyframe = GST_CLOCK_TIME_NONE;
      }
      break;
    default:
      break;
  }
  return GST_PAD_PROBE_OK;
}

/* Segments and gaps reaching the source tee move to the encoders' time
 * domain (running time + ENCODER_TIME_OFFSET, 0-based segment). */
static void gst_abr_ladder_to_encoder_time(GstAbrLadder *self, GstPadProbeInfo *info) {
  GstAbrLadderPrivate *priv = self->priv;
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
  if (GST_EVENT_TYPE(event) == GST_EVENT_SEGMENT) {
    onair::take_time_segment(info, &priv->input_segment);
  } else if (GST_EVENT_TYPE(event) == GST_EVENT_GAP) {
    GstClockTime timestamp, duration;
    gst_event_parse_gap(event, &timestamp, &duration);
    GstClockTime running_time = gst_segment_to_running_time(&priv->input_segment, GST_FORMAT_TIME, timestamp);
    if (!GST_CLOCK_TIME_IS_VALID(running_time)) return;
    onair::replace_probe_event(info, gst_event_new_gap(running_time + ENCODER_TIME_OFFSET, duration));
  }
}

/* The one keyframe schedule: before the first frame at or past each multiple
 * of gop-duration (running time), a force-key-unit event goes down the tee
 * to every rung's encoder, so all rungs make that same frame a keyframe. */
static GstPadProbeReturn gst_abr_ladder_keyframe_probe(GstPad *pad, GstPadProbeInfo *info,
                                                       gpointer user_data) {
  GstAbrLadder *self = GST_ABR_LADDER(user_data);
  GstAbrLadderPrivate *priv = self->priv;
  if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    gst_abr_ladder_to_encoder_time(self, info);
    return GST_PAD_PROBE_OK;
  }

  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  if (!GST_BUFFER_PTS_IS_VALID(buffer)) return GST_PAD_PROBE_OK;
  GstClockTime running_time =
      gst_segment_to_running_time(&priv->input_segment, GST_FORMAT_TIME, GST_BUFFER_PTS(buffer));
  if (!GST_CLOCK_TIME_IS_VALID(running_time)) return GST_PAD_PROBE_DROP; /* outside the segment */
  GstClockTime encoder_time = running_time + ENCODER_TIME_OFFSET;
  buffer = gst_buffer_make_writable(buffer);
  GST_BUFFER_PTS(buffer) = encoder_time;
  GST_BUFFER_DTS(buffer) = GST_CLOCK_TIME_NONE;
  GST_PAD_PROBE_INFO_DATA(info) = buffer;

  guint count;
  {
    std::lock_guard<std::mutex> lock(priv->state_lock);
    if (GST_CLOCK_TIME_IS_VALID(priv->next_keyframe) && running_time < priv->next_keyframe)
      return GST_PAD_PROBE_OK;
    GstClockTime gop;
    {
      /* read once a GOP, not every frame; gop-duration may change while
       * playing: the next slot follows it */
      std::lock_guard<std::mutex> settings_lock(priv->settings_lock);
      gop = (GstClockTime)(priv->settings.gop_duration * GST_SECOND);
    }
    if (!GST_CLOCK_TIME_IS_VALID(priv->next_keyframe)) priv->next_keyframe = running_time;
    /* Next slot on the grid, skipping slots a gap in the input jumped over. */
    while (priv->next_keyframe <= running_time) priv->next_keyframe += gop;
    count = priv->keyframe_count++;
  }

  GST_LOG_OBJECT(self, "forcing keyframe %u at %" GST_TIME_FORMAT, count, GST_TIME_ARGS(running_time));
  /* The frame right behind this event in every branch is this buffer, and
   * the request names its running time in the encoders' domain. */
  gst_pad_send_event(pad, gst_video_event_new_downstream_force_key_unit(encoder_time, encoder_time,
                                                                        encoder_time, TRUE, count));
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn gst_abr_ladder_block_probe(GstPad *pad, GstPadProbeInfo *info, gpointer user_data) {
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn gst_abr_ladder_audio_input_probe(GstPad *pad, GstPadProbeInfo *info,
                                                          gpointer user_data) {
  GstAbrLadder *self = GST_ABR_LADDER(user_data);
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
  if (GST_EVENT_TYPE(event) == GST_EVENT_EOS) {
    std::lock_guard<std::mutex> lock(self->priv->state_lock);
    if (!self->priv->built && !GST_PAD_IS_EOS(self->sinkpad) && !gst_pad_is_linked(self->sinkpad)) {
      GST_ELEMENT_ERROR(self, STREAM, FAILED, ("The ladder got audio but no video"),
                        ("the video sink pad is not linked"));
    }
  }
  return GST_PAD_PROBE_OK;
}

static GstPad *gst_abr_ladder_request_new_pad(GstElement *element, GstPadTemplate *templ, const gchar *name,
                                              const GstCaps *caps) {
  GstAbrLadder *self = GST_ABR_LADDER(element);
  GstAbrLadderPrivate *priv = self->priv;

  if (g_strcmp0(GST_PAD_TEMPLATE_NAME_TEMPLATE(templ), "audio") != 0) return NULL;

  guint bitrate;
  {
    std::lock_guard<std::mutex> lock(priv->settings_lock);
    bitrate = priv->settings.audio_bitrate;
  }

  {
    std::lock_guard<std::mutex> lock(priv->state_lock);
    if (priv->audio_sinkpad) {
      GST_WARNING_OBJECT(self, "the ladder takes one audio input");
      return NULL;
    }
  }

  /* Built without state_lock (adding children and pads emits signals). */
  auto made = std::make_unique<onair::BinChildren>(GST_BIN(self));
  GstElement *queue = made->make("queue");
  GstElement *convert = made->make("audioconvert");
  GstElement *resample = made->make("audioresample");
  GstElement *encoder = made->make("avenc_aac");
  GstElement *parser = made->make("aacparse");
  if (!queue || !convert || !resample || !encoder || !parser) {
    made->remove_all();
    return NULL;
  }
  g_object_set(encoder, "bitrate", (gint)bitrate * 1000, NULL);
  gst_element_link_many(queue, convert, resample, encoder, parser, NULL);

  /* Audio waits until the video renditions are exposed, so that the audio
   * pad appears (and is auto-linked) with them. */
  GstPad *block_pad = gst_element_get_static_pad(parser, "src");
  gulong block_probe =
      gst_pad_add_probe(block_pad,
                        (GstPadProbeType)(GST_PAD_PROBE_TYPE_BLOCK | GST_PAD_PROBE_TYPE_BUFFER |
                                          GST_PAD_PROBE_TYPE_BUFFER_LIST),
                        gst_abr_ladder_block_probe, NULL, NULL);
  for (GstElement *e : made->elements()) gst_element_sync_state_with_parent(e);

  GstPad *target = gst_element_get_static_pad(queue, "sink");
  GstPad *pad = gst_ghost_pad_new_from_template("audio", target, templ);
  gst_pad_add_probe(target, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, gst_abr_ladder_audio_input_probe, self,
                    NULL);
  gst_object_unref(target);
  GstPad *srcpad = expose_pad(self, parser, "audio_src", &audio_src_template);

  bool expose_now;
  {
    std::lock_guard<std::mutex> lock(priv->state_lock);
    priv->audio_elements = std::move(made);
    priv->audio_block_pad = block_pad;
    priv->audio_block_probe = block_probe;
    priv->audio_srcpad = srcpad;
    priv->audio_sinkpad = pad;
    /* requested after the video renditions exist: expose right away */
    expose_now = priv->renditions_exposed && !priv->audio_exposed;
    if (expose_now) {
      priv->audio_exposed = true;
      gst_pad_remove_probe(priv->audio_block_pad, priv->audio_block_probe);
      priv->audio_block_probe = 0;
    }
  }

  gst_pad_set_active(pad, TRUE);
  gst_element_add_pad(element, pad);
  if (expose_now) {
    gst_element_add_pad(element, srcpad);
    /* renditions already exposed (and linked): the audio goes where they went */
    bool auto_link;
    {
      std::lock_guard<std::mutex> lock(priv->settings_lock);
      auto_link = priv->settings.auto_link;
    }
    GstElement *target = auto_link && !gst_pad_is_linked(srcpad) ? auto_link_target(self) : NULL;
    if (target) {
      if (!gst_element_link_pads(element, GST_PAD_NAME(srcpad), target, NULL))
        GST_WARNING_OBJECT(self, "auto-link of audio_src to %s failed", GST_ELEMENT_NAME(target));
      gst_object_unref(target);
    }
  }
  return pad;
}

static void gst_abr_ladder_release_pad(GstElement *element, GstPad *pad) {
  GstAbrLadder *self = GST_ABR_LADDER(element);
  GstAbrLadderPrivate *priv = self->priv;
  std::unique_lock<std::mutex> lock(priv->state_lock);
  if (pad != priv->audio_sinkpad) return;
  priv->audio_sinkpad = NULL;
  GstPad *srcpad = priv->audio_srcpad;
  bool exposed = priv->audio_exposed;
  priv->audio_srcpad = NULL;
  priv->audio_exposed = false;
  if (priv->audio_block_pad) {
    if (priv->audio_block_probe) gst_pad_remove_probe(priv->audio_block_pad, priv->audio_block_probe);
    gst_object_unref(priv->audio_block_pad);
  }
  priv->audio_block_pad = NULL;
  priv->audio_block_probe = 0;
  /* taken out under the lock, removed without it (state changes) */
  auto elements = std::exchange(priv->audio_elements, std::make_unique<onair::BinChildren>(GST_BIN(self)));
  lock.unlock();

  gst_element_remove_pad(element, pad);
  if (srcpad) {
    if (exposed)
      gst_element_remove_pad(element, srcpad);
    else
      gst_object_unref(srcpad);
  }
  elements->remove_all();
}

static void gst_abr_ladder_reset(GstAbrLadder *self) {
  GstAbrLadderPrivate *priv = self->priv;
  std::vector<GstPad *> pads;
  std::unique_ptr<onair::BinChildren> elements;
  {
    std::lock_guard<std::mutex> lock(priv->state_lock);
    for (Rendition &r : priv->renditions) pads.push_back(r.srcpad);
    priv->renditions.clear();
    elements = std::exchange(priv->dynamic_elements, std::make_unique<onair::BinChildren>(GST_BIN(self)));
    priv->built = false;
    priv->renditions_exposed = false;
    priv->next_keyframe = GST_CLOCK_TIME_NONE;
    priv->keyframe_count = 0;
  }
  for (GstPad *pad : pads) gst_element_remove_pad(GST_ELEMENT(self), pad);
  elements->remove_all();

  /* The audio branch stays (its pad is requested), but is hidden again until
   * the next input's renditions are exposed. */
  std::lock_guard<std::mutex> lock(priv->state_lock);
  if (priv->audio_srcpad && priv->audio_exposed) {
    gst_object_ref(priv->audio_srcpad);
    gst_element_remove_pad(GST_ELEMENT(self), priv->audio_srcpad);
    priv->audio_exposed = false;
    gst_pad_set_active(priv->audio_srcpad, TRUE);
  }
  if (priv->audio_block_pad && !priv->audio_block_probe)
    priv->audio_block_probe =
        gst_pad_add_probe(priv->audio_block_pad,
                          (GstPadProbeType)(GST_PAD_PROBE_TYPE_BLOCK | GST_PAD_PROBE_TYPE_BUFFER |
                                            GST_PAD_PROBE_TYPE_BUFFER_LIST),
                          gst_abr_ladder_block_probe, NULL, NULL);
}

static GstStateChangeReturn gst_abr_ladder_change_state(GstElement *element, GstStateChange transition) {
  GstAbrLadder *self = GST_ABR_LADDER(element);

  if (transition == GST_STATE_CHANGE_NULL_TO_READY) {
    std::lock_guard<std::mutex> lock(self->priv->settings_lock);
    const Settings &settings = self->priv->settings;
    if (!settings.ladder_error.empty()) {
      GST_ELEMENT_ERROR(
          self, LIBRARY, SETTINGS,
          ("Invalid ladder \"%s\": %s", settings.ladder_text.c_str(), settings.ladder_error.c_str()), (NULL));
      return GST_STATE_CHANGE_FAILURE;
    }
  }

  GstStateChangeReturn ret = GST_ELEMENT_CLASS(parent_class)->change_state(element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE) return ret;

  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) {
    /* The renditions and their pads stay (and stay linked) for the next run
     * through READY; a new run starts a new keyframe schedule. */
    std::lock_guard<std::mutex> lock(self->priv->state_lock);
    self->priv->next_keyframe = GST_CLOCK_TIME_NONE;
    self->priv->keyframe_count = 0;
    gst_segment_init(&self->priv->input_segment, GST_FORMAT_TIME);
  }
  if (transition == GST_STATE_CHANGE_READY_TO_NULL) gst_abr_ladder_reset(self);
  return ret;
}
