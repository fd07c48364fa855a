/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:element-liveinput
 * @title: liveinput
 *
 * Wraps one live input and outputs it as decoded raw video at fixed caps on
 * the `video` pad (I420, #GstLiveInput:width x #GstLiveInput:height at
 * #GstLiveInput:framerate, square pixels, aspect kept with borders) and raw
 * audio on the `audio` pad (S16LE, 48000 Hz, stereo). The output is always
 * live and stamped in running time.
 *
 * The input is chosen by #GstLiveInput:uri: `rtmp://HOST:PORT/APP/KEY` starts
 * an internal rtmpserversrc that publishers push to, `srt://...` an srtsrc,
 * anything else goes to uridecodebin. Without a uri only the slate is output.
 *
 * When no decoded video frame arrives for #GstLiveInput:timeout seconds the
 * output switches to a slate: the image in #GstLiveInput:slate-location, or
 * else a generated card (SMPTE bars, or black with #GstLiveInput:channel-name
 * written on it) and silence, at the same caps and frame rate. The first
 * frame of the input switches back. Each switch posts an element message
 * `liveinput-switch` with a string field `source` ("live" or "slate") and
 * sends a serialized custom downstream event `onair-discontinuity` (same
 * field) on both src pads, ahead of the first buffer of the new source.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 liveinput name=in uri=rtmp://0.0.0.0:1935/live/secret channel-name="Channel 1" \
 *     in.video ! queue ! autovideosink in.audio ! queue ! autoaudiosink
 * ]| then publish with
 * `ffmpeg -re -i input.mp4 -c:v libx264 -c:a aac -f flv rtmp://localhost:1935/live/secret`.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstliveinput.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "binchildren.h"
#include "probeevents.h"

#define DEFAULT_URI ""
#define DEFAULT_WIDTH 1280
#define DEFAULT_HEIGHT 720
#define DEFAULT_FRAMERATE_N 30
#define DEFAULT_FRAMERATE_D 1
#define DEFAULT_TIMEOUT 1.0
#define DEFAULT_SLATE_LOCATION ""
#define DEFAULT_CHANNEL_NAME ""

#define DEFAULT_RTMP_PORT 1935
/* How far the live input's timestamps may wander from the clock before they
 * are put back on it. */
#define LIVE_MAX_DRIFT ((GstClockTimeDiff)GST_SECOND)
/* A failed input (file missing, server unreachable) is tried again after
 * this long; the slate stays on meanwhile. */
#define INPUT_RETRY_US (5 * G_USEC_PER_SEC)
#define AUDIO_RATE 48000
#define AUDIO_BYTES_PER_FRAME 4 /* S16LE, stereo */
#define AUDIO_CAPS "audio/x-raw,format=S16LE,rate=48000,channels=2,layout=interleaved"
/* How often the watchdog looks at the input: bounds how late a switch is. */
#define WATCHDOG_PERIOD std::chrono::milliseconds(40)

namespace {

struct Settings {
  std::string uri = DEFAULT_URI;
  int width = DEFAULT_WIDTH;
  int height = DEFAULT_HEIGHT;
  int framerate_n = DEFAULT_FRAMERATE_N;
  int framerate_d = DEFAULT_FRAMERATE_D;
  double timeout = DEFAULT_TIMEOUT;
  std::string slate_location = DEFAULT_SLATE_LOCATION;
  std::string channel_name = DEFAULT_CHANNEL_NAME;
};

/* One output pad's streaming state, owned by its streaming thread except for
 * the pending flag that the watchdog raises. */
struct Output {
  std::atomic<bool> discontinuity_pending{false};
  std::atomic<bool> live{false};
  GstClockTime last_end = GST_CLOCK_TIME_NONE;
  bool filling = false; /* pushing gap-filling buffers from the probe */
  bool is_video = false;
  GstClockTime frame_duration = GST_SECOND / 30; /* video: from the output framerate */
  /* Every caps event is replaced by these, so that both sources give
   * identical caps (they differ in optional fields such as chroma-site). */
  GstCaps *caps = nullptr;
};

/* One selector input's timing: its buffers leave on a 0-based segment,
 * stamped with their running time; the live ones also with the offset
 * that puts the publisher on the pipeline clock. */
struct Branch {
  GstLiveInput *self = nullptr;
  bool live = false;
  GstSegment segment;
};

}  // namespace

struct GstLiveInputPrivate {
  std::mutex settings_lock;
  Settings settings;

  std::unique_ptr<onair::BinChildren> fixed_elements; /* made once in _init */
  std::unique_ptr<onair::BinChildren> input_elements; /* per start: input and slate source */

  GstElement *live_video_convert = nullptr;
  GstElement *live_audio_convert = nullptr;
  GstElement *live_video_rate = nullptr;
  GstElement *live_video_filter = nullptr;
  GstElement *slate_video_convert = nullptr;
  GstElement *slate_video_filter = nullptr;
  GstElement *slate_text = nullptr;
  GstElement *video_selector = nullptr;
  GstElement *audio_selector = nullptr;
  GstPad *video_live_pad = nullptr; /* selector sink pads, owned */
  GstPad *video_slate_pad = nullptr;
  GstPad *audio_live_pad = nullptr;
  GstPad *audio_slate_pad = nullptr;
  GstElement *slate_freeze = nullptr; /* image slate: decodebin links here */

  /* watchdog */
  std::mutex watchdog_lock;
  std::condition_variable watchdog_wake;
  std::thread watchdog;
  std::atomic<bool> stopping{false};
  /* the live input failed (error from its elements): restarted after
   * INPUT_RETRY by the watchdog; monotonic µs, -1: running */
  gint64 input_failed_at = -1;
  bool live_active = false;
  gint64 last_live_frame = -1; /* monotonic µs */
  gint64 switched_at = 0;
  gint64 timeout_us = gint64(DEFAULT_TIMEOUT * G_USEC_PER_SEC);

  Output video_output;
  Output audio_output;

