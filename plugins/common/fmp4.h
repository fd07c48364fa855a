/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace onair {

/* One movie fragment (moof + mdat) cut from a fragmented MP4 byte stream. */
struct Fmp4Fragment {
  std::vector<uint8_t> data;
  uint64_t decode_time = 0; /* tfdt baseMediaDecodeTime, in `timescale` units */
  uint64_t duration = 0;    /* sum of the sample durations */
  uint32_t samples = 0;
  bool starts_with_sync = false;
};

/* Cuts the byte stream of a fragmented MP4 muxer (mp4mux fragment-duration=N)
 * at top-level boxes: everything before the first moof is the initialization
 * segment (ftyp + moov), then each moof + mdat pair is a fragment. Only box
 * headers and the timing boxes (mdhd, trex, tfhd, tfdt, trun) are read; the
 * muxing itself is mp4mux's. */
class Fmp4Splitter {
 public:
  std::function<void(std::vector<uint8_t> init)> on_init;
  std::function<void(Fmp4Fragment fragment)> on_fragment;

  /* Returns false (and sets error()) when the stream is not a fragmented MP4. */
  bool push(const uint8_t *data, size_t size);
  const std::string &error() const { return error_; }
  /* Room for `bytes` of input not yet cut (a whole fragment's worth avoids
   * growing the buffer, and copying it, while a fragment comes in). */
  void reserve(size_t bytes) { pending_.reserve(bytes); }
  /* While no input waits to be cut (before the first push, or from
   * on_fragment when the fragment took all the input there was): `buffer`'s
   * memory (emptied) holds the input from here on, as the next fragment's
   * data then does; a buffer that held an earlier fragment has its pages in
   * place already, where new memory would fault them in again. Otherwise,
   * or when it is smaller than the memory there is, `buffer` is left as it
   * is. */
  void start_with(std::vector<uint8_t> &&buffer) {
    if (!pending_.empty() || buffer.capacity() <= pending_.capacity()) return;
    buffer.clear();
    pending_ = std::move(buffer);
  }

  /* Every fragment's baseMediaDecodeTime gets `offset` added (its tfdt is
   * rewritten as version 1): muxers start their own timeline at zero, this
   * puts every track on one shared timeline. */
  void set_decode_time_offset(int64_t offset) { decode_time_offset_ = offset; }
  uint32_t timescale() const { return timescale_; }

 private:
  bool handle_box(uint32_t type, const uint8_t *box, size_t size);
  bool parse_moov(const uint8_t *payload, size_t size);
  bool parse_moof(const uint8_t *payload, size_t size, Fmp4Fragment *fragment);
  bool rebase_moof(std::vector<uint8_t> *moof);

  std::vector<uint8_t> pending_;
  std::vector<uint8_t> init_;
  Fmp4Fragment fragment_;
  bool have_moof_ = false;
  /* The moof waiting for its mdat: where it starts in pending_, and its
   * size there (its rebased copy in fragment_.data may be longer). */
  size_t moof_pos_ = 0;
  size_t moof_raw_size_ = 0;
  size_t scanned_ = 0;     /* bytes at the start of pending_ already handled */
  bool moof_kept_ = false; /* the last box handled was a moof, kept in pending_ */
  bool init_done_ = false;
  uint32_t timescale_ = 0;
  uint32_t trex_default_duration_ = 0;
  uint32_t trex_default_flags_ = 0;
  int64_t decode_time_offset_ = 0;
  std::string error_;
};

}  // namespace onair
