/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:element-newsflash
 * @title: newsflash
 *
 * Broadcast graphics on raw video, driven live: three independent layers,
 * bottom to top
 *
 * - `crawl`: a ticker strip across the bottom of the safe area, a continuous
 *   tape scrolling from right to left at #GstNewsFlash:crawl-speed pixels per
 *   second: the queued items follow each other on it, one pass (entering on
 *   the right, leaving on the left) after the other, with
 *   #GstNewsFlash:crawl-separator between them, so the ticker is never empty
 *   while items are queued. Items of one priority take turns pass by pass;
 *   when the tail of the tape reaches the right edge, the next pass goes on
 *   it;
 * - `lower-third`: a title and an optional subtitle in a box above the crawl,
 *   sliding and fading in, fading out;
 * - `fullscreen`: a card in the middle of the frame (a disclaimer, breaking
 *   news), optionally over the picture dimmed towards black (the picture
 *   only: the crawl and the lower third stay as bright).
 *
 * Each layer has a queue of items: Pango markup text, a priority, a duration
 * or an expiry, a loop count (crawl), a fade. The highest-priority item plays;
 * an item of a higher priority than the one on screen pre-empts it at once,
 * and the pre-empted item goes back to the head of the queue (ahead of the
 * other items of its priority) and plays again, from its beginning and for
 * its whole duration, when its turn comes, unless it has expired meanwhile.
 * Items whose expiry passes while they wait are dropped.
 *
 * On the crawl, pre-emption cuts the tape: when an item waits with a higher
 * priority than every item on the tape, those items fade out where they are
 * (over their fade time, still moving) and go back to the queue, and the
 * breaking item enters from the right edge on that frame; the items that
 * waited follow it on the tape once it has made its passes.
 *
 * An item taken off the screen (#GstNewsFlash::remove, #GstNewsFlash::clear,
 * pre-emption) leaves its queue at once: `newsflash-item-ended` is posted
 * then, with the running time of the last frame, and #GstNewsFlash::get-queue
 * no longer lists it; its picture fades out from there over its fade time
 * (under the item that follows, if any). On the crawl its passes fade out
 * where they are and the strip with them when nothing else is queued.
 *
 * Everything moves with the running time of the buffers, never the wall
 * clock: the same input gives the same frames. A crawl moves by exactly
 * crawl-speed / framerate pixels a frame, drawn at sub-pixel positions; a
 * fade's alpha rises linearly from 0 on the item's first frame to 1 after its
 * fade time (and falls to 0 at its planned end). An item with a duration is
 * gone from the first frame at or after its start + duration; one with an
 * `expires` inside its time fades out so as to be gone on the first frame at
 * or after it. On the crawl the tape moves at one constant speed, so the
 * steps are equal across the boundaries between items too; a crawl item's
 * duration counts from its entering the frame, and when its duration or its
 * expiry is up it leaves the queue and its passes fade out where they are. After a flush (a flushing seek),
 * the items on screen start again from their beginning (and are announced again); the crawl tape starts again
 * from the right edge.
 *
 * Text is laid out with Pango (markup, any script, right-to-left text, colour
 * emoji with a colour font installed) and drawn once per item with cairo;
 * per frame only the crawl strip is composed again from those pictures (the
 * passes in view). Style properties (and a style file) set while playing
 * apply from the next frame, to the items on screen too: they are drawn
 * again, and the passes on the crawl tape are measured again and close up
 * behind the first one in view, which stays where it is. New caps (another
 * frame size) likewise. When the downstream caps carry
 * `meta:GstVideoOverlayComposition` and downstream lists the meta in the
 * allocation query, the graphics travel as a #GstVideoOverlayCompositionMeta
 * and the frame is left untouched; when downstream took those caps but does
 * not list the meta, newsflash renegotiates to the caps without it if
 * downstream takes them (as textoverlay does); otherwise the graphics are
 * blended into the frame where they are (and a fullscreen dim scales the
 * frame's pixels in place), in any of the formats of the pad templates (8-bit
 * YUV planar, semi-planar and packed, RGB with or without alpha, GRAY8). Placed in front of abrladder, every
 * rendition shows the same graphics.
 *
 * Items are added with the #GstNewsFlash::show action signal and taken away
 * with #GstNewsFlash::remove and #GstNewsFlash::clear; the
 * #GstNewsFlash:crawl-text, #GstNewsFlash:lower-third-title and
 * #GstNewsFlash:fullscreen-text properties each keep one item of priority 0
 * that stays until the property changes. Bad input (invalid markup, an
 * unknown layer, text too large for the frame) is refused with a bus warning
 * that names the problem, and the stream runs on.
 *
 * Each item going on screen is announced with an element message
 * `newsflash-item-started` (fields `id` (guint64), `layer` (string),
 * `running-time` (guint64)) and each item leaving the queue or the screen with
 * `newsflash-item-ended` (the same and `reason`: "done", "expired",
 * "preempted" (it waits again in the queue and is announced again when it
 * comes back), "cleared" or "removed"). A crawl item is announced when its
 * first pass enters the frame and ended ("done") when its last pass has left
 * it, however many passes of other items come in between.
 *
 * The style (font, colours, box opacity, safe area, lower third position and
 * slide, fade, crawl speed and separator, dim) can come from a key file named by
 * #GstNewsFlash:style-location, group `[newsflash]`, keys named as the
 * properties:
 * |[
 * [newsflash]
 * font-desc=DejaVu Sans Bold
 * text-color=0xffffffff
 * box-color=0xffb00020
 * box-opacity=0.9
 * lower-third-position=center
 * crawl-speed=150
 * ]|
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 videotestsrc ! newsflash crawl-text="Markets close higher · Rain tomorrow" ! autovideosink
 * ]| A ticker that loops.
 * |[
 * gst-launch-1.0 videotestsrc is-live=true ! video/x-raw,width=1280,height=720,framerate=30/1 ! \
 *     newsflash name=flash lower-third-title="<b>Jane Doe</b>" lower-third-subtitle="Correspondent" \
 *     ! videoconvert ! autovideosink
 * ]| then from the application
 * `g_signal_emit_by_name (flash, "show", "fullscreen", "BREAKING NEWS", options, &id)` with
 * `options` a #GstStructure such as `options, priority=10, duration=(guint64)5000000000, dim=0.6`.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstnewsflash.h"

#include <gst/video/video.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <memory>
#include <optional>
#include <mutex>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include "flashqueue.h"
#include "flashrender.h"
#include "overlayoutput.h"

using onair::FlashEvent;
using onair::FlashItem;
using onair::FlashLayer;

#define GST_TYPE_NEWS_FLASH_POSITION (gst_news_flash_position_get_type())
static GType gst_news_flash_position_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {(gint)onair::FlashPosition::Left, "At the left of the safe area", "left"},
      {(gint)onair::FlashPosition::Center, "Centred", "center"},
      {(gint)onair::FlashPosition::Right, "At the right of the safe area", "right"},
      {0, NULL, NULL},
  };
  if (g_once_init_enter(&type))
    g_once_init_leave(&type, g_enum_register_static("GstNewsFlashPosition", values));
  return type;
}

