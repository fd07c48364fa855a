/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Viewer reactions on live channels and the viewers' points.
 *
 * A viewer is an API token (any role): /api/v1/viewers/me is the caller's
 * token, {viewer_id} a token id. A reaction is counted in its channel's
 * current broadcast (the video of the run), so a channel must be on air on
 * this daemon: otherwise 409, nothing counted nor spent. Counting is batched
 * (store/reactions.cpp); once counted, the reaction is handed to the
 * channel's reactions element on the supervisor's next 100 ms tick. A super
 * reaction costs points, taken in the statement that counts it (never one
 * without the other); a balance too low answers 409 and takes nothing.
 * Reactions are rate-limited per viewer and per client address (token
 * buckets in memory: 429 with Retry-After). The kinds taken are those the
 * channel's reactions element counts.
 */
#include "http/api.h"
#include "http/fields.h"
#include "http/json.h"

namespace onair::http {

namespace {

/* The reactions element's default `kinds`: the kinds taken for a channel
 * whose pipeline has no reactions element (counted, not drawn). */
const std::vector<std::string> default_reaction_kinds = {"👍", "❤️", "😂", "😮", "😢", "👏", "🔥"};
constexpr int64_t max_grant = 1000000;
constexpr size_t max_reason = 200;
/* A day of reactions in one bucket at most. */
constexpr int64_t max_bucket_s = 86400;

Problem conflict(const std::string &detail) {
  return {409, {}, detail, {}};
}

void add_transaction(JsonBuilder *builder, const store::PointTransaction &t) {
  json_builder_begin_object(builder);
  add_string(builder, "id", t.id);
  add_string(builder, "viewer_id", t.viewer_id);
  add_string(builder, "kind", t.kind);
  add_int(builder, "amount", t.amount);
  add_int(builder, "balance_after", t.balance_after);
  add_optional_string(builder, "reason", t.reason);
  add_optional_string(builder, "channel_id", t.channel_id);
  add_optional_string(builder, "video_id", t.video_id);
  add_optional_int(builder, "seconds", t.seconds);
  add_string(builder, "created_at", t.created_at);
  json_builder_end_object(builder);
}

void add_counts(JsonBuilder *builder, const char *name, const std::map<std::string, int64_t> &counts) {
  json_builder_set_member_name(builder, name);
  json_builder_begin_object(builder);
  for (const auto &[kind, count] : counts) add_int(builder, kind.c_str(), count);
  json_builder_end_object(builder);
}

JsonNode *timeline_json(const store::ReactionTimeline &timeline, int64_t bucket_s) {
  std::map<std::string, int64_t> totals, super_totals;
  JsonBuilder *builder = json_builder_new();
  json_builder_begin_object(builder);
  add_string(builder, "video_id", timeline.video_id);
  add_int(builder, "bucket", bucket_s);
  json_builder_set_member_name(builder, "items");
  json_builder_begin_array(builder);
  for (const store::ReactionBucket &bucket : timeline.buckets) {
    json_builder_begin_object(builder);
    add_string(builder, "start", bucket.start);
    add_counts(builder, "counts", bucket.counts);
    add_counts(builder, "super_counts", bucket.super_counts);
    int64_t total = 0;
    for (const auto &[kind, count] : bucket.counts) {
      total += count;
      totals[kind] += count;
    }
    for (const auto &[kind, count] : bucket.super_counts) super_totals[kind] += count;
    add_int(builder, "total", total);
    json_builder_end_object(builder);
  }
  json_builder_end_array(builder);
  add_counts(builder, "totals", totals);
  add_counts(builder, "super_totals", super_totals);
  json_builder_end_object(builder);
  JsonNode *root = json_builder_get_root(builder);
  g_object_unref(builder);
  return root;
}

/* A reaction counted in a broadcast (video) deleted since the channel went
 * on air fails its foreign key: the client sent no video, so not a 422. */
Problem reaction_problem(const db::Error &error) {
  if (error.sqlstate == "23503")
    return conflict(
        "the channel's current broadcast is gone (its video was deleted); nothing was counted or spent");
  return problem_from_db_error(error);
}

std::string client_address(SoupServerMessage *message) {
  const char *host = soup_server_message_get_remote_host(message);
  return host ? host : "unknown";
}

}  // namespace

void Api::configure_points(const PointsSettings &settings) {
  points_settings_ = settings;
  viewer_limits_ = RateLimiter(settings.viewer_rate, settings.viewer_burst);
  address_limits_ = RateLimiter(settings.address_rate, settings.address_burst);
}

void Api::create_reaction(Request &request) {
  if (!valid_id(request, "id")) return;
  JsonNode *body = request.json_body();
  if (!body) return;
  std::string channel_id = request.param("id");
  std::optional<channels::Runtime> runtime = supervisor_ ? supervisor_->runtime(channel_id) : std::nullopt;
  /* the kinds the channel's reactions element counts */
  const std::vector<std::string> &kinds =
      runtime && !runtime->reaction_kinds.empty() ? runtime->reaction_kinds : default_reaction_kinds;
  Fields fields(body);
  std::optional<std::string> kind = fields.one_of("kind", kinds, true);
  bool super = fields.boolean("super").value_or(false);
  bool ok = fields.finish();
  json_node_unref(body);
  if (!ok) return request.problem(fields.problem());

  /* Per viewer first; a request the address bucket refuses gives its viewer token back. */
  const std::string viewer_id = request.grant()->id;
  int wait = viewer_limits_.take(viewer_id);
  if (!wait) {
    wait = address_limits_.take(client_address(request.message()));
    if (wait) viewer_limits_.refund(viewer_id);
  }
  if (wait) return request.problem({429, {}, "too many reactions; retry later", {}, wait});

  bool on_air = runtime && (runtime->state == "live" || runtime->state == "degraded") && runtime->video_id;
  auto pending = request.defer();
  if (!on_air) {
    /* Unknown (404) or not on air here (409): the store tells. */
    pending->watch(
        channels_.get(channel_id, [pending](const db::Error &error, std::optional<store::Channel> channel) {
          if (error) return pending->problem(problem_from_db_error(error));
          if (!channel) return pending->problem(not_found("channel"));
          pending->problem(conflict("the channel is not on air; reactions are taken while it is live"));
        }));
    return;
  }
  std::string video_id = *runtime->video_id;
  if (!super) {
    reactions_.count(channel_id, video_id, *kind,
                     [this, pending, channel_id, video_id, kind](const db::Error &error) {
                       if (error) return pending->problem(reaction_problem(error));
                       reaction_counted(pending, channel_id, video_id, *kind, false, std::nullopt);
                     });
    return;
  }
  /* Not cancelled if the client leaves: points spent are a reaction counted. */
  int64_t price = points_settings_.super_price;
  points_.buy_super_reaction(
      viewer_id, price, *kind, channel_id, video_id,
      [this, pending, channel_id, video_id, kind, price](const db::Error &error,
                                                         std::optional<store::PointTransaction> spent) {
        if (error) return pending->problem(reaction_problem(error));
        if (!spent)
          return pending->problem(conflict("not enough points: a super reaction costs " +
                                           std::to_string(price) + " points; nothing was spent"));
        reaction_counted(pending, channel_id, video_id, *kind, true, spent->balance_after);
      });
}

void Api::reaction_counted(std::shared_ptr<Pending> pending, const std::string &channel_id,
                           const std::string &video_id, const std::string &kind, bool super,
                           std::optional<int64_t> balance) {
  if (supervisor_) supervisor_->add_reaction(channel_id, kind, super);
  JsonBuilder *builder = json_builder_new();
  json_builder_begin_object(builder);
  add_string(builder, "channel_id", channel_id);
  add_string(builder, "video_id", video_id);
  add_string(builder, "kind", kind);
  json_builder_set_member_name(builder, "super");
  json_builder_add_boolean_value(builder, super);
  add_optional_int(builder, "price",
                   super ? std::optional<int64_t>(points_settings_.super_price) : std::nullopt);
  add_optional_int(builder, "balance", balance);
  json_builder_end_object(builder);
  pending->json(202, json_builder_get_root(builder));
  g_object_unref(builder);
}

void Api::report_watch(Request &request) {
  JsonNode *body = request.json_body();
  if (!body) return;
  Fields fields(body);
  store::WatchReport report;
  report.channel_id = fields.uuid_or_null("channel_id");
  report.video_id = fields.uuid_or_null("video_id");
  std::optional<int64_t> seconds = fields.integer("seconds", 1, points_settings_.max_report_seconds, true);
  if (fields.errors().empty() && bool(report.channel_id) == bool(report.video_id))
    fields.fail(report.channel_id ? "video_id" : "channel_id", "give exactly one of channel_id and video_id");
  bool ok = fields.finish();
  json_node_unref(body);
  if (!ok) return request.problem(fields.problem());
  report.viewer_id = request.grant()->id;
  report.seconds = int(*seconds);
  report.seconds_per_point = points_settings_.seconds_per_point;
  report.max_points_per_hour = points_settings_.max_points_per_hour;

  auto pending = request.defer();
  int64_t cap = report.max_points_per_hour;
  points_.earn(report, [pending, report, cap](const db::Error &error, store::Earned earned) {
    if (error && error.sqlstate == "23503") {
      const char *field = report.channel_id ? "channel_id" : "video_id";
      return pending->problem({422,
                               {},
                               "the body has invalid fields",
                               {{field, report.channel_id ? "no such channel" : "no such video"}}});
    }
    if (error) return pending->problem(problem_from_db_error(error));
    JsonBuilder *builder = json_builder_new();
    json_builder_begin_object(builder);
    add_int(builder, "earned", earned.earned);
    add_int(builder, "balance", earned.balance);
    add_int(builder, "unpaid_seconds", earned.unpaid_seconds);
    add_int(builder, "earned_last_hour", earned.earned_last_hour);
    add_int(builder, "max_points_per_hour", cap);
    json_builder_end_object(builder);
    pending->json(200, json_builder_get_root(builder));
    g_object_unref(builder);
  });
}

void Api::grant_points(Request &request) {
  if (!valid_id(request, "viewer_id")) return;
  JsonNode *body = request.json_body();
  if (!body) return;
  Fields fields(body);
  std::optional<int64_t> amount = fields.integer("amount", 1, max_grant, true);
  std::optional<std::string> reason = fields.string("reason", 1, max_reason, true);
  bool ok = fields.finish();
  json_node_unref(body);
  if (!ok) return request.problem(fields.problem());
  auto pending = request.defer();
  std::string viewer_id = request.param("viewer_id");
  std::string location = base_ + "/api/v1/viewers/" + viewer_id + "/points/ledger";
  points_.grant(viewer_id, *amount, *reason, request.grant()->id,
                [pending, location](const db::Error &error, std::optional<store::PointTransaction> granted) {
                  if (error && error.sqlstate == "23503") return pending->problem(not_found("viewer"));
                  if (error) return pending->problem(problem_from_db_error(error));
                  pending->json(201, one_json(*granted, add_transaction), location);
                });
}

void Api::get_points(Request &request) {
  QueryFields query(request.query());
  if (!query.finish()) return request.problem(query.problem());
  auto pending = request.defer();
  PointsSettings settings = points_settings_;
  pending->watch(points_.balance(request.grant()->id,
                                 [pending, settings](const db::Error &error, store::Balance balance) {
                                   if (error) return pending->problem(problem_from_db_error(error));
                                   JsonBuilder *builder = json_builder_new();
                                   json_builder_begin_object(builder);
                                   add_string(builder, "viewer_id", balance.viewer_id);
                                   add_int(builder, "balance", balance.balance);
                                   add_int(builder, "earned_last_hour", balance.earned_last_hour);
                                   add_int(builder, "max_points_per_hour", settings.max_points_per_hour);
                                   add_int(builder, "super_price", settings.super_price);
                                   json_builder_end_object(builder);
                                   pending->json(200, json_builder_get_root(builder));
                                   g_object_unref(builder);
                                 }));
}

void Api::get_ledger(Request &request) {
  QueryFields query(request.query());
  int limit = int(query.integer("limit", 50, 1, 100));
  std::optional<store::Cursor> after = query.cursor("after", "t");
  if (!query.finish()) return request.problem(query.problem());
  auto pending = request.defer();
  std::map<std::string, std::string> params = request.query();
  pending->watch(points_.ledger(
      request.grant()->id, after, limit,
      [pending, params](const db::Error &error, store::Page<store::PointTransaction> page) {
        if (error) return pending->problem(problem_from_db_error(error));
        pending->json(200,
                      page_json(page, add_transaction,
                                next_link("/api/v1/viewers/me/points/ledger", params, page.next_cursor)));
      }));
}

void Api::get_reaction_timeline(Request &request) {
  if (!valid_id(request, "id")) return;
  QueryFields query(request.query());
  int64_t bucket = query.integer("bucket", 60, 60, max_bucket_s);
  if (bucket % 60 != 0) query.fail("bucket", "must be a multiple of 60 (seconds)");
  if (!query.finish()) return request.problem(query.problem());
  auto pending = request.defer();
  bool see_private = request.has_role(store::Role::operator_);
  pending->watch(
      reactions_.timeline(request.param("id"), int(bucket),
                          [pending, bucket, see_private](const db::Error &error,
                                                         std::optional<store::ReactionTimeline> timeline) {
                            if (error) return pending->problem(problem_from_db_error(error));
                            /* A private video does not exist for whoever may not see it. */
                            if (!timeline || (timeline->visibility == "private" && !see_private))
                              return pending->problem(not_found("video"));
                            pending->json(200, timeline_json(*timeline, bucket));
                          }));
}

void Api::add_points_routes() {
  using enum Access;
  router_.add(
      "POST", "/api/v1/channels/{id}/reactions", [this](Request &request) { create_reaction(request); },
      viewer);
  router_.add("GET", "/api/v1/videos/{id}/reactions",
              [this](Request &request) { get_reaction_timeline(request); });
  router_.add(
      "POST", "/api/v1/viewers/me/watch", [this](Request &request) { report_watch(request); }, viewer);
  router_.add(
      "GET", "/api/v1/viewers/me/points", [this](Request &request) { get_points(request); }, viewer);
  router_.add(
      "GET", "/api/v1/viewers/me/points/ledger", [this](Request &request) { get_ledger(request); }, viewer);
  router_.add(
      "POST", "/api/v1/viewers/{viewer_id}/points/grants",
      [this](Request &request) { grant_points(request); }, admin);
}

}  // namespace onair::http
