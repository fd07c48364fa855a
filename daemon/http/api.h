/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "channels/supervisor.h"
#include "db/database.h"
#include "http/auth.h"
#include "http/cork.h"
#include "http/events.h"
#include "http/metrics.h"
#include "http/rate_limit.h"
#include "http/router.h"
#include "http/shared_reads.h"
#include "store/ad_breaks.h"
#include "store/channels.h"
#include "store/comments.h"
#include "store/news_flashes.h"
#include "store/points.h"
#include "store/reactions.h"
#include "store/videos.h"

#include <libsoup/soup.h>

#include <map>
#include <memory>
#include <string>
#include <unordered_map>

namespace onair::http {

/* Reactions and points (daemon/http/points_api.cpp); config.h's [reactions]
 * and [points]. */
struct PointsSettings {
  double viewer_rate = 10;
  double viewer_burst = 20;
  double address_rate = 200;
  double address_burst = 400;
  int64_t super_price = 10;
  int seconds_per_point = 60;
  int max_report_seconds = 300;
  int64_t max_points_per_hour = 60;
};

/* The REST API (/api/v1, schemas/openapi.yaml), /healthz and /metrics. Path ids are
 * checked first: a malformed UUID answers 400 naming the parameter, a
 * well-formed unknown one 404. Bodies: malformed JSON or not an object 400,
 * wrong types, unknown members and out-of-range values 422 naming them. */
class Api {
 public:
  /* `public_base_url`: no trailing slash; Location headers. `links`: the
   * videos' signed playback URLs. */
  Api(db::Database &database, std::string public_base_url, store::MediaLinks links,
      channels::Supervisor *supervisor = nullptr);
  /* Serves the API on `server`; every answer of the server, the API's or
   * another handler's, is then sent corked (http/cork.h). */
  void mount(SoupServer *server) {
    cork_answers(server);
    router_.mount(server);
  }
  Authenticator &authenticator() { return auth_; }
  /* For routes registered elsewhere (http/playback.h), before mount(). */
  Router &router() { return router_; }
  /* GET /api/v1/events: publish() here what clients should hear of. */
  EventHub &events() { return events_; }
  /* GET /metrics */
  Metrics &metrics() { return metrics_; }
  /* A news flash moved (created, on screen, waiting, ended): the event
   * channel.news_flash (operators only, like every channel.* event).
   * `end_reason` empty unless ended. */
  void publish_flash_state(const std::string &channel_id, const std::string &flash_id,
                           const std::string &state, const std::string &end_reason);
  /* Rate limits, prices and earn caps of reactions and points. */
  void configure_points(const PointsSettings &settings);
  /* The comment pages' shared queries (tests). */
  const SharedReads &shared_reads() const { return shared_reads_; }

 private:
  void healthz(Request &request);
  void create_video(Request &request);
  void get_video(Request &request);
  void list_videos(Request &request);
  void update_video(Request &request);
  void delete_video(Request &request);
  void create_comment(Request &request);
  void list_comments(Request &request);
  void create_token(Request &request);
  void list_tokens(Request &request);
  void revoke_token(Request &request);
  void add_channel_routes();
  void list_channels(Request &request);
  void create_channel(Request &request);
  void get_channel(Request &request);
  void update_channel(Request &request);
  void delete_channel(Request &request);
  void set_channel_running(Request &request, bool running);
  void rotate_channel_key(Request &request);
  JsonNode *channel_json(const store::Channel &channel) const;
  void add_ad_break_routes();
  void create_ad_break(Request &request);
  void list_ad_breaks(Request &request);
  void get_ad_break(Request &request);
  void end_ad_break(Request &request);
  void add_news_flash_routes();
  void create_news_flash(Request &request);
  void list_news_flashes(Request &request);
  void get_news_flash(Request &request);
  void remove_news_flash(Request &request);
  void clear_news_flashes(Request &request);
  void add_points_routes();
  void create_reaction(Request &request);
  void reaction_counted(std::shared_ptr<Pending> pending, const std::string &channel_id,
                        const std::string &video_id, const std::string &kind, bool super,
                        std::optional<int64_t> balance);
  void report_watch(Request &request);
  void grant_points(Request &request);
  void get_points(Request &request);
  void get_ledger(Request &request);
  void get_reaction_timeline(Request &request);
  /* The JSON of a comment page read for `key` (see list_comments). */
  std::shared_ptr<GBytes> comment_page_body(const std::string &key, store::Page<store::Comment> page,
                                            const std::string &path,
                                            const std::map<std::string, std::string> &params);

  db::Database &database_;
  std::string base_;
  store::VideoStore videos_;
  store::CommentStore comments_;
  store::ChannelStore channels_;
  store::AdBreakStore ad_breaks_;
  store::NewsFlashStore news_flashes_;
  store::PointStore points_;
  store::ReactionStore reactions_;
  PointsSettings points_settings_;
  RateLimiter viewer_limits_{points_settings_.viewer_rate, points_settings_.viewer_burst};
  RateLimiter address_limits_{points_settings_.address_rate, points_settings_.address_burst};
  store::MediaLinks links_;
  /* Runs the channels; nullptr: channels are stored, not run. */
  channels::Supervisor *supervisor_;
  Authenticator auth_;
  Router router_;
  Metrics metrics_;
  EventHub events_;
  /* Concurrent identical comment pages: one query (see list_comments). */
  SharedReads shared_reads_;
  /* The last page and body served for each key: a body is built again only
   * when the rows a query returned differ. Bounded: cleared when full. */
  struct PageBody {
    store::Page<store::Comment> page;
    std::shared_ptr<GBytes> body;
  };
  static constexpr size_t max_page_bodies = 256;
  std::unordered_map<std::string, PageBody> page_bodies_;
};

}  // namespace onair::http
