/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_AD_SPLICE (gst_ad_splice_get_type())
G_DECLARE_FINAL_TYPE(GstAdSplice, gst_ad_splice, GST, AD_SPLICE, GstElement)

GST_ELEMENT_REGISTER_DECLARE(adsplice);

G_END_DECLS