#define DEFAULT_CRAWL_SPEED 120.0
#define DEFAULT_FADE_DURATION (300 * GST_MSECOND)
#define DEFAULT_FULLSCREEN_DIM 0.6
#define DEFAULT_LOWER_THIRD_SLIDE 0.02
#define MAX_FADE_DURATION (60 * GST_SECOND)
#define MAX_FONT_SIZE 1000

namespace {

/* Written by set_property under settings_lock; the streaming thread takes a
 * copy when `serial` changes. */
struct Settings {
  onair::FlashStyle style;
  gdouble crawl_speed = DEFAULT_CRAWL_SPEED;
  GstClockTime fade = DEFAULT_FADE_DURATION;
  gdouble fullscreen_dim = DEFAULT_FULLSCREEN_DIM;
  gdouble lower_third_slide = DEFAULT_LOWER_THIRD_SLIDE;
  std::string crawl_text, lower_third_title, lower_third_subtitle, fullscreen_text;
  std::string style_location;
  guint serial = 1;
};

/* What the streaming thread draws a frame with. */
struct FrameSettings {
  onair::FlashStyle style;
  gdouble crawl_speed = DEFAULT_CRAWL_SPEED;
  gdouble lower_third_slide = DEFAULT_LOWER_THIRD_SLIDE;
  GstClockTime fade = DEFAULT_FADE_DURATION;
  gdouble fullscreen_dim = DEFAULT_FULLSCREEN_DIM;
  guint serial = 0;
};

}  // namespace

struct GstNewsFlashPrivate {
  std::mutex settings_lock;
  Settings settings;

  /* The queues: changed by the action signals, the text properties and the
   * streaming thread. */
  std::mutex state_lock;
  onair::CrawlTape crawl;
  onair::FlashQueue layers[onair::FLASH_LAYER_COUNT]; /* lower third and fullscreen; not [Crawl] */
  guint64 next_id = 1;
  guint64 property_items[onair::FLASH_LAYER_COUNT] = {}; /* ids of the text properties' items */
  GstClockTime now = GST_CLOCK_TIME_NONE;                /* running time of the last frame */
  int width = 1920, height = 1080;                       /* frame size, for the checks of new items */
  bool started = false;

  /* streaming thread only */
  std::unique_ptr<onair::FlashRenderer> renderer;
  FrameSettings frame_settings;
  onair::OverlayOutput output; /* meta:GstVideoOverlayComposition or blending */
};

struct _GstNewsFlash {
  GstVideoFilter parent;
  GstNewsFlashPrivate *priv;
};

GST_DEBUG_CATEGORY(gst_news_flash_debug);
#define GST_CAT_DEFAULT gst_news_flash_debug

enum {
  PROP_0,
  PROP_CRAWL_TEXT,
  PROP_CRAWL_SPEED,
  PROP_LOWER_THIRD_TITLE,
  PROP_LOWER_THIRD_SUBTITLE,
  PROP_LOWER_THIRD_POSITION,
  PROP_LOWER_THIRD_SLIDE,
  PROP_FULLSCREEN_TEXT,
  PROP_FULLSCREEN_DIM,
  PROP_FONT_DESC,
  PROP_TEXT_COLOR,
  PROP_BOX_COLOR,
  PROP_BOX_OPACITY,
  PROP_SAFE_AREA,
  PROP_FADE_DURATION,
  PROP_STYLE_LOCATION,
  PROP_CRAWL_SEPARATOR,
};

enum {
  SIGNAL_SHOW,
  SIGNAL_REMOVE,
  SIGNAL_CLEAR,
  SIGNAL_GET_QUEUE,
  LAST_SIGNAL,
};

static guint signals[LAST_SIGNAL];

/* Properties a style file may set. */
static const char *const STYLE_KEYS[] = {"font-desc",         "text-color",     "box-color",
                                         "box-opacity",       "safe-area",      "fade-duration",
                                         "crawl-speed",       "fullscreen-dim", "lower-third-position",
                                         "lower-third-slide", "crawl-separator"};

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(ONAIR_OVERLAY_SINK_CAPS));
static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(ONAIR_OVERLAY_SRC_CAPS));

#define gst_news_flash_parent_class parent_class
G_DEFINE_TYPE(GstNewsFlash, gst_news_flash, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE(newsflash, "newsflash", GST_RANK_NONE, GST_TYPE_NEWS_FLASH,
                                      GST_DEBUG_CATEGORY_INIT(gst_news_flash_debug, "onair-newsflash", 0,
                                                              "onair news graphics"));

static void gst_news_flash_finalize(GObject *object);
static void gst_news_flash_set_property(GObject *object, guint prop_id, const GValue *value,
                                        GParamSpec *pspec);
static void gst_news_flash_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec);
static gboolean gst_news_flash_start(GstBaseTransform *trans);
static gboolean gst_news_flash_stop(GstBaseTransform *trans);
static gboolean gst_news_flash_sink_event(GstBaseTransform *trans, GstEvent *event);
static gboolean gst_news_flash_src_event(GstBaseTransform *trans, GstEvent *event);
static GstCaps *gst_news_flash_transform_caps(GstBaseTransform *trans, GstPadDirection direction,
                                              GstCaps *caps, GstCaps *filter);
static gboolean gst_news_flash_set_info(GstVideoFilter *filter, GstCaps *incaps, GstVideoInfo *in_info,
                                        GstCaps *outcaps, GstVideoInfo *out_info);
static GstFlowReturn gst_news_flash_transform_frame_ip(GstVideoFilter *filter, GstVideoFrame *frame);
static guint64 gst_news_flash_show(GstNewsFlash *self, const gchar *layer, const gchar *text,
                                   const GstStructure *options);
static gboolean gst_news_flash_remove(GstNewsFlash *self, guint64 id);
static void gst_news_flash_clear(GstNewsFlash *self, const gchar *layer);
static GstStructure *gst_news_flash_get_queue(GstNewsFlash *self);

