/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "http/signing.h"

#include "store/common.h"

#include <glib/gstdio.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace onair::http {

namespace {

/* Unix seconds fit in 19 digits until long after anyone cares. */
constexpr gsize max_expiry_digits = 19;

/* Equal-length comparison that takes the same time wherever the first
 * difference is; the length of a signature is no secret. */
bool equal_constant_time(const std::string &a, const std::string &b) {
  if (a.size() != b.size()) return false;
  unsigned char difference = 0;
  for (size_t i = 0; i < a.size(); i++) difference |= static_cast<unsigned char>(a[i] ^ b[i]);
  return difference == 0;
}

bool write_all(int fd, const guint8 *data, gsize length) {
  while (length > 0) {
    ssize_t written = write(fd, data, length);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return false;
    data += written;
    length -= written;
  }
  return true;
}

/* A new random key at `path`. Written to a temporary file and linked into
 * place, so that a daemon starting at the same moment either sees no key or
 * a whole one; if another one wins, its key is kept. */
bool create_key(const std::string &path, GError **error) {
  gchar *directory = g_path_get_dirname(path.c_str());
  int made = g_mkdir_with_parents(directory, 0700);
  int saved = errno;
  g_free(directory);
  if (made != 0) {
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "cannot create the directory of %s: %s",
                path.c_str(), g_strerror(saved));
    return false;
  }
  guint8 key[UrlSigner::key_bytes];
  if (!store::random_bytes(key, sizeof key)) {
    saved = errno;
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "no random bytes for %s: %s",
                path.c_str(), g_strerror(saved));
    return false;
  }
  std::string temporary = path + ".XXXXXX";
  int fd = g_mkstemp_full(temporary.data(), O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) {
    saved = errno;
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "cannot create %s: %s", path.c_str(),
                g_strerror(saved));
    return false;
  }
  bool ok = write_all(fd, key, sizeof key) && fsync(fd) == 0;
  saved = errno;
  ok = close(fd) == 0 && ok;
  memset(key, 0, sizeof key);
  if (ok && link(temporary.c_str(), path.c_str()) != 0 && errno != EEXIST) {
    saved = errno;
    ok = false;
  }
  g_unlink(temporary.c_str());
  if (!ok) {
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "cannot write %s: %s", path.c_str(),
                g_strerror(saved));
    return false;
  }
  return true;
}

}  // namespace

std::optional<UrlSigner> UrlSigner::load(const std::string &path, GError **error) {
  for (int attempt = 0; attempt < 2; attempt++) {
    gchar *contents = nullptr;
    gsize length = 0;
    GError *read_error = nullptr;
    if (g_file_get_contents(path.c_str(), &contents, &length, &read_error)) {
      std::string key(contents, length);
      memset(contents, 0, length);
      g_free(contents);
      if (length < key_bytes) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                    "the playback key %s holds %zu bytes, fewer than %zu (remove it to have a new one "
                    "made; URLs signed with the old key stop working)",
                    path.c_str(), length, key_bytes);
        return std::nullopt;
      }
      return UrlSigner(std::move(key));
    }
    bool missing = g_error_matches(read_error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
    if (!missing || attempt > 0) {
      g_set_error(error, G_FILE_ERROR, read_error->code, "cannot read the playback key: %s",
                  read_error->message);
      g_error_free(read_error);
      return std::nullopt;
    }
    g_error_free(read_error);
    if (!create_key(path, error)) return std::nullopt;
  }
  return std::nullopt;
}

std::string UrlSigner::signature(const std::string &expires, const std::string &scope) const {
  GHmac *hmac = g_hmac_new(G_CHECKSUM_SHA256, reinterpret_cast<const guchar *>(key_.data()), key_.size());
  std::string message = expires + "/" + scope;
  g_hmac_update(hmac, reinterpret_cast<const guchar *>(message.data()), message.size());
  guint8 digest[32];
  gsize length = sizeof digest;
  g_hmac_get_digest(hmac, digest, &length);
  g_hmac_unref(hmac);
  return store::base64url(digest, length);
}

std::string UrlSigner::sign(const std::string &scope, gint64 expires_unix) const {
  std::string expires = std::to_string(expires_unix);
  return "/media/s/" + expires + "/" + signature(expires, scope) + "/" + scope;
}

UrlSigner::Verdict UrlSigner::verify(const std::string &expires, const std::string &signature_text,
                                     const std::string &scope, gint64 now_unix) const {
  if (expires.empty() || expires.size() > max_expiry_digits) return Verdict::malformed_expiry;
  for (char c : expires)
    if (!g_ascii_isdigit(c)) return Verdict::malformed_expiry;
  guint64 value = g_ascii_strtoull(expires.c_str(), nullptr, 10);
  if (value > static_cast<guint64>(G_MAXINT64)) return Verdict::malformed_expiry;
  /* The signature first: an expired URL is only reported as such when it was
   * genuine. */
  if (!equal_constant_time(signature(expires, scope), signature_text)) return Verdict::bad_signature;
  if (static_cast<gint64>(value) <= now_unix) return Verdict::expired;
  return Verdict::valid;
}

const char *UrlSigner::describe(Verdict verdict) {
  switch (verdict) {
    case Verdict::valid:
      return "valid";
    case Verdict::malformed_expiry:
      return "the expiry is not a number of Unix seconds";
    case Verdict::bad_signature:
      return "signature does not match";
    case Verdict::expired:
      return "expired";
  }
  return "invalid";
}

}  // namespace onair::http
