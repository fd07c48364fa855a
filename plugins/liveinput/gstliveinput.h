/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_LIVE_INPUT (gst_live_input_get_type())
G_DECLARE_FINAL_TYPE(GstLiveInput, gst_live_input, GST, LIVE_INPUT, GstBin)

GST_ELEMENT_REGISTER_DECLARE(liveinput);

G_END_DECLS
