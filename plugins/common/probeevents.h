/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

namespace onair {

/* Replaces the event a pad probe holds by `replacement`, which takes over
 * its seqnum. */
inline void replace_probe_event(GstPadProbeInfo *info, GstEvent *replacement) {
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
  gst_event_set_seqnum(replacement, gst_event_get_seqnum(event));
  gst_event_unref(event);
  GST_PAD_PROBE_INFO_DATA(info) = replacement;
}

/* For a probe that restamps buffers with their running time: a TIME segment
 * event is kept in `*kept` and replaced by a segment starting at 0 (on which
 * timestamps are running times). Returns false, and leaves the event alone,
 * for a segment in another format. */
inline bool take_time_segment(GstPadProbeInfo *info, GstSegment *kept) {
  const GstSegment *segment;
  gst_event_parse_segment(GST_PAD_PROBE_INFO_EVENT(info), &segment);
  if (segment->format != GST_FORMAT_TIME) return false;
  gst_segment_copy_into(segment, kept);
  GstSegment zero;
  gst_segment_init(&zero, GST_FORMAT_TIME);
  replace_probe_event(info, gst_event_new_segment(&zero));
  return true;
}

}  // namespace onair
