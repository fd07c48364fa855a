/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "db/database.h"
#include "http/events.h"
#include "http/metrics.h"
#include "http/router.h"
#include "store/comments.h"
#include "store/videos.h"

#include <libsoup/soup.h>

#include <string>

namespace onair::http {

/* The REST API (/api/v1, schemas/openapi.yaml), /healthz and /metrics. Path ids are
 * checked first: a malformed UUID answers 400 naming the parameter, a
 * well-formed unknown one 404. Bodies: malformed JSON or not an object 400,
 * wrong types, unknown members and out-of-range values 422 naming them. */
class Api {
 public:
  /* `public_base_url`: no trailing slash; playback URLs and Location headers. */
  Api(db::Database &database, std::string public_base_url);
  void mount(SoupServer *server) { router_.mount(server); }
  /* GET /api/v1/events: publish() here what clients should hear of. */
  EventHub &events() { return events_; }
  /* GET /metrics */
  Metrics &metrics() { return metrics_; }

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
  Metrics metrics_;
  EventHub events_;
};

}  // namespace onair::http
