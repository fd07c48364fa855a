/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/video/gstvideofilter.h>

G_BEGIN_DECLS

/* abrladder's scaler: libswscale (the scaler ffmpeg uses) behind a
 * GstVideoFilter. Internal to the ladder, not registered as an element. */
#define GST_TYPE_ONAIR_SWSCALE (gst_onair_swscale_get_type())
G_DECLARE_FINAL_TYPE(GstOnairSwscale, gst_onair_swscale, GST, ONAIR_SWSCALE, GstVideoFilter)

G_END_DECLS