  /* Live timeline: running time + this = output time, shared by audio and
   * video so that they stay in sync; set by a live session's first buffer. */
  std::mutex anchor_lock;
  bool live_anchored = false;
  GstClockTimeDiff live_offset = 0;
  Branch branches[4]; /* video live, video slate, audio live, audio slate */
  /* A file or other URI (not an RTMP or SRT server, which are live and
   * start with us): paced to the clock, and its elements are in locked
   * state, following ours by hand (set_input_state). */
  bool uri_input = false;
  std::vector<GstElement *> input_chain; /* the live input's own elements (in input_elements) */
};

struct _GstLiveInput {
  GstBin parent;
  GstPad *video_srcpad;
  GstPad *audio_srcpad;
  GstLiveInputPrivate *priv;
};

GST_DEBUG_CATEGORY_STATIC(gst_live_input_debug);
#define GST_CAT_DEFAULT gst_live_input_debug

enum {
  PROP_0,
  PROP_URI,
  PROP_WIDTH,
  PROP_HEIGHT,
  PROP_FRAMERATE,
  PROP_TIMEOUT,
  PROP_SLATE_LOCATION,
  PROP_CHANNEL_NAME,
};

static GstStaticPadTemplate video_src_template =
    GST_STATIC_PAD_TEMPLATE("video", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS("video/x-raw,format=I420"));
static GstStaticPadTemplate audio_src_template =
    GST_STATIC_PAD_TEMPLATE("audio", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(AUDIO_CAPS));

#define gst_live_input_parent_class parent_class
G_DEFINE_TYPE(GstLiveInput, gst_live_input, GST_TYPE_BIN);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE(liveinput, "liveinput", GST_RANK_NONE, GST_TYPE_LIVE_INPUT,
                                      GST_DEBUG_CATEGORY_INIT(gst_live_input_debug, "onair-liveinput", 0,
                                                              "onair live input with slate"));

static void gst_live_input_finalize(GObject *object);
static void gst_live_input_set_property(GObject *object, guint prop_id, const GValue *value,
                                        GParamSpec *pspec);
static void gst_live_input_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec);
static GstStateChangeReturn gst_live_input_change_state(GstElement *element, GstStateChange transition);
static void gst_live_input_handle_message(GstBin *bin, GstMessage *message);

static void gst_live_input_class_init(GstLiveInputClass *klass) {
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);

  gobject_class->finalize = gst_live_input_finalize;
  GST_BIN_CLASS(klass)->handle_message = GST_DEBUG_FUNCPTR(gst_live_input_handle_message);
  gobject_class->set_property = gst_live_input_set_property;
  gobject_class->get_property = gst_live_input_get_property;

  const GParamFlags ready_flags =
      (GParamFlags)(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);

  /**
   * GstLiveInput:uri:
   *
   * The input: `rtmp://HOST:PORT/APPLICATION/STREAM-KEY` listens for RTMP
   * publishers on HOST (empty: every address) and PORT (default 1935),
   * `srt://...` is read by srtsrc, anything else by uridecodebin. Empty: the
   * slate only.
   */
  g_object_class_install_property(
      gobject_class, PROP_URI,
      g_param_spec_string("uri", "URI", "Input: rtmp://HOST:PORT/APP/KEY (served), srt://..., or any URI",
                          DEFAULT_URI, ready_flags));

  /**
   * GstLiveInput:width:
   *
   * Width of the output video in pixels.
   */
  g_object_class_install_property(
      gobject_class, PROP_WIDTH,
      g_param_spec_int("width", "Width", "Output video width", 16, 7680, DEFAULT_WIDTH, ready_flags));

  /**
   * GstLiveInput:height:
   *
   * Height of the output video in pixels.
   */
  g_object_class_install_property(
      gobject_class, PROP_HEIGHT,
      g_param_spec_int("height", "Height", "Output video height", 16, 4320, DEFAULT_HEIGHT, ready_flags));

  /**
   * GstLiveInput:framerate:
   *
   * Frame rate of the output video, kept through input stalls.
   */
  g_object_class_install_property(
      gobject_class, PROP_FRAMERATE,
      gst_param_spec_fraction("framerate", "Frame rate", "Output video frame rate", 1, 1, 120, 1,
                              DEFAULT_FRAMERATE_N, DEFAULT_FRAMERATE_D, ready_flags));

  /**
   * GstLiveInput:timeout:
   *
   * Seconds without a decoded input video frame after which the slate is
   * output.
   */
  g_object_class_install_property(
      gobject_class, PROP_TIMEOUT,
      g_param_spec_double(
          "timeout", "Timeout", "Seconds without input video before switching to the slate", 0.1, 60.0,
          DEFAULT_TIMEOUT,
          (GParamFlags)(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING)));

  /**
   * GstLiveInput:slate-location:
   *
   * An image file (PNG, JPEG) shown while the input is missing. Empty: a
   * generated card.
   */
  g_object_class_install_property(
      gobject_class, PROP_SLATE_LOCATION,
      g_param_spec_string("slate-location", "Slate location", "Image file shown while the input is missing",
                          DEFAULT_SLATE_LOCATION, ready_flags));

  /**
   * GstLiveInput:channel-name:
   *
   * Text written on the generated card (black background); empty: SMPTE bars
   * without text. Not used with #GstLiveInput:slate-location.
   */
  g_object_class_install_property(
      gobject_class, PROP_CHANNEL_NAME,
      g_param_spec_string("channel-name", "Channel name", "Text on the generated slate card",
                          DEFAULT_CHANNEL_NAME, ready_flags));

  element_class->change_state = gst_live_input_change_state;

  gst_element_class_add_static_pad_template(element_class, &video_src_template);
  gst_element_class_add_static_pad_template(element_class, &audio_src_template);
  gst_element_class_set_static_metadata(element_class, "Live input with slate", "Source/Bin/Video/Audio",
                                        "Decodes a live input (RTMP, SRT, URI) to fixed raw caps and "
                                        "switches to a slate while it stalls",
                                        "onair developers");
}

/* ---- Selector inputs: one timeline ---------------------------------------- */

