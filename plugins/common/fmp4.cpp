/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "fmp4.h"

#include "bytes.h"

#include <cstring>

namespace onair {

namespace {

constexpr uint32_t fourcc(const char (&s)[5]) {
  return (uint32_t(uint8_t(s[0])) << 24) | (uint32_t(uint8_t(s[1])) << 16) | (uint32_t(uint8_t(s[2])) << 8) |
         uint32_t(uint8_t(s[3]));
}

/* Bounds-checked big-endian reader over one box payload. */
class Reader {
 public:
  Reader(const uint8_t *data, size_t size) : data_(data), size_(size) {}
  bool u8(uint8_t *v) { return read(v, 1); }
  bool u32(uint32_t *v) {
    uint64_t x;
    if (!read_be(&x, 4)) return false;
    *v = uint32_t(x);
    return true;
  }
  bool u64(uint64_t *v) { return read_be(v, 8); }
  bool skip(size_t n) {
    if (size_ - pos_ < n) return false;
    pos_ += n;
    return true;
  }
  size_t pos() const { return pos_; }

 private:
  bool read(uint8_t *v, size_t n) {
    if (size_ - pos_ < n) return false;
    std::memcpy(v, data_ + pos_, n);
    pos_ += n;
    return true;
  }
  bool read_be(uint64_t *v, size_t n) {
    if (size_ - pos_ < n) return false;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) x = (x << 8) | data_[pos_ + i];
    pos_ += n;
    *v = x;
    return true;
  }
  const uint8_t *data_;
  size_t size_;
  size_t pos_ = 0;
};

/* Calls `visit(type, payload, payload_size)` for each child box. */
template <typename Visit>
bool for_each_box(const uint8_t *data, size_t size, Visit visit) {
  size_t pos = 0;
  while (size - pos >= 8) {
    uint64_t box_size = get_u32(data + pos);
    uint32_t type = get_u32(data + pos + 4);
    size_t header = 8;
    if (box_size == 1) {
      if (size - pos < 16) return false;
      box_size = 0;
      for (int i = 0; i < 8; i++) box_size = (box_size << 8) | data[pos + 8 + i];
      header = 16;
    } else if (box_size == 0) {
      box_size = size - pos;
    }
    if (box_size < header || box_size > size - pos) return false;
    if (!visit(type, data + pos + header, size_t(box_size - header))) return false;
    pos += box_size;
  }
  return pos == size;
}

constexpr uint32_t kNonSyncSample = 0x00010000;

}  // namespace

bool Fmp4Splitter::push(const uint8_t *data, size_t size) {
  if (!error_.empty()) return false;
  pending_.insert(pending_.end(), data, data + size);

  /* boxes before `scanned_` were handled by an earlier push (kept because
   * a moof before them waits for its mdat) */
  size_t pos = scanned_;
  while (pending_.size() - pos >= 8) {
    const uint8_t *p = pending_.data() + pos;
    uint64_t box_size = get_u32(p);
    uint32_t type = get_u32(p + 4);
    if (box_size == 1) {
      if (pending_.size() - pos < 16) break;
      box_size = get_u64(p + 8);
    }
    if (box_size < 8) {
      error_ = "invalid MP4 box size (size 0 boxes cannot be streamed)";
      return false;
    }
    if (pending_.size() - pos < box_size) break;
    if (type == fourcc("mdat") && have_moof_ && moof_kept_ && moof_pos_ + moof_raw_size_ == pos) {
      /* The fragment is the moof (rebased) and this mdat, as they lie in
       * the input: taken from it, not copied, when they are all there is */
      size_t end = pos + size_t(box_size);
      std::vector<uint8_t> data;
      bool whole = moof_pos_ == 0 && end == pending_.size();
      if (whole)
        data = std::move(pending_);
      else
        data.assign(pending_.begin() + moof_pos_, pending_.begin() + end);
      /* the rebased moof over the original: a version 0 tfdt grew by 4
       * bytes, so the mdat moves up by as much (one move, not two) */
      const std::vector<uint8_t> &moof = fragment_.data;
      if (moof.size() > moof_raw_size_)
        data.insert(data.begin(), moof.size() - moof_raw_size_, 0);
      else if (moof.size() < moof_raw_size_)
        data.erase(data.begin(), data.begin() + (moof_raw_size_ - moof.size()));
      std::copy(moof.begin(), moof.end(), data.begin());
      fragment_.data = std::move(data);
      have_moof_ = false;
      if (on_fragment) on_fragment(std::move(fragment_));
      fragment_ = Fmp4Fragment();
      if (whole) {
        pending_.clear();
        scanned_ = 0;
        return true;
      }
      pos = end;
      continue;
    }
    /* a moof is kept in the input only while its mdat may follow it there */
    moof_kept_ = type == fourcc("moof");
    if (moof_kept_) moof_pos_ = pos;
    if (!handle_box(type, p, size_t(box_size))) return false;
    pos += box_size;
  }
  /* a moof waits in the input for its mdat */
  size_t keep_from = have_moof_ && moof_kept_ && moof_pos_ < pos ? moof_pos_ : pos;
  pending_.erase(pending_.begin(), pending_.begin() + keep_from);
  if (have_moof_ && moof_kept_) moof_pos_ -= keep_from;
  scanned_ = pos - keep_from;
  return true;
}

