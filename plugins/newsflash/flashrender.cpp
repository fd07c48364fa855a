/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "flashrender.h"

#include "textcontext.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace onair {

namespace {

/* Text sizes relative to the base font (a lower third's title). */
constexpr gdouble SUBTITLE_SCALE = 0.7;
constexpr gdouble CRAWL_SCALE = 0.8;
constexpr gdouble FULLSCREEN_SCALE = 1.25;
/* cairo's limit for an image surface is 32767 pixels a side */
constexpr int MAX_CRAWL_WIDTH = 32000;

void set_source_argb(cairo_t *cr, guint32 argb, gdouble opacity) {
  cairo_set_source_rgba(cr, ((argb >> 16) & 0xff) / 255.0, ((argb >> 8) & 0xff) / 255.0,
                        (argb & 0xff) / 255.0, ((argb >> 24) & 0xff) / 255.0 * opacity);
}

/* Lays text out for one frame size and style; shared by the renderer and the
 * checks made when an item arrives. */
struct Typesetter {
  PangoContext *context;
  const FlashStyle &style;
  int width, height;

  int margin_x() const { return (int)std::lround(width * style.safe_area); }
  int margin_y() const { return (int)std::lround(height * style.safe_area); }

  PangoFontDescription *font(gdouble scale) const {
    PangoFontDescription *desc = pango_font_description_from_string(style.font_desc.c_str());
    if (!(pango_font_description_get_set_fields(desc) & PANGO_FONT_MASK_SIZE))
      pango_font_description_set_absolute_size(desc, height / 24.0 * scale * PANGO_SCALE);
    else if (pango_font_description_get_size_is_absolute(desc))
      pango_font_description_set_absolute_size(desc, pango_font_description_get_size(desc) * scale);
    else
      pango_font_description_set_size(desc, (gint)(pango_font_description_get_size(desc) * scale));
    return desc;
  }

  /* Height of a line of text at this scale, in pixels. */
  gdouble line_height(gdouble scale) const {
    PangoFontDescription *desc = font(scale);
    PangoFontMetrics *metrics = pango_context_get_metrics(context, desc, NULL);
    gdouble h = (pango_font_metrics_get_ascent(metrics) + pango_font_metrics_get_descent(metrics)) /
                (gdouble)PANGO_SCALE;
    pango_font_metrics_unref(metrics);
    pango_font_description_free(desc);
    return h;
  }
  int padding() const { return std::max(2, (int)std::lround(line_height(1.0) * 0.35)); }

  /* The crawl strip: full width, at the bottom of the safe area. */
  int strip_height() const { return (int)std::ceil(line_height(CRAWL_SCALE) * 1.4); }
  int strip_y() const { return height - margin_y() - strip_height(); }

  /* wrap: width in pixels to wrap at, or -1 for one line */
  PangoLayout *layout(const std::string &markup, gdouble scale, int wrap, PangoAlignment align) const {
    PangoLayout *layout = pango_layout_new(context);
    PangoFontDescription *desc = font(scale);
    pango_layout_set_font_description(layout, desc);
    pango_font_description_free(desc);
    if (wrap > 0) {
      pango_layout_set_width(layout, wrap * PANGO_SCALE);
      pango_layout_set_wrap(layout, PANGO_WRAP_WORD_CHAR);
    }
    pango_layout_set_alignment(layout, align);
    pango_layout_set_markup(layout, markup.c_str(), -1);
    return layout;
  }

