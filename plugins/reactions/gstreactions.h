/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <gst/video/gstvideofilter.h>

G_BEGIN_DECLS

#define GST_TYPE_REACTIONS (gst_reactions_get_type())
G_DECLARE_FINAL_TYPE(GstReactions, gst_reactions, GST, REACTIONS, GstVideoFilter)

GST_ELEMENT_REGISTER_DECLARE(reactions);

G_END_DECLS
