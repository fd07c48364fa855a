/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:element-reactions
 * @title: reactions
 *
 * Viewer reactions on raw video: each reaction (an emoji, one of
 * #GstReactions:kinds) added with the #GstReactions::add or
 * #GstReactions::add-super action signal is counted, drawn as a floating
 * emoji that rises, sways and fades over #GstReactions:lifetime, and sent
 * downstream and to the application as timed metadata.
 *
 * Counting is exact: 64-bit counts, added from any thread. An add is counted
 * into the window of the next frame the element processes; windows are fixed
 * spans of running time, #GstReactions:window long (window n covers
 * [n × window, (n + 1) × window)). When the first frame of a later window
 * arrives (or at EOS), a window that had reactions is
 *
 * - posted as an element message `reactions-window` with the fields `id`
 *   (string, `reactions-<n>`), `start` (guint64, running time), `duration`
 *   (guint64), `total` (guint64) and `counts` (string, the payload below);
 * - sent downstream, ahead of that frame, as the serialized custom event
 *   `onair-timed-metadata` (plugins/common/timedmetadata.h) with the same id,
 *   running time, duration and payload, CLASS `com.onair.reactions`, HLS
 *   attribute `X-REACTIONS` and DASH scheme `urn:onair:reactions:2026`, which
 *   abrsink writes as EXT-X-DATERANGE tags and MPD EventStream Events.
 *
 * The payload is compact JSON, written deterministically: an object of the
 * kinds that had reactions in the window, in the order of
 * #GstReactions:kinds, each with its count, e.g. `{"👍":12,"❤️":3}`. Kinds
 * hold no '"', '\\', ',' or control characters, so nothing in it needs
 * escaping; it stays under 1 KiB (at most 16 kinds of at most 32 bytes).
 *
 * Drawing samples the counts: every frame's reactions become sprites, at
 * most #GstReactions:max-sprites at once (a super reaction always gets one,
 * bigger by #GstReactions:super-scale and living twice as long); the rest
 * are counted, not drawn, so a spike costs neither counts nor frames. The
 * animation is a function of the running time and #GstReactions:seed alone:
 * the same input gives the same frames. Each emoji is rendered once per size
 * with Pango and cairo (a colour emoji font such as Noto Color Emoji gives
 * the colour glyphs); per frame the sprites are composed with cairo into one
 * picture over the box that holds them, which is
 * attached as a #GstVideoOverlayCompositionMeta when downstream handles it,
 * else blended into the frame, as newsflash does. With
 * #GstReactions:show-counters the running total of every kind is shown under
 * the sprites' area, updated at the end of each window.
 *
 * Kinds may also be given by name in the signals: `like` 👍, `love` (or
 * `heart`) ❤️, `laugh` 😂, `wow` 😮, `sad` 😢, `clap` 👏, `fire` 🔥 (when that
 * emoji is one of the kinds); variation selectors (U+FE0F) are ignored when
 * matching. An unknown kind is refused (FALSE, and a debug warning) and the
 * stream is not affected.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 videotestsrc is-live=true ! video/x-raw,width=1280,height=720,framerate=30/1 ! \
 *     reactions name=react ! videoconvert ! autovideosink
 * ]| then from the application `g_signal_emit_by_name (react, "add", "👍", 5, &ok)`.
 * |[
 * gst-launch-1.0 -e videotestsrc is-live=true ! reactions name=react window=1000000000 ! \
 *     abrladder ladder="720p:2800,360p:800" ! abrsink location=/var/www/live
 * ]| reactions in the HLS playlists (EXT-X-DATERANGE, CLASS="com.onair.reactions") and the MPD.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstreactions.h"

#include <gst/video/video.h>
#include <pango/pangocairo.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <ctime>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "overlayoutput.h"
#include "textcontext.h"
#include "reactionsanim.h"
#include "timedmetadata.h"

#define DEFAULT_KINDS "👍,❤️,😂,😮,😢,👏,🔥"
#define DEFAULT_WINDOW (500 * GST_MSECOND)
#define DEFAULT_MAX_SPRITES 60
#define DEFAULT_SHOW_COUNTERS TRUE
#define DEFAULT_SEED 0
#define DEFAULT_SPRITE_SIZE 0.06
#define DEFAULT_SUPER_SCALE 2.5
#define DEFAULT_LIFETIME (2 * GST_SECOND)
#define DEFAULT_AREA_X 0.72
#define DEFAULT_AREA_Y 0.15
#define DEFAULT_AREA_WIDTH 0.25
#define DEFAULT_AREA_HEIGHT 0.8
#define MAX_KINDS 16
#define MAX_KIND_BYTES 32

#define REACTIONS_CLASS "com.onair.reactions"
#define REACTIONS_ATTRIBUTE "X-REACTIONS"
#define REACTIONS_SCHEME "urn:onair:reactions:2026"