  /* A box of text: the layouts stacked with padding around; geometry only
   * unless cr is given. */
  struct Box {
    PangoLayout *lines[2] = {nullptr, nullptr};
    PangoRectangle logical[2] = {};
    int width = 0, height = 0, gap = 0, pad = 0;
    ~Box() {
      for (PangoLayout *l : lines)
        if (l) g_object_unref(l);
    }
  };
  void box(Box *box, const std::string &title, const std::string &subtitle, gdouble scale,
           PangoAlignment align) const {
    box->pad = padding();
    int wrap = std::max(1, width - 2 * margin_x() - 2 * box->pad);
    box->lines[0] = layout(title, scale, wrap, align);
    if (!subtitle.empty()) box->lines[1] = layout(subtitle, scale * SUBTITLE_SCALE, wrap, align);
    box->gap = box->pad / 3;
    int text_w = 0, text_h = 0;
    for (int i = 0; i < 2; i++) {
      if (!box->lines[i]) continue;
      pango_layout_get_pixel_extents(box->lines[i], NULL, &box->logical[i]);
      text_w = std::max(text_w, box->logical[i].width);
      text_h += box->logical[i].height + (i > 0 ? box->gap : 0);
    }
    box->width = std::min(text_w + 2 * box->pad, width);
    box->height = std::min(text_h + 2 * box->pad, height);
  }
};

/* An ARGB buffer with a cairo context on its pixels, turned into an overlay
 * rectangle once drawn. */
struct Canvas {
  GstBuffer *buffer;
  GstMapInfo map;
  cairo_surface_t *surface;
  cairo_t *cr;
  int width, height;

  /* clear: false when the drawing covers every pixel (CAIRO_OPERATOR_SOURCE) */
  Canvas(int w, int h, bool clear = true) : width(std::max(1, w)), height(std::max(1, h)) {
    buffer = gst_buffer_new_allocate(NULL, (gsize)width * height * 4, NULL);
    gst_buffer_map(buffer, &map, GST_MAP_READWRITE);
    if (clear) memset(map.data, 0, map.size);
    surface = cairo_image_surface_create_for_data(map.data, CAIRO_FORMAT_ARGB32, width, height, width * 4);
    cr = cairo_create(surface);
  }
  GstVideoOverlayRectangle *finish(int x, int y, int render_width, int render_height) {
    cairo_destroy(cr);
    cairo_surface_flush(surface);
    cairo_surface_destroy(surface);
    gst_buffer_unmap(buffer, &map);
    /* cairo's ARGB32 is native-endian premultiplied ARGB, the byte order
     * GST_VIDEO_OVERLAY_COMPOSITION_FORMAT_RGB names */
    gst_buffer_add_video_meta(buffer, GST_VIDEO_FRAME_FLAG_NONE, GST_VIDEO_OVERLAY_COMPOSITION_FORMAT_RGB,
                              width, height);
    GstVideoOverlayRectangle *rect = gst_video_overlay_rectangle_new_raw(
        buffer, x, y, render_width, render_height, GST_VIDEO_OVERLAY_FORMAT_FLAG_PREMULTIPLIED_ALPHA);
    gst_buffer_unref(buffer);
    return rect;
  }
};

void draw_box(cairo_t *cr, const FlashStyle &style, const Typesetter::Box &box) {
  set_source_argb(cr, style.box_color, style.box_opacity);
  cairo_paint(cr);
  set_source_argb(cr, style.text_color, 1.0);
  int y = box.pad;
  for (int i = 0; i < 2; i++) {
    if (!box.lines[i]) continue;
    /* the logical rectangle may start off zero (right-aligned RTL text) */
    cairo_move_to(cr, box.pad - box.logical[i].x, y - box.logical[i].y);
    pango_cairo_show_layout(cr, box.lines[i]);
    y += box.logical[i].height + box.gap;
  }
}

GstVideoOverlayRectangle *with_alpha(GstVideoOverlayRectangle *rect, gdouble alpha) {
  if (alpha >= 1.0) return gst_video_overlay_rectangle_ref(rect);
  GstVideoOverlayRectangle *copy = gst_video_overlay_rectangle_copy(rect);
  gst_video_overlay_rectangle_set_global_alpha(copy, (gfloat)std::max(0.0, alpha));
  return copy;
}

}  // namespace

FlashRenderer::FlashRenderer() {
  font_map_ = pango_cairo_font_map_new();
  context_ = pango_font_map_create_context(font_map_);
  set_context_options(context_);
}

FlashRenderer::~FlashRenderer() {
  keep_only({});
  if (dim_) gst_video_overlay_rectangle_unref(dim_);
  if (separator_) cairo_surface_destroy(separator_);
  g_object_unref(context_);
  g_object_unref(font_map_);
}

void FlashRenderer::drop(Cached &entry) {
  if (entry.rect) gst_video_overlay_rectangle_unref(entry.rect);
  if (entry.text) cairo_surface_destroy(entry.text);
  entry = Cached();
}

