/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <cstdint>
#include <vector>

namespace onair {

/* Big-endian (network order) integers, as ISO BMFF boxes hold them. */

inline uint32_t get_u32(const uint8_t *p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}

inline uint64_t get_u64(const uint8_t *p) {
  return (uint64_t(get_u32(p)) << 32) | get_u32(p + 4);
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

inline void append_u32(std::vector<uint8_t> &out, uint32_t v) {
  out.resize(out.size() + 4);
  put_u32(out.data() + out.size() - 4, v);
}

inline void append_u64(std::vector<uint8_t> &out, uint64_t v) {
  out.resize(out.size() + 8);
  put_u64(out.data() + out.size() - 8, v);
}

}  // namespace onair
