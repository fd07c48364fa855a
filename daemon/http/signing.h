/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include <optional>
#include <string>

namespace onair::http {

/* Playback URLs signed with HMAC-SHA256 and an expiry:
 *
 *   /media/s/{exp}/{sig}/{scope}/...
 *
 * exp is the expiry in Unix seconds, sig the unpadded base64url of
 * HMAC-SHA256(key, "{exp}/{scope}"), and scope the first two path components
 * after the token (`videos/<id>`). The token sits in the path rather than the
 * query so that the relative URIs inside playlists and MPDs inherit it. */
class UrlSigner {
 public:
  /* At least this many bytes of key. */
  static constexpr gsize key_bytes = 32;

  explicit UrlSigner(std::string key) : key_(std::move(key)) {}

  /* The key in `path`: created with `key_bytes` random bytes (mode 0600) when
   * missing, so that URLs survive restarts; a short or unreadable file is an
   * error. */
  static std::optional<UrlSigner> load(const std::string &path, GError **error);

  /* "/media/s/{exp}/{sig}/{scope}" (scope without leading slash). */
  std::string sign(const std::string &scope, gint64 expires_unix) const;

  enum class Verdict { valid, malformed_expiry, bad_signature, expired };
  /* Checks the two token components of a request path against its scope, in
   * constant time as far as the signature goes. */
  Verdict verify(const std::string &expires, const std::string &signature, const std::string &scope,
                 gint64 now_unix) const;
  /* Why a verdict refuses, for a problem's detail. */
  static const char *describe(Verdict verdict);

 private:
  std::string signature(const std::string &expires, const std::string &scope) const;

  std::string key_;
};

}  // namespace onair::http