namespace {

struct Settings {
  std::vector<std::string> kinds; /* as given */
  std::string kinds_text = DEFAULT_KINDS;
  GstClockTime window = DEFAULT_WINDOW;
  guint max_sprites = DEFAULT_MAX_SPRITES;
  bool show_counters = DEFAULT_SHOW_COUNTERS;
  guint64 seed = DEFAULT_SEED;
  gdouble sprite_size = DEFAULT_SPRITE_SIZE;
  gdouble super_scale = DEFAULT_SUPER_SCALE;
  GstClockTime lifetime = DEFAULT_LIFETIME;
  gdouble area[4] = {DEFAULT_AREA_X, DEFAULT_AREA_Y, DEFAULT_AREA_WIDTH, DEFAULT_AREA_HEIGHT};
};

/* Without U+FE0F (emoji presentation selector). */
std::string normalize_kind(const std::string &kind) {
  std::string out = kind;
  for (size_t at; (at = out.find("\xEF\xB8\x8F")) != std::string::npos;) out.erase(at, 3);
  return out;
}

/* "a,b,c" into kinds; false when one is empty, too long, repeated or holds a
 * character the payload would have to escape. */
bool parse_kinds(const char *text, std::vector<std::string> *kinds, std::string *error) {
  kinds->clear();
  if (!text || !*text) {
    *error = "no kinds";
    return false;
  }
  gchar **parts = g_strsplit(text, ",", -1);
  bool ok = true;
  for (gchar **part = parts; *part && ok; part++) {
    std::string kind = g_strstrip(*part);
    if (kind.empty() || kind.size() > MAX_KIND_BYTES || !g_utf8_validate(kind.c_str(), -1, NULL)) {
      *error = "kind '" + kind + "' is empty, longer than 32 bytes or not UTF-8";
      ok = false;
    }
    for (char c : kind)
      if (c == '"' || c == '\\' || (unsigned char)c < 0x20) {
        *error = "kind '" + kind + "' holds a quote, backslash or control character";
        ok = false;
      }
    for (const std::string &known : *kinds)
      if (normalize_kind(known) == normalize_kind(kind)) {
        *error = "kind '" + kind + "' is given twice";
        ok = false;
      }
    kinds->push_back(kind);
  }
  g_strfreev(parts);
  if (ok && kinds->size() > MAX_KINDS) {
    *error = "more than 16 kinds";
    ok = false;
  }
  return ok;
}

const std::map<std::string, std::string> &aliases() {
  static const std::map<std::string, std::string> names = {
      {"like", "👍"}, {"love", "❤"}, {"heart", "❤"}, {"laugh", "😂"},
      {"wow", "😮"},  {"sad", "😢"},  {"clap", "👏"},  {"fire", "🔥"},
  };
  return names;
}

/* The payload: {"👍":12,"❤️":3}, kinds with a count, in kind order. */
std::string counts_json(const std::vector<std::string> &kinds, const std::vector<guint64> &counts) {
  std::string out = "{";
  for (size_t k = 0; k < kinds.size(); k++) {
    if (!counts[k]) continue;
    if (out.size() > 1) out += ",";
    out += "\"" + kinds[k] + "\":" + std::to_string(counts[k]);
  }
  return out + "}";
}

/* Pictures drawn once: each kind at the plain and the super size (cairo
 * surfaces) and the counters strip; per frame, the sprites are composed
 * with cairo into one picture spanning them, so the frame is blended once
 * over that span rather than once per sprite. Streaming thread. */
class Renderer {
 public:
  Renderer() {
    font_map_ = pango_cairo_font_map_new();
    context_ = pango_font_map_create_context(font_map_);
    onair::set_context_options(context_);
  }
  ~Renderer() {
    clear();
    g_object_unref(context_);
    g_object_unref(font_map_);
  }
  Renderer(const Renderer &) = delete;
  Renderer &operator=(const Renderer &) = delete;

  void configure(const std::vector<std::string> &kinds, int plain_size, int super_size) {
    if (kinds == kinds_ && plain_size == sizes_[0] && super_size == sizes_[1]) return;
    clear();
    kinds_ = kinds;
    sizes_[0] = plain_size;
    sizes_[1] = super_size;
    pictures_.assign(kinds.size() * 2, nullptr);
  }
  int size(bool super) const { return sizes_[super ? 1 : 0]; }

  struct Placed {
    int kind;
    bool super;
    double alpha;
    int x, y; /* top left, in the frame */
  };

  /* The sprites composed into one picture over the box that holds them
   * (clipped to the frame); NULL when none is in it. */
  GstVideoOverlayRectangle *sprites(const std::vector<Placed> &placed, int frame_width, int frame_height) {
    int x0 = frame_width, y0 = frame_height, x1 = 0, y1 = 0;
    for (const Placed &p : placed) {
      int side = size(p.super);
      x0 = std::min(x0, std::max(0, p.x));
      y0 = std::min(y0, std::max(0, p.y));
      x1 = std::max(x1, std::min(frame_width, p.x + side));
      y1 = std::max(y1, std::min(frame_height, p.y + side));
    }
    if (x1 <= x0 || y1 <= y0) return NULL;
    int w = x1 - x0, h = y1 - y0;
    GstBuffer *buffer = gst_buffer_new_allocate(NULL, (gsize)w * h * 4, NULL);
    GstMapInfo map;
    gst_buffer_map(buffer, &map, GST_MAP_READWRITE);
    memset(map.data, 0, map.size);
    cairo_surface_t *canvas = cairo_image_surface_create_for_data(map.data, CAIRO_FORMAT_ARGB32, w, h, w * 4);
    cairo_t *cr = cairo_create(canvas);
    for (const Placed &p : placed) {
      size_t index = (size_t)p.kind * 2 + (p.super ? 1 : 0);
      if (!pictures_[index]) pictures_[index] = draw_emoji(kinds_[p.kind], size(p.super));
      cairo_set_source_surface(cr, pictures_[index], p.x - x0, p.y - y0);
      cairo_paint_with_alpha(cr, p.alpha);
    }
    cairo_destroy(cr);
    cairo_surface_flush(canvas);
    cairo_surface_destroy(canvas);
    unpremultiply(map.data, (size_t)w * h);
    gst_buffer_unmap(buffer, &map);
    gst_buffer_add_video_meta(buffer, GST_VIDEO_FRAME_FLAG_NONE, GST_VIDEO_OVERLAY_COMPOSITION_FORMAT_RGB, w,
                              h);
    GstVideoOverlayRectangle *rect =
        gst_video_overlay_rectangle_new_raw(buffer, x0, y0, w, h, GST_VIDEO_OVERLAY_FORMAT_FLAG_NONE);
    gst_buffer_unref(buffer);
    return rect;
  }

  /* The counters strip, drawn again when its text changes. */
  GstVideoOverlayRectangle *counters(const std::string &text, int height, int max_width, int x, int y) {
    if (text != counters_text_ || height != counters_height_ || max_width != counters_max_width_) {
      if (counters_) gst_buffer_unref(counters_);
      counters_text_ = text;
      counters_height_ = height;
      counters_max_width_ = max_width;
      counters_ = draw_counters(text, height, max_width, &counters_width_);
    }
    return gst_video_overlay_rectangle_new_raw(counters_, x, y, counters_width_, counters_height_,
                                               GST_VIDEO_OVERLAY_FORMAT_FLAG_NONE);
  }

