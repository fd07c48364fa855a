/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

#include <cstdint>
#include <deque>
#include <vector>

namespace onair {

/* One floating emoji: everything about its motion is drawn at birth from
 * (seed, serial), so its path is a function of running time alone. */
struct Sprite {
  uint64_t serial = 0;
  int kind = 0;
  bool super = false;
  GstClockTime born = 0;
  GstClockTime life = 0;
  double x0 = 0.5;    /* centre, fraction of the area's width */
  double sway = 0;    /* amplitude, fraction of the area's width */
  double sway_hz = 1; /* sways per second */
  double phase = 0;   /* radians */
  double rise = 1;    /* fraction of the area's height climbed over its life */
};

/* Where a sprite is on one frame: its centre in fractions of the area
 * (0,0 top left), and its opacity. */
struct SpritePose {
  int kind = 0;
  bool super = false;
  double x = 0, y = 0, alpha = 0;
};

/* The sprites on screen. A frame's reactions are sampled into sprites:
 * every super reaction gets one (taking the place of the oldest plain one
 * at the cap), plain ones share the free places in proportion to their
 * counts, at most a quarter of the cap per frame; the rest are counted but
 * not drawn. */
class SpriteField {
 public:
  void reset(uint64_t seed);
  /* counts[k], supers[k]: reactions of kind k counted on this frame */
  void spawn(GstClockTime now, const std::vector<uint64_t> &counts, const std::vector<uint64_t> &supers,
             unsigned max_sprites, GstClockTime life, GstClockTime super_life);
  /* drops the sprites whose life is over at `now` */
  void expire(GstClockTime now);
  std::vector<SpritePose> poses(GstClockTime now) const;
  size_t size() const { return sprites_.size(); }
  uint64_t spawned() const { return next_serial_; }

 private:
  Sprite make(GstClockTime now, int kind, bool super, GstClockTime life);
  uint64_t seed_ = 0;
  uint64_t next_serial_ = 0;
  std::deque<Sprite> sprites_; /* by birth */
};

}  // namespace onair
