/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "spliceevent.h"

namespace onair {

GstEvent *new_splice_event(const SpliceEvent &splice) {
  GstBuffer *section = gst_buffer_new_memdup(splice.section.data(), splice.section.size());
  GstStructure *s = gst_structure_new(
      SPLICE_EVENT_NAME, "kind", G_TYPE_STRING, splice.out ? "out" : "in", "id", G_TYPE_UINT, splice.event_id,
      "break-id", G_TYPE_STRING, splice.break_id.c_str(), "duration", G_TYPE_DOUBLE, splice.duration,
      "running-time", G_TYPE_UINT64, (guint64)splice.running_time, "section", GST_TYPE_BUFFER, section,
      "discontinuity", G_TYPE_BOOLEAN, (gboolean)splice.discontinuity, NULL);
  gst_buffer_unref(section);
  return gst_event_new_custom(GST_EVENT_CUSTOM_DOWNSTREAM, s);
}

bool parse_splice_event(GstEvent *event, SpliceEvent *splice) {
  if (GST_EVENT_TYPE(event) != GST_EVENT_CUSTOM_DOWNSTREAM || !gst_event_has_name(event, SPLICE_EVENT_NAME))
    return false;
  const GstStructure *s = gst_event_get_structure(event);
  const gchar *kind = gst_structure_get_string(s, "kind");
  const gchar *break_id = gst_structure_get_string(s, "break-id");
  guint64 running_time = GST_CLOCK_TIME_NONE;
  if (!kind || !break_id || !gst_structure_get_uint(s, "id", &splice->event_id) ||
      !gst_structure_get_double(s, "duration", &splice->duration))
    return false;
  gst_structure_get_uint64(s, "running-time", &running_time);
  gboolean discontinuity = FALSE;
  gst_structure_get_boolean(s, "discontinuity", &discontinuity);
  splice->discontinuity = discontinuity;
  splice->out = g_str_equal(kind, "out");
  splice->break_id = break_id;
  splice->running_time = running_time;
  splice->section.clear();
  const GValue *value = gst_structure_get_value(s, "section");
  GstBuffer *section = value && GST_VALUE_HOLDS_BUFFER(value) ? gst_value_get_buffer(value) : NULL;
  GstMapInfo map;
  if (section && gst_buffer_map(section, &map, GST_MAP_READ)) {
    splice->section.assign(map.data, map.data + map.size);
    gst_buffer_unmap(section, &map);
  }
  return true;
}

std::string hex_attribute(const std::vector<uint8_t> &bytes) {
  static const char digits[] = "0123456789ABCDEF";
  std::string text = "0x";
  for (uint8_t byte : bytes) {
    text += digits[byte >> 4];
    text += digits[byte & 0xf];
  }
  return text;
}

}  // namespace onair
