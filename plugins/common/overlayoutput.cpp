/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "overlayoutput.h"

namespace onair {

GstCaps *OverlayOutput::transform_caps(GstBaseTransform *trans, GstPadDirection direction, GstCaps *caps,
                                       GstCaps *filter, GstDebugCategory *cat) const {
  bool meta_last = meta_refused;
  GstCaps *result = gst_caps_new_empty();
  for (guint i = 0; i < gst_caps_get_size(caps); i++) {
    GstStructure *s = gst_caps_get_structure(caps, i);
    GstCapsFeatures *features = gst_caps_get_features(caps, i);
    if (direction == GST_PAD_SINK) {
      if (meta_last)
        result =
            gst_caps_merge_structure_full(result, gst_structure_copy(s), gst_caps_features_copy(features));
      if (!gst_caps_features_is_any(features)) {
        /* system memory is spelt by the meta feature alone */
        GstCapsFeatures *with;
        if (gst_caps_features_is_equal(features, GST_CAPS_FEATURES_MEMORY_SYSTEM_MEMORY)) {
          with = gst_caps_features_new(GST_CAPS_FEATURE_META_GST_VIDEO_OVERLAY_COMPOSITION, NULL);
        } else {
          with = gst_caps_features_copy(features);
          gst_caps_features_add(with, GST_CAPS_FEATURE_META_GST_VIDEO_OVERLAY_COMPOSITION);
        }
        result = gst_caps_merge_structure_full(result, gst_structure_copy(s), with);
      }
      if (!meta_last)
        result =
            gst_caps_merge_structure_full(result, gst_structure_copy(s), gst_caps_features_copy(features));
    } else {
      GstCapsFeatures *without = gst_caps_features_copy(features);
      if (!gst_caps_features_is_any(without)) {
        gst_caps_features_remove(without, GST_CAPS_FEATURE_META_GST_VIDEO_OVERLAY_COMPOSITION);
        if (gst_caps_features_get_size(without) == 0)
          gst_caps_features_add(without, GST_CAPS_FEATURE_MEMORY_SYSTEM_MEMORY);
      }
      result = gst_caps_merge_structure_full(result, gst_structure_copy(s), without);
    }
  }
  if (filter) {
    GstCaps *filtered = gst_caps_intersect_full(filter, result, GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref(result);
    result = filtered;
  }
  GST_CAT_LOG_OBJECT(cat, trans, "%s %" GST_PTR_FORMAT " -> %" GST_PTR_FORMAT,
                     direction == GST_PAD_SINK ? "downstream" : "upstream", caps, result);
  return result;
}

void OverlayOutput::set_caps(GstCaps *outcaps) {
  caps_have_meta = gst_caps_features_contains(gst_caps_get_features(outcaps, 0),
                                              GST_CAPS_FEATURE_META_GST_VIDEO_OVERLAY_COMPOSITION);
  allocation_checked = false;
}

void OverlayOutput::src_event(GstEvent *event) {
  if (GST_EVENT_TYPE(event) == GST_EVENT_RECONFIGURE) meta_refused = false;
}

void OverlayOutput::check_allocation(GstBaseTransform *trans, const char *what, GstDebugCategory *cat) {
  if (allocation_checked) return;
  allocation_checked = true;
  attach = false;
  if (!caps_have_meta) return;
  GstPad *srcpad = GST_BASE_TRANSFORM_SRC_PAD(trans);
  GstCaps *caps = gst_pad_get_current_caps(srcpad);
  if (!caps) return;
  GstQuery *query = gst_query_new_allocation(caps, FALSE);
  if (gst_pad_peer_query(srcpad, query))
    attach = gst_query_find_allocation_meta(query, GST_VIDEO_OVERLAY_COMPOSITION_META_API_TYPE, NULL);
  gst_query_unref(query);
  gst_caps_unref(caps);
  GST_CAT_INFO_OBJECT(cat, trans, "%s %s", what, attach ? "attached as overlay composition meta" : "blended");
  if (!attach && !meta_refused) {
    GST_CAT_INFO_OBJECT(cat, trans, "downstream does not handle the overlay meta: renegotiating without it");
    meta_refused = true;
    gst_base_transform_reconfigure_src(trans);
  }
}

void OverlayOutput::output(GstVideoFrame *frame, const std::vector<GstVideoOverlayRectangle *> &rects) const {
  if (rects.empty()) return;
  GstVideoOverlayComposition *composition = NULL;
  if (attach) {
    /* over whatever an element upstream already put there */
    GstVideoOverlayCompositionMeta *meta = gst_buffer_get_video_overlay_composition_meta(frame->buffer);
    if (meta) {
      composition = gst_video_overlay_composition_copy(meta->overlay);
      gst_buffer_remove_video_overlay_composition_meta(frame->buffer, meta);
    }
  }
  for (GstVideoOverlayRectangle *rect : rects) {
    if (!composition)
      composition = gst_video_overlay_composition_new(rect);
    else
      gst_video_overlay_composition_add_rectangle(composition, rect);
    gst_video_overlay_rectangle_unref(rect);
  }
  if (attach)
    gst_buffer_add_video_overlay_composition_meta(frame->buffer, composition);
  else
    gst_video_overlay_composition_blend(composition, frame);
  gst_video_overlay_composition_unref(composition);
}

}  // namespace onair