static void gst_news_flash_class_init(GstNewsFlashClass *klass) {
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS(klass);
  GstVideoFilterClass *filter_class = GST_VIDEO_FILTER_CLASS(klass);

  gobject_class->finalize = gst_news_flash_finalize;
  gobject_class->set_property = gst_news_flash_set_property;
  gobject_class->get_property = gst_news_flash_get_property;

  const GParamFlags live =
      (GParamFlags)(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  const GParamFlags controllable = (GParamFlags)(live | GST_PARAM_CONTROLLABLE);

  /**
   * GstNewsFlash:crawl-text:
   *
   * Pango markup scrolled by the crawl, over and over, as an item of priority
   * 0 (other crawl items of priority 0 take turns with it on the tape).
   * Empty: none.
   * Invalid markup is refused with a warning and the previous text stays.
   */
  g_object_class_install_property(
      gobject_class, PROP_CRAWL_TEXT,
      g_param_spec_string("crawl-text", "Crawl text",
                          "Pango markup the ticker scrolls in a loop (empty: none)", NULL, live));

  /**
   * GstNewsFlash:crawl-speed:
   *
   * How fast the crawl text moves from right to left, in pixels per second
   * of running time.
   */
  g_object_class_install_property(
      gobject_class, PROP_CRAWL_SPEED,
      g_param_spec_double("crawl-speed", "Crawl speed", "Ticker speed in pixels per second", 1.0, 5000.0,
                          DEFAULT_CRAWL_SPEED, controllable));

  /**
   * GstNewsFlash:crawl-separator:
   *
   * Pango markup drawn between two crawl items that follow each other on the
   * tape; spaces alone make a plain gap, empty text none. Like the other
   * style properties it applies at once, also to the items on the tape
   * (which close up behind the first one in view).
   */
  g_object_class_install_property(gobject_class, PROP_CRAWL_SEPARATOR,
                                  g_param_spec_string("crawl-separator", "Crawl separator",
                                                      "Pango markup between two crawl items on the ticker",
                                                      onair::FlashStyle().crawl_separator.c_str(), live));

  /**
   * GstNewsFlash:lower-third-title:
   *
   * Pango markup of a lower third shown until the property changes (an item
   * of priority 0). Empty: none.
   */
  g_object_class_install_property(
      gobject_class, PROP_LOWER_THIRD_TITLE,
      g_param_spec_string("lower-third-title", "Lower third title",
                          "Pango markup of a lower third that stays (empty: none)", NULL, live));

  /**
   * GstNewsFlash:lower-third-subtitle:
   *
   * Second, smaller line of the #GstNewsFlash:lower-third-title item.
   */
  g_object_class_install_property(
      gobject_class, PROP_LOWER_THIRD_SUBTITLE,
      g_param_spec_string("lower-third-subtitle", "Lower third subtitle",
                          "Pango markup of the second line of lower-third-title's lower third", NULL, live));

  /**
   * GstNewsFlash:lower-third-position:
   *
   * Where lower thirds sit across the frame, inside the safe area.
   */
  g_object_class_install_property(
      gobject_class, PROP_LOWER_THIRD_POSITION,
      g_param_spec_enum("lower-third-position", "Lower third position", "Horizontal place of lower thirds",
                        GST_TYPE_NEWS_FLASH_POSITION, (gint)onair::FlashPosition::Left, live));

  /**
   * GstNewsFlash:lower-third-slide:
   *
   * How far a lower third slides in from the left while it fades in, as a
   * fraction of the frame width (whole pixels); 0: it only fades.
   */
  g_object_class_install_property(gobject_class, PROP_LOWER_THIRD_SLIDE,
                                  g_param_spec_double("lower-third-slide", "Lower third slide",
                                                      "Distance a lower third slides in over its fade, "
                                                      "fraction of the frame width",
                                                      0.0, 0.5, DEFAULT_LOWER_THIRD_SLIDE, controllable));

  /**
   * GstNewsFlash:fullscreen-text:
   *
   * Pango markup of a full-screen card shown until the property changes (an
   * item of priority 0), over the picture dimmed by
   * #GstNewsFlash:fullscreen-dim. Empty: none.
   */
  g_object_class_install_property(
      gobject_class, PROP_FULLSCREEN_TEXT,
      g_param_spec_string("fullscreen-text", "Fullscreen text",
                          "Pango markup of a full-screen card that stays (empty: none)", NULL, live));

  /**
   * GstNewsFlash:fullscreen-dim:
   *
   * How much the picture behind a full-screen card is darkened: 0 not at
   * all, 1 black. The default of items shown without a `dim` option.
   */
  g_object_class_install_property(gobject_class, PROP_FULLSCREEN_DIM,
                                  g_param_spec_double("fullscreen-dim", "Fullscreen dim",
                                                      "Darkening of the picture behind a full-screen card "
                                                      "(0: none, 1: black)",
                                                      0.0, 1.0, DEFAULT_FULLSCREEN_DIM, controllable));

  /**
   * GstNewsFlash:font-desc:
   *
   * Pango font description of lower third titles; subtitles, the crawl and
   * full-screen cards use the same font at 0.7, 0.8 and 1.25 times its size.
   * Without a size, the size follows the frame: a 24th of its height.
   */
  g_object_class_install_property(
      gobject_class, PROP_FONT_DESC,
      g_param_spec_string("font-desc", "Font description",
                          "Pango font description; without a size, a 24th of the frame height",
                          onair::FlashStyle().font_desc.c_str(), live));

  /**
   * GstNewsFlash:text-color:
   *
   * Colour of the text as 0xAARRGGBB (markup may override it).
   */
  g_object_class_install_property(
      gobject_class, PROP_TEXT_COLOR,
      g_param_spec_uint("text-color", "Text colour", "Text colour as 0xAARRGGBB", 0, G_MAXUINT32,
                        onair::FlashStyle().text_color, controllable));

  /**
   * GstNewsFlash:box-color:
   *
   * Colour of the boxes behind the text as 0xAARRGGBB.
   */
  g_object_class_install_property(
      gobject_class, PROP_BOX_COLOR,
      g_param_spec_uint("box-color", "Box colour", "Box colour as 0xAARRGGBB", 0, G_MAXUINT32,
                        onair::FlashStyle().box_color, controllable));

  /**
   * GstNewsFlash:box-opacity:
   *
   * Opacity of the boxes (multiplies the alpha of #GstNewsFlash:box-color).
   */
  g_object_class_install_property(
      gobject_class, PROP_BOX_OPACITY,
      g_param_spec_double("box-opacity", "Box opacity", "Opacity of the boxes behind the text", 0.0, 1.0,
                          onair::FlashStyle().box_opacity, controllable));

  /**
   * GstNewsFlash:safe-area:
   *
   * Margin kept free on each edge of the frame, as a fraction of its width
   * (left, right) and height (top, bottom).
   */
  g_object_class_install_property(
      gobject_class, PROP_SAFE_AREA,
      g_param_spec_double("safe-area", "Safe area", "Margin on each edge as a fraction of the frame size",
                          0.0, 0.25, onair::FlashStyle().safe_area, controllable));

  /**
   * GstNewsFlash:fade-duration:
   *
   * Fade in and out time in nanoseconds of items shown without a `fade`
   * option and of the text properties' items.
   */
  g_object_class_install_property(
      gobject_class, PROP_FADE_DURATION,
      g_param_spec_uint64("fade-duration", "Fade duration", "Default fade in/out time in nanoseconds", 0,
                          MAX_FADE_DURATION, DEFAULT_FADE_DURATION, live));

  /**
   * GstNewsFlash:style-location:
   *
   * A key file whose group `[newsflash]` sets style properties by name:
   * font-desc, text-color, box-color, box-opacity, safe-area,
   * fade-duration, crawl-speed, crawl-separator, fullscreen-dim,
   * lower-third-position, lower-third-slide. It is
   * read when the element starts (an unreadable file, an unknown key or a
   * bad value is an error naming it) and again whenever the property is set
   * while running (then a bad file is a warning and the style stays).
   */
  g_object_class_install_property(
      gobject_class, PROP_STYLE_LOCATION,
      g_param_spec_string("style-location", "Style location",
                          "Key file with a [newsflash] group of style properties", NULL, live));

  /**
   * GstNewsFlash::show:
   * @newsflash: the newsflash
   * @layer: "lower-third", "crawl" or "fullscreen"
   * @text: Pango markup
   * @options: (nullable): a #GstStructure (any name) with optional fields
   *   `priority` (gint, default 0: a higher one pre-empts the item on
   *   screen), `duration` (guint64 ns; 0 or absent: until removed, for the
   *   crawl `loops` passes), `loops` (guint, crawl passes, default 1, 0:
   *   forever), `subtitle` (string, markup: the lower third's second line),
   *   `fade` (guint64 ns; absent: #GstNewsFlash:fade-duration as it is
   *   when drawn), `dim` (gdouble 0..1: fullscreen background; absent:
   *   #GstNewsFlash:fullscreen-dim as it is when drawn), `expires`
   *   (guint64 running time in ns
   *   after which the item is dropped, on screen or not)
   *
   * Queues an item on a layer; it starts on the first frame its priority
   * allows.
   *
   * Returns: the item's id (> 0), or 0 (and a warning on the bus naming the
   *   problem) for an unknown layer, invalid markup, text too large for the
   *   frame, or a bad option
   */
  signals[SIGNAL_SHOW] = g_signal_new_class_handler(
      "show", G_TYPE_FROM_CLASS(klass), (GSignalFlags)(G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK(gst_news_flash_show), NULL, NULL, NULL, G_TYPE_UINT64, 3, G_TYPE_STRING, G_TYPE_STRING,
      GST_TYPE_STRUCTURE);

  /**
   * GstNewsFlash::remove:
   * @newsflash: the newsflash
   * @id: an item's id
   *
   * Takes an item off the screen or out of its queue (reason "removed", posted
   * at once); on screen, it fades out over its fade time.
   *
   * Returns: %FALSE if no item has this id
   */
  signals[SIGNAL_REMOVE] = g_signal_new_class_handler(
      "remove", G_TYPE_FROM_CLASS(klass), (GSignalFlags)(G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK(gst_news_flash_remove), NULL, NULL, NULL, G_TYPE_BOOLEAN, 1, G_TYPE_UINT64);

  /**
   * GstNewsFlash::clear:
   * @newsflash: the newsflash
   * @layer: (nullable): "lower-third", "crawl", "fullscreen", or %NULL or
   *   "all" for every layer
   *
   * Empties a layer: its item on screen and its queue (reason "cleared",
   * posted at once); what was on screen fades out over its fade time.
   */
  signals[SIGNAL_CLEAR] = g_signal_new_class_handler(
      "clear", G_TYPE_FROM_CLASS(klass), (GSignalFlags)(G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK(gst_news_flash_clear), NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

  /**
   * GstNewsFlash::get-queue:
   * @newsflash: the newsflash
   *
   * Describes the queues.
   *
   * Returns: (transfer full): a #GstStructure `newsflash-queue` with one
   *   field per layer ("crawl", "lower-third", "fullscreen"), each a
   *   #GST_TYPE_ARRAY of `item` structures in playing order: `id` (guint64),
   *   `state` ("playing" or "waiting"; on the crawl, "playing" for every item
   *   that has entered the frame and not yet ended), `text`, `subtitle`, `priority`
   *   (gint), `duration` (guint64), `loops` (guint), `passes` (guint, crawl
   *   passes done), `expires` (guint64, GST_CLOCK_TIME_NONE: never)
   */
  signals[SIGNAL_GET_QUEUE] = g_signal_new_class_handler(
      "get-queue", G_TYPE_FROM_CLASS(klass), (GSignalFlags)(G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK(gst_news_flash_get_queue), NULL, NULL, NULL, GST_TYPE_STRUCTURE, 0);

  trans_class->start = GST_DEBUG_FUNCPTR(gst_news_flash_start);
  trans_class->stop = GST_DEBUG_FUNCPTR(gst_news_flash_stop);
  trans_class->sink_event = GST_DEBUG_FUNCPTR(gst_news_flash_sink_event);
  trans_class->src_event = GST_DEBUG_FUNCPTR(gst_news_flash_src_event);
  trans_class->transform_caps = GST_DEBUG_FUNCPTR(gst_news_flash_transform_caps);
  filter_class->set_info = GST_DEBUG_FUNCPTR(gst_news_flash_set_info);
  filter_class->transform_frame_ip = GST_DEBUG_FUNCPTR(gst_news_flash_transform_frame_ip);

  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_set_static_metadata(element_class, "News graphics", "Filter/Effect/Video/Overlay",
                                        "Lower thirds, a crawling ticker and full-screen cards from "
                                        "prioritised message queues, moving with the running time",
                                        "onair developers");
  gst_type_mark_as_plugin_api(GST_TYPE_NEWS_FLASH_POSITION, (GstPluginAPIFlags)0);
}

static void gst_news_flash_init(GstNewsFlash *self) {
  self->priv = new GstNewsFlashPrivate();
  /* the graphics go onto the frame it came in, or onto its meta */
  gst_base_transform_set_in_place(GST_BASE_TRANSFORM(self), TRUE);
}

static void gst_news_flash_finalize(GObject *object) {
  GstNewsFlash *self = GST_NEWS_FLASH(object);
  delete self->priv;
  G_OBJECT_CLASS(parent_class)->finalize(object);
}

/* ---- items ------------------------------------------------------------- */

static void post_events(GstNewsFlash *self, const std::vector<FlashEvent> &events) {
  for (const FlashEvent &event : events) {
    GstStructure *s = gst_structure_new(event.started ? "newsflash-item-started" : "newsflash-item-ended",
                                        "id", G_TYPE_UINT64, event.id, "layer", G_TYPE_STRING,
                                        onair::flash_layer_name(event.layer), "running-time", G_TYPE_UINT64,
                                        (guint64)event.running_time, NULL);
    if (!event.started) gst_structure_set(s, "reason", G_TYPE_STRING, event.reason, NULL);
    GST_DEBUG_OBJECT(self, "%" GST_PTR_FORMAT, s);
    gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), s));
  }
}

/* The running time that actions taken outside the stream are stamped with. */
static GstClockTime action_time(GstNewsFlashPrivate *priv) {
  return GST_CLOCK_TIME_IS_VALID(priv->now) ? priv->now : 0;
}

/* With state_lock held. */
static bool remove_item(GstNewsFlashPrivate *priv, guint64 id, std::vector<FlashEvent> *events) {
  if (priv->crawl.remove(id, action_time(priv), events)) return true;
  for (onair::FlashQueue &queue : priv->layers)
    if (queue.remove(id, action_time(priv), events)) return true;
  return false;
}

static void clear_layer(GstNewsFlashPrivate *priv, FlashLayer layer, std::vector<FlashEvent> *events) {
  if (layer == FlashLayer::Crawl)
    priv->crawl.clear(action_time(priv), events);
  else
    priv->layers[(int)layer].clear(action_time(priv), events);
}

/* Items on screen start again from their beginning (stop, flush). */
static void rewind_layers(GstNewsFlashPrivate *priv) {
  priv->crawl.rewind();
  for (onair::FlashQueue &queue : priv->layers) queue.rewind();
}

/* Checks and queues an item; returns its id, or 0 with `error` set. */
static guint64 add_item(GstNewsFlash *self, FlashItem item, std::string *error) {
  GstNewsFlashPrivate *priv = self->priv;
  onair::FlashStyle style;
  {
    std::lock_guard<std::mutex> lock(priv->settings_lock);
    style = priv->settings.style;
  }
  int width, height;
  {
    std::lock_guard<std::mutex> lock(priv->state_lock);
    width = priv->width;
    height = priv->height;
  }
  *error = onair::FlashRenderer::check(item.layer, item.text, item.subtitle, style, width, height);
  if (!error->empty()) return 0;
  std::lock_guard<std::mutex> lock(priv->state_lock);
  item.id = priv->next_id++;
  guint64 id = item.id;
  GST_DEBUG_OBJECT(self, "item %" G_GUINT64_FORMAT " on %s: %s", id, onair::flash_layer_name(item.layer),
                   item.text.c_str());
  if (item.layer == FlashLayer::Crawl)
    priv->crawl.push(std::move(item));
  else
    priv->layers[(int)item.layer].push(std::move(item));
  return id;
}

/* Replaces the item kept by a text property (crawl-text, lower-third-title,
 * fullscreen-text); empty text removes it. */
static void set_property_item(GstNewsFlash *self, FlashLayer layer) {
  GstNewsFlashPrivate *priv = self->priv;
  FlashItem item;
  item.layer = layer;
  item.loops = 0;
  {
    std::lock_guard<std::mutex> lock(priv->settings_lock);
    const Settings &s = priv->settings;
    item.text = layer == FlashLayer::Crawl        ? s.crawl_text
                : layer == FlashLayer::LowerThird ? s.lower_third_title
                                                  : s.fullscreen_text;
    if (layer == FlashLayer::LowerThird) item.subtitle = s.lower_third_subtitle;
    /* fade and dim follow fade-duration and fullscreen-dim, whenever set */
  }
  std::vector<FlashEvent> events;
  {
    std::lock_guard<std::mutex> lock(priv->state_lock);
    guint64 &id = priv->property_items[(int)layer];
    if (id) remove_item(priv, id, &events);
    id = 0;
  }
  post_events(self, events);
  if (item.text.empty()) return;
  std::string error;
  guint64 id = add_item(self, std::move(item), &error);
  if (!id) {
    g_warning("newsflash %s: the %s text is refused: %s", GST_OBJECT_NAME(self),
              onair::flash_layer_name(layer), error.c_str());
    return;
  }
  std::lock_guard<std::mutex> lock(priv->state_lock);
  priv->property_items[(int)layer] = id;
}

/* Reads an optional field of the show options; false if it has another type. */
template <typename T>
static bool option(const GstStructure *options, const char *name, GType type, T *value) {
  if (!options || !gst_structure_has_field(options, name)) return true;
  const GValue *v = gst_structure_get_value(options, name);
  if (G_VALUE_TYPE(v) == type) {
    GValue copy = G_VALUE_INIT;
    g_value_init(&copy, type);
    g_value_copy(v, &copy);
    if constexpr (std::is_same_v<T, std::string>)
      *value = g_value_get_string(&copy) ? g_value_get_string(&copy) : "";
    else if constexpr (std::is_same_v<T, gint>)
      *value = g_value_get_int(&copy);
    else if constexpr (std::is_same_v<T, guint>)
      *value = g_value_get_uint(&copy);
    else if constexpr (std::is_same_v<T, guint64>)
      *value = g_value_get_uint64(&copy);
    else
      *value = g_value_get_double(&copy);
    g_value_unset(&copy);
    return true;
  }
  /* plain integers from gst_structure_new_from_string or bindings */
  if constexpr (std::is_same_v<T, guint64> || std::is_same_v<T, guint>) {
    if (G_VALUE_HOLDS_INT(v) && g_value_get_int(v) >= 0) return *value = g_value_get_int(v), true;
    if (G_VALUE_HOLDS_UINT(v)) return *value = g_value_get_uint(v), true;
    if (G_VALUE_HOLDS_INT64(v) && g_value_get_int64(v) >= 0) return *value = g_value_get_int64(v), true;
  }
  if constexpr (std::is_same_v<T, gdouble>) {
    if (G_VALUE_HOLDS_INT(v)) return *value = g_value_get_int(v), true;
  }
  return false;
}

static guint64 gst_news_flash_show(GstNewsFlash *self, const gchar *layer, const gchar *text,
                                   const GstStructure *options) {
  std::optional<FlashLayer> which = onair::flash_layer_from_name(layer);
  if (!which) {
    GST_ELEMENT_WARNING(
        self, LIBRARY, SETTINGS,
        ("show: unknown layer \"%s\" (lower-third, crawl or fullscreen)", GST_STR_NULL(layer)), (NULL));
    return 0;
  }
  FlashItem item;
  item.layer = *which;
  item.text = text ? text : "";
  guint64 expires = GST_CLOCK_TIME_NONE;
  const char *bad = nullptr;
  if (!option(options, "priority", G_TYPE_INT, &item.priority))
    bad = "priority must be an int";
  else if (!option(options, "duration", G_TYPE_UINT64, &item.duration))
    bad = "duration must be a guint64 in nanoseconds";
  else if (!option(options, "loops", G_TYPE_UINT, &item.loops))
    bad = "loops must be a guint";
  else if (!option(options, "subtitle", G_TYPE_STRING, &item.subtitle))
    bad = "subtitle must be a string";
  else if (!option(options, "fade", G_TYPE_UINT64, &item.fade) ||
           (GST_CLOCK_TIME_IS_VALID(item.fade) && item.fade > MAX_FADE_DURATION))
    bad = "fade must be a guint64 of at most 60 s in nanoseconds";
  else if (!option(options, "dim", G_TYPE_DOUBLE, &item.dim) || item.dim > 1.0 ||
           (options && gst_structure_has_field(options, "dim") && !(item.dim >= 0.0)))
    bad = "dim must be a double from 0 to 1";
  else if (!option(options, "expires", G_TYPE_UINT64, &expires))
    bad = "expires must be a guint64 running time in nanoseconds";
  if (bad) {
    GST_ELEMENT_WARNING(self, LIBRARY, SETTINGS, ("show on %s: option %s", layer, bad), (NULL));
    return 0;
  }
  item.expires = expires;
  std::string error;
  guint64 id = add_item(self, std::move(item), &error);
  if (!id) GST_ELEMENT_WARNING(self, LIBRARY, SETTINGS, ("show on %s: %s", layer, error.c_str()), (NULL));
  return id;
}

static gboolean gst_news_flash_remove(GstNewsFlash *self, guint64 id) {
  GstNewsFlashPrivate *priv = self->priv;
  std::vector<FlashEvent> events;
  bool found = false;
  {
    std::lock_guard<std::mutex> lock(priv->state_lock);
    found = remove_item(priv, id, &events);
    for (guint64 &property_id : priv->property_items)
      if (property_id == id) property_id = 0;
  }
  post_events(self, events);
  return found;
}

static void gst_news_flash_clear(GstNewsFlash *self, const gchar *layer) {
  GstNewsFlashPrivate *priv = self->priv;
  bool all = !layer || g_str_equal(layer, "all");
  std::optional<FlashLayer> which = onair::flash_layer_from_name(layer);
  if (!all && !which) {
    GST_ELEMENT_WARNING(self, LIBRARY, SETTINGS,
                        ("clear: unknown layer \"%s\" (lower-third, crawl, fullscreen or all)", layer),
                        (NULL));
    return;
  }
  std::vector<FlashEvent> events;
  {
    std::lock_guard<std::mutex> lock(priv->state_lock);
    for (int i = 0; i < onair::FLASH_LAYER_COUNT; i++) {
      if (!all && i != (int)*which) continue;
      clear_layer(priv, (FlashLayer)i, &events);
      priv->property_items[i] = 0;
    }
  }
  post_events(self, events);
}

static GstStructure *describe(const FlashItem &item, const char *state) {
  return gst_structure_new("item", "id", G_TYPE_UINT64, item.id, "state", G_TYPE_STRING, state, "text",
                           G_TYPE_STRING, item.text.c_str(), "subtitle", G_TYPE_STRING, item.subtitle.c_str(),
                           "priority", G_TYPE_INT, item.priority, "duration", G_TYPE_UINT64,
                           (guint64)item.duration, "loops", G_TYPE_UINT, item.loops, "passes", G_TYPE_UINT,
                           item.passes, "expires", G_TYPE_UINT64, (guint64)item.expires, NULL);
}

static GstStructure *gst_news_flash_get_queue(GstNewsFlash *self) {
  GstNewsFlashPrivate *priv = self->priv;
  GstStructure *result = gst_structure_new_empty("newsflash-queue");
  std::lock_guard<std::mutex> lock(priv->state_lock);
  for (int i = 0; i < onair::FLASH_LAYER_COUNT; i++) {
    GValue array = G_VALUE_INIT;
    gst_value_array_init(&array, 0);
    auto append = [&](const FlashItem &item, const char *state) {
      GValue v = G_VALUE_INIT;
      g_value_init(&v, GST_TYPE_STRUCTURE);
      g_value_take_boxed(&v, describe(item, state));
      gst_value_array_append_and_take_value(&array, &v);
    };
    if (i == (int)FlashLayer::Crawl) {
      /* on the tape (in view or entering) first, then the waiting ones */
      for (const FlashItem &item : priv->crawl.items())
        if (GST_CLOCK_TIME_IS_VALID(item.started)) append(item, "playing");
      for (const FlashItem &item : priv->crawl.items())
        if (!GST_CLOCK_TIME_IS_VALID(item.started)) append(item, "waiting");
    } else {
      if (priv->layers[i].current()) append(*priv->layers[i].current(), "playing");
      for (const FlashItem &item : priv->layers[i].waiting()) append(item, "waiting");
    }
    gst_structure_take_value(result, onair::flash_layer_name((FlashLayer)i), &array);
  }
  return result;
}

/* ---- style file -------------------------------------------------------- */

/* Reads a style file and sets its properties, all or none. */
static bool load_style(GstNewsFlash *self, const std::string &path, std::string *error) {
  GKeyFile *file = g_key_file_new();
  GError *err = NULL;
  std::vector<std::pair<GParamSpec *, GValue>> values;
  bool ok = g_key_file_load_from_file(file, path.c_str(), G_KEY_FILE_NONE, &err);
  if (!ok) {
    *error = err->message;
    g_error_free(err);
  } else if (!g_key_file_has_group(file, "newsflash")) {
    ok = false;
    *error = "no [newsflash] group";
  }
  gchar **keys = ok ? g_key_file_get_keys(file, "newsflash", NULL, NULL) : NULL;
  for (gchar **key = keys; ok && key && *key; key++) {
    GParamSpec *pspec = NULL;
    for (const char *allowed : STYLE_KEYS)
      if (g_str_equal(*key, allowed)) pspec = g_object_class_find_property(G_OBJECT_GET_CLASS(self), *key);
    gchar *text = g_key_file_get_string(file, "newsflash", *key, NULL);
    GValue value = G_VALUE_INIT;
    if (!pspec) {
      ok = false;
      *error = std::string("unknown key \"") + *key + "\"";
    } else {
      g_value_init(&value, G_PARAM_SPEC_VALUE_TYPE(pspec));
      bool parsed = pspec->value_type == G_TYPE_STRING ? (g_value_set_string(&value, text), true)
                                                       : gst_value_deserialize(&value, text);
      if (!parsed || g_param_value_validate(pspec, &value)) {
        ok = false;
        *error = std::string("bad value \"") + text + "\" for " + *key;
        g_value_unset(&value);
      } else {
        values.emplace_back(pspec, value);
      }
    }
    g_free(text);
  }
  g_strfreev(keys);
  g_key_file_free(file);
  if (ok)
    for (auto &[pspec, value] : values) g_object_set_property(G_OBJECT(self), pspec->name, &value);
  for (auto &[pspec, value] : values) g_value_unset(&value);
  if (!ok) *error = path + ": " + *error;
  return ok;
}

/* ---- properties -------------------------------------------------------- */

static void gst_news_flash_set_property(GObject *object, guint prop_id, const GValue *value,
                                        GParamSpec *pspec) {
  GstNewsFlash *self = GST_NEWS_FLASH(object);
  GstNewsFlashPrivate *priv = self->priv;
  std::optional<FlashLayer> text_layer;
  std::string style_location;
  {
    std::lock_guard<std::mutex> lock(priv->settings_lock);
    Settings &s = priv->settings;
    auto text = [&](std::string *field, FlashLayer layer) {
      const gchar *v = g_value_get_string(value);
      std::string next = v ? v : "";
      GError *error = NULL;
      if (!pango_parse_markup(next.c_str(), -1, 0, NULL, NULL, NULL, &error)) {
        g_warning("newsflash %s: %s: invalid markup \"%s\": %s", GST_OBJECT_NAME(self), pspec->name,
                  next.c_str(), error->message);
        g_error_free(error);
        return;
      }
      *field = next;
      text_layer = layer;
    };
    switch (prop_id) {
      case PROP_CRAWL_TEXT:
        text(&s.crawl_text, FlashLayer::Crawl);
        break;
      case PROP_LOWER_THIRD_TITLE:
        text(&s.lower_third_title, FlashLayer::LowerThird);
        break;
      case PROP_LOWER_THIRD_SUBTITLE:
        text(&s.lower_third_subtitle, FlashLayer::LowerThird);
        break;
      case PROP_FULLSCREEN_TEXT:
        text(&s.fullscreen_text, FlashLayer::Fullscreen);
        break;
      case PROP_CRAWL_SPEED:
        s.crawl_speed = g_value_get_double(value);
        break;
      case PROP_LOWER_THIRD_POSITION:
        s.style.position = (onair::FlashPosition)g_value_get_enum(value);
        break;
      case PROP_LOWER_THIRD_SLIDE:
        s.lower_third_slide = g_value_get_double(value);
        break;
      case PROP_FULLSCREEN_DIM:
        s.fullscreen_dim = g_value_get_double(value);
        break;
      case PROP_FONT_DESC: {
        const gchar *v = g_value_get_string(value);
        std::string desc = v && *v ? v : onair::FlashStyle().font_desc;
        PangoFontDescription *parsed = pango_font_description_from_string(desc.c_str());
        /* points or pixels; no frame has room for text of this size */
        gdouble size = pango_font_description_get_size(parsed) / (gdouble)PANGO_SCALE;
        pango_font_description_free(parsed);
        if (size > MAX_FONT_SIZE) {
          g_warning("newsflash %s: font-desc \"%s\": a size of %g is too large (at most %d)",
                    GST_OBJECT_NAME(self), desc.c_str(), size, MAX_FONT_SIZE);
          return;
        }
        s.style.font_desc = desc;
        break;
      }
      case PROP_TEXT_COLOR:
        s.style.text_color = g_value_get_uint(value);
        break;
      case PROP_BOX_COLOR:
        s.style.box_color = g_value_get_uint(value);
        break;
      case PROP_BOX_OPACITY:
        s.style.box_opacity = g_value_get_double(value);
        break;
      case PROP_SAFE_AREA:
        s.style.safe_area = g_value_get_double(value);
        break;
      case PROP_FADE_DURATION:
        s.fade = g_value_get_uint64(value);
        break;
      case PROP_CRAWL_SEPARATOR: {
        const gchar *v = g_value_get_string(value);
        std::string next = v ? v : "";
        GError *error = NULL;
        if (!pango_parse_markup(next.c_str(), -1, 0, NULL, NULL, NULL, &error)) {
          g_warning("newsflash %s: crawl-separator: invalid markup \"%s\": %s", GST_OBJECT_NAME(self),
                    next.c_str(), error->message);
          g_error_free(error);
          return;
        }
        s.style.crawl_separator = next;
        break;
      }
      case PROP_STYLE_LOCATION: {
        const gchar *v = g_value_get_string(value);
        s.style_location = v ? v : "";
        style_location = s.style_location;
        break;
      }
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
        return;
    }
    s.serial++;
  }
  if (text_layer) set_property_item(self, *text_layer);
  if (prop_id == PROP_STYLE_LOCATION && !style_location.empty()) {
    bool started;
    {
      std::lock_guard<std::mutex> lock(priv->state_lock);
      started = priv->started;
    }
    /* before the start the file is read (and refused) by start() */
    std::string error;
    if (started && !load_style(self, style_location, &error))
      GST_ELEMENT_WARNING(self, RESOURCE, SETTINGS, ("Cannot use the style file %s", error.c_str()), (NULL));
  }
}

static void gst_news_flash_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec) {
  GstNewsFlash *self = GST_NEWS_FLASH(object);
  std::lock_guard<std::mutex> lock(self->priv->settings_lock);
  const Settings &s = self->priv->settings;
  switch (prop_id) {
    case PROP_CRAWL_TEXT:
      g_value_set_string(value, s.crawl_text.c_str());
      break;
    case PROP_CRAWL_SPEED:
      g_value_set_double(value, s.crawl_speed);
      break;
    case PROP_LOWER_THIRD_TITLE:
      g_value_set_string(value, s.lower_third_title.c_str());
      break;
    case PROP_LOWER_THIRD_SUBTITLE:
      g_value_set_string(value, s.lower_third_subtitle.c_str());
      break;
    case PROP_LOWER_THIRD_POSITION:
      g_value_set_enum(value, (gint)s.style.position);
      break;
    case PROP_FULLSCREEN_TEXT:
      g_value_set_string(value, s.fullscreen_text.c_str());
      break;
    case PROP_LOWER_THIRD_SLIDE:
      g_value_set_double(value, s.lower_third_slide);
      break;
    case PROP_FULLSCREEN_DIM:
      g_value_set_double(value, s.fullscreen_dim);
      break;
    case PROP_FONT_DESC:
      g_value_set_string(value, s.style.font_desc.c_str());
      break;
    case PROP_TEXT_COLOR:
      g_value_set_uint(value, s.style.text_color);
      break;
    case PROP_BOX_COLOR:
      g_value_set_uint(value, s.style.box_color);
      break;
    case PROP_BOX_OPACITY:
      g_value_set_double(value, s.style.box_opacity);
      break;
    case PROP_SAFE_AREA:
      g_value_set_double(value, s.style.safe_area);
      break;
    case PROP_FADE_DURATION:
      g_value_set_uint64(value, s.fade);
      break;
    case PROP_STYLE_LOCATION:
      g_value_set_string(value, s.style_location.empty() ? NULL : s.style_location.c_str());
      break;
    case PROP_CRAWL_SEPARATOR:
      g_value_set_string(value, s.style.crawl_separator.c_str());
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
}

/* ---- streaming --------------------------------------------------------- */

static gboolean gst_news_flash_start(GstBaseTransform *trans) {
  GstNewsFlash *self = GST_NEWS_FLASH(trans);
  GstNewsFlashPrivate *priv = self->priv;
  std::string location;
  {
    std::lock_guard<std::mutex> lock(priv->settings_lock);
    location = priv->settings.style_location;
  }
  std::string error;
  if (!location.empty() && !load_style(self, location, &error)) {
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("Cannot use the style file %s", error.c_str()), (NULL));
    return FALSE;
  }
  priv->renderer = std::make_unique<onair::FlashRenderer>();
  priv->frame_settings = FrameSettings();
  std::lock_guard<std::mutex> lock(priv->state_lock);
  priv->started = true;
  return TRUE;
}

static gboolean gst_news_flash_stop(GstBaseTransform *trans) {
  GstNewsFlash *self = GST_NEWS_FLASH(trans);
  GstNewsFlashPrivate *priv = self->priv;
  priv->renderer.reset();
  std::lock_guard<std::mutex> lock(priv->state_lock);
  priv->started = false;
  priv->now = GST_CLOCK_TIME_NONE;
  /* items on screen start again from their beginning on the next run */
  rewind_layers(priv);
  priv->output.stop();
  return TRUE;
}

/* After a flush (a flushing seek) the running time starts again: the items
 * on screen start again from their beginning on the next frame, and are
 * announced again. */
static gboolean gst_news_flash_sink_event(GstBaseTransform *trans, GstEvent *event) {
  GstNewsFlash *self = GST_NEWS_FLASH(trans);
  if (GST_EVENT_TYPE(event) == GST_EVENT_FLUSH_STOP) {
    std::lock_guard<std::mutex> lock(self->priv->state_lock);
    rewind_layers(self->priv);
    self->priv->now = GST_CLOCK_TIME_NONE;
  }
  return GST_BASE_TRANSFORM_CLASS(parent_class)->sink_event(trans, event);
}

/* A new downstream may take the overlay meta: offer it again. */
static gboolean gst_news_flash_src_event(GstBaseTransform *trans, GstEvent *event) {
  GST_NEWS_FLASH(trans)->priv->output.src_event(event);
  return GST_BASE_TRANSFORM_CLASS(parent_class)->src_event(trans, event);
}

/* Downstream is offered the caps with meta:GstVideoOverlayComposition first,
 * upstream sees them without it: see onair::OverlayOutput. */
static GstCaps *gst_news_flash_transform_caps(GstBaseTransform *trans, GstPadDirection direction,
                                              GstCaps *caps, GstCaps *filter) {
  return GST_NEWS_FLASH(trans)->priv->output.transform_caps(trans, direction, caps, filter, GST_CAT_DEFAULT);
}

static gboolean gst_news_flash_set_info(GstVideoFilter *filter, GstCaps *incaps, GstVideoInfo *in_info,
                                        GstCaps *outcaps, GstVideoInfo *out_info) {
  GstNewsFlash *self = GST_NEWS_FLASH(filter);
  GstNewsFlashPrivate *priv = self->priv;
  priv->output.set_caps(outcaps);
  std::lock_guard<std::mutex> lock(priv->state_lock);
  priv->width = GST_VIDEO_INFO_WIDTH(in_info);
  priv->height = GST_VIDEO_INFO_HEIGHT(in_info);
  return TRUE;
}

/* Alpha of an item `now`: up from 0 at its start and down to 0 at its
 * planned end, over its fade time (`item.fade` resolved); taken off the
 * screen, down from where it was to 0 over its fade time. */
static gdouble fade_alpha(const FlashItem &item, GstClockTime since, GstClockTime now) {
  if (item.fade == 0) return GST_CLOCK_TIME_IS_VALID(item.removed) ? 0.0 : 1.0;
  gdouble alpha = (gdouble)GST_CLOCK_DIFF(since, now) / item.fade;
  GstClockTime end = item.planned_end();
  if (GST_CLOCK_TIME_IS_VALID(end) && end > now) alpha = std::min(alpha, (gdouble)(end - now) / item.fade);
  if (GST_CLOCK_TIME_IS_VALID(item.removed))
    alpha = std::min(alpha, 1.0 - (gdouble)GST_CLOCK_DIFF(item.removed, now) / item.fade);
  return std::clamp(alpha, 0.0, 1.0);
}

static GstFlowReturn gst_news_flash_transform_frame_ip(GstVideoFilter *filter, GstVideoFrame *frame) {
  GstNewsFlash *self = GST_NEWS_FLASH(filter);
  GstNewsFlashPrivate *priv = self->priv;
  GstBaseTransform *trans = GST_BASE_TRANSFORM(filter);
  int width = GST_VIDEO_FRAME_WIDTH(frame), height = GST_VIDEO_FRAME_HEIGHT(frame);

  {
    std::lock_guard<std::mutex> lock(priv->settings_lock);
    if (priv->frame_settings.serial != priv->settings.serial) {
      priv->frame_settings.style = priv->settings.style;
      priv->frame_settings.crawl_speed = priv->settings.crawl_speed;
      priv->frame_settings.lower_third_slide = priv->settings.lower_third_slide;
      priv->frame_settings.fade = priv->settings.fade;
      priv->frame_settings.fullscreen_dim = priv->settings.fullscreen_dim;
      priv->frame_settings.serial = priv->settings.serial;
    }
  }
  const FrameSettings &settings = priv->frame_settings;
  onair::FlashRenderer &renderer = *priv->renderer;
  /* a new size or style: every picture is drawn again, the tape re-measured */
  bool relayout = renderer.configure(width, height, settings.style);
  priv->output.check_allocation(trans, "graphics", GST_CAT_DEFAULT);

  onair::CrawlTape::Geometry geometry;
  geometry.frame_width = width;
  geometry.separator_width = renderer.crawl_separator_width();
  geometry.speed = settings.crawl_speed;
  geometry.default_fade = settings.fade;
  geometry.text_width = [&](guint64 id, const std::string &text) {
    return renderer.crawl_text_width(id, text);
  };

  GstClockTime now =
      gst_segment_to_running_time(&trans->segment, GST_FORMAT_TIME, GST_BUFFER_PTS(frame->buffer));
  std::vector<FlashEvent> events;
  /* per layer: the items fading out, then the one on screen */
  std::vector<FlashItem> shown[onair::FLASH_LAYER_COUNT];
  std::vector<onair::CrawlTape::Segment> segments;
  gdouble offset;
  bool crawl_live;
  GstClockTime crawl_since;
  {
    std::lock_guard<std::mutex> lock(priv->state_lock);
    if (!GST_CLOCK_TIME_IS_VALID(now)) now = action_time(priv);
    priv->now = now;
    if (relayout) priv->crawl.relayout(geometry);
    priv->crawl.advance(now, geometry, &events);
    segments = priv->crawl.segments();
    offset = priv->crawl.offset();
    crawl_live = priv->crawl.live();
    crawl_since = priv->crawl.active_since();
    for (int i = 0; i < onair::FLASH_LAYER_COUNT; i++) {
      if (i == (int)FlashLayer::Crawl) continue;
      onair::FlashQueue &queue = priv->layers[i];
      queue.advance(now, settings.fade, &events);
      shown[i] = queue.leaving();
      if (queue.current()) shown[i].push_back(*queue.current());
    }
  }
  post_events(self, events);
  for (std::vector<FlashItem> &items : shown) {
    for (FlashItem &item : items) {
      item.fade = onair::flash_fade(item, settings.fade);
      if (item.dim < 0) item.dim = settings.fullscreen_dim;
    }
  }

  std::set<guint64> ids;
  std::vector<GstVideoOverlayRectangle *> rects;
  gdouble dim = 0;
  if (!segments.empty()) {
    std::vector<onair::CrawlPiece> pieces;
    /* the strip fades in with the tape's first item; when only passes
     * fading out are left, it fades out with them */
    GstClockTime fade_in = onair::flash_fade(FlashItem{.fade = segments.front().fade}, settings.fade);
    gdouble strip = 0;
    if (crawl_live)
      strip = fade_in ? std::clamp((gdouble)GST_CLOCK_DIFF(crawl_since, now) / fade_in, 0.0, 1.0) : 1.0;
    for (const onair::CrawlTape::Segment &segment : segments) {
      gdouble alpha = 1.0;
      if (GST_CLOCK_TIME_IS_VALID(segment.removed)) {
        GstClockTime fade = GST_CLOCK_TIME_IS_VALID(segment.fade) ? segment.fade : settings.fade;
        alpha = fade ? std::clamp(1.0 - (gdouble)GST_CLOCK_DIFF(segment.removed, now) / fade, 0.0, 1.0) : 0.0;
        if (!crawl_live) strip = std::max(strip, alpha);
      }
      pieces.push_back(
          {segment.id, segment.text.get(), width + segment.start - offset, alpha, segment.separator_after});
      ids.insert(segment.id);
    }
    if (strip > 0) rects.push_back(renderer.crawl(pieces, strip));
  }
  for (const FlashItem &item : shown[(int)FlashLayer::LowerThird]) {
    /* slides in while it fades in */
    gdouble in =
        item.fade ? std::clamp((gdouble)GST_CLOCK_DIFF(item.started, now) / item.fade, 0.0, 1.0) : 1.0;
    int slide = (int)std::lround((1.0 - in) * settings.lower_third_slide * width);
    rects.push_back(renderer.lower_third(item, fade_alpha(item, item.started, now), slide));
    ids.insert(item.id);
  }
  for (const FlashItem &item : shown[(int)FlashLayer::Fullscreen]) {
    gdouble alpha = fade_alpha(item, item.started, now);
    rects.push_back(renderer.fullscreen(item, alpha));
    dim = std::max(dim, item.dim * alpha);
    ids.insert(item.id);
  }
  renderer.keep_only(ids);
  if (rects.empty()) return GST_FLOW_OK;
  if (dim > 0) {
    if (priv->output.attach)
      rects.insert(rects.begin(), renderer.dim(dim)); /* under the graphics in the composition */
    else
      onair::flash_dim_frame(frame, dim);
  }
  priv->output.output(frame, rects);
  return GST_FLOW_OK;
}