bool FlashRenderer::configure(int width, int height, const FlashStyle &style) {
  if (width == width_ && height == height_ && style == style_) return false;
  keep_only({});
  if (dim_) gst_video_overlay_rectangle_unref(dim_);
  dim_ = nullptr;
  if (separator_) cairo_surface_destroy(separator_);
  separator_ = nullptr;
  separator_width_ = -1;
  width_ = width;
  height_ = height;
  style_ = style;
  strip_height_ = strip_y_ = -1;
  return true;
}

void FlashRenderer::keep_only(const std::set<guint64> &ids) {
  for (auto it = cache_.begin(); it != cache_.end();) {
    if (ids.count(it->first)) {
      ++it;
    } else {
      drop(it->second);
      it = cache_.erase(it);
    }
  }
}

/* A crawl text alone, on one line, and where it sits in the strip. */
cairo_surface_t *FlashRenderer::crawl_text(const std::string &markup, int *text_y) {
  Typesetter setter{context_, style_, width_, height_};
  PangoLayout *layout = setter.layout(markup, CRAWL_SCALE, -1, PANGO_ALIGN_LEFT);
  PangoRectangle logical;
  pango_layout_get_pixel_extents(layout, NULL, &logical);
  int w = std::clamp(logical.width + 1, 1, MAX_CRAWL_WIDTH);
  int h = std::clamp(logical.height, 1, std::max(1, height_));
  cairo_surface_t *surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h);
  cairo_t *cr = cairo_create(surface);
  set_source_argb(cr, style_.text_color, 1.0);
  cairo_move_to(cr, -logical.x, -logical.y);
  pango_cairo_show_layout(cr, layout);
  cairo_destroy(cr);
  cairo_surface_flush(surface);
  g_object_unref(layout);
  *text_y = (setter.strip_height() - h) / 2;
  return surface;
}

FlashRenderer::Cached &FlashRenderer::cached_crawl(guint64 id, const std::string &text) {
  Cached &entry = cache_[id];
  if (!entry.text) entry.text = crawl_text(text, &entry.text_y);
  return entry;
}

FlashRenderer::Cached &FlashRenderer::cached(const FlashItem &item) {
  if (item.layer == FlashLayer::Crawl) return cached_crawl(item.id, item.text);
  Cached &entry = cache_[item.id];
  if (entry.rect) return entry;
  Typesetter setter{context_, style_, width_, height_};
  bool full = item.layer == FlashLayer::Fullscreen;
  Typesetter::Box box;
  setter.box(&box, item.text, full ? std::string() : item.subtitle, full ? FULLSCREEN_SCALE : 1.0,
             full ? PANGO_ALIGN_CENTER : PANGO_ALIGN_LEFT);
  Canvas canvas(box.width, box.height);
  draw_box(canvas.cr, style_, box);
  int x, y;
  if (full) {
    x = (width_ - box.width) / 2;
    y = (height_ - box.height) / 2;
  } else {
    int mx = setter.margin_x();
    switch (style_.position) {
      case FlashPosition::Left:
        x = mx;
        break;
      case FlashPosition::Center:
        x = (width_ - box.width) / 2;
        break;
      default:
        x = width_ - mx - box.width;
        break;
    }
    /* above the crawl strip, half a margin apart */
    y = std::max(0, setter.strip_y() - setter.margin_y() / 2 - box.height);
  }
  entry.rect = canvas.finish(x, y, canvas.width, canvas.height);
  return entry;
}

int FlashRenderer::crawl_text_width(guint64 id, const std::string &text) {
  return cairo_image_surface_get_width(cached_crawl(id, text).text);
}

int FlashRenderer::crawl_separator_width() {
  if (separator_width_ < 0) {
    /* spaces alone draw nothing but still take their room */
    PangoLayout *layout = Typesetter{context_, style_, width_, height_}.layout(
        style_.crawl_separator, CRAWL_SCALE, -1, PANGO_ALIGN_LEFT);
    PangoRectangle logical;
    pango_layout_get_pixel_extents(layout, NULL, &logical);
    g_object_unref(layout);
    separator_width_ = std::clamp(logical.width, 0, MAX_CRAWL_WIDTH);
    if (separator_width_ > 0) separator_ = crawl_text(style_.crawl_separator, &separator_y_);
  }
  return separator_width_;
}

