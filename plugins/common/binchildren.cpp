/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "binchildren.h"

namespace onair {

GstElement *BinChildren::make(const char *factory) {
  GstElement *element = gst_element_factory_make(factory, nullptr);
  if (!element) {
    missing_ += (missing_.empty() ? "" : ", ") + std::string(factory);
    GST_ELEMENT_ERROR(bin_, CORE, MISSING_PLUGIN,
                      ("Element '%s' is missing; install the GStreamer plugin that provides it", factory),
                      (nullptr));
    return nullptr;
  }
  return adopt(element);
}

GstElement *BinChildren::adopt(GstElement *element) {
  gst_bin_add(bin_, element);
  elements_.push_back(GST_ELEMENT(gst_object_ref(element)));
  return element;
}

void BinChildren::remove_all() {
  std::vector<GstElement *> elements = std::move(elements_);
  elements_.clear();
  for (GstElement *element : elements) {
    if (GST_OBJECT_PARENT(element) == GST_OBJECT(bin_)) {
      gst_element_set_state(element, GST_STATE_NULL);
      gst_bin_remove(bin_, element);
    }
    gst_object_unref(element);
  }
}

void BinChildren::forget() {
  for (GstElement *element : elements_) gst_object_unref(element);
  elements_.clear();
}

}  // namespace onair
