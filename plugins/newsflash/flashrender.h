/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/video/video.h>
#include <pango/pangocairo.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "flashqueue.h"

namespace onair {

enum class FlashPosition { Left = 0, Center = 1, Right = 2 };

/* How the graphics look; the element's style properties. */
struct FlashStyle {
  std::string font_desc = "Sans Bold"; /* no size: a 24th of the frame height */
  guint32 text_color = 0xffffffff;     /* ARGB */
  guint32 box_color = 0xff14306b;      /* ARGB */
  gdouble box_opacity = 0.85;
  gdouble safe_area = 0.05; /* margin on each edge, fraction of the frame */
  FlashPosition position = FlashPosition::Left;
  std::string crawl_separator = "  \u2022  "; /* markup between crawl items */
  bool operator==(const FlashStyle &) const = default;
};

/* One crawl pass to draw in the strip. */
struct CrawlPiece {
  guint64 id;
  const std::string *text;
  gdouble x;            /* left edge, px, fractional */
  gdouble alpha;        /* 0..1 */
  bool separator_after; /* the separator follows it */
};

/* Draws the layers' items with Pango and cairo into premultiplied ARGB
 * overlay rectangles. Each item is laid out and drawn once and cached until it
 * leaves the screen; per frame only the crawl strip is composed again, from
 * the cached texts of the passes in view at fractional offsets. Streaming
 * thread only. */
class FlashRenderer {
 public:
  FlashRenderer();
  ~FlashRenderer();
  FlashRenderer(const FlashRenderer &) = delete;
  FlashRenderer &operator=(const FlashRenderer &) = delete;

  /* A new frame size or style drops every cached picture; true if so. */
  bool configure(int width, int height, const FlashStyle &style);
  /* Drops the cached pictures of items other than these. */
  void keep_only(const std::set<guint64> &ids);

  /* Width in pixels of a crawl item's text, and of the separator. */
  int crawl_text_width(guint64 id, const std::string &text);
  int crawl_separator_width();
  /* The item's rectangle at global alpha `alpha` (new reference). */
  /* slide: pixels left of its place (it slides in) */
  GstVideoOverlayRectangle *lower_third(const FlashItem &item, gdouble alpha, int slide);
  GstVideoOverlayRectangle *fullscreen(const FlashItem &item, gdouble alpha);
  /* The crawl strip at global alpha `alpha` with these passes on it; only
   * the parts inside the frame are drawn. */
  GstVideoOverlayRectangle *crawl(const std::vector<CrawlPiece> &pieces, gdouble alpha);
  /* The whole frame in black at alpha `amount`, for the overlay meta path. */
  GstVideoOverlayRectangle *dim(gdouble amount);

  /* Empty if the item can be shown with this style on a frame of this size,
   * else what is wrong with it (bad markup, too large). Any thread. */
  static std::string check(FlashLayer layer, const std::string &text, const std::string &subtitle,
                           const FlashStyle &style, int width, int height);

 private:
  struct Cached {
    GstVideoOverlayRectangle *rect = nullptr; /* lower third, fullscreen: at alpha 1 */
    cairo_surface_t *text = nullptr;          /* crawl: the text alone */
    int text_y = 0;
  };
  Cached &cached(const FlashItem &item);
  Cached &cached_crawl(guint64 id, const std::string &text);
  cairo_surface_t *crawl_text(const std::string &markup, int *text_y);
  void drop(Cached &entry);

  PangoFontMap *font_map_;
  PangoContext *context_;
  int width_ = 0, height_ = 0;
  int strip_height_ = -1, strip_y_ = -1; /* the crawl strip, once per size and style */
  FlashStyle style_;
  std::map<guint64, Cached> cache_;
  GstVideoOverlayRectangle *dim_ = nullptr;
  cairo_surface_t *separator_ = nullptr; /* NULL until drawn; may stay empty text */
  int separator_width_ = -1, separator_y_ = 0;
};

/* Darkens the frame in place towards black by `amount` (0..1), every
 * component of an 8-bit format but alpha: the blending path's fullscreen
 * dim, much cheaper than blending a frame-sized rectangle. */
void flash_dim_frame(GstVideoFrame *frame, gdouble amount);

}  // namespace onair
