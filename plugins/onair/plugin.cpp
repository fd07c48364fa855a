/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "onairelements.h"

static gboolean plugin_init(GstPlugin *plugin) {
  gboolean ret = FALSE;

#ifdef ONAIR_HAVE_ABR
  ret |= GST_ELEMENT_REGISTER(abrladder, plugin);
  ret |= GST_ELEMENT_REGISTER(abrsink, plugin);
#endif

#ifdef ONAIR_HAVE_ADS
  ret |= GST_ELEMENT_REGISTER(adsplice, plugin);
#endif

#ifdef ONAIR_HAVE_GRAPHICS
  ret |= GST_ELEMENT_REGISTER(newsflash, plugin);
  ret |= GST_ELEMENT_REGISTER(reactions, plugin);
#endif

#ifdef ONAIR_HAVE_INGEST
  ret |= GST_ELEMENT_REGISTER(rtmpserversrc, plugin);
  ret |= GST_ELEMENT_REGISTER(liveinput, plugin);
#endif

  return ret;
}

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, onair,
                  "onair live video pipeline elements: RTMP ingest, ad splicing, news graphics, viewer "
                  "reactions, ABR ladder "
                  "and HLS/DASH packaging",
                  plugin_init, VERSION, "LGPL", GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
