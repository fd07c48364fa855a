/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "http/rate_limit.h"

#include <algorithm>
#include <cmath>

namespace onair::http {

int RateLimiter::take(const std::string &key, gint64 now_us) {
  if (buckets_.size() >= max_keys) prune(now_us);
  auto [found, inserted] = buckets_.try_emplace(key, Bucket{burst_, now_us});
  Bucket &bucket = found->second;
  if (!inserted) {
    bucket.tokens = std::min(burst_, bucket.tokens + double(now_us - bucket.at_us) * rate_ / G_USEC_PER_SEC);
    bucket.at_us = now_us;
  }
  if (bucket.tokens >= 1) {
    bucket.tokens -= 1;
    return 0;
  }
  return std::max(1, int(std::ceil((1 - bucket.tokens) / rate_)));
}

void RateLimiter::refund(const std::string &key) {
  auto found = buckets_.find(key);
  if (found != buckets_.end()) found->second.tokens = std::min(burst_, found->second.tokens + 1);
}

void RateLimiter::prune(gint64 now_us) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    double tokens = it->second.tokens + double(now_us - it->second.at_us) * rate_ / G_USEC_PER_SEC;
    if (tokens >= burst_)
      it = buckets_.erase(it);
    else
      ++it;
  }
  /* Every key is busy: forget them all rather than grow without bound. */
  if (buckets_.size() >= max_keys) buckets_.clear();
}

}  // namespace onair::http
