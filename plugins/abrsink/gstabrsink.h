/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_ABR_SINK (gst_abr_sink_get_type())
G_DECLARE_FINAL_TYPE(GstAbrSink, gst_abr_sink, GST, ABR_SINK, GstBin)

GST_ELEMENT_REGISTER_DECLARE(abrsink);

G_END_DECLS
