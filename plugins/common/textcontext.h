/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

/* For the elements that draw text with Pango (newsflash, reactions); they
 * bring the pangocairo dependency. */
#include <pango/pangocairo.h>

namespace onair {

/* A context whose layout does not depend on the screen or the machine's
 * font settings: 96 dpi, greyscale antialiasing, no hinting, so that text
 * moves by sub-pixel amounts and renders the same everywhere. */
inline void set_context_options(PangoContext *context) {
  pango_cairo_context_set_resolution(context, 96);
  cairo_font_options_t *options = cairo_font_options_create();
  cairo_font_options_set_antialias(options, CAIRO_ANTIALIAS_GRAY);
  cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE);
  cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF);
  pango_cairo_context_set_font_options(context, options);
  cairo_font_options_destroy(options);
}

}  // namespace onair