GstVideoOverlayRectangle *FlashRenderer::lower_third(const FlashItem &item, gdouble alpha, int slide) {
  GstVideoOverlayRectangle *rect = cached(item).rect;
  if (slide == 0) return with_alpha(rect, alpha);
  gint x, y;
  guint w, h;
  gst_video_overlay_rectangle_get_render_rectangle(rect, &x, &y, &w, &h);
  GstVideoOverlayRectangle *moved = gst_video_overlay_rectangle_copy(rect);
  gst_video_overlay_rectangle_set_render_rectangle(moved, x - slide, y, w, h);
  gst_video_overlay_rectangle_set_global_alpha(moved, (gfloat)std::clamp(alpha, 0.0, 1.0));
  return moved;
}

GstVideoOverlayRectangle *FlashRenderer::fullscreen(const FlashItem &item, gdouble alpha) {
  return with_alpha(cached(item).rect, alpha);
}

GstVideoOverlayRectangle *FlashRenderer::crawl(const std::vector<CrawlPiece> &pieces, gdouble alpha) {
  if (strip_height_ < 0) {
    Typesetter setter{context_, style_, width_, height_};
    strip_height_ = setter.strip_height();
    strip_y_ = setter.strip_y();
  }
  int separator_width = crawl_separator_width();
  Canvas canvas(width_, strip_height_, false);
  set_source_argb(canvas.cr, style_.box_color, style_.box_opacity);
  cairo_set_operator(canvas.cr, CAIRO_OPERATOR_SOURCE);
  cairo_paint(canvas.cr);
  cairo_set_operator(canvas.cr, CAIRO_OPERATOR_OVER);
  /* the cached texts at fractional offsets: cairo filters them bilinearly,
   * so the crawl moves by sub-pixel steps */
  auto draw = [&](cairo_surface_t *surface, gdouble x, int y, gdouble piece_alpha) {
    int w = cairo_image_surface_get_width(surface);
    if (x >= width_ || x + w <= 0 || piece_alpha <= 0) return;
    cairo_set_source_surface(canvas.cr, surface, x, y);
    cairo_pattern_set_filter(cairo_get_source(canvas.cr), CAIRO_FILTER_BILINEAR);
    if (piece_alpha >= 1.0)
      cairo_paint(canvas.cr);
    else
      cairo_paint_with_alpha(canvas.cr, piece_alpha);
  };
  for (const CrawlPiece &piece : pieces) {
    Cached &entry = cached_crawl(piece.id, *piece.text);
    draw(entry.text, piece.x, entry.text_y, piece.alpha);
    if (piece.separator_after && separator_)
      draw(separator_, piece.x + cairo_image_surface_get_width(entry.text), separator_y_, piece.alpha);
  }
  (void)separator_width;
  GstVideoOverlayRectangle *rect = canvas.finish(0, strip_y_, canvas.width, canvas.height);
  if (alpha < 1.0) gst_video_overlay_rectangle_set_global_alpha(rect, (gfloat)std::max(0.0, alpha));
  return rect;
}

GstVideoOverlayRectangle *FlashRenderer::dim(gdouble amount) {
  if (!dim_) {
    /* a small opaque black picture drawn over the whole frame */
    Canvas canvas(16, 16);
    cairo_set_source_rgba(canvas.cr, 0, 0, 0, 1);
    cairo_paint(canvas.cr);
    dim_ = canvas.finish(0, 0, width_, height_);
  }
  return with_alpha(dim_, amount);
}

