/* onair — fuzz target: the fragmented MP4 byte stream abrsink cuts into
 * segments (box framing, moov timescale/trex, moof timing, tfdt rebase).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <cstdint>
#include <string>
#include <vector>

#include "fmp4.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  size_t slice = 1 + data[0];
  onair::Fmp4Splitter splitter;
  if (data[0] & 1) splitter.set_decode_time_offset(int64_t(1) << 32); /* forces the tfdt rewrite */
  uint64_t fragments = 0;
  splitter.on_fragment = [&fragments](onair::Fmp4Fragment fragment) {
    fragments += fragment.data.size() > 0;
  };
  for (size_t pos = 1; pos < size; pos += slice)
    if (!splitter.push(data + pos, std::min(slice, size - pos))) break;
  return 0;
}

namespace {

void put32(std::vector<uint8_t> &out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(uint8_t(v >> shift));
}

std::vector<uint8_t> box(const char *type, const std::vector<uint8_t> &payload) {
  std::vector<uint8_t> out;
  put32(out, uint32_t(payload.size() + 8));
  out.insert(out.end(), type, type + 4);
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

std::vector<uint8_t> concat(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto &part : parts) out.insert(out.end(), part.begin(), part.end());
  return out;
}

}  // namespace

/* ftyp, moov (mdhd timescale 90000, trex), then two moof+mdat fragments with
 * tfhd, a version 0 tfdt and a trun with durations and flags. */
std::vector<std::vector<uint8_t>> fuzz_seeds() {
  std::vector<uint8_t> mdhd(4, 0);
  put32(mdhd, 0);
  put32(mdhd, 0);
  put32(mdhd, 90000);
  put32(mdhd, 0);
  std::vector<uint8_t> trex(4, 0);
  for (uint32_t v : {1u, 1u, 3000u, 0u, 0x00010000u}) put32(trex, v);
  auto moov =
      box("moov", concat({box("trak", box("mdia", box("mdhd", mdhd))), box("mvex", box("trex", trex))}));
  auto ftyp = box("ftyp", {'i', 's', 'o', '6', 0, 0, 0, 0});

  auto fragment = [](uint32_t decode_time) {
    std::vector<uint8_t> tfhd = {0, 0, 0, 0x08};
    put32(tfhd, 1);
    put32(tfhd, 3000);
    std::vector<uint8_t> tfdt = {0, 0, 0, 0};
    put32(tfdt, decode_time);
    std::vector<uint8_t> trun = {0, 0, 0x05, 0x01}; /* data offset, first flags, per-sample durations */
    put32(trun, 2);
    put32(trun, 0);
    put32(trun, 0x02000000);
    put32(trun, 3000);
    put32(trun, 3000);
    auto moof =
        box("moof", concat({box("mfhd", {0, 0, 0, 0, 0, 0, 0, 1}),
                            box("traf", concat({box("tfhd", tfhd), box("tfdt", tfdt), box("trun", trun)}))}));
    return concat({moof, box("mdat", std::vector<uint8_t>(64, 0x42))});
  };
  std::vector<uint8_t> stream = {0x10};
  auto body = concat({ftyp, moov, fragment(0), fragment(6000), box("mfra", {})});
  stream.insert(stream.end(), body.begin(), body.end());
  std::vector<uint8_t> rebased = stream;
  rebased[0] = 0x11;
  return {stream, rebased};
}
