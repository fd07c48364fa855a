/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "codedcaps.h"

#include <gst/codecparsers/gsth264parser.h>

namespace onair {

namespace {

struct Sps {
  gint width = 0, height = 0, par_n = 0, par_d = 0, fps_n = 0, fps_d = 0;
};

/* The first SPS of an avcC record that parses. */
bool h264_sps_from_codec_data(GstBuffer *codec_data, Sps *out) {
  GstMapInfo map;
  if (!gst_buffer_map(codec_data, &map, GST_MAP_READ)) return false;
  GstH264NalParser *parser = gst_h264_nal_parser_new();
  GstH264DecoderConfigRecord *config = NULL;
  bool found = false;
  if (gst_h264_parser_parse_decoder_config_record(parser, map.data, map.size, &config) ==
      GST_H264_PARSER_OK) {
    for (guint i = 0; i < config->sps->len && !found; i++) {
      GstH264NalUnit *nalu = &g_array_index(config->sps, GstH264NalUnit, i);
      GstH264SPS sps;
      if (gst_h264_parser_parse_sps(parser, nalu, &sps) != GST_H264_PARSER_OK) continue;
      out->width = sps.frame_cropping_flag ? sps.crop_rect_width : sps.width;
      out->height = sps.frame_cropping_flag ? sps.crop_rect_height : sps.height;
      if (sps.vui_parameters_present_flag && sps.vui_parameters.aspect_ratio_info_present_flag) {
        out->par_n = gint(sps.vui_parameters.par_n);
        out->par_d = gint(sps.vui_parameters.par_d);
      }
      gst_h264_video_calculate_framerate(&sps, 0, 0, &out->fps_n, &out->fps_d);
      gst_h264_sps_clear(&sps);
      found = out->width > 0 && out->height > 0;
    }
    gst_h264_decoder_config_record_free(config);
  }
  gst_h264_nal_parser_free(parser);
  gst_buffer_unmap(codec_data, &map);
  return found;
}

}  // namespace

GstCaps *complete_coded_video_caps(const GstCaps *caps, std::string *missing) {
  missing->clear();
  if (gst_caps_get_size(caps) != 1) return NULL;
  const GstStructure *s = gst_caps_get_structure(caps, 0);
  bool h264 = gst_structure_has_name(s, "video/x-h264");
  if (!h264 && !gst_structure_has_name(s, "video/x-h265")) return NULL;
  const gchar *format = gst_structure_get_string(s, "stream-format");
  if (!format) return NULL;
  std::string f = format;
  if (!(h264 ? f == "avc" || f == "avc3" : f == "hvc1" || f == "hev1")) return NULL;
  bool sized = gst_structure_has_field(s, "width") && gst_structure_has_field(s, "height");
  if (gst_structure_has_field(s, "alignment") && sized) return NULL;

  GstCaps *completed = gst_caps_copy(caps);
  GstStructure *c = gst_caps_get_structure(completed, 0);
  if (!gst_structure_has_field(c, "alignment")) gst_structure_set(c, "alignment", G_TYPE_STRING, "au", NULL);
  const GValue *codec_data = gst_structure_get_value(s, "codec_data");
  Sps sps;
  if (h264 && codec_data && G_VALUE_HOLDS(codec_data, GST_TYPE_BUFFER) &&
      h264_sps_from_codec_data(gst_value_get_buffer(codec_data), &sps)) {
    /* the SPS's over the container's, which may be out of date (an FLV's
     * onMetaData after the publisher changed its size) */
    gst_structure_set(c, "width", G_TYPE_INT, sps.width, "height", G_TYPE_INT, sps.height, NULL);
    if (!gst_structure_has_field(c, "pixel-aspect-ratio") && sps.par_n > 0 && sps.par_d > 0)
      gst_structure_set(c, "pixel-aspect-ratio", GST_TYPE_FRACTION, sps.par_n, sps.par_d, NULL);
    if (!gst_structure_has_field(c, "framerate") && sps.fps_n > 0 && sps.fps_d > 0)
      gst_structure_set(c, "framerate", GST_TYPE_FRACTION, sps.fps_n, sps.fps_d, NULL);
  } else if (!sized) {
    *missing = "width and height (and no SPS in codec_data to take them from)";
  }
  return completed;
}

}  // namespace onair