static GstClockTime clock_running_time(GstElement *element) {
  GstClock *clock = gst_element_get_clock(element);
  if (!clock) return GST_CLOCK_TIME_NONE;
  GstClockTime now = gst_clock_get_time(clock);
  gst_object_unref(clock);
  GstClockTime base = gst_element_get_base_time(element);
  return now > base ? now - base : 0;
}

/* The slate and the live decoder have segments of their own (a demuxer's
 * starts at its first timestamp): every buffer is restamped with its running
 * time on one 0-based segment. The live input's running time is moved onto
 * the pipeline clock when a live session starts, and again whenever it
 * drifts more than LIVE_MAX_DRIFT from it (a publisher that comes back,
 * falls behind or jumps). */
static GstPadProbeReturn branch_probe(GstPad *, GstPadProbeInfo *info, gpointer user_data) {
  Branch *branch = static_cast<Branch *>(user_data);
  if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
    if (GST_EVENT_TYPE(event) != GST_EVENT_SEGMENT) return GST_PAD_PROBE_OK;
    return onair::take_time_segment(info, &branch->segment) ? GST_PAD_PROBE_OK : GST_PAD_PROBE_DROP;
  }
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  if (!GST_BUFFER_PTS_IS_VALID(buffer)) return GST_PAD_PROBE_OK;
  GstClockTime running =
      gst_segment_to_running_time(&branch->segment, GST_FORMAT_TIME, GST_BUFFER_PTS(buffer));
  if (!GST_CLOCK_TIME_IS_VALID(running)) return GST_PAD_PROBE_DROP; /* clipped */
  GstClockTimeDiff out = (GstClockTimeDiff)running;
  if (branch->live) {
    GstLiveInputPrivate *priv = branch->self->priv;
    GstClockTime now = clock_running_time(GST_ELEMENT(branch->self));
    std::unique_lock<std::mutex> lock(priv->anchor_lock);
    if (GST_CLOCK_TIME_IS_VALID(now)) {
      GstClockTimeDiff drift = (GstClockTimeDiff)running + priv->live_offset - (GstClockTimeDiff)now;
      if (!priv->live_anchored || drift > LIVE_MAX_DRIFT || drift < -LIVE_MAX_DRIFT) {
        GST_INFO_OBJECT(branch->self, "live input on the clock at %" GST_TIME_FORMAT "%s", GST_TIME_ARGS(now),
                        priv->live_anchored ? " (it drifted)" : "");
        priv->live_offset = (GstClockTimeDiff)now - (GstClockTimeDiff)running;
        priv->live_anchored = true;
      }
    }
    out += priv->live_offset;
    if (priv->uri_input && GST_CLOCK_TIME_IS_VALID(now) && out > (GstClockTimeDiff)now) {
      /* a file decodes faster than real time: hold it to the clock */
      GstClockTimeDiff ahead = out - (GstClockTimeDiff)now;
      lock.unlock();
      gint64 until = g_get_monotonic_time() + ahead / GST_USECOND;
      while (!priv->stopping && g_get_monotonic_time() < until)
        g_usleep(std::min<gint64>(10000, std::max<gint64>(until - g_get_monotonic_time(), 0)));
    }
  }
  if (out < 0) return GST_PAD_PROBE_DROP;
  buffer = gst_buffer_make_writable(buffer);
  GST_BUFFER_PTS(buffer) = (GstClockTime)out;
  GST_BUFFER_DTS(buffer) = GST_CLOCK_TIME_NONE;
  GST_PAD_PROBE_INFO_DATA(info) = buffer;
  return GST_PAD_PROBE_OK;
}

/* ---- Output: monotonic timestamps and discontinuity events ------------------ */

/* Fills [from, to) with copies of `frame` (video, one per frame duration)
 * or with silence (audio), pushed ahead of the buffer being probed. */
static void fill_gap(GstPad *pad, Output *output, GstBuffer *frame, GstClockTime from, GstClockTime to) {
  output->filling = true;
  for (GstClockTime t = from; t < to && GST_PAD_IS_ACTIVE(pad);) {
    GstBuffer *fill;
    GstClockTime duration;
    if (output->is_video) {
      duration = std::min(output->frame_duration, to - t);
      fill = gst_buffer_copy(frame); /* shares the picture's memory */
    } else {
      /* at most 100 ms of silence per buffer */
      duration = std::min<GstClockTime>(to - t, GST_SECOND / 10);
      guint64 samples = gst_util_uint64_scale_round(duration, AUDIO_RATE, GST_SECOND);
      if (!samples) break;
      duration = gst_util_uint64_scale(samples, GST_SECOND, AUDIO_RATE);
      fill = gst_buffer_new_allocate(nullptr, samples * AUDIO_BYTES_PER_FRAME, nullptr);
      gst_buffer_memset(fill, 0, 0, samples * AUDIO_BYTES_PER_FRAME);
    }
    GST_BUFFER_PTS(fill) = t;
    GST_BUFFER_DTS(fill) = GST_CLOCK_TIME_NONE;
    GST_BUFFER_DURATION(fill) = duration;
    GST_BUFFER_FLAG_SET(fill, GST_BUFFER_FLAG_GAP);
    if (t != from) GST_BUFFER_FLAG_UNSET(fill, GST_BUFFER_FLAG_DISCONT);
    if (gst_pad_push(pad, fill) != GST_FLOW_OK) break;
    t += duration;
  }
  output->filling = false;
}

