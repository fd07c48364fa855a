/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "db/database.h"
#include "http/router.h"
#include "store/comments.h"
#include "store/videos.h"

#include <libsoup/soup.h>

#include <string>

namespace onair::http {

/* The REST API (/api/v1, schemas/openapi.yaml) and /healthz. Path ids are
 * checked first: a malformed UUID answers 400 naming the parameter, a
 * well-formed unknown one 404. Bodies: malformed JSON or not an object 400,
 * wrong types, unknown members and out-of-range values 422 naming them. */
class Api {
 public:
  /* `public_base_url`: no trailing slash; Location headers. `links`: the
   * videos' signed playback URLs. */
  Api(db::Database &database, std::string public_base_url, store::MediaLinks links);
  void mount(SoupServer *server) { router_.mount(server); }

 private:
  void healthz(Request &request);
  void create_video(Request &request);
  void get_video(Request &request);
  void list_videos(Request &request);
  void update_video(Request &request);
  void delete_video(Request &request);
  void create_comment(Request &request);
  void list_comments(Request &request);

  db::Database &database_;
  std::string base_;
  store::VideoStore videos_;
  store::CommentStore comments_;
  Router router_;
};

}  // namespace onair::http