std::string FlashRenderer::check(FlashLayer layer, const std::string &text, const std::string &subtitle,
                                 const FlashStyle &style, int width, int height) {
  if (text.empty()) return "the text is empty";
  for (const std::string *markup : {&text, &subtitle}) {
    GError *error = NULL;
    if (!pango_parse_markup(markup->c_str(), -1, 0, NULL, NULL, NULL, &error)) {
      std::string what = std::string("invalid markup in \"") + *markup + "\": " + error->message;
      g_error_free(error);
      return what;
    }
  }
  PangoContext *context = pango_font_map_create_context(pango_cairo_font_map_get_default());
  set_context_options(context);
  Typesetter setter{context, style, width, height};
  std::string what;
  if (layer == FlashLayer::Crawl) {
    PangoLayout *layout = setter.layout(text, CRAWL_SCALE, -1, PANGO_ALIGN_LEFT);
    PangoRectangle logical;
    pango_layout_get_pixel_extents(layout, NULL, &logical);
    g_object_unref(layout);
    if (logical.width > MAX_CRAWL_WIDTH || logical.height > height / 2)
      what = "the crawl text is too large: " + std::to_string(logical.width) + "x" +
             std::to_string(logical.height) + " px (at most " + std::to_string(MAX_CRAWL_WIDTH) + "x" +
             std::to_string(height / 2) + ")";
  } else {
    bool full = layer == FlashLayer::Fullscreen;
    Typesetter::Box box;
    setter.box(&box, text, full ? std::string() : subtitle, full ? FULLSCREEN_SCALE : 1.0, PANGO_ALIGN_LEFT);
    int limit = full ? height - 2 * setter.margin_y() : height / 2;
    if (box.height >= limit)
      what = std::string("the ") + flash_layer_name(layer) +
             " text is too large: " + std::to_string(box.height) + " px high on a " + std::to_string(height) +
             " px frame (at most " + std::to_string(limit) + ")";
  }
  g_object_unref(context);
  return what;
}

void flash_dim_frame(GstVideoFrame *frame, gdouble amount) {
  const GstVideoFormatInfo *finfo = frame->info.finfo;
  /* new = offset + (old - offset) * keep / 256, towards black: 16 for luma
   * and 128 for chroma in YUV, 0 in RGB */
  guint keep = (guint)std::lround(std::clamp(1.0 - amount, 0.0, 1.0) * 256);
  for (guint c = 0; c < GST_VIDEO_FORMAT_INFO_N_COMPONENTS(finfo); c++) {
    if (c == GST_VIDEO_COMP_A && GST_VIDEO_FORMAT_INFO_HAS_ALPHA(finfo)) continue;
    if (GST_VIDEO_FORMAT_INFO_DEPTH(finfo, c) != 8) continue;
    guint offset = GST_VIDEO_FORMAT_INFO_IS_YUV(finfo) ? (c == 0 ? 16 : 128) : 0;
    guint bias = offset * (256 - keep) + 128;
    guint8 *data = (guint8 *)GST_VIDEO_FRAME_COMP_DATA(frame, c);
    gint stride = GST_VIDEO_FRAME_COMP_STRIDE(frame, c);
    gint pstride = GST_VIDEO_FRAME_COMP_PSTRIDE(frame, c);
    gint w = GST_VIDEO_FRAME_COMP_WIDTH(frame, c), h = GST_VIDEO_FRAME_COMP_HEIGHT(frame, c);
    /* 16 samples at a time in 16-bit lanes: keep * v + bias <= 65408 */
    typedef guint8 u8x16 __attribute__((vector_size(16)));
    typedef guint16 u16x16 __attribute__((vector_size(32)));
    const u16x16 keep16 = (u16x16){} + (guint16)keep, bias16 = (u16x16){} + (guint16)bias;
    for (gint y = 0; y < h; y++) {
      guint8 *line = data + (gsize)y * stride;
      if (pstride == 1) {
        gint x = 0;
        for (; x + 16 <= w; x += 16) {
          u8x16 v;
          memcpy(&v, line + x, sizeof v);
          u16x16 wide = (__builtin_convertvector(v, u16x16) * keep16 + bias16) >> 8;
          v = __builtin_convertvector(wide, u8x16);
          memcpy(line + x, &v, sizeof v);
        }
        for (; x < w; x++) line[x] = (guint8)((line[x] * keep + bias) >> 8);
      } else {
        for (gint x = 0; x < w; x++) line[x * pstride] = (guint8)((line[x * pstride] * keep + bias) >> 8);
      }
    }
  }
}

}  // namespace onair