 private:
  void clear() {
    for (cairo_surface_t *&picture : pictures_)
      if (picture) cairo_surface_destroy(picture), picture = nullptr;
    if (counters_) gst_buffer_unref(counters_);
    counters_ = nullptr;
    counters_text_.clear();
  }

  PangoLayout *layout(const std::string &text, int pixels) {
    PangoLayout *layout = pango_layout_new(context_);
    PangoFontDescription *font = pango_font_description_from_string("Noto Color Emoji, Sans Bold");
    pango_font_description_set_absolute_size(font, std::max(1, pixels) * PANGO_SCALE);
    pango_layout_set_font_description(layout, font);
    pango_font_description_free(font);
    pango_layout_set_text(layout, text.c_str(), -1);
    return layout;
  }

  static void unpremultiply(guint8 *data, size_t pixels) {
    guint32 *p = reinterpret_cast<guint32 *>(data);
    for (size_t i = 0; i < pixels; i++) {
      guint32 v = p[i], a = v >> 24;
      if (a == 0 || a == 255) continue;
      auto straight = [a](guint32 c) { return std::min<guint32>(255, (c * 255 + a / 2) / a); };
      p[i] = (a << 24) | (straight((v >> 16) & 0xff) << 16) | (straight((v >> 8) & 0xff) << 8) |
             straight(v & 0xff);
    }
  }

  /* cairo's premultiplied pixels, stored straight (not premultiplied):
   * gst_video_overlay_composition_blend() takes straight alpha and would
   * otherwise make a converted copy for every rectangle of every frame. */
  static GstBuffer *finish(cairo_surface_t *surface, int w, int h) {
    cairo_surface_flush(surface);
    GstBuffer *buffer = gst_buffer_new_allocate(NULL, (gsize)w * h * 4, NULL);
    GstMapInfo map;
    gst_buffer_map(buffer, &map, GST_MAP_WRITE);
    int stride = cairo_image_surface_get_stride(surface);
    const unsigned char *data = cairo_image_surface_get_data(surface);
    for (int row = 0; row < h; row++)
      memcpy(map.data + (size_t)row * w * 4, data + (size_t)row * stride, w * 4);
    unpremultiply(map.data, (size_t)w * h);
    gst_buffer_unmap(buffer, &map);
    cairo_surface_destroy(surface);
    /* native-endian ARGB, as GST_VIDEO_OVERLAY_COMPOSITION_FORMAT_RGB names */
    gst_buffer_add_video_meta(buffer, GST_VIDEO_FRAME_FLAG_NONE, GST_VIDEO_OVERLAY_COMPOSITION_FORMAT_RGB, w,
                              h);
    return buffer;
  }

  /* The emoji scaled to fit a side × side square, centred. */
  cairo_surface_t *draw_emoji(const std::string &kind, int side) {
    PangoLayout *text = layout(kind, side);
    PangoRectangle ink, logical;
    pango_layout_get_pixel_extents(text, &ink, &logical);
    cairo_surface_t *surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, side, side);
    cairo_t *cr = cairo_create(surface);
    double scale = logical.width > 0 && logical.height > 0
                       ? std::min((double)side / logical.width, (double)side / logical.height)
                       : 1.0;
    cairo_translate(cr, side / 2.0, side / 2.0);
    cairo_scale(cr, scale, scale);
    cairo_translate(cr, -logical.x - logical.width / 2.0, -logical.y - logical.height / 2.0);
    cairo_set_source_rgb(cr, 1, 1, 1); /* a monochrome fallback glyph shows white */
    pango_cairo_show_layout(cr, text);
    cairo_destroy(cr);
    cairo_surface_flush(surface);
    g_object_unref(text);
    return surface;
  }

  /* One line on a dark box, scaled down to fit `max_width` when needed. */
  GstBuffer *draw_counters(const std::string &text, int height, int max_width, int *width) {
    PangoLayout *line = layout(text, std::max(1, height * 6 / 10));
    PangoRectangle logical;
    pango_layout_get_pixel_extents(line, NULL, &logical);
    int pad = height / 5;
    double scale = std::min(1.0, (double)std::max(1, max_width - 2 * pad) / std::max(1, logical.width));
    int w = std::clamp((int)std::ceil(logical.width * scale) + 2 * pad, 1, std::max(1, max_width));
    cairo_surface_t *surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, height);
    cairo_t *cr = cairo_create(surface);
    cairo_set_source_rgba(cr, 0, 0, 0, 0.55);
    cairo_paint(cr);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_translate(cr, pad, height / 2.0);
    cairo_scale(cr, scale, scale);
    cairo_move_to(cr, -logical.x, -logical.height / 2.0 - logical.y);
    pango_cairo_show_layout(cr, line);
    cairo_destroy(cr);
    g_object_unref(line);
    *width = w;
    return finish(surface, w, height);
  }

  PangoFontMap *font_map_;
  PangoContext *context_;
  std::vector<std::string> kinds_;
  int sizes_[2] = {0, 0};
  std::vector<cairo_surface_t *> pictures_;
  GstBuffer *counters_ = nullptr;
  std::string counters_text_;
  int counters_height_ = 0, counters_max_width_ = 0, counters_width_ = 0;
};

}  // namespace

struct GstReactionsPrivate {
  std::mutex settings_lock;
  Settings settings;

  /* Adds not yet counted into a window: the action signals write them, the
   * streaming thread takes them on its next frame. */
  std::mutex pending_lock;
  std::vector<std::string> kinds; /* the running kinds (settled at start) */
  std::vector<guint64> pending, pending_super;
  bool started = false;

  /* stats, read by get-stats from any thread */
  std::atomic<guint64> frames{0}, windows_sent{0}, sprites_drawn{0}, max_sprites_drawn{0}, refused{0};
  std::atomic<guint64> processing_ns{0}; /* CPU time of the streaming thread in the element's frame work */