static GstPadProbeReturn output_probe(GstPad *pad, GstPadProbeInfo *info, gpointer user_data) {
  Output *output = static_cast<Output *>(user_data);
  if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
    if (GST_EVENT_TYPE(event) == GST_EVENT_CAPS && output->caps) {
      info->data = gst_event_new_caps(output->caps);
      gst_event_unref(event);
    }
    return GST_PAD_PROBE_OK;
  }
  if (output->filling) return GST_PAD_PROBE_OK;
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  GstClockTime pts = GST_BUFFER_PTS(buffer);
  bool switched = output->discontinuity_pending.exchange(false);
  if (switched) {
    GstStructure *structure = gst_structure_new("onair-discontinuity", "source", G_TYPE_STRING,
                                                output->live ? "live" : "slate", nullptr);
    gst_pad_push_event(pad, gst_event_new_custom(GST_EVENT_CUSTOM_DOWNSTREAM, structure));
    /* The time the input stalled before the switch is filled (repeated
     * picture, silence), so the output has no hole. */
    if (GST_CLOCK_TIME_IS_VALID(pts) && GST_CLOCK_TIME_IS_VALID(output->last_end) && pts > output->last_end) {
      GST_DEBUG("filling %" GST_TIME_FORMAT " before the switch", GST_TIME_ARGS(pts - output->last_end));
      fill_gap(pad, output, buffer, output->last_end, pts);
    }
  }
  /* Whatever still goes backwards (the sources overlap around a switch) is
   * dropped. */
  if (GST_CLOCK_TIME_IS_VALID(pts) && GST_CLOCK_TIME_IS_VALID(output->last_end) && pts < output->last_end)
    return GST_PAD_PROBE_DROP;
  if (GST_CLOCK_TIME_IS_VALID(pts))
    output->last_end = GST_BUFFER_DURATION_IS_VALID(buffer) ? pts + GST_BUFFER_DURATION(buffer) : pts + 1;
  return GST_PAD_PROBE_OK;
}

/* ---- Watchdog ------------------------------------------------------------ */

static void switch_source(GstLiveInput *self, bool live) {
  GstLiveInputPrivate *priv = self->priv;
  GST_INFO_OBJECT(self, "switching to %s", live ? "live" : "slate");
  if (!live) {
    /* the next publish is put on the clock afresh */
    std::lock_guard<std::mutex> lock(priv->anchor_lock);
    priv->live_anchored = false;
  }
  for (Output *output : {&priv->video_output, &priv->audio_output}) {
    output->live = live;
    output->discontinuity_pending = true;
  }
  g_object_set(priv->video_selector, "active-pad", live ? priv->video_live_pad : priv->video_slate_pad,
               nullptr);
  g_object_set(priv->audio_selector, "active-pad", live ? priv->audio_live_pad : priv->audio_slate_pad,
               nullptr);
  gst_element_post_message(
      GST_ELEMENT(self),
      gst_message_new_element(GST_OBJECT(self), gst_structure_new("liveinput-switch", "source", G_TYPE_STRING,
                                                                  live ? "live" : "slate", nullptr)));
}

static void set_input_state(GstLiveInput *self, GstState state);

/* References to the live input's own elements, from source to decoder. */
static std::vector<GstElement *> ref_input_chain(GstLiveInput *self) {
  std::vector<GstElement *> chain;
  GST_OBJECT_LOCK(self);
  for (GstElement *element : self->priv->input_chain) chain.push_back(GST_ELEMENT(gst_object_ref(element)));
  GST_OBJECT_UNLOCK(self);
  return chain;
}

/* Brings the failed input's elements down and up again (watchdog thread). */
static void restart_input(GstLiveInput *self) {
  GstLiveInputPrivate *priv = self->priv;
  GST_INFO_OBJECT(self, "restarting the input");
  if (priv->uri_input) {
    set_input_state(self, GST_STATE_NULL);
    GstState current = GST_STATE(self);
    if (!priv->stopping && current >= GST_STATE_PAUSED) set_input_state(self, current);
    return;
  }
  std::vector<GstElement *> chain = ref_input_chain(self);
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) gst_element_set_state(*it, GST_STATE_NULL);
  for (GstElement *element : chain) {
    if (!priv->stopping) gst_element_sync_state_with_parent(element);
    gst_object_unref(element);
  }
}

static void watchdog_run(GstLiveInput *self) {
  GstLiveInputPrivate *priv = self->priv;
  std::unique_lock<std::mutex> lock(priv->watchdog_lock);
  while (!priv->stopping) {
    priv->watchdog_wake.wait_for(lock, WATCHDOG_PERIOD);
    if (priv->stopping) break;
    gint64 now = g_get_monotonic_time();
    if (priv->input_failed_at >= 0 && now - priv->input_failed_at >= INPUT_RETRY_US) {
      priv->input_failed_at = -1;
      lock.unlock();
      restart_input(self);
      lock.lock();
      continue;
    }
    bool want_live = priv->live_active ? now - priv->last_live_frame < priv->timeout_us
                                       : priv->last_live_frame >= priv->switched_at;
    if (want_live == priv->live_active) continue;
    priv->live_active = want_live;
    priv->switched_at = now;
    lock.unlock();
    switch_source(self, want_live);
    lock.lock();
  }
}

static GstPadProbeReturn live_input_probe(GstPad *, GstPadProbeInfo *info, gpointer user_data) {
  GstLiveInput *self = GST_LIVE_INPUT(user_data);
  GstLiveInputPrivate *priv = self->priv;
  if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    /* An input that ends leaves the slate on; the output never ends. */
    if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) == GST_EVENT_EOS) return GST_PAD_PROBE_DROP;
    return GST_PAD_PROBE_OK;
  }
  if (!(info->type & GST_PAD_PROBE_TYPE_BUFFER)) return GST_PAD_PROBE_OK;
  bool wake;
  {
    std::lock_guard<std::mutex> guard(priv->watchdog_lock);
    priv->last_live_frame = g_get_monotonic_time();
    wake = !priv->live_active;
  }
  if (wake) priv->watchdog_wake.notify_one();
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn drop_eos_probe(GstPad *, GstPadProbeInfo *info, gpointer) {
  if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) == GST_EVENT_EOS) return GST_PAD_PROBE_DROP;
  return GST_PAD_PROBE_OK;
}

/* ---- Input errors ---------------------------------------------------------- */

static bool from_input(GstLiveInputPrivate *priv, GstObject *source) {
  for (GstElement *element : priv->input_chain)
    for (GstObject *o = source; o; o = GST_OBJECT_PARENT(o))
      if (o == GST_OBJECT(element)) return true;
  return false;
}

