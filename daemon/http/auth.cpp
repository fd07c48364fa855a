/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "http/auth.h"

namespace onair::http {

namespace {

std::string hex(const std::vector<uint8_t> &bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t byte : bytes) {
    out += digits[byte >> 4];
    out += digits[byte & 15];
  }
  return out;
}

AuthResult granted_if_current(const std::optional<store::TokenGrant> &grant, gint64 now_us) {
  AuthResult result;
  if (grant && (grant->expires_us == 0 || grant->expires_us > now_us)) {
    result.kind = AuthResult::Kind::granted;
    result.grant = *grant;
  }
  return result;
}

}  // namespace

void Authenticator::authenticate(const std::string &secret, Done done) {
  std::string key = hex(store::token_hash(secret));
  gint64 monotonic = g_get_monotonic_time();
  gint64 now_us = g_get_real_time();
  auto found = cache_.find(key);
  if (found != cache_.end()) {
    Entry &entry = found->second;
    gint64 ttl = entry.grant ? ttl_us : negative_ttl_us;
    if (monotonic - entry.fetched_us < ttl) {
      if (entry.grant && monotonic - entry.touched_us > 60 * G_USEC_PER_SEC) {
        entry.touched_us = monotonic;
        tokens_.touch(entry.grant->id);
      }
      return done(granted_if_current(entry.grant, now_us));
    }
  }
  tokens_.find(secret, [this, key, done](const db::Error &error, std::optional<store::TokenGrant> grant) {
    if (error) {
      AuthResult result;
      result.kind = error.unavailable() ? AuthResult::Kind::unavailable : AuthResult::Kind::unknown;
      if (!error.unavailable()) g_warning("token lookup failed: %s", error.describe().c_str());
      return done(result);
    }
    if (cache_.size() >= max_entries) cache_.clear();
    gint64 monotonic = g_get_monotonic_time();
    Entry &entry = cache_[key];
    bool first_use = !entry.grant;
    entry.grant = grant;
    entry.fetched_us = monotonic;
    if (grant && first_use) {
      entry.touched_us = monotonic;
      tokens_.touch(grant->id);
    }
    done(granted_if_current(grant, g_get_real_time()));
  });
}

void Authenticator::forget(const std::string &token_id) {
  for (auto it = cache_.begin(); it != cache_.end();) {
    if (it->second.grant && it->second.grant->id == token_id)
      it = cache_.erase(it);
    else
      ++it;
  }
}

}  // namespace onair::http
