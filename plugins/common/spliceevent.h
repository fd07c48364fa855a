/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

#include <cstdint>
#include <string>
#include <vector>

namespace onair {

/* The serialized custom downstream event "onair-splice" that adsplice sends
 * right before the first frame of an ad break (kind "out") and the first
 * frame after it (kind "in"). abrladder forces a keyframe on that frame in
 * every rung; abrsink starts a segment there and marks it (CUE-OUT/CUE-IN,
 * DATERANGE, the MPD's EventStream). */
inline constexpr const char *SPLICE_EVENT_NAME = "onair-splice";

struct SpliceEvent {
  bool out = true;
  guint event_id = 0;   /* splice_event_id */
  std::string break_id; /* unique per break: the DATERANGE ID and the DASH Event id */
  double duration = -1; /* out: planned seconds; in: seconds the break lasted; -1: unknown */
  GstClockTime running_time = GST_CLOCK_TIME_NONE; /* of the frame the splice happens on */
  std::vector<uint8_t> section;                    /* the splice_info_section, may be empty */
  bool discontinuity = false; /* the picture changes source here (adsplice mode=replace) */
};

GstEvent *new_splice_event(const SpliceEvent &splice);
/* False when `event` is not an onair-splice event or lacks a field. */
bool parse_splice_event(GstEvent *event, SpliceEvent *splice);

/* "0xFC30..." as SCTE35-OUT/SCTE35-IN want it (RFC 8216 4.4.5.1.1). */
std::string hex_attribute(const std::vector<uint8_t> &bytes);

}  // namespace onair