bool Fmp4Splitter::handle_box(uint32_t type, const uint8_t *box, size_t size) {
  size_t header = (box[0] == 0 && box[1] == 0 && box[2] == 0 && box[3] == 1) ? 16 : 8;
  switch (type) {
    case fourcc("moof"): {
      if (!init_done_) {
        error_ = "movie fragment before the movie box (moov)";
        return false;
      }
      fragment_ = Fmp4Fragment();
      if (!parse_moof(box + header, size - header, &fragment_)) {
        error_ = "malformed movie fragment box (moof)";
        return false;
      }
      fragment_.data.assign(box, box + size);
      moof_raw_size_ = size;
      if (decode_time_offset_ != 0) {
        if (!rebase_moof(&fragment_.data)) {
          error_ = "cannot rebase the movie fragment's decode time";
          return false;
        }
        fragment_.decode_time = uint64_t(int64_t(fragment_.decode_time) + decode_time_offset_);
      }
      have_moof_ = true;
      return true;
    }
    case fourcc("mdat"): {
      if (!have_moof_) {
        error_ = "media data (mdat) without a movie fragment (moof): is the muxer fragmented?";
        return false;
      }
      fragment_.data.insert(fragment_.data.end(), box, box + size);
      have_moof_ = false;
      if (on_fragment) on_fragment(std::move(fragment_));
      fragment_ = Fmp4Fragment();
      return true;
    }
    case fourcc("moov"):
      if (!parse_moov(box + header, size - header)) {
        error_ = "malformed movie box (moov)";
        return false;
      }
      init_.insert(init_.end(), box, box + size);
      init_done_ = true;
      if (on_init) on_init(std::move(init_));
      init_.clear();
      return true;
    case fourcc("mfra"): /* random access index at the end: segments need none */
    case fourcc("free"):
    case fourcc("skip"):
      return true;
    default:
      if (!init_done_) init_.insert(init_.end(), box, box + size); /* ftyp and friends */
      return true;
  }
}

bool Fmp4Splitter::parse_moov(const uint8_t *payload, size_t size) {
  return for_each_box(payload, size, [this](uint32_t type, const uint8_t *data, size_t len) {
    if (type == fourcc("trak")) {
      return for_each_box(data, len, [this](uint32_t type, const uint8_t *data, size_t len) {
        if (type != fourcc("mdia")) return true;
        return for_each_box(data, len, [this](uint32_t type, const uint8_t *data, size_t len) {
          if (type != fourcc("mdhd")) return true;
          Reader r(data, len);
          uint8_t version;
          if (!r.u8(&version) || !r.skip(3) || !r.skip(version == 1 ? 16 : 8)) return false;
          return r.u32(&timescale_) && timescale_ > 0;
        });
      });
    }
    if (type == fourcc("mvex")) {
      return for_each_box(data, len, [this](uint32_t type, const uint8_t *data, size_t len) {
        if (type != fourcc("trex")) return true;
        Reader r(data, len);
        uint32_t ignored;
        return r.skip(4 + 4 + 4) && r.u32(&trex_default_duration_) && r.u32(&ignored) &&
               r.u32(&trex_default_flags_);
      });
    }
    return true;
  });
}