  /* streaming thread only */
  Settings frame;
  std::unique_ptr<Renderer> renderer;
  onair::SpriteField field;
  gint64 window_index = -1; /* the open window's n, -1: none */
  std::vector<guint64> window_counts;
  std::vector<guint64> totals;
  std::mutex totals_lock; /* totals are read by get-stats */
  std::string counters_text;
  guint64 downstream_ns = 0;   /* of this frame: pushing the window's event */
  onair::OverlayOutput output; /* meta:GstVideoOverlayComposition or blending */
};

struct _GstReactions {
  GstVideoFilter parent;
  GstReactionsPrivate *priv;
};

GST_DEBUG_CATEGORY_STATIC(gst_reactions_debug);
#define GST_CAT_DEFAULT gst_reactions_debug

enum {
  PROP_0,
  PROP_KINDS,
  PROP_WINDOW,
  PROP_MAX_SPRITES,
  PROP_SHOW_COUNTERS,
  PROP_SEED,
  PROP_SPRITE_SIZE,
  PROP_SUPER_SCALE,
  PROP_LIFETIME,
  PROP_AREA_X,
  PROP_AREA_Y,
  PROP_AREA_WIDTH,
  PROP_AREA_HEIGHT,
};

enum {
  SIGNAL_ADD,
  SIGNAL_ADD_SUPER,
  SIGNAL_GET_STATS,
  LAST_SIGNAL,
};

static guint signals[LAST_SIGNAL];

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(ONAIR_OVERLAY_SINK_CAPS));
static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(ONAIR_OVERLAY_SRC_CAPS));

#define gst_reactions_parent_class parent_class
G_DEFINE_TYPE(GstReactions, gst_reactions, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE(reactions, "reactions", GST_RANK_NONE, GST_TYPE_REACTIONS,
                                      GST_DEBUG_CATEGORY_INIT(gst_reactions_debug, "onair-reactions", 0,
                                                              "onair viewer reactions"));

static void gst_reactions_finalize(GObject *object);
static void gst_reactions_set_property(GObject *object, guint prop_id, const GValue *value,
                                       GParamSpec *pspec);
static void gst_reactions_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec);
static gboolean gst_reactions_start(GstBaseTransform *trans);
static gboolean gst_reactions_stop(GstBaseTransform *trans);
static gboolean gst_reactions_sink_event(GstBaseTransform *trans, GstEvent *event);
static gboolean gst_reactions_src_event(GstBaseTransform *trans, GstEvent *event);
static GstCaps *gst_reactions_transform_caps(GstBaseTransform *trans, GstPadDirection direction,
                                             GstCaps *caps, GstCaps *filter);
static gboolean gst_reactions_set_info(GstVideoFilter *filter, GstCaps *incaps, GstVideoInfo *in_info,
                                       GstCaps *outcaps, GstVideoInfo *out_info);
static GstFlowReturn gst_reactions_transform_frame_ip(GstVideoFilter *filter, GstVideoFrame *frame);
static gboolean gst_reactions_add(GstReactions *self, const gchar *kind, guint count);
static gboolean gst_reactions_add_super(GstReactions *self, const gchar *kind);
static GstStructure *gst_reactions_get_stats(GstReactions *self);

