/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include <string>
#include <unordered_map>

namespace onair::http {

/* Token buckets by key (a viewer, a client address), in memory, on the main
 * loop: each key holds up to `burst` tokens, refilled at `rate` per second;
 * a request takes one. Bounded: buckets that are full again are forgotten
 * when the table grows past max_keys. */
class RateLimiter {
 public:
  RateLimiter(double rate, double burst) : rate_(rate), burst_(burst) {}

  /* 0: allowed (a token taken). Otherwise the whole seconds to wait before
   * a token is there (for Retry-After); nothing is taken. */
  int take(const std::string &key) { return take(key, g_get_monotonic_time()); }
  int take(const std::string &key, gint64 now_us);
  /* Gives back a token taken by take() (a request refused later for another reason). */
  void refund(const std::string &key);

  static constexpr size_t max_keys = 100000;

 private:
  struct Bucket {
    double tokens = 0;
    gint64 at_us = 0;
  };
  void prune(gint64 now_us);

  double rate_;
  double burst_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace onair::http
