/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

#include <string>

namespace onair {

/* The serialized custom downstream event "onair-timed-metadata": a small
 * payload that belongs to a span of the stream's running time (reactions
 * counted over a window, for instance). It does not cut segments: abrsink
 * writes it as an EXT-X-DATERANGE in the reference video's media playlist
 * (START-DATE: the date of `running_time`, DURATION, CLASS=`hls_class`, the
 * payload in the attribute `hls_attribute`) and as an Event of the MPD's
 * EventStream `dash_scheme` (presentationTime: `running_time`, the payload
 * as its text). The event travels after the span it describes. */
inline constexpr const char *TIMED_METADATA_EVENT_NAME = "onair-timed-metadata";
/* Longest payload carried, in bytes. */
inline constexpr size_t TIMED_METADATA_MAX_PAYLOAD = 1024;

struct TimedMetadata {
  std::string id;                                  /* unique in the stream, e.g. "reactions-12" */
  std::string hls_class;                           /* "com.onair.reactions" */
  std::string hls_attribute;                       /* "X-REACTIONS" (client attribute, RFC 8216 4.4.5.1) */
  std::string dash_scheme;                         /* "urn:onair:reactions:2026" */
  GstClockTime running_time = GST_CLOCK_TIME_NONE; /* start of the span */
  GstClockTime duration = GST_CLOCK_TIME_NONE;
  std::string payload; /* UTF-8 text, at most TIMED_METADATA_MAX_PAYLOAD bytes */
};

/* NULL when the payload is too long or a field is empty. */
GstEvent *new_timed_metadata_event(const TimedMetadata &metadata);
/* False when `event` is not an onair-timed-metadata event or lacks a field. */
bool parse_timed_metadata_event(GstEvent *event, TimedMetadata *metadata);

/* `text` as the value of a quoted-string attribute of a playlist tag, which
 * may not hold '"', CR or LF (RFC 8216 4.2): those and '%' are
 * percent-encoded (%22, %0D, %0A, %25), so decodeURIComponent() gives the
 * text back. Returned with its quotes. */
std::string hls_quoted_percent_encoded(const std::string &text);

}  // namespace onair
