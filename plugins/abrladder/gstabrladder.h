/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_ABR_LADDER (gst_abr_ladder_get_type())
G_DECLARE_FINAL_TYPE(GstAbrLadder, gst_abr_ladder, GST, ABR_LADDER, GstBin)

GST_ELEMENT_REGISTER_DECLARE(abrladder);

G_END_DECLS