/* An error of the input (a missing file, a refused connection, a stream the
 * decoder cannot read) does not end the output: it is posted as a warning,
 * the slate stays on and the input is tried again after INPUT_RETRY_US. */
static void gst_live_input_handle_message(GstBin *bin, GstMessage *message) {
  GstLiveInput *self = GST_LIVE_INPUT(bin);
  GstLiveInputPrivate *priv = self->priv;
  if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ASYNC_START ||
      GST_MESSAGE_TYPE(message) == GST_MESSAGE_ASYNC_DONE) {
    /* the input's elements change state on their own (set_input_state): the
     * bin must not wait for them to preroll */
    GST_OBJECT_LOCK(self);
    bool input = from_input(priv, GST_MESSAGE_SRC(message));
    GST_OBJECT_UNLOCK(self);
    if (input) {
      gst_message_unref(message);
      return;
    }
  }
  if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR) {
    GST_OBJECT_LOCK(self);
    bool input = from_input(priv, GST_MESSAGE_SRC(message));
    GST_OBJECT_UNLOCK(self);
    if (input) {
      GError *error = nullptr;
      gchar *debug = nullptr;
      gst_message_parse_error(message, &error, &debug);
      GST_WARNING_OBJECT(self, "input failed: %s", error->message);
      gchar *text = g_strdup_printf("%s (showing the slate; the input is tried again in %d s)",
                                    error->message, (int)(INPUT_RETRY_US / G_USEC_PER_SEC));
      GError *warning = g_error_new_literal(error->domain, error->code, text);
      GstMessage *replacement = gst_message_new_warning(GST_OBJECT(self), warning, debug);
      g_error_free(warning);
      g_free(text);
      g_error_free(error);
      g_free(debug);
      gst_message_unref(message);
      bool first;
      {
        std::lock_guard<std::mutex> guard(priv->watchdog_lock);
        first = priv->input_failed_at < 0;
        if (first) priv->input_failed_at = g_get_monotonic_time();
      }
      /* one warning per failure, not one per element that echoes it */
      if (first)
        GST_BIN_CLASS(parent_class)->handle_message(bin, replacement);
      else
        gst_message_unref(replacement);
      return;
    }
  }
  GST_BIN_CLASS(parent_class)->handle_message(bin, message);
}

/* ---- Construction ---------------------------------------------------------- */

static GstPad *link_to_selector(GstElement *upstream, GstElement *selector) {
  GstPad *sinkpad = gst_element_request_pad_simple(selector, "sink_%u");
  GstPad *srcpad = gst_element_get_static_pad(upstream, "src");
  gst_pad_link(srcpad, sinkpad);
  gst_object_unref(srcpad);
  return sinkpad;
}

static GstPad *expose(GstLiveInput *self, GstElement *selector, const char *name) {
  GstPad *target = gst_element_get_static_pad(selector, "src");
  GstPadTemplate *templ = gst_element_class_get_pad_template(GST_ELEMENT_GET_CLASS(self), name);
  GstPad *ghost = gst_ghost_pad_new_from_template(name, target, templ);
  gst_object_unref(target);
  gst_pad_set_active(ghost, TRUE);
  gst_element_add_pad(GST_ELEMENT(self), ghost);
  return ghost;
}

