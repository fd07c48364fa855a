/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "splicesection.h"

#include <gst/mpegts/mpegts.h>

namespace onair {

namespace {

GstMpegtsSCTESIT *new_splice_insert(guint32 event_id, bool out, GstClockTime time, GstClockTime duration) {
  GstMpegtsSCTESIT *sit = out ? gst_mpegts_scte_splice_out_new(event_id, time, duration)
                              : gst_mpegts_scte_splice_in_new(event_id, time);
  if (out && duration != 0) {
    /* adsplice returns to the program at the end of the break by itself */
    GstMpegtsSCTESpliceEvent *event =
        static_cast<GstMpegtsSCTESpliceEvent *>(g_ptr_array_index(sit->splices, 0));
    event->break_duration_auto_return = TRUE;
  }
  return sit;
}

GstClockTime to_90khz(GstClockTime time) {
  return GST_CLOCK_TIME_IS_VALID(time) ? gst_util_uint64_scale(time, 9, 100000) & 0x1ffffffffULL : 0;
}

}  // namespace

std::vector<uint8_t> splice_insert_bytes(guint32 event_id, bool out, GstClockTime running_time,
                                         GstClockTime duration) {
  /* Built in 90 kHz units directly: gstmpegts writes the fields as they are
   * unless a muxer translates them (is_running_time). */
  GstMpegtsSCTESIT *sit = new_splice_insert(event_id, out, to_90khz(running_time),
                                            GST_CLOCK_TIME_IS_VALID(duration) ? to_90khz(duration) : 0);
  sit->is_running_time = FALSE;
  GstMpegtsSection *section = gst_mpegts_section_from_scte_sit(sit, 0x1fff);
  gsize size = 0;
  guint8 *data = gst_mpegts_section_packetize(section, &size);
  std::vector<uint8_t> bytes;
  if (data) bytes.assign(data, data + size);
  gst_mpegts_section_unref(section);
  return bytes;
}

GstEvent *splice_insert_event(guint32 event_id, bool out, GstClockTime running_time, GstClockTime duration) {
  GstMpegtsSCTESIT *sit =
      new_splice_insert(event_id, out, running_time, GST_CLOCK_TIME_IS_VALID(duration) ? duration : 0);
  GstMpegtsSection *section = gst_mpegts_section_from_scte_sit(sit, 0x1fff);
  GstEvent *event = gst_event_new_mpegts_section(section);
  gst_mpegts_section_unref(section);
  return event;
}

}  // namespace onair
