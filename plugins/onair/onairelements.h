/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

GST_ELEMENT_REGISTER_DECLARE(abrladder);
GST_ELEMENT_REGISTER_DECLARE(abrsink);
GST_ELEMENT_REGISTER_DECLARE(rtmpserversrc);
GST_ELEMENT_REGISTER_DECLARE(liveinput);
GST_ELEMENT_REGISTER_DECLARE(adsplice);
GST_ELEMENT_REGISTER_DECLARE(newsflash);
GST_ELEMENT_REGISTER_DECLARE(reactions);

G_END_DECLS
