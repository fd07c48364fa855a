/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "reactionsanim.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace onair {

namespace {

/* SplitMix64: a fixed, portable generator (std:: distributions are not
 * specified bit for bit across library versions). */
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

struct Random {
  uint64_t state;
  double next() { return (double)((state = mix(state)) >> 11) / (double)(1ULL << 53); } /* [0, 1) */
  double between(double low, double high) { return low + (high - low) * next(); }
};

}  // namespace

void SpriteField::reset(uint64_t seed) {
  seed_ = seed;
  next_serial_ = 0;
  sprites_.clear();
}

Sprite SpriteField::make(GstClockTime now, int kind, bool super, GstClockTime life) {
  Sprite sprite;
  sprite.serial = next_serial_++;
  Random random{mix(seed_ ^ mix(sprite.serial))};
  sprite.kind = kind;
  sprite.super = super;
  sprite.born = now;
  sprite.life = std::max<GstClockTime>(life, GST_MSECOND);
  sprite.x0 = super ? random.between(0.35, 0.65) : random.between(0.15, 0.85);
  sprite.sway = random.between(0.04, 0.12);
  sprite.sway_hz = random.between(0.4, 1.1);
  sprite.phase = random.between(0, 2 * M_PI);
  sprite.rise = super ? 1.0 : random.between(0.65, 1.0);
  return sprite;
}

void SpriteField::expire(GstClockTime now) {
  sprites_.erase(std::remove_if(sprites_.begin(), sprites_.end(),
                                [now](const Sprite &s) { return now >= s.born + s.life || now < s.born; }),
                 sprites_.end());
}

void SpriteField::spawn(GstClockTime now, const std::vector<uint64_t> &counts,
                        const std::vector<uint64_t> &supers, unsigned max_sprites, GstClockTime life,
                        GstClockTime super_life) {
  if (max_sprites == 0) return;
  /* paid reactions are always drawn, up to the cap in one frame */
  unsigned super_budget = max_sprites;
  for (size_t k = 0; k < supers.size() && super_budget > 0; k++) {
    for (uint64_t i = 0; i < supers[k] && super_budget > 0; i++, super_budget--) {
      if (sprites_.size() >= max_sprites) {
        auto plain = std::find_if(sprites_.begin(), sprites_.end(), [](const Sprite &s) { return !s.super; });
        sprites_.erase(plain != sprites_.end() ? plain : sprites_.begin());
      }
      sprites_.push_back(make(now, (int)k, true, super_life));
    }
  }
  uint64_t total = std::accumulate(counts.begin(), counts.end(), (uint64_t)0);
  if (total == 0 || sprites_.size() >= max_sprites) return;
  uint64_t room = std::min<uint64_t>(max_sprites - sprites_.size(), std::max(1u, max_sprites / 4));
  std::vector<uint64_t> share(counts.size());
  if (total <= room) {
    share = counts;
  } else {
    /* largest remainder, ties to the lower kind index: deterministic */
    uint64_t given = 0;
    std::vector<std::pair<uint64_t, size_t>> remainders;
    for (size_t k = 0; k < counts.size(); k++) {
      /* counts fit in 64 bits, their product with room may not */
      long double exact = (long double)counts[k] * room / total;
      share[k] = (uint64_t)exact;
      given += share[k];
      remainders.emplace_back((uint64_t)((exact - share[k]) * 1e9L), k);
    }
    std::stable_sort(remainders.begin(), remainders.end(),
                     [](const auto &a, const auto &b) { return a.first > b.first; });
    for (size_t i = 0; given < room && i < remainders.size(); i++) {
      if (counts[remainders[i].second] == 0) continue;
      share[remainders[i].second]++;
      given++;
    }
  }
  /* interleaved across kinds, so that no kind always lands on top */
  for (bool more = true; more;) {
    more = false;
    for (size_t k = 0; k < share.size(); k++) {
      if (share[k] == 0) continue;
      share[k]--;
      more = true;
      sprites_.push_back(make(now, (int)k, false, life));
    }
  }
}

std::vector<SpritePose> SpriteField::poses(GstClockTime now) const {
  std::vector<SpritePose> out;
  out.reserve(sprites_.size());
  for (const Sprite &s : sprites_) {
    if (now < s.born || now >= s.born + s.life) continue;
    double seconds = (double)(now - s.born) / GST_SECOND;
    double t = (double)(now - s.born) / s.life;
    SpritePose pose;
    pose.kind = s.kind;
    pose.super = s.super;
    /* eased rise: quick off the bottom, slowing towards the top */
    double climb = 1.0 - (1.0 - t) * (1.0 - t);
    pose.y = 1.0 - s.rise * climb;
    pose.x = s.x0 + s.sway * std::sin(2 * M_PI * s.sway_hz * seconds + s.phase) * std::min(1.0, 4 * t);
    pose.alpha = std::clamp(std::min(t / 0.08, (1.0 - t) / 0.35), 0.0, 1.0);
    out.push_back(pose);
  }
  return out;
}

}  // namespace onair
