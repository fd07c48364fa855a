/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

#include <cstdint>
#include <vector>

namespace onair {

/* SCTE-35 splice_info_sections built with the gstmpegts library. */

/* The bytes of a splice_insert: out of network (a break of `duration`, not
 * written when NONE, with auto-return) or back in, at `running_time` written
 * as a 90 kHz splice_time (pts_adjustment 0). For HLS SCTE35-OUT/IN and the
 * DASH EventStream's Binary. Empty if gstmpegts could not packetize it. */
std::vector<uint8_t> splice_insert_bytes(guint32 event_id, bool out, GstClockTime running_time,
                                         GstClockTime duration);

/* The same splice_insert as a "scte-sit" mpegts section event with times in
 * running time, as mpegtsmux (scte-35-pid) expects from an application: it
 * translates them to its PTS and writes the section on its SCTE-35 PID. */
GstEvent *splice_insert_event(guint32 event_id, bool out, GstClockTime running_time, GstClockTime duration);

}  // namespace onair
