/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "http/signing.h"

#include <libsoup/soup.h>

#include <string>

namespace onair::http {

/* Serves what abrsink writes under `<media_root>/videos/<id>/` at
 *
 *   /media/s/{exp}/{sig}/videos/{id}/{file...}
 *
 * checking the signature and expiry on every request (403 otherwise). Only
 * regular files below the media root with a known media extension are
 * served; dot segments, encoded slashes, NUL and symbolic links leaving the
 * root are refused. GET and HEAD (Range through libsoup, ETag and
 * Last-Modified with 304), CORS for players on other origins (OPTIONS
 * preflight), Cache-Control for a CDN in front: live playlists 1 s, finished
 * ones up to an hour but never past the URL's expiry, segments immutable. */
class MediaServer {
 public:
  MediaServer(std::string media_root, const UrlSigner &signer);
  /* Registers on "/media/" (and only there: other paths stay with whoever
   * else is mounted; libsoup matches a handler's path as a plain prefix, so
   * "/media" would take "/mediax" too). The MediaServer must outlive
   * `server`. */
  void mount(SoupServer *server);

 private:
  static void on_early(SoupServer *, SoupServerMessage *message, const char *path, GHashTable *query,
                       gpointer self);
  static void on_request(SoupServer *, SoupServerMessage *message, const char *path, GHashTable *query,
                         gpointer self);
  void serve(SoupServerMessage *message, const char *path);

  std::string root_;
  UrlSigner signer_;
};

}  // namespace onair::http