static void gst_reactions_class_init(GstReactionsClass *klass) {
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS(klass);
  GstVideoFilterClass *filter_class = GST_VIDEO_FILTER_CLASS(klass);

  gobject_class->finalize = gst_reactions_finalize;
  gobject_class->set_property = gst_reactions_set_property;
  gobject_class->get_property = gst_reactions_get_property;

  const GParamFlags ready =
      (GParamFlags)(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  const GParamFlags live =
      (GParamFlags)(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  const GParamFlags controllable = (GParamFlags)(live | GST_PARAM_CONTROLLABLE);

  /**
   * GstReactions:kinds:
   *
   * The reactions counted, comma-separated emoji (or any short text without
   * '"', '\\' or control characters), at most 16 of at most 32 bytes. Also
   * the order of the payload and the counters. Set in NULL or READY; an
   * invalid list is refused with a warning.
   */
  g_object_class_install_property(
      gobject_class, PROP_KINDS,
      g_param_spec_string("kinds", "Kinds",
                          "Comma-separated reactions counted (emoji; at most 16, each at most 32 bytes)",
                          DEFAULT_KINDS, ready));
  /**
   * GstReactions:window:
   *
   * Length of the counting windows in running time (ns): window n covers
   * [n × window, (n + 1) × window). Set in NULL or READY.
   */
  g_object_class_install_property(
      gobject_class, PROP_WINDOW,
      g_param_spec_uint64("window", "Window", "Length of the counting windows in running time (ns)",
                          10 * GST_MSECOND, 3600 * GST_SECOND, DEFAULT_WINDOW, ready));
  /**
   * GstReactions:max-sprites:
   *
   * Most sprites on screen at once; reactions beyond it are counted but not
   * drawn. 0 draws none.
   */
  g_object_class_install_property(
      gobject_class, PROP_MAX_SPRITES,
      g_param_spec_uint("max-sprites", "Max sprites",
                        "Most floating emoji on screen at once (the rest are counted, not drawn)", 0, 1000,
                        DEFAULT_MAX_SPRITES, live));
  /**
   * GstReactions:show-counters:
   *
   * Show the running total of every kind under the sprites' area.
   */
  g_object_class_install_property(
      gobject_class, PROP_SHOW_COUNTERS,
      g_param_spec_boolean("show-counters", "Show counters",
                           "Show the running total of every kind, updated at the end of each window",
                           DEFAULT_SHOW_COUNTERS, live));
  /**
   * GstReactions:seed:
   *
   * Seed of the sprites' paths: the same seed and input give the same
   * frames. Set in NULL or READY.
   */
  g_object_class_install_property(
      gobject_class, PROP_SEED,
      g_param_spec_uint64("seed", "Seed", "Seed of the sprites' paths (same seed and input: same frames)", 0,
                          G_MAXUINT64, DEFAULT_SEED, ready));
  /**
   * GstReactions:sprite-size:
   *
   * Side of a sprite, as a fraction of the frame height.
   */
  g_object_class_install_property(
      gobject_class, PROP_SPRITE_SIZE,
      g_param_spec_double("sprite-size", "Sprite size", "Side of a sprite, as a fraction of the frame height",
                          0.01, 0.5, DEFAULT_SPRITE_SIZE, controllable));
  /**
   * GstReactions:super-scale:
   *
   * How much bigger a super reaction's sprite is.
   */
  g_object_class_install_property(
      gobject_class, PROP_SUPER_SCALE,
      g_param_spec_double("super-scale", "Super scale", "How much bigger a super reaction is drawn", 1.0, 8.0,
                          DEFAULT_SUPER_SCALE, controllable));
  /**
   * GstReactions:lifetime:
   *
   * How long a sprite floats (ns); a super reaction's floats twice as long.
   */
  g_object_class_install_property(
      gobject_class, PROP_LIFETIME,
      g_param_spec_uint64("lifetime", "Lifetime", "How long a sprite floats (ns); super ones twice as long",
                          100 * GST_MSECOND, 30 * GST_SECOND, DEFAULT_LIFETIME, live));
  /**
   * GstReactions:area-x:
   *
   * Left edge of the sprites' area, as a fraction of the frame width.
   */
  g_object_class_install_property(
      gobject_class, PROP_AREA_X,
      g_param_spec_double("area-x", "Area X", "Left edge of the sprites' area (fraction of the frame width)",
                          0.0, 1.0, DEFAULT_AREA_X, controllable));
  /**
   * GstReactions:area-y:
   *
   * Top edge of the sprites' area, as a fraction of the frame height.
   */
  g_object_class_install_property(
      gobject_class, PROP_AREA_Y,
      g_param_spec_double("area-y", "Area Y", "Top edge of the sprites' area (fraction of the frame height)",
                          0.0, 1.0, DEFAULT_AREA_Y, controllable));
  /**
   * GstReactions:area-width:
   *
   * Width of the sprites' area, as a fraction of the frame width.
   */
  g_object_class_install_property(
      gobject_class, PROP_AREA_WIDTH,
      g_param_spec_double("area-width", "Area width",
                          "Width of the sprites' area (fraction of the frame width)", 0.0, 1.0,
                          DEFAULT_AREA_WIDTH, controllable));
  /**
   * GstReactions:area-height:
   *
   * Height of the sprites' area (they rise from its bottom), as a fraction
   * of the frame height; the counters sit under it.
   */
  g_object_class_install_property(
      gobject_class, PROP_AREA_HEIGHT,
      g_param_spec_double(
          "area-height", "Area height",
          "Height of the sprites' area (fraction of the frame height; sprites rise from its bottom)", 0.0,
          1.0, DEFAULT_AREA_HEIGHT, controllable));

  /**
   * GstReactions::add:
   * @reactions: the element
   * @kind: one of #GstReactions:kinds (or its name, e.g. "like")
   * @count: how many reactions
   *
   * Counts @count reactions of @kind into the window of the next frame.
   *
   * Returns: FALSE (and nothing counted) when @kind is unknown.
   */
  signals[SIGNAL_ADD] = g_signal_new_class_handler(
      "add", G_TYPE_FROM_CLASS(klass), (GSignalFlags)(G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK(gst_reactions_add), NULL, NULL, NULL, G_TYPE_BOOLEAN, 2, G_TYPE_STRING, G_TYPE_UINT);
  /**
   * GstReactions::add-super:
   * @reactions: the element
   * @kind: one of #GstReactions:kinds (or its name)
   *
   * Counts one super (paid) reaction of @kind, drawn bigger and longer and
   * always drawn.
   *
   * Returns: FALSE (and nothing counted) when @kind is unknown.
   */
  signals[SIGNAL_ADD_SUPER] = g_signal_new_class_handler(
      "add-super", G_TYPE_FROM_CLASS(klass), (GSignalFlags)(G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK(gst_reactions_add_super), NULL, NULL, NULL, G_TYPE_BOOLEAN, 1, G_TYPE_STRING);
  /**
   * GstReactions::get-stats:
   * @reactions: the element
   *
   * Returns: (transfer full): a `reactions-stats` structure: `frames`,
   * `windows` (sent), `sprites` (drawn on the last frame), `max-sprites-drawn`,
   * `refused` (adds of unknown kinds), `processing-time` (ns of CPU time the
   * streaming thread spent on the frames in this element: counting,
   * animating, composing and blending, not downstream's handling of the
   * window events; divided by `frames`, the element's cost per frame), all
   * guint64, and `totals` (string, the running totals in the payload's JSON
   * form).
   */
  signals[SIGNAL_GET_STATS] = g_signal_new_class_handler(
      "get-stats", G_TYPE_FROM_CLASS(klass), (GSignalFlags)(G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK(gst_reactions_get_stats), NULL, NULL, NULL, GST_TYPE_STRUCTURE, 0);

  gst_element_class_set_static_metadata(
      element_class, "Viewer reactions", "Filter/Editor/Video",
      "Counts viewer reactions in windows of running time, draws them as floating emoji and counters, and "
      "sends the counts downstream as timed metadata",
      "onair developers");
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);

  trans_class->start = GST_DEBUG_FUNCPTR(gst_reactions_start);
  trans_class->stop = GST_DEBUG_FUNCPTR(gst_reactions_stop);
  trans_class->sink_event = GST_DEBUG_FUNCPTR(gst_reactions_sink_event);
  trans_class->src_event = GST_DEBUG_FUNCPTR(gst_reactions_src_event);
  trans_class->transform_caps = GST_DEBUG_FUNCPTR(gst_reactions_transform_caps);
  filter_class->set_info = GST_DEBUG_FUNCPTR(gst_reactions_set_info);
  filter_class->transform_frame_ip = GST_DEBUG_FUNCPTR(gst_reactions_transform_frame_ip);
}

static void gst_reactions_init(GstReactions *self) {
  self->priv = new GstReactionsPrivate();
  std::string error;
  parse_kinds(DEFAULT_KINDS, &self->priv->settings.kinds, &error);
  gst_base_transform_set_in_place(GST_BASE_TRANSFORM(self), TRUE);
}

static void gst_reactions_finalize(GObject *object) {
  delete GST_REACTIONS(object)->priv;
  G_OBJECT_CLASS(parent_class)->finalize(object);
}

static void gst_reactions_set_property(GObject *object, guint prop_id, const GValue *value,
                                       GParamSpec *pspec) {
  GstReactions *self = GST_REACTIONS(object);
  std::lock_guard<std::mutex> lock(self->priv->settings_lock);
  Settings &s = self->priv->settings;
  switch (prop_id) {
    case PROP_KINDS: {
      std::vector<std::string> kinds;
      std::string error;
      if (!parse_kinds(g_value_get_string(value), &kinds, &error)) {
        GST_WARNING_OBJECT(self, "kinds refused: %s", error.c_str());
        GST_ELEMENT_WARNING(self, RESOURCE, SETTINGS, ("Invalid reaction kinds: %s", error.c_str()), (NULL));
        break;
      }
      s.kinds = kinds;
      s.kinds_text = g_value_get_string(value);
      break;
    }
    case PROP_WINDOW:
      s.window = g_value_get_uint64(value);
      break;
    case PROP_MAX_SPRITES:
      s.max_sprites = g_value_get_uint(value);
      break;
    case PROP_SHOW_COUNTERS:
      s.show_counters = g_value_get_boolean(value);
      break;
    case PROP_SEED:
      s.seed = g_value_get_uint64(value);
      break;
    case PROP_SPRITE_SIZE:
      s.sprite_size = g_value_get_double(value);
      break;
    case PROP_SUPER_SCALE:
      s.super_scale = g_value_get_double(value);
      break;
    case PROP_LIFETIME:
      s.lifetime = g_value_get_uint64(value);
      break;
    case PROP_AREA_X:
    case PROP_AREA_Y:
    case PROP_AREA_WIDTH:
    case PROP_AREA_HEIGHT:
      s.area[prop_id - PROP_AREA_X] = g_value_get_double(value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
}

static void gst_reactions_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec) {
  GstReactions *self = GST_REACTIONS(object);
  std::lock_guard<std::mutex> lock(self->priv->settings_lock);
  const Settings &s = self->priv->settings;
  switch (prop_id) {
    case PROP_KINDS:
      g_value_set_string(value, s.kinds_text.c_str());
      break;
    case PROP_WINDOW:
      g_value_set_uint64(value, s.window);
      break;
    case PROP_MAX_SPRITES:
      g_value_set_uint(value, s.max_sprites);
      break;
    case PROP_SHOW_COUNTERS:
      g_value_set_boolean(value, s.show_counters);
      break;
    case PROP_SEED:
      g_value_set_uint64(value, s.seed);
      break;
    case PROP_SPRITE_SIZE:
      g_value_set_double(value, s.sprite_size);
      break;
    case PROP_SUPER_SCALE:
      g_value_set_double(value, s.super_scale);
      break;
    case PROP_LIFETIME:
      g_value_set_uint64(value, s.lifetime);
      break;
    case PROP_AREA_X:
    case PROP_AREA_Y:
    case PROP_AREA_WIDTH:
    case PROP_AREA_HEIGHT:
      g_value_set_double(value, s.area[prop_id - PROP_AREA_X]);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
}

/* ---- input ------------------------------------------------------------- */

/* Index of `kind` in the running kinds, -1 if unknown. pending_lock held. */
static int find_kind(GstReactionsPrivate *priv, const gchar *kind) {
  if (!kind) return -1;
  std::string wanted = kind;
  gchar *lower = g_ascii_strdown(kind, -1);
  auto alias = aliases().find(lower);
  g_free(lower);
  if (alias != aliases().end()) wanted = alias->second;
  wanted = normalize_kind(wanted);
  for (size_t k = 0; k < priv->kinds.size(); k++)
    if (normalize_kind(priv->kinds[k]) == wanted) return (int)k;
  return -1;
}

static gboolean count_reaction(GstReactions *self, const gchar *kind, guint count, bool super) {
  GstReactionsPrivate *priv = self->priv;
  std::lock_guard<std::mutex> lock(priv->pending_lock);
  if (priv->kinds.empty()) {
    /* not started yet: the kinds set so far */
    std::lock_guard<std::mutex> settings_lock(priv->settings_lock);
    priv->kinds = priv->settings.kinds;
    priv->pending.assign(priv->kinds.size(), 0);
    priv->pending_super.assign(priv->kinds.size(), 0);
  }
  int k = find_kind(priv, kind);
  if (k < 0) {
    priv->refused++;
    GST_WARNING_OBJECT(self, "unknown reaction kind '%s' refused", kind ? kind : "(null)");
    return FALSE;
  }
  priv->pending[k] += count;
  if (super) priv->pending_super[k]++;
  return TRUE;
}

static gboolean gst_reactions_add(GstReactions *self, const gchar *kind, guint count) {
  return count_reaction(self, kind, count, false);
}

static gboolean gst_reactions_add_super(GstReactions *self, const gchar *kind) {
  return count_reaction(self, kind, 1, true);
}

static GstStructure *gst_reactions_get_stats(GstReactions *self) {
  GstReactionsPrivate *priv = self->priv;
  std::string totals;
  {
    std::lock_guard<std::mutex> lock(priv->totals_lock);
    totals = counts_json(priv->frame.kinds, priv->totals);
  }
  return gst_structure_new("reactions-stats", "frames", G_TYPE_UINT64, priv->frames.load(), "windows",
                           G_TYPE_UINT64, priv->windows_sent.load(), "sprites", G_TYPE_UINT64,
                           priv->sprites_drawn.load(), "max-sprites-drawn", G_TYPE_UINT64,
                           priv->max_sprites_drawn.load(), "refused", G_TYPE_UINT64, priv->refused.load(),
                           "processing-time", G_TYPE_UINT64, priv->processing_ns.load(), "totals",
                           G_TYPE_STRING, totals.c_str(), NULL);
}

/* ---- streaming --------------------------------------------------------- */

static gboolean gst_reactions_start(GstBaseTransform *trans) {
  GstReactions *self = GST_REACTIONS(trans);
  GstReactionsPrivate *priv = self->priv;
  Settings settings;
  {
    std::lock_guard<std::mutex> lock(priv->settings_lock);
    settings = priv->settings;
  }
  {
    std::lock_guard<std::mutex> lock(priv->pending_lock);
    /* adds made before the start with the same kinds are kept */
    if (priv->kinds != settings.kinds) {
      priv->kinds = settings.kinds;
      priv->pending.assign(priv->kinds.size(), 0);
      priv->pending_super.assign(priv->kinds.size(), 0);
    }
    priv->started = true;
  }
  {
    std::lock_guard<std::mutex> lock(priv->totals_lock);
    priv->frame = settings;
    priv->totals.assign(settings.kinds.size(), 0);
  }
  priv->renderer = std::make_unique<Renderer>();
  priv->field.reset(settings.seed);
  priv->window_index = -1;
  priv->window_counts.assign(settings.kinds.size(), 0);
  priv->counters_text.clear();
  priv->frames = priv->windows_sent = priv->sprites_drawn = priv->max_sprites_drawn = 0;
  return TRUE;
}

static gboolean gst_reactions_stop(GstBaseTransform *trans) {
  GstReactionsPrivate *priv = GST_REACTIONS(trans)->priv;
  priv->renderer.reset();
  priv->output.stop();
  std::lock_guard<std::mutex> lock(priv->pending_lock);
  priv->started = false;
  return TRUE;
}

/* The running totals line, "👍 12  ❤️ 3 …". */
static std::string counters_line(const std::vector<std::string> &kinds, const std::vector<guint64> &totals) {
  std::string out;
  for (size_t k = 0; k < kinds.size(); k++) {
    if (!out.empty()) out += "  ";
    out += kinds[k] + " " + std::to_string(totals[k]);
  }
  return out;
}

/* CPU time of the calling thread, for processing-time. */
static guint64 thread_cpu_ns() {
  struct timespec now;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return (guint64)now.tv_sec * 1000000000u + (guint64)now.tv_nsec;
}

/* Sends the open window, if it had reactions: the event downstream (ahead
 * of the frame being processed), the message to the application. */
static void close_window(GstReactions *self, bool send = true) {
  GstReactionsPrivate *priv = self->priv;
  if (priv->window_index < 0) return;
  guint64 total = 0;
  for (guint64 c : priv->window_counts) total += c;
  {
    std::lock_guard<std::mutex> lock(priv->totals_lock);
    for (size_t k = 0; k < priv->totals.size(); k++) priv->totals[k] += priv->window_counts[k];
  }
  priv->counters_text = counters_line(priv->frame.kinds, priv->totals);
  if (total == 0 || !send) {
    std::fill(priv->window_counts.begin(), priv->window_counts.end(), 0);
    return;
  }
  onair::TimedMetadata metadata;
  metadata.id = "reactions-" + std::to_string(priv->window_index);
  metadata.hls_class = REACTIONS_CLASS;
  metadata.hls_attribute = REACTIONS_ATTRIBUTE;
  metadata.dash_scheme = REACTIONS_SCHEME;
  metadata.running_time = (GstClockTime)priv->window_index * priv->frame.window;
  metadata.duration = priv->frame.window;
  metadata.payload = counts_json(priv->frame.kinds, priv->window_counts);
  std::fill(priv->window_counts.begin(), priv->window_counts.end(), 0);
  GST_DEBUG_OBJECT(self, "window %s at %" GST_TIME_FORMAT ": %s", metadata.id.c_str(),
                   GST_TIME_ARGS(metadata.running_time), metadata.payload.c_str());
  gst_element_post_message(
      GST_ELEMENT(self),
      gst_message_new_element(
          GST_OBJECT(self),
          gst_structure_new("reactions-window", "id", G_TYPE_STRING, metadata.id.c_str(), "start",
                            G_TYPE_UINT64, (guint64)metadata.running_time, "duration", G_TYPE_UINT64,
                            (guint64)metadata.duration, "total", G_TYPE_UINT64, total, "counts",
                            G_TYPE_STRING, metadata.payload.c_str(), NULL)));
  GstEvent *event = onair::new_timed_metadata_event(metadata);
  if (event) {
    /* downstream's handling of the event is not this element's cost */
    guint64 start = thread_cpu_ns();
    gst_pad_push_event(GST_BASE_TRANSFORM_SRC_PAD(self), event);
    priv->downstream_ns += thread_cpu_ns() - start;
  }
  priv->windows_sent++;
}

/* Adds made since the last frame, counted now. */
static void take_pending(GstReactionsPrivate *priv, std::vector<guint64> *counts,
                         std::vector<guint64> *supers) {
  std::lock_guard<std::mutex> lock(priv->pending_lock);
  counts->assign(priv->kinds.size(), 0);
  supers->assign(priv->kinds.size(), 0);
  std::swap(*counts, priv->pending);
  std::swap(*supers, priv->pending_super);
}

static gboolean gst_reactions_sink_event(GstBaseTransform *trans, GstEvent *event) {
  GstReactions *self = GST_REACTIONS(trans);
  GstReactionsPrivate *priv = self->priv;
  if (GST_EVENT_TYPE(event) == GST_EVENT_EOS && priv->window_index >= 0) {
    /* the adds after the last frame go into its window, which ends here */
    std::vector<guint64> counts, supers;
    take_pending(priv, &counts, &supers);
    for (size_t k = 0; k < counts.size() && k < priv->window_counts.size(); k++)
      priv->window_counts[k] += counts[k];
    close_window(self);
    priv->window_index = -1;
  } else if (GST_EVENT_TYPE(event) == GST_EVENT_FLUSH_STOP) {
    /* running time starts again: the open window is dropped (its counts
     * stay in the totals); downstream is flushing, nothing is sent */
    close_window(self, false);
    priv->window_index = -1;
    priv->field.reset(priv->frame.seed);
  }
  return GST_BASE_TRANSFORM_CLASS(parent_class)->sink_event(trans, event);
}

static gboolean gst_reactions_src_event(GstBaseTransform *trans, GstEvent *event) {
  GST_REACTIONS(trans)->priv->output.src_event(event);
  return GST_BASE_TRANSFORM_CLASS(parent_class)->src_event(trans, event);
}

/* As newsflash: see onair::OverlayOutput. */
static GstCaps *gst_reactions_transform_caps(GstBaseTransform *trans, GstPadDirection direction,
                                             GstCaps *caps, GstCaps *filter) {
  return GST_REACTIONS(trans)->priv->output.transform_caps(trans, direction, caps, filter, GST_CAT_DEFAULT);
}

static gboolean gst_reactions_set_info(GstVideoFilter *filter, GstCaps *, GstVideoInfo *, GstCaps *outcaps,
                                       GstVideoInfo *) {
  GstReactionsPrivate *priv = GST_REACTIONS(filter)->priv;
  priv->output.set_caps(outcaps);
  return TRUE;
}

static void process_frame(GstVideoFilter *filter, GstVideoFrame *frame);

static GstFlowReturn gst_reactions_transform_frame_ip(GstVideoFilter *filter, GstVideoFrame *frame) {
  GstReactionsPrivate *priv = GST_REACTIONS(filter)->priv;
  guint64 start = thread_cpu_ns();
  priv->downstream_ns = 0;
  process_frame(filter, frame);
  guint64 spent = thread_cpu_ns() - start;
  priv->processing_ns += spent > priv->downstream_ns ? spent - priv->downstream_ns : 0;
  return GST_FLOW_OK;
}

static void process_frame(GstVideoFilter *filter, GstVideoFrame *frame) {
  GstReactions *self = GST_REACTIONS(filter);
  GstReactionsPrivate *priv = self->priv;
  GstBaseTransform *trans = GST_BASE_TRANSFORM(filter);
  int width = GST_VIDEO_FRAME_WIDTH(frame), height = GST_VIDEO_FRAME_HEIGHT(frame);
  {
    /* the settings that may change while playing; kinds, window and seed
     * stay as they were at the start */
    std::lock_guard<std::mutex> lock(priv->settings_lock);
    const Settings &s = priv->settings;
    priv->frame.max_sprites = s.max_sprites;
    priv->frame.show_counters = s.show_counters;
    priv->frame.sprite_size = s.sprite_size;
    priv->frame.super_scale = s.super_scale;
    priv->frame.lifetime = s.lifetime;
    std::copy(std::begin(s.area), std::end(s.area), std::begin(priv->frame.area));
  }
  const Settings &settings = priv->frame;
  priv->output.check_allocation(trans, "sprites", GST_CAT_DEFAULT);
  priv->frames++;

  GstClockTime now =
      gst_segment_to_running_time(&trans->segment, GST_FORMAT_TIME, GST_BUFFER_PTS(frame->buffer));
  std::vector<guint64> counts, supers;
  take_pending(priv, &counts, &supers);
  if (GST_CLOCK_TIME_IS_VALID(now)) {
    gint64 index = (gint64)(now / settings.window);
    if (index != priv->window_index) {
      close_window(self);
      priv->window_index = index;
    }
  } else if (priv->window_index < 0) {
    priv->window_index = 0;
  }
  for (size_t k = 0; k < counts.size() && k < priv->window_counts.size(); k++)
    priv->window_counts[k] += counts[k];
  if (!GST_CLOCK_TIME_IS_VALID(now)) now = (GstClockTime)priv->window_index * settings.window;

  priv->field.expire(now);
  /* a super reaction is counted with its kind but drawn as a super sprite only */
  std::vector<guint64> plain_counts = counts;
  for (size_t k = 0; k < plain_counts.size() && k < supers.size(); k++)
    plain_counts[k] -= std::min(plain_counts[k], supers[k]);
  priv->field.spawn(now, plain_counts, supers, settings.max_sprites, settings.lifetime,
                    2 * settings.lifetime);
  std::vector<onair::SpritePose> poses = priv->field.poses(now);

  int plain = std::max(4, (int)std::lround(settings.sprite_size * height));
  int super = std::max(plain, (int)std::lround(settings.sprite_size * settings.super_scale * height));
  Renderer &renderer = *priv->renderer;
  renderer.configure(settings.kinds, plain, super);
  double area_x = settings.area[0] * width, area_y = settings.area[1] * height;
  double area_w = settings.area[2] * width, area_h = settings.area[3] * height;

  std::vector<GstVideoOverlayRectangle *> rects;
  if (settings.show_counters && !priv->counters_text.empty()) {
    int strip = std::max(8, plain * 3 / 4);
    int y = std::min((int)std::lround(area_y + area_h), height - strip);
    rects.push_back(renderer.counters(priv->counters_text, strip, std::max(1, width - (int)area_x),
                                      (int)std::lround(area_x), std::max(0, y)));
  }
  std::vector<Renderer::Placed> placed;
  for (const onair::SpritePose &pose : poses) {
    int side = renderer.size(pose.super);
    int x = (int)std::lround(area_x + pose.x * area_w - side / 2.0);
    int y = (int)std::lround(area_y + pose.y * area_h - side / 2.0);
    if (pose.alpha <= 0) continue;
    placed.push_back({pose.kind, pose.super, pose.alpha, x, y});
  }
  guint64 drawn = placed.size();
  if (GstVideoOverlayRectangle *rect = renderer.sprites(placed, width, height)) rects.push_back(rect);
  priv->sprites_drawn = drawn;
  if (drawn > priv->max_sprites_drawn) priv->max_sprites_drawn = drawn;
  priv->output.output(frame, rects);
}
