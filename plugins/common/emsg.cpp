/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "emsg.h"

#include "bytes.h"

#include <taglib/id3v2header.h>
#include <taglib/textidentificationframe.h>

namespace onair {

std::vector<uint8_t> id3_user_text_tag(const std::string &description, const std::string &text) {
  TagLib::ID3v2::UserTextIdentificationFrame frame(
      TagLib::String(description, TagLib::String::UTF8),
      TagLib::StringList(TagLib::String(text, TagLib::String::UTF8)), TagLib::String::UTF8);
  TagLib::ByteVector frame_data = frame.render();
  TagLib::ID3v2::Header header;
  header.setMajorVersion(4);
  header.setTagSize(frame_data.size());
  TagLib::ByteVector tag = header.render();
  tag.append(frame_data);
  return std::vector<uint8_t>(tag.begin(), tag.end());
}

namespace {

void put_string(std::vector<uint8_t> &out, const std::string &s) {
  out.insert(out.end(), s.begin(), s.end());
  out.push_back(0);
}

}  // namespace

std::vector<uint8_t> render_emsg(const EventMessage &message) {
  std::vector<uint8_t> box;
  append_u32(box, 0); /* size, below */
  box.insert(box.end(), {'e', 'm', 's', 'g'});
  append_u32(box, 1u << 24); /* version 1, flags 0 */
  append_u32(box, message.timescale);
  append_u64(box, message.presentation_time);
  append_u32(box, message.duration);
  append_u32(box, message.id);
  put_string(box, message.scheme_id_uri);
  put_string(box, message.value);
  box.insert(box.end(), message.message_data.begin(), message.message_data.end());
  put_u32(box.data(), uint32_t(box.size()));
  return box;
}

}  // namespace onair
