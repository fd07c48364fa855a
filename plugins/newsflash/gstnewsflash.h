/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <gst/video/gstvideofilter.h>

G_BEGIN_DECLS

#define GST_TYPE_NEWS_FLASH (gst_news_flash_get_type())
G_DECLARE_FINAL_TYPE(GstNewsFlash, gst_news_flash, GST, NEWS_FLASH, GstVideoFilter)

GST_ELEMENT_REGISTER_DECLARE(newsflash);

G_END_DECLS
