/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "timedmetadata.h"

namespace onair {

GstEvent *new_timed_metadata_event(const TimedMetadata &metadata) {
  if (metadata.payload.size() > TIMED_METADATA_MAX_PAYLOAD || metadata.id.empty() ||
      !GST_CLOCK_TIME_IS_VALID(metadata.running_time) ||
      !g_utf8_validate(metadata.payload.data(), (gssize)metadata.payload.size(), NULL))
    return NULL;
  GstStructure *s = gst_structure_new(
      TIMED_METADATA_EVENT_NAME, "id", G_TYPE_STRING, metadata.id.c_str(), "class", G_TYPE_STRING,
      metadata.hls_class.c_str(), "attribute", G_TYPE_STRING, metadata.hls_attribute.c_str(), "scheme",
      G_TYPE_STRING, metadata.dash_scheme.c_str(), "running-time", G_TYPE_UINT64,
      (guint64)metadata.running_time, "duration", G_TYPE_UINT64, (guint64)metadata.duration, "payload",
      G_TYPE_STRING, metadata.payload.c_str(), NULL);
  return gst_event_new_custom(GST_EVENT_CUSTOM_DOWNSTREAM, s);
}

bool parse_timed_metadata_event(GstEvent *event, TimedMetadata *metadata) {
  if (GST_EVENT_TYPE(event) != GST_EVENT_CUSTOM_DOWNSTREAM ||
      !gst_event_has_name(event, TIMED_METADATA_EVENT_NAME))
    return false;
  const GstStructure *s = gst_event_get_structure(event);
  const gchar *id = gst_structure_get_string(s, "id");
  const gchar *hls_class = gst_structure_get_string(s, "class");
  const gchar *attribute = gst_structure_get_string(s, "attribute");
  const gchar *scheme = gst_structure_get_string(s, "scheme");
  const gchar *payload = gst_structure_get_string(s, "payload");
  guint64 running_time, duration;
  if (!id || !hls_class || !attribute || !scheme || !payload ||
      !gst_structure_get_uint64(s, "running-time", &running_time) ||
      !gst_structure_get_uint64(s, "duration", &duration))
    return false;
  metadata->id = id;
  metadata->hls_class = hls_class;
  metadata->hls_attribute = attribute;
  metadata->dash_scheme = scheme;
  metadata->running_time = running_time;
  metadata->duration = duration;
  metadata->payload = payload;
  return true;
}

std::string hls_quoted_percent_encoded(const std::string &text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "%22";
        break;
      case '%':
        out += "%25";
        break;
      case '\r':
        out += "%0D";
        break;
      case '\n':
        out += "%0A";
        break;
      default:
        out += c;
    }
  }
  return out + "\"";
}

}  // namespace onair
