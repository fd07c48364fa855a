/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <cstdint>
#include <vector>

namespace onair {

/* Big-endian (network order) integers, as ISO BMFF boxes and RTMP (AMF0,
 * chunk headers, control messages) hold them; the little-endian 32-bit
 * ones are RTMP's message stream ids. */

inline uint16_t get_u16(const uint8_t *p) {
  return uint16_t((p[0] << 8) | p[1]);
}

inline uint32_t get_u24(const uint8_t *p) {
  return (uint32_t(p[0]) << 16) | (uint32_t(p[1]) << 8) | p[2];
}

inline uint32_t get_u32(const uint8_t *p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}

inline uint64_t get_u64(const uint8_t *p) {
  return (uint64_t(get_u32(p)) << 32) | get_u32(p + 4);
}

inline uint32_t get_u32_le(const uint8_t *p) {
  return (uint32_t(p[3]) << 24) | (uint32_t(p[2]) << 16) | (uint32_t(p[1]) << 8) | p[0];
}

inline void put_u24(uint8_t *p, uint32_t v) {
  p[0] = uint8_t(v >> 16);
  p[1] = uint8_t(v >> 8);
  p[2] = uint8_t(v);
}

inline void put_u32(uint8_t *p, uint32_t v) {
  p[0] = uint8_t(v >> 24);
  p[1] = uint8_t(v >> 16);
  p[2] = uint8_t(v >> 8);
  p[3] = uint8_t(v);
}

inline void put_u64(uint8_t *p, uint64_t v) {
  put_u32(p, uint32_t(v >> 32));
  put_u32(p + 4, uint32_t(v));
}

inline void append_u16(std::vector<uint8_t> &out, uint16_t v) {
  out.push_back(uint8_t(v >> 8));
  out.push_back(uint8_t(v));
}

inline void append_u24(std::vector<uint8_t> &out, uint32_t v) {
  out.resize(out.size() + 3);
  put_u24(out.data() + out.size() - 3, v);
}

inline void append_u32_le(std::vector<uint8_t> &out, uint32_t v) {
  for (int shift = 0; shift <= 24; shift += 8) out.push_back(uint8_t(v >> shift));
}

inline void append_u32(std::vector<uint8_t> &out, uint32_t v) {
  out.resize(out.size() + 4);
  put_u32(out.data() + out.size() - 4, v);
}

inline void append_u64(std::vector<uint8_t> &out, uint64_t v) {
  out.resize(out.size() + 8);
  put_u64(out.data() + out.size() - 8, v);
}

}  // namespace onair