static void gst_live_input_init(GstLiveInput *self) {
  GstLiveInputPrivate *priv = new GstLiveInputPrivate();
  self->priv = priv;
  GST_OBJECT_FLAG_SET(self, GST_ELEMENT_FLAG_SOURCE);
  priv->fixed_elements = std::make_unique<onair::BinChildren>(GST_BIN(self));
  priv->input_elements = std::make_unique<onair::BinChildren>(GST_BIN(self));
  onair::BinChildren &make = *priv->fixed_elements;

  GstElement *elements[12] = {};
  /* live video: decoder → convert → scale (borders) → rate → fixed caps */
  elements[0] = priv->live_video_convert = make.make("videoconvert");
  GstElement *live_scale = elements[1] = make.make("videoscale");
  elements[2] = priv->live_video_rate = make.make("videorate");
  elements[3] = priv->live_video_filter = make.make("capsfilter");
  /* slate video: source → convert → scale → fixed caps → text */
  elements[4] = priv->slate_video_convert = make.make("videoconvert");
  GstElement *slate_scale = elements[5] = make.make("videoscale");
  elements[6] = priv->slate_video_filter = make.make("capsfilter");
  elements[7] = priv->slate_text = make.make("textoverlay");
  /* live audio and silence */
  elements[8] = priv->live_audio_convert = make.make("audioconvert");
  GstElement *live_resample = elements[9] = make.make("audioresample");
  GstElement *live_audio_filter = elements[10] = make.make("capsfilter");
  GstElement *silence = elements[11] = make.make("audiotestsrc");
  GstElement *silence_filter = make.make("capsfilter");
  priv->video_selector = make.make("input-selector");
  priv->audio_selector = make.make("input-selector");
  for (GstElement *element : elements)
    if (!element) return;
  if (!silence_filter || !priv->video_selector || !priv->audio_selector) return;

  g_object_set(live_scale, "add-borders", TRUE, nullptr);
  g_object_set(slate_scale, "add-borders", TRUE, nullptr);
  /* After a stall the slate covers the gap: no burst of repeated frames. */
  g_object_set(priv->live_video_rate, "max-duplication-time", GST_SECOND / 2, nullptr);
  /* A live input starts at its first frame, not at its segment start: no
   * copies of that frame from 0 up to it (tsdemux's segments start at 0). */
  g_object_set(priv->live_video_rate, "skip-to-first", TRUE, nullptr);
  g_object_set(priv->slate_text, "valignment", 4 /* center */, "halignment", 1 /* center */, "font-desc",
               "Sans Bold 36", nullptr);
  g_object_set(silence, "wave", 4 /* silence */, "is-live", TRUE, nullptr);
  GstCaps *audio_caps = gst_caps_from_string(AUDIO_CAPS);
  g_object_set(live_audio_filter, "caps", audio_caps, nullptr);
  g_object_set(silence_filter, "caps", audio_caps, nullptr);
  gst_caps_unref(audio_caps);
  for (GstElement *selector : {priv->video_selector, priv->audio_selector})
    g_object_set(selector, "sync-streams", FALSE, nullptr);

  gst_element_link_many(priv->live_video_convert, live_scale, priv->live_video_rate, priv->live_video_filter,
                        nullptr);
  gst_element_link_many(priv->slate_video_convert, slate_scale, priv->slate_video_filter, priv->slate_text,
                        nullptr);
  gst_element_link_many(priv->live_audio_convert, live_resample, live_audio_filter, nullptr);
  gst_element_link(silence, silence_filter);

  priv->video_live_pad = link_to_selector(priv->live_video_filter, priv->video_selector);
  priv->video_slate_pad = link_to_selector(priv->slate_text, priv->video_selector);
  priv->audio_live_pad = link_to_selector(live_audio_filter, priv->audio_selector);
  priv->audio_slate_pad = link_to_selector(silence_filter, priv->audio_selector);
  g_object_set(priv->video_selector, "active-pad", priv->video_slate_pad, nullptr);
  g_object_set(priv->audio_selector, "active-pad", priv->audio_slate_pad, nullptr);
  GstPad *selector_pads[4] = {priv->video_live_pad, priv->video_slate_pad, priv->audio_live_pad,
                              priv->audio_slate_pad};
  for (int i = 0; i < 4; i++) {
    Branch &branch = priv->branches[i];
    branch.self = self;
    branch.live = i % 2 == 0;
    gst_segment_init(&branch.segment, GST_FORMAT_TIME);
    gst_pad_add_probe(selector_pads[i],
                      (GstPadProbeType)(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
                      branch_probe, &branch, nullptr);
  }

  GstPad *pad = gst_element_get_static_pad(priv->live_video_convert, "sink");
  gst_pad_add_probe(pad, (GstPadProbeType)(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
                    live_input_probe, self, nullptr);
  gst_object_unref(pad);
  pad = gst_element_get_static_pad(priv->live_audio_convert, "sink");
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, drop_eos_probe, nullptr, nullptr);
  gst_object_unref(pad);

  self->video_srcpad = expose(self, priv->video_selector, "video");
  self->audio_srcpad = expose(self, priv->audio_selector, "audio");
  pad = gst_element_get_static_pad(priv->video_selector, "src");
  gst_pad_add_probe(pad, (GstPadProbeType)(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
                    output_probe, &priv->video_output, nullptr);
  gst_object_unref(pad);
  pad = gst_element_get_static_pad(priv->audio_selector, "src");
  gst_pad_add_probe(pad, (GstPadProbeType)(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
                    output_probe, &priv->audio_output, nullptr);
  priv->audio_output.caps = gst_caps_from_string(AUDIO_CAPS);
  priv->video_output.is_video = true;
  gst_object_unref(pad);
}

static void gst_live_input_finalize(GObject *object) {
  GstLiveInput *self = GST_LIVE_INPUT(object);
  GstLiveInputPrivate *priv = self->priv;
  for (GstPad *pad :
       {priv->video_live_pad, priv->video_slate_pad, priv->audio_live_pad, priv->audio_slate_pad})
    if (pad) gst_object_unref(pad);
  for (Output *output : {&priv->video_output, &priv->audio_output})
    if (output->caps) gst_caps_unref(output->caps);
  delete priv;
  G_OBJECT_CLASS(parent_class)->finalize(object);
}

static void gst_live_input_set_property(GObject *object, guint prop_id, const GValue *value,
                                        GParamSpec *pspec) {
  GstLiveInput *self = GST_LIVE_INPUT(object);
  GstLiveInputPrivate *priv = self->priv;
  if (prop_id == PROP_TIMEOUT) {
    {
      std::lock_guard<std::mutex> guard(priv->settings_lock);
      priv->settings.timeout = g_value_get_double(value);
    }
    std::lock_guard<std::mutex> guard(priv->watchdog_lock);
    priv->timeout_us = gint64(g_value_get_double(value) * G_USEC_PER_SEC);
    return;
  }
  std::lock_guard<std::mutex> guard(priv->settings_lock);
  Settings &s = priv->settings;
  switch (prop_id) {
    case PROP_URI:
      s.uri = g_value_get_string(value) ? g_value_get_string(value) : "";
      break;
    case PROP_WIDTH:
      s.width = g_value_get_int(value);
      break;
    case PROP_HEIGHT:
      s.height = g_value_get_int(value);
      break;
    case PROP_FRAMERATE:
      s.framerate_n = gst_value_get_fraction_numerator(value);
      s.framerate_d = gst_value_get_fraction_denominator(value);
      break;
    case PROP_SLATE_LOCATION:
      s.slate_location = g_value_get_string(value) ? g_value_get_string(value) : "";
      break;
    case PROP_CHANNEL_NAME:
      s.channel_name = g_value_get_string(value) ? g_value_get_string(value) : "";
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
}

static void gst_live_input_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec) {
  GstLiveInput *self = GST_LIVE_INPUT(object);
  std::lock_guard<std::mutex> guard(self->priv->settings_lock);
  const Settings &s = self->priv->settings;
  switch (prop_id) {
    case PROP_URI:
      g_value_set_string(value, s.uri.c_str());
      break;
    case PROP_WIDTH:
      g_value_set_int(value, s.width);
      break;
    case PROP_HEIGHT:
      g_value_set_int(value, s.height);
      break;
    case PROP_FRAMERATE:
      gst_value_set_fraction(value, s.framerate_n, s.framerate_d);
      break;
    case PROP_TIMEOUT:
      g_value_set_double(value, s.timeout);
      break;
    case PROP_SLATE_LOCATION:
      g_value_set_string(value, s.slate_location.c_str());
      break;
    case PROP_CHANNEL_NAME:
      g_value_set_string(value, s.channel_name.c_str());
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
}

/* ---- Inputs --------------------------------------------------------------- */

/* Links a decoded pad of the input to the live video or audio chain (the
 * first of each kind; later ones stay unlinked). */
static void on_decoded_pad(GstElement *, GstPad *pad, gpointer user_data) {
  GstLiveInput *self = GST_LIVE_INPUT(user_data);
  GstCaps *caps = gst_pad_get_current_caps(pad);
  if (!caps) caps = gst_pad_query_caps(pad, nullptr);
  const char *media = gst_structure_get_name(gst_caps_get_structure(caps, 0));
  GstElement *target = nullptr;
  if (g_str_has_prefix(media, "video/x-raw"))
    target = self->priv->live_video_convert;
  else if (g_str_has_prefix(media, "audio/x-raw"))
    target = self->priv->live_audio_convert;
  gst_caps_unref(caps);
  if (!target) return;
  GstPad *sinkpad = gst_element_get_static_pad(target, "sink");
  if (!gst_pad_is_linked(sinkpad) && GST_PAD_LINK_FAILED(gst_pad_link(pad, sinkpad)))
    GST_WARNING_OBJECT(self, "could not link %" GST_PTR_FORMAT, pad);
  gst_object_unref(sinkpad);
}

static void on_slate_decoded_pad(GstElement *, GstPad *pad, gpointer user_data) {
  GstLiveInput *self = GST_LIVE_INPUT(user_data);
  GstPad *sinkpad = gst_element_get_static_pad(self->priv->slate_freeze, "sink");
  if (!gst_pad_is_linked(sinkpad)) gst_pad_link(pad, sinkpad);
  gst_object_unref(sinkpad);
}

/* rtmp://[HOST][:PORT]/APPLICATION[/STREAM-KEY] */
static bool parse_rtmp_uri(const std::string &uri, std::string &host, guint &port, std::string &application,
                           std::string &key) {
  std::string rest = uri.substr(strlen("rtmp://"));
  size_t slash = rest.find('/');
  if (slash == std::string::npos) return false;
  std::string authority = rest.substr(0, slash);
  std::string path = rest.substr(slash + 1);
  size_t colon = authority.rfind(':');
  port = DEFAULT_RTMP_PORT;
  if (colon != std::string::npos && authority.find(']', colon) == std::string::npos) {
    port = (guint)g_ascii_strtoull(authority.c_str() + colon + 1, nullptr, 10);
    authority.resize(colon);
    if (port == 0 || port > 65535) return false;
  }
  if (authority.size() >= 2 && authority.front() == '[' && authority.back() == ']')
    authority = authority.substr(1, authority.size() - 2);
  host = authority;
  slash = path.find('/');
  application = path.substr(0, slash);
  key = slash == std::string::npos ? "" : path.substr(slash + 1);
  return !application.empty();
}

static bool build_input(GstLiveInput *self, const Settings &s) {
  GstLiveInputPrivate *priv = self->priv;
  onair::BinChildren &make = *priv->input_elements;

  /* the slate source */
  if (!s.slate_location.empty()) {
    GstElement *file = make.make("filesrc");
    GstElement *decode = make.make("decodebin");
    priv->slate_freeze = make.make("imagefreeze");
    if (!file || !decode || !priv->slate_freeze) return false;
    g_object_set(file, "location", s.slate_location.c_str(), nullptr);
    g_object_set(priv->slate_freeze, "is-live", TRUE, nullptr);
    gst_element_link(file, decode);
    g_signal_connect(decode, "pad-added", G_CALLBACK(on_slate_decoded_pad), self);
    gst_element_link(priv->slate_freeze, priv->slate_video_convert);
    g_object_set(priv->slate_text, "text", "", nullptr);
  } else {
    GstElement *card = make.make("videotestsrc");
    if (!card) return false;
    g_object_set(card, "is-live", TRUE, "pattern", s.channel_name.empty() ? 0 /* smpte */ : 2 /* black */,
                 nullptr);
    gst_element_link(card, priv->slate_video_convert);
    g_object_set(priv->slate_text, "text", s.channel_name.c_str(), nullptr);
  }

  priv->input_chain.clear();
  priv->uri_input = false;
  if (s.uri.empty()) return true;
  GstElement *decode = nullptr;
  if (g_str_has_prefix(s.uri.c_str(), "rtmp://")) {
    std::string host, application, key;
    guint port;
    if (!parse_rtmp_uri(s.uri, host, port, application, key)) {
      GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("Invalid RTMP uri '%s'", s.uri.c_str()),
                        ("expected rtmp://HOST:PORT/APPLICATION/STREAM-KEY"));
      return false;
    }
    GstElement *server = make.make("rtmpserversrc");
    decode = make.make("decodebin");
    if (!server || !decode) return false;
    g_object_set(server, "port", port, "application", application.c_str(), "stream-key", key.c_str(),
                 nullptr);
    if (!host.empty()) g_object_set(server, "address", host.c_str(), nullptr);
    gst_element_link(server, decode);
    priv->input_chain = {server, decode};
  } else if (g_str_has_prefix(s.uri.c_str(), "srt://")) {
    GstElement *srt = make.make("srtsrc");
    decode = make.make("decodebin");
    if (!srt || !decode) return false;
    g_object_set(srt, "uri", s.uri.c_str(), nullptr);
    /* a listener takes the next caller after one hangs up (else srtsrc ends
     * the stream and closes the port) */
    g_object_set(srt, "keep-listening", TRUE, nullptr);
    gst_element_link(srt, decode);
    priv->input_chain = {srt, decode};
  } else {
    decode = make.make("uridecodebin");
    if (!decode) return false;
    g_object_set(decode, "uri", s.uri.c_str(), nullptr);
    priv->input_chain = {decode};
    priv->uri_input = true;
  }
  g_signal_connect(decode, "pad-added", G_CALLBACK(on_decoded_pad), self);
  /* A URI's elements follow our state by hand (set_input_state), so that one
   * that cannot start (a missing file) leaves us on the slate instead of
   * failing the state change. The RTMP and SRT servers start with us. */
  if (priv->uri_input)
    for (GstElement *element : priv->input_chain) gst_element_set_locked_state(element, TRUE);
  return true;
}

/* Moves the input's elements to `state`; a failure is the input's error
 * (posted by the element, turned into a warning and a retry). */
static void set_input_state(GstLiveInput *self, GstState state) {
  GstLiveInputPrivate *priv = self->priv;
  if (!priv->uri_input) return;
  std::vector<GstElement *> chain = ref_input_chain(self);
  bool failed = false;
  if (state > GST_STATE_READY) {
    std::lock_guard<std::mutex> guard(priv->watchdog_lock);
    failed = priv->input_failed_at >= 0; /* waiting for the retry */
  }
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    if (state == GST_STATE_PLAYING) {
      gst_element_set_start_time(*it, GST_CLOCK_TIME_NONE);
      gst_element_set_base_time(*it, gst_element_get_base_time(GST_ELEMENT(self)));
    }
    if (!failed && gst_element_set_state(*it, state) == GST_STATE_CHANGE_FAILURE) failed = true;
  }
  for (GstElement *element : chain) gst_object_unref(element);
  if (failed && state > GST_STATE_READY) {
    std::lock_guard<std::mutex> guard(priv->watchdog_lock);
    if (priv->input_failed_at < 0) priv->input_failed_at = g_get_monotonic_time();
  }
}

static void apply_caps(GstLiveInput *self, const Settings &s) {
  GstCaps *caps = gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, "I420", "width", G_TYPE_INT,
                                      s.width, "height", G_TYPE_INT, s.height, "framerate", GST_TYPE_FRACTION,
                                      s.framerate_n, s.framerate_d, "pixel-aspect-ratio", GST_TYPE_FRACTION,
                                      1, 1, "interlace-mode", G_TYPE_STRING, "progressive", "colorimetry",
                                      G_TYPE_STRING, "bt709", "chroma-site", G_TYPE_STRING, "mpeg2", nullptr);
  g_object_set(self->priv->live_video_filter, "caps", caps, nullptr);
  g_object_set(self->priv->slate_video_filter, "caps", caps, nullptr);
  gst_caps_take(&self->priv->video_output.caps, caps);
  self->priv->video_output.frame_duration =
      s.framerate_n > 0 ? gst_util_uint64_scale_int(GST_SECOND, s.framerate_d, s.framerate_n)
                        : GST_SECOND / 30;
}

static void start_watchdog(GstLiveInput *self) {
  GstLiveInputPrivate *priv = self->priv;
  {
    std::lock_guard<std::mutex> guard(priv->watchdog_lock);
    priv->stopping = false;
    priv->input_failed_at = -1;
    priv->live_active = false;
    priv->last_live_frame = -1;
    priv->switched_at = g_get_monotonic_time();
  }
  {
    std::lock_guard<std::mutex> lock(priv->anchor_lock);
    priv->live_anchored = false;
  }
  for (Output *output : {&priv->video_output, &priv->audio_output}) {
    output->last_end = GST_CLOCK_TIME_NONE;
    output->live = false;
    output->discontinuity_pending = false;
  }
  g_object_set(priv->video_selector, "active-pad", priv->video_slate_pad, nullptr);
  g_object_set(priv->audio_selector, "active-pad", priv->audio_slate_pad, nullptr);
  priv->watchdog = std::thread(watchdog_run, self);
}

static void stop_watchdog(GstLiveInput *self) {
  GstLiveInputPrivate *priv = self->priv;
  {
    std::lock_guard<std::mutex> guard(priv->watchdog_lock);
    priv->stopping = true;
  }
  priv->watchdog_wake.notify_all();
  if (priv->watchdog.joinable()) priv->watchdog.join();
}

static GstStateChangeReturn gst_live_input_change_state(GstElement *element, GstStateChange transition) {
  GstLiveInput *self = GST_LIVE_INPUT(element);
  GstLiveInputPrivate *priv = self->priv;

  switch (transition) {
    case GST_STATE_CHANGE_NULL_TO_READY: {
      if (!priv->fixed_elements->missing().empty()) {
        const std::string &missing = priv->fixed_elements->missing();
        /* textoverlay is GStreamer's Pango plugin, which Debian ships apart. */
        GST_ELEMENT_ERROR(self, CORE, MISSING_PLUGIN,
                          ("liveinput needs elements that are not installed: %s", missing.c_str()),
                          ("%s", missing.find("textoverlay") != std::string::npos
                                     ? "textoverlay is in GStreamer's Pango plugin (Debian: gstreamer1.0-x)"
                                     : "install the GStreamer plugins that provide them"));
        return GST_STATE_CHANGE_FAILURE;
      }
      Settings s;
      {
        std::lock_guard<std::mutex> guard(priv->settings_lock);
        s = priv->settings;
      }
      apply_caps(self, s);
      if (!build_input(self, s)) {
        priv->input_elements->remove_all();
        return GST_STATE_CHANGE_FAILURE;
      }
      break;
    }
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      start_watchdog(self);
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      stop_watchdog(self);
      set_input_state(self, GST_STATE_NULL);
      break;
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
      set_input_state(self, GST_STATE_PAUSED);
      break;
    default:
      break;
  }

  GstStateChangeReturn ret = GST_ELEMENT_CLASS(parent_class)->change_state(element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE) {
    if (transition == GST_STATE_CHANGE_READY_TO_PAUSED) stop_watchdog(self);
    return ret;
  }

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_NULL:
      GST_OBJECT_LOCK(self);
      priv->input_chain.clear();
      GST_OBJECT_UNLOCK(self);
      priv->input_elements->remove_all();
      priv->slate_freeze = nullptr;
      break;
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      set_input_state(self, GST_STATE_PAUSED);
      /* live: no preroll, whatever the children said */
      ret = GST_STATE_CHANGE_NO_PREROLL;
      break;
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
      ret = GST_STATE_CHANGE_NO_PREROLL;
      break;
    case GST_STATE_CHANGE_PAUSED_TO_PLAYING:
      set_input_state(self, GST_STATE_PLAYING);
      break;
    default:
      break;
  }
  return ret;
}