bool Fmp4Splitter::parse_moof(const uint8_t *payload, size_t size, Fmp4Fragment *fragment) {
  bool first_sample_seen = false;
  return for_each_box(payload, size, [&](uint32_t type, const uint8_t *data, size_t len) {
    if (type != fourcc("traf")) return true;
    uint32_t default_duration = trex_default_duration_;
    uint32_t default_flags = trex_default_flags_;
    return for_each_box(data, len, [&](uint32_t type, const uint8_t *data, size_t len) {
      Reader r(data, len);
      uint8_t version;
      uint8_t f[3];
      if (!r.u8(&version) || !r.u8(&f[0]) || !r.u8(&f[1]) || !r.u8(&f[2])) return false;
      uint32_t flags = get_u24(f);
      uint32_t v32;
      if (type == fourcc("tfhd")) {
        if (!r.skip(4)) return false;
        if ((flags & 0x01) && !r.skip(8)) return false;
        if ((flags & 0x02) && !r.skip(4)) return false;
        if ((flags & 0x08) && !r.u32(&default_duration)) return false;
        if ((flags & 0x10) && !r.skip(4)) return false;
        if ((flags & 0x20) && !r.u32(&default_flags)) return false;
      } else if (type == fourcc("tfdt")) {
        if (version == 1) return r.u64(&fragment->decode_time);
        if (!r.u32(&v32)) return false;
        fragment->decode_time = v32;
      } else if (type == fourcc("trun")) {
        uint32_t count, first_flags = 0;
        if (!r.u32(&count)) return false;
        if ((flags & 0x01) && !r.skip(4)) return false;
        if ((flags & 0x04) && !r.u32(&first_flags)) return false;
        for (uint32_t i = 0; i < count; i++) {
          uint32_t duration = default_duration, sample_flags = default_flags;
          if ((flags & 0x100) && !r.u32(&duration)) return false;
          if ((flags & 0x200) && !r.skip(4)) return false;
          if ((flags & 0x400) && !r.u32(&sample_flags)) return false;
          if ((flags & 0x800) && !r.skip(4)) return false;
          if (i == 0 && (flags & 0x04)) sample_flags = first_flags;
          if (!first_sample_seen) {
            fragment->starts_with_sync = !(sample_flags & kNonSyncSample);
            first_sample_seen = true;
          }
          fragment->duration += duration;
        }
        fragment->samples += count;
      }
      return true;
    });
  });
}

/* Rewrites the tfdt of a one-track moof as version 1 with the offset added.
 * A version 0 tfdt grows by 4 bytes: the traf and moof sizes and the trun
 * data offset (relative to the moof) grow with it. */
bool Fmp4Splitter::rebase_moof(std::vector<uint8_t> *moof) {
  std::vector<uint8_t> &m = *moof;
  if (m.size() < 8 || get_u32(m.data()) != m.size()) return false;
  size_t traf = 8;
  while (traf + 8 <= m.size() && get_u32(m.data() + traf + 4) != fourcc("traf")) {
    uint32_t size = get_u32(m.data() + traf);
    if (size < 8) return false;
    traf += size;
  }
  if (traf + 8 > m.size()) return false;
  uint32_t traf_size = get_u32(m.data() + traf);
  if (traf_size < 8 || traf + traf_size > m.size()) return false;
  size_t tfdt = 0, trun = 0;
  for (size_t pos = traf + 8; pos + 8 <= traf + traf_size;) {
    uint32_t size = get_u32(m.data() + pos);
    uint32_t type = get_u32(m.data() + pos + 4);
    if (size < 8) return false;
    if (type == fourcc("tfdt"))
      tfdt = pos;
    else if (type == fourcc("trun"))
      trun = pos;
    pos += size;
  }
  if (!tfdt) return false;
  uint8_t version = m[tfdt + 8];
  if (version == 1) {
    put_u64(m.data() + tfdt + 12, uint64_t(int64_t(get_u64(m.data() + tfdt + 12)) + decode_time_offset_));
    return true;
  }
  uint8_t wide[8];
  put_u64(wide, uint64_t(int64_t(get_u32(m.data() + tfdt + 12)) + decode_time_offset_));
  m[tfdt + 8] = 1;
  put_u32(m.data() + tfdt, 20);
  m.erase(m.begin() + tfdt + 12, m.begin() + tfdt + 16);
  m.insert(m.begin() + tfdt + 12, wide, wide + 8);
  put_u32(m.data() + traf, traf_size + 4);
  put_u32(m.data(), uint32_t(m.size()));
  if (trun && trun > tfdt) {
    trun += 4;
  }
  if (trun) {
    uint32_t flags = get_u32(m.data() + trun + 8) & 0xffffff;
    if (flags & 0x01) {
      uint32_t offset = get_u32(m.data() + trun + 16);
      put_u32(m.data() + trun + 16, offset + 4);
    }
  }
  return true;
}

}  // namespace onair
