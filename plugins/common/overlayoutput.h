/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/base/gstbasetransform.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include <atomic>
#include <vector>

/* The raw formats the graphics filters take: 8-bit ones, which blending
 * handles and newsflash's fullscreen dim scales in place. Their sink pad
 * takes them as they are (ONAIR_OVERLAY_SINK_CAPS); their source pad offers
 * them with meta:GstVideoOverlayComposition first, then without
 * (ONAIR_OVERLAY_SRC_CAPS). */
#define ONAIR_OVERLAY_FORMATS                                                                                \
  "{ I420, YV12, NV12, NV21, Y42B, Y444, Y41B, NV16, NV61, NV24, A420, YUY2, UYVY, YVYU, VYUY, AYUV, v308, " \
  "IYU2, BGRx, RGBx, xRGB, xBGR, BGRA, RGBA, ARGB, ABGR, RGB, BGR, GRAY8 }"
#define ONAIR_OVERLAY_SINK_CAPS GST_VIDEO_CAPS_MAKE(ONAIR_OVERLAY_FORMATS)
#define ONAIR_OVERLAY_SRC_CAPS                                                           \
  GST_VIDEO_CAPS_MAKE_WITH_FEATURES(GST_CAPS_FEATURE_META_GST_VIDEO_OVERLAY_COMPOSITION, \
                                    ONAIR_OVERLAY_FORMATS)                               \
  ";" GST_VIDEO_CAPS_MAKE(ONAIR_OVERLAY_FORMATS)

namespace onair {

/* The overlay output shared by the in-place graphics filters (newsflash,
 * reactions): negotiation of meta:GstVideoOverlayComposition and the choice,
 * per caps, between attaching the overlay composition meta and blending into
 * the frame, as textoverlay does.
 *
 * Downstream is offered the caps with the meta first, then as they come (the
 * other way round once downstream has shown it does not handle the meta);
 * upstream sees them without it. The meta is attached only when the caps
 * carry it and downstream lists it in the allocation query; in place,
 * GstBaseTransform makes no allocation query of its own, so it is asked once
 * per caps. When downstream took the caps with the meta but does not list it,
 * the element renegotiates (from the next frame) preferring the caps without
 * it; if downstream takes only the meta caps, they stay and the graphics are
 * blended. A RECONFIGURE event (a new downstream) offers the meta again.
 *
 * The element holds one in its private data and calls it from its vfuncs;
 * all but `meta_refused` is for the streaming thread only. */
struct OverlayOutput {
  bool caps_have_meta = false; /* the src caps carry meta:GstVideoOverlayComposition */
  bool allocation_checked = false;
  bool attach = false; /* attach the meta rather than blend */
  /* downstream took caps with the meta but does not handle it (allocation
   * query): plain caps are preferred until downstream reconfigures; any thread */
  std::atomic<bool> meta_refused{false};

  /* GstBaseTransform::transform_caps; logs to `cat`. */
  GstCaps *transform_caps(GstBaseTransform *trans, GstPadDirection direction, GstCaps *caps, GstCaps *filter,
                          GstDebugCategory *cat) const;
  /* From set_info, with the src caps: asks downstream again on the next frame. */
  void set_caps(GstCaps *outcaps);
  /* From src_event: a RECONFIGURE offers the meta again. */
  void src_event(GstEvent *event);
  /* From stop. */
  void stop() { meta_refused = false; }
  /* Once per caps, on the first frame: decides `attach`, renegotiating when
   * downstream refuses the meta; `what` names the graphics in the log. */
  void check_allocation(GstBaseTransform *trans, const char *what, GstDebugCategory *cat);
  /* Puts `rects` (in order, over whatever meta an element upstream already
   * attached, when attaching) on the frame: attached as the meta or blended.
   * Takes the rectangles; does nothing when there are none. */
  void output(GstVideoFrame *frame, const std::vector<GstVideoOverlayRectangle *> &rects) const;
};

}  // namespace onair
