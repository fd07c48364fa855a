/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * /api/v1/channels/{id}/ad-breaks: ad breaks asked of a running channel's
 * adsplice, recorded in PostgreSQL. A break's row is inserted before the
 * element is asked (and removed if it refuses); the element's bus messages
 * then mark it running and ended (channels/supervisor.cpp).
 */
#include "http/api.h"
#include "http/creatives.h"
#include "http/fields.h"
#include "http/json.h"

namespace onair::http {

namespace {

/* The element's own bound (GstAdSplice refuses longer breaks). */
constexpr double max_duration_s = 24 * 3600;
/* How far ahead a break may be scheduled. */
constexpr int64_t max_ahead_us = int64_t(7) * 24 * 3600 * G_USEC_PER_SEC;
constexpr size_t max_creatives = 20;
constexpr int creative_timeout_s = 10;

void add_number(JsonBuilder *builder, const char *name, const std::optional<double> &value) {
  json_builder_set_member_name(builder, name);
  if (value)
    json_builder_add_double_value(builder, *value);
  else
    json_builder_add_null_value(builder);
}

void add_strings(JsonBuilder *builder, const char *name, const std::vector<std::string> &values) {
  json_builder_set_member_name(builder, name);
  json_builder_begin_array(builder);
  for (const std::string &value : values) json_builder_add_string_value(builder, value.c_str());
  json_builder_end_array(builder);
}

void add_ad_break(JsonBuilder *builder, const store::AdBreak &brk) {
  json_builder_begin_object(builder);
  add_string(builder, "id", brk.id);
  add_string(builder, "channel_id", brk.channel_id);
  add_optional_string(builder, "video_id", brk.video_id);
  add_int(builder, "event_id", brk.event_id);
  add_string(builder, "source", brk.source);
  add_string(builder, "status", brk.status);
  add_number(builder, "duration", brk.duration);
  add_time(builder, "at", brk.requested_start);
  add_strings(builder, "creatives", brk.creatives);
  add_time(builder, "started_at", brk.started_at);
  add_time(builder, "ended_at", brk.ended_at);
  add_number(builder, "elapsed", brk.elapsed);
  add_optional_string(builder, "end_reason", brk.end_reason);
  add_strings(builder, "creatives_played", brk.creatives_played);
  add_string(builder, "created_at", brk.created_at);
  json_builder_end_object(builder);
}

JsonNode *ad_break_json(const store::AdBreak &brk) {
  return one_json(brk, add_ad_break);
}

/* 409 for a request the channel cannot take now. */
Problem conflict(const std::string &detail) {
  return {409, {}, detail, {}};
}

}  // namespace

void Api::create_ad_break(Request &request) {
  if (!valid_id(request, "id")) return;
  JsonNode *body = request.json_body();
  if (!body) return;
  Fields fields(body);
  store::AdBreakCreate create;
  create.channel_id = request.param("id");
  create.duration = fields.number("duration", 0, max_duration_s, true).value_or(0);
  create.creatives = fields.strings("creatives", max_creatives, 1, 2048).value_or(std::vector<std::string>{});
  if (std::optional<std::string> at = fields.string("at", 1, 64, false)) {
    GDateTime *parsed = g_date_time_new_from_iso8601(at->c_str(), nullptr);
    if (!parsed) {
      fields.fail("at", "must be an RFC 3339 date-time with a time zone");
    } else {
      int64_t at_us = g_date_time_to_unix(parsed) * G_USEC_PER_SEC + g_date_time_get_microsecond(parsed);
      g_date_time_unref(parsed);
      int64_t now = g_get_real_time();
      if (at_us < now)
        fields.fail("at", "is in the past");
      else if (at_us > now + max_ahead_us)
        fields.fail("at", "must be within 7 days");
      else
        create.requested_start_us = at_us;
    }
  }
  bool ok = fields.finish();
  json_node_unref(body);
  if (!ok) return request.problem(fields.problem());

  auto pending = request.defer();
  pending->watch(channels_.get(
      create.channel_id,
      [this, pending, create](const db::Error &error, std::optional<store::Channel> channel) {
        if (error) return pending->problem(problem_from_db_error(error));
        if (!channel) return pending->problem(not_found("channel"));
        if (!supervisor_) return pending->problem(conflict("this daemon runs no channels"));
        channels::AdSpliceResult ready = supervisor_->can_splice(channel->id);
        if (!ready.ok()) return pending->problem(conflict(ready.reason));

        /* The creatives are probed before anything is written: a bad one is the client's error. */
        check_creatives(
            supervisor_->settings().media_root, create.creatives, creative_timeout_s,
            [this, pending, create](std::vector<FieldError> errors, std::vector<std::string> uris) {
              if (!errors.empty()) return pending->problem({422, {}, "the body has invalid fields", errors});
              store::AdBreakCreate row = create;
              std::optional<channels::Runtime> runtime = supervisor_->runtime(row.channel_id);
              if (runtime) row.video_id = runtime->video_id;
              /* Not cancelled if the client leaves: a row that exists is handed to
               * the element (or removed), never left behind unasked. */
              ad_breaks_.create(
                  row, [this, pending, row, uris](const db::Error &error, std::optional<store::AdBreak> brk) {
                    if (error && error.sqlstate == "23503") return pending->problem(not_found("channel"));
                    if (error) return pending->problem(problem_from_db_error(error));
                    channels::AdSpliceResult result = supervisor_->splice_out(
                        row.channel_id, *brk->duration, brk->event_id, row.requested_start_us, uris);
                    if (result.ok())
                      return pending->json(
                          202, ad_break_json(*brk),
                          base_ + "/api/v1/channels/" + row.channel_id + "/ad-breaks/" + brk->id);
                    /* Refused: the break never existed. */
                    std::string reason = result.reason;
                    ad_breaks_.remove(brk->id, [pending, reason](const db::Error &error, bool) {
                      if (error) g_warning("cannot remove a refused ad break: %s", error.describe().c_str());
                      pending->problem(conflict(reason));
                    });
                  });
            });
      }));
}

void Api::list_ad_breaks(Request &request) {
  if (!valid_id(request, "id")) return;
  QueryFields query(request.query());
  int limit = int(query.integer("limit", 20, 1, 100));
  std::optional<store::Cursor> after = query.cursor("after", "t");
  if (!query.finish()) return request.problem(query.problem());
  auto pending = request.defer();
  std::string path = "/api/v1/channels/" + request.param("id") + "/ad-breaks";
  std::map<std::string, std::string> params = request.query();
  pending->watch(ad_breaks_.list(
      request.param("id"), after, limit,
      [pending, path, params](const db::Error &error, bool found, store::Page<store::AdBreak> page) {
        if (error) return pending->problem(problem_from_db_error(error));
        if (!found) return pending->problem(not_found("channel"));
        pending->json(200, page_json(page, add_ad_break, next_link(path, params, page.next_cursor)));
      }));
}

void Api::get_ad_break(Request &request) {
  if (!valid_id(request, "id") || !valid_id(request, "break")) return;
  auto pending = request.defer();
  pending->watch(ad_breaks_.get(request.param("id"), request.param("break"),
                                [pending](const db::Error &error, std::optional<store::AdBreak> brk) {
                                  if (error) return pending->problem(problem_from_db_error(error));
                                  if (!brk) return pending->problem(not_found("ad break"));
                                  pending->json(200, ad_break_json(*brk));
                                }));
}

void Api::end_ad_break(Request &request) {
  if (!valid_id(request, "id") || !valid_id(request, "break")) return;
  auto pending = request.defer();
  pending->watch(ad_breaks_.get(
      request.param("id"), request.param("break"),
      [this, pending](const db::Error &error, std::optional<store::AdBreak> brk) {
        if (error) return pending->problem(problem_from_db_error(error));
        if (!brk) return pending->problem(not_found("ad break"));
        if (brk->status == "ended" || brk->status == "cancelled")
          return pending->problem(conflict("the ad break is over (" + brk->status + ")"));
        if (!supervisor_) return pending->problem(conflict("this daemon runs no channels"));
        if (brk->status == "scheduled") {
          channels::AdSpliceResult cancelled = supervisor_->cancel_break(brk->channel_id, brk->event_id);
          if (cancelled.ok()) {
            pending->watch(ad_breaks_.cancel(
                brk->id, [pending, brk](const db::Error &error, std::optional<store::AdBreak> row) {
                  if (error) return pending->problem(problem_from_db_error(error));
                  /* Started meanwhile by the element? Its row says what it is. */
                  pending->json(200, ad_break_json(row ? *row : *brk));
                }));
            return;
          }
          if (cancelled.outcome != channels::AdSpliceResult::Outcome::refused)
            return pending->problem(conflict(cancelled.reason));
          /* Not waiting any more: it started, and ends early like a running one. */
        }
        channels::AdSpliceResult ended = supervisor_->splice_in(brk->channel_id, brk->event_id);
        if (!ended.ok()) return pending->problem(conflict(ended.reason));
        /* The end is recorded when the element reports it, on the next frame. */
        pending->json(202, ad_break_json(*brk));
      }));
}

void Api::add_ad_break_routes() {
  using enum Access;
  router_.add(
      "POST", "/api/v1/channels/{id}/ad-breaks", [this](Request &request) { create_ad_break(request); },
      operator_);
  router_.add(
      "GET", "/api/v1/channels/{id}/ad-breaks", [this](Request &request) { list_ad_breaks(request); },
      operator_);
  router_.add(
      "GET", "/api/v1/channels/{id}/ad-breaks/{break}", [this](Request &request) { get_ad_break(request); },
      operator_);
  router_.add(
      "DELETE", "/api/v1/channels/{id}/ad-breaks/{break}",
      [this](Request &request) { end_ad_break(request); }, operator_);
}

}  // namespace onair::http
