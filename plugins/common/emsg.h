/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace onair {

/* The scheme of ID3 timed metadata carried in CMAF segments (AOM "Carriage
 * of ID3 Timed Metadata in the Common Media Application Format"), which
 * hls.js and Apple's players read from fragmented MP4 HLS segments as TS
 * players read an ID3 PES stream. */
inline constexpr const char *EMSG_ID3_SCHEME = "https://aomedia.org/emsg/ID3";

/* An ID3v2.4 tag holding one TXXX (user-defined text) frame, UTF-8, no
 * padding: `description` names the data (e.g. "com.onair.reactions"),
 * `text` is the data. Rendered by TagLib. */
std::vector<uint8_t> id3_user_text_tag(const std::string &description, const std::string &text);

/* An event message box ('emsg', ISO/IEC 23009-1 5.10.3.3), version 1: the
 * event's presentation time is absolute on the track's media timeline, in
 * `timescale` units, so the box can travel in any segment at or before it.
 * It goes in front of a segment's first moof. `duration` 0xFFFFFFFF:
 * unknown. */
struct EventMessage {
  std::string scheme_id_uri;
  std::string value;
  uint32_t timescale = 1000;
  uint64_t presentation_time = 0;
  uint32_t duration = 0;
  uint32_t id = 0;
  std::vector<uint8_t> message_data;
};
std::vector<uint8_t> render_emsg(const EventMessage &message);

}  // namespace onair
