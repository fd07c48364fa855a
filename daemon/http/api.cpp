/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "http/api.h"

#include "http/fields.h"
#include "http/json.h"

namespace onair::http {

namespace {

constexpr db::Statement ping{"healthz_ping", "SELECT 1 AS one"};

const std::initializer_list<const char *> visibilities = {"public", "unlisted", "private"};
const std::initializer_list<const char *> statuses = {"pending", "live",  "processing",
                                                      "ready",   "ended", "failed"};
const std::initializer_list<const char *> kinds = {"live", "vod"};

void add_video(JsonBuilder *builder, const store::Video &video) {
  json_builder_begin_object(builder);
  add_string(builder, "id", video.id);
  add_optional_string(builder, "channel_id", video.channel_id);
  add_string(builder, "kind", video.kind);
  add_string(builder, "title", video.title);
  add_string(builder, "description", video.description);
  json_builder_set_member_name(builder, "tags");
  json_builder_begin_array(builder);
  for (const std::string &tag : video.tags) json_builder_add_string_value(builder, tag.c_str());
  json_builder_end_array(builder);
  add_string(builder, "visibility", video.visibility);
  add_string(builder, "status", video.status);
  add_optional_string(builder, "error", video.error);
  add_optional_int(builder, "duration_ms", video.duration_ms);
  json_builder_set_member_name(builder, "renditions");
  json_builder_add_value(builder, json_node_copy(video.renditions.get()));
  json_builder_set_member_name(builder, "playback");
  json_builder_begin_object(builder);
  add_string(builder, "hls", video.hls_url);
  add_string(builder, "dash", video.dash_url);
  json_builder_end_object(builder);
  add_string(builder, "created_at", video.created_at);
  add_string(builder, "updated_at", video.updated_at);
  add_time(builder, "started_at", video.started_at);
  add_time(builder, "ended_at", video.ended_at);
  json_builder_end_object(builder);
}

void add_comment(JsonBuilder *builder, const store::Comment &comment) {
  json_builder_begin_object(builder);
  add_string(builder, "id", comment.id);
  add_string(builder, "video_id", comment.video_id);
  add_string(builder, "author", comment.author);
  add_string(builder, "body", comment.body);
  add_optional_int(builder, "media_time_ms", comment.media_time_ms);
  add_string(builder, "created_at", comment.created_at);
  json_builder_end_object(builder);
}

void add_token(JsonBuilder *builder, const store::Token &token) {
  json_builder_begin_object(builder);
  add_string(builder, "id", token.id);
  add_string(builder, "name", token.name);
  add_string(builder, "role", store::role_name(token.role));
  add_string(builder, "created_at", token.created_at);
  add_time(builder, "expires_at", token.expires_at);
  add_time(builder, "last_used_at", token.last_used_at);
  json_builder_end_object(builder);
}

}  // namespace

Api::Api(db::Database &database, std::string public_base_url, store::MediaLinks links,
         channels::Supervisor *supervisor)
    : database_(database),
      base_(std::move(public_base_url)),
      videos_(database, links),
      comments_(database),
      channels_(database),
      ad_breaks_(database),
      news_flashes_(database),
      points_(database),
      reactions_(database),
      links_(std::move(links)),
      supervisor_(supervisor),
      auth_(database),
      router_(&auth_) {
  using enum Access;
  router_.add("GET", "/healthz", [this](Request &request) { healthz(request); });
  router_.add(
      "POST", "/api/v1/videos", [this](Request &request) { create_video(request); }, operator_);
  router_.add("GET", "/api/v1/videos", [this](Request &request) { list_videos(request); });
  router_.add("GET", "/api/v1/videos/{id}", [this](Request &request) { get_video(request); });
  router_.add(
      "PATCH", "/api/v1/videos/{id}", [this](Request &request) { update_video(request); }, operator_);
  router_.add(
      "DELETE", "/api/v1/videos/{id}", [this](Request &request) { delete_video(request); }, operator_);
  router_.add(
      "POST", "/api/v1/videos/{id}/comments", [this](Request &request) { create_comment(request); }, viewer);
  router_.add("GET", "/api/v1/videos/{id}/comments", [this](Request &request) { list_comments(request); });
  router_.add(
      "POST", "/api/v1/tokens", [this](Request &request) { create_token(request); }, admin);
  router_.add(
      "GET", "/api/v1/tokens", [this](Request &request) { list_tokens(request); }, admin);
  router_.add(
      "DELETE", "/api/v1/tokens/{id}", [this](Request &request) { revoke_token(request); }, admin);
  add_channel_routes();
  add_ad_break_routes();
  add_news_flash_routes();
  add_points_routes();
  router_.add(
      "GET", "/api/v1/events", [this](Request &request) { events_.serve(request); }, viewer);
  router_.add("GET", "/metrics", [this](Request &request) { metrics_.serve(request); });

  router_.observe([this](SoupServerMessage *message, const std::string &route) {
    metrics_.watch_request(message, route);
  });
  metrics_.watch_database(database_);
  metrics_.registry().gauge("onair_events_clients", "Clients connected to /api/v1/events.",
                            [this] { return double(events_.clients()); });
  metrics_.registry().collected("onair_events_published_total", "Events published.", "counter", {}, [this] {
    return std::vector<metrics::Sample>{{{}, double(events_.published())}};
  });
}

void Api::healthz(Request &request) {
  if (!database_.available()) {
    request.problem({503, {}, "the database is unavailable", {}, 1});
    return;
  }
  auto pending = request.defer();
  pending->watch(database_.query(ping, {}, [pending](const db::Result &result) {
    if (!result.ok()) return pending->problem({503, {}, "the database is unavailable", {}, 1});
    JsonBuilder *builder = json_builder_new();
    json_builder_begin_object(builder);
    add_string(builder, "status", "ok");
    json_builder_end_object(builder);
    pending->json(200, json_builder_get_root(builder));
    g_object_unref(builder);
  }));
}

void Api::create_video(Request &request) {
  JsonNode *body = request.json_body();
  if (!body) return;
  Fields fields(body);
  store::VideoCreate video;
  video.title = fields.string("title", 1, 200, true).value_or("");
  video.description = fields.string("description", 0, 5000, false).value_or("");
  video.tags = fields.strings("tags", 32, 1, 64).value_or(std::vector<std::string>{});
  video.visibility = fields.one_of("visibility", visibilities, false).value_or("private");
  video.kind = fields.one_of("kind", kinds, false).value_or("vod");
  video.channel_id = fields.uuid_or_null("channel_id");
  bool ok = fields.finish();
  json_node_unref(body);
  if (!ok) return request.problem(fields.problem());

  auto pending = request.defer();
  std::string base = base_;
  pending->watch(
      videos_.create(video, [pending, base](const db::Error &error, std::optional<store::Video> video) {
        if (error) return pending->problem(problem_from_db_error(error));
        std::string location = base + "/api/v1/videos/" + video->id;
        pending->json(201, one_json(*video, add_video), location);
      }));
}

void Api::get_video(Request &request) {
  if (!valid_id(request, "id")) return;
  auto pending = request.defer();
  bool see_private = request.has_role(store::Role::operator_);
  pending->watch(videos_.get(
      request.param("id"), [pending, see_private](const db::Error &error, std::optional<store::Video> video) {
        if (error) return pending->problem(problem_from_db_error(error));
        /* A private video does not exist for whoever may not see it. */
        if (!video || (video->visibility == "private" && !see_private))
          return pending->problem(not_found("video"));
        pending->json(200, one_json(*video, add_video));
      }));
}

void Api::list_videos(Request &request) {
  QueryFields query(request.query());
  store::VideoFilter filter;
  filter.channel_id = query.uuid("channel_id");
  filter.status = query.one_of("status", statuses);
  filter.visibility = query.one_of("visibility", visibilities);
  filter.kind = query.one_of("kind", kinds);
  filter.tag = query.text("tag");
  filter.limit = query.integer("limit", 20, 1, 100);
  filter.after = query.cursor("after", "t");
  if (!query.finish()) return request.problem(query.problem());
  /* Without an operator token, the list is the public catalogue. */
  if (!request.has_role(store::Role::operator_)) {
    if (filter.visibility && *filter.visibility != "public")
      return request.problem({403,
                              {},
                              "only operators may list videos that are not public",
                              {{"visibility", "needs an operator token unless public"}}});
    filter.visibility = "public";
  }

  auto pending = request.defer();
  std::map<std::string, std::string> params = request.query();
  pending->watch(
      videos_.list(filter, [pending, params](const db::Error &error, store::Page<store::Video> page) {
        if (error) return pending->problem(problem_from_db_error(error));
        pending->json(200, page_json(page, add_video, next_link("/api/v1/videos", params, page.next_cursor)));
      }));
}

void Api::update_video(Request &request) {
  if (!valid_id(request, "id")) return;
  JsonNode *body = request.json_body();
  if (!body) return;
  Fields fields(body);
  store::VideoUpdate update;
  update.title = fields.string("title", 1, 200, false);
  update.description = fields.string("description", 0, 5000, false);
  update.tags = fields.strings("tags", 32, 1, 64);
  update.visibility = fields.one_of("visibility", visibilities, false);
  bool ok = fields.finish();
  json_node_unref(body);
  if (!ok) return request.problem(fields.problem());
  if (fields.present() == 0)
    return request.problem({422, {}, "nothing to update: give title, description, tags or visibility", {}});

  auto pending = request.defer();
  pending->watch(videos_.update(request.param("id"), update,
                                [pending](const db::Error &error, std::optional<store::Video> video) {
                                  if (error) return pending->problem(problem_from_db_error(error));
                                  if (!video) return pending->problem(not_found("video"));
                                  pending->json(200, one_json(*video, add_video));
                                }));
}

void Api::delete_video(Request &request) {
  if (!valid_id(request, "id")) return;
  auto pending = request.defer();
  pending->watch(videos_.remove(request.param("id"), [pending](const db::Error &error, bool found) {
    if (error) return pending->problem(problem_from_db_error(error));
    if (!found) return pending->problem(not_found("video"));
    pending->empty(204);
  }));
}

void Api::create_comment(Request &request) {
  if (!valid_id(request, "id")) return;
  JsonNode *body = request.json_body();
  if (!body) return;
  Fields fields(body);
  store::CommentCreate comment;
  comment.video_id = request.param("id");
  comment.author = fields.string("author", 1, 64, true).value_or("");
  comment.body = fields.string("body", 1, 2000, true).value_or("");
  comment.media_time_ms = fields.integer_or_null("media_time_ms", 0);
  bool ok = fields.finish();
  json_node_unref(body);
  if (!ok) return request.problem(fields.problem());

  auto pending = request.defer();
  std::string base = base_;
  EventHub *events = &events_;
  pending->watch(comments_.create(
      comment, [pending, base, events](const db::Error &error, std::optional<store::Comment> comment) {
        if (error && error.sqlstate == "23503") return pending->problem(not_found("video"));
        if (error) return pending->problem(problem_from_db_error(error));
        std::string location = base + "/api/v1/videos/" + comment->video_id + "/comments";
        /* Serialized once, for the answer and the event. */
        GBytes *body = json_bytes(one_json(*comment, add_comment));
        pending->json(201, body, location);
        gsize size = 0;
        const char *text = static_cast<const char *>(g_bytes_get_data(body, &size));
        events->publish_serialized("comment.created", comment->video_id, std::string_view(text, size));
        g_bytes_unref(body);
      }));
}

void Api::list_comments(Request &request) {
  if (!valid_id(request, "id")) return;
  QueryFields query(request.query());
  store::CommentFilter filter;
  filter.video_id = request.param("id");
  std::optional<std::string> order = query.one_of("order", {"newest", "media_time"});
  filter.order =
      order && *order == "media_time" ? store::CommentOrder::media_time : store::CommentOrder::newest;
  filter.limit = query.integer("limit", 50, 1, 200);
  filter.after = query.cursor("after", comments_.cursor_kind(filter.order));
  if (!query.finish()) return request.problem(query.problem());

  /* Identical requests (the same video and query) that come together share
   * one query and one body; each still sees what was committed before it came. */
  std::string key = filter.video_id;
  for (const auto &[name, value] : request.query()) {
    key += '\0';
    key += name;
    key += '\0';
    key += value;
  }
  std::shared_ptr<Pending> pending = request.defer();
  if (shared_reads_.join(key, pending)) return;
  std::string path = "/api/v1/videos/" + filter.video_id + "/comments";
  std::map<std::string, std::string> params = request.query();
  shared_reads_.read(key, std::move(pending), [this, key, filter, path, params](auto done) {
    return comments_.list(filter, [this, done, key, path, params](const db::Error &error, bool found,
                                                                  store::Page<store::Comment> page) {
      if (error) {
        Problem problem = problem_from_db_error(error);
        return done([problem](Pending &pending) { pending.problem(problem); });
      }
      if (!found) return done([](Pending &pending) { pending.problem(not_found("video")); });
      done([body = comment_page_body(key, std::move(page), path, params)](Pending &pending) {
        pending.json(200, body.get());
      });
    });
  });
}

std::shared_ptr<GBytes> Api::comment_page_body(const std::string &key, store::Page<store::Comment> page,
                                               const std::string &path,
                                               const std::map<std::string, std::string> &params) {
  /* The body depends only on the rows and the request (the key): when a
   * fresh query returns the rows of the last one, its body is still right. */
  auto found = page_bodies_.find(key);
  if (found != page_bodies_.end() && found->second.page == page) return found->second.body;
  std::shared_ptr<GBytes> body(
      json_bytes(page_json(page, add_comment, next_link(path, params, page.next_cursor))), g_bytes_unref);
  if (page_bodies_.size() >= max_page_bodies) page_bodies_.clear();
  page_bodies_[key] = {std::move(page), body};
  return body;
}

void Api::create_token(Request &request) {
  JsonNode *body = request.json_body();
  if (!body) return;
  Fields fields(body);
  std::string name = fields.string("name", 1, 100, true).value_or("");
  std::string role = fields.one_of("role", {"admin", "operator", "viewer"}, true).value_or("viewer");
  std::optional<std::string> expires_at = fields.string("expires_at", 1, 64, false);
  if (expires_at) {
    GDateTime *parsed = g_date_time_new_from_iso8601(expires_at->c_str(), nullptr);
    if (!parsed) {
      fields.fail("expires_at", "must be an RFC 3339 date-time with a time zone");
    } else {
      if (g_date_time_to_unix(parsed) <= g_get_real_time() / G_USEC_PER_SEC)
        fields.fail("expires_at", "must be in the future");
      g_date_time_unref(parsed);
    }
  }
  bool ok = fields.finish();
  json_node_unref(body);
  if (!ok) return request.problem(fields.problem());

  std::string secret = store::make_token_secret();
  auto pending = request.defer();
  std::string base = base_;
  pending->watch(auth_.tokens().create(
      name, *store::role_from_name(role), secret, expires_at.value_or(""),
      [pending, base, secret](const db::Error &error, std::optional<store::Token> token) {
        if (error) return pending->problem(problem_from_db_error(error));
        JsonNode *node = one_json(*token, add_token);
        /* The secret is shown this once. */
        json_object_set_string_member(json_node_get_object(node), "token", secret.c_str());
        pending->json(201, node, base + "/api/v1/tokens/" + token->id);
      }));
}

void Api::list_tokens(Request &request) {
  QueryFields query(request.query());
  int64_t limit = query.integer("limit", 100, 1, 1000);
  if (!query.finish()) return request.problem(query.problem());
  auto pending = request.defer();
  pending->watch(
      auth_.tokens().list(limit, [pending](const db::Error &error, std::vector<store::Token> tokens) {
        if (error) return pending->problem(problem_from_db_error(error));
        JsonBuilder *builder = json_builder_new();
        json_builder_begin_object(builder);
        json_builder_set_member_name(builder, "items");
        json_builder_begin_array(builder);
        for (const store::Token &token : tokens) add_token(builder, token);
        json_builder_end_array(builder);
        json_builder_end_object(builder);
        pending->json(200, json_builder_get_root(builder));
        g_object_unref(builder);
      }));
}

void Api::revoke_token(Request &request) {
  if (!valid_id(request, "id")) return;
  auto pending = request.defer();
  std::string id = request.param("id");
  pending->watch(auth_.tokens().revoke(id, [this, pending, id](const db::Error &error, bool found) {
    if (error) return pending->problem(problem_from_db_error(error));
    if (!found) return pending->problem(not_found("token"));
    auth_.forget(id);
    pending->empty(204);
  }));
}

}  // namespace onair::http
