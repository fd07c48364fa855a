/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

#include <string>

namespace onair {

/* Demuxers (flvdemux, qtdemux, matroskademux) give H.264 and H.265 as
 * packetized streams (stream-format avc, avc3, hvc1 or hev1) of whole access
 * units, but without the `alignment` field a parser would add, and without
 * the frame size when their container did not say it (an FLV without
 * onMetaData). Returns those caps completed for a muxer, as a parser would
 * give them: alignment=au, and for H.264 the size its codec_data's SPS gives
 * (over the container's) and the pixel aspect ratio and frame rate where
 * the caps lack them. NULL when the caps need nothing (not such a stream, or
 * complete already: a parser's). *missing says what is still missing after
 * that (a size no SPS gave), empty otherwise. */
GstCaps *complete_coded_video_caps(const GstCaps *caps, std::string *missing);

}  // namespace onair
