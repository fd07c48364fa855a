/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * /api/v1/channels/{id}/news-flashes: lower thirds, crawl items and
 * full-screen cards drawn by a channel's newsflash element, kept in
 * PostgreSQL. A flash is stored first, then handed to the element when the
 * channel is on air; a stopped (or starting) channel takes it when it goes
 * on air, as it takes every flash still valid each time it starts
 * (channels/supervisor.cpp). The element's item messages then mark it
 * showing, queued (pre-empted) and ended.
 */
#include "http/api.h"
#include "http/fields.h"
#include "http/json.h"

#include <pango/pango.h>

namespace onair::http {

namespace {

constexpr size_t max_text = 500;
constexpr size_t max_subtitle = 200;
constexpr int64_t max_priority = 100;
constexpr int64_t max_loops = 1000;
constexpr double max_duration_s = 24 * 3600;
/* The element's own bound (GstNewsFlash refuses longer fades). */
constexpr double max_fade_s = 60;
/* How far ahead expires_at may be. */
constexpr int64_t max_ahead_us = int64_t(7) * 24 * 3600 * G_USEC_PER_SEC;

void add_number(JsonBuilder *builder, const char *name, const std::optional<double> &value) {
  json_builder_set_member_name(builder, name);
  if (value)
    json_builder_add_double_value(builder, *value);
  else
    json_builder_add_null_value(builder);
}

void add_news_flash(JsonBuilder *builder, const store::NewsFlash &flash) {
  json_builder_begin_object(builder);
  add_string(builder, "id", flash.id);
  add_string(builder, "channel_id", flash.channel_id);
  add_string(builder, "layer", flash.layer);
  add_string(builder, "text", flash.text);
  add_optional_string(builder, "subtitle", flash.subtitle);
  add_int(builder, "priority", flash.priority);
  add_optional_int(builder, "loops", flash.loops);
  add_number(builder, "fade", flash.fade);
  add_number(builder, "dim", flash.dim);
  add_number(builder, "duration", flash.duration);
  add_time(builder, "expires_at", flash.expires_at);
  add_string(builder, "state", flash.state);
  add_optional_string(builder, "end_reason", flash.end_reason);
  add_string(builder, "created_at", flash.created_at);
  add_time(builder, "started_at", flash.started_at);
  add_time(builder, "ended_at", flash.ended_at);
  json_builder_end_object(builder);
}

JsonNode *news_flash_json(const store::NewsFlash &flash) {
  return one_json(flash, add_news_flash);
}

JsonNode *news_flashes_json(const std::vector<store::NewsFlash> &flashes) {
  JsonBuilder *builder = json_builder_new();
  json_builder_begin_object(builder);
  json_builder_set_member_name(builder, "items");
  json_builder_begin_array(builder);
  for (const store::NewsFlash &flash : flashes) add_news_flash(builder, flash);
  json_builder_end_array(builder);
  json_builder_end_object(builder);
  JsonNode *root = json_builder_get_root(builder);
  g_object_unref(builder);
  return root;
}

/* The element draws the text with Pango: markup it cannot parse is the
 * client's error, found here rather than on air. */
void check_markup(Fields &fields, const char *name, const std::optional<std::string> &text) {
  if (!text) return;
  GError *error = nullptr;
  if (!pango_parse_markup(text->c_str(), -1, 0, nullptr, nullptr, nullptr, &error)) {
    fields.fail(name,
                std::string("is not valid Pango markup: ") + (error ? error->message : "unknown error"));
    g_clear_error(&error);
  }
}

Problem conflict(const std::string &detail) {
  return {409, {}, detail, {}};
}

}  // namespace

void Api::publish_flash_state(const std::string &channel_id, const std::string &flash_id,
                              const std::string &state, const std::string &end_reason) {
  JsonObject *data = json_object_new();
  json_object_set_string_member(data, "id", flash_id.c_str());
  json_object_set_string_member(data, "channel_id", channel_id.c_str());
  json_object_set_string_member(data, "state", state.c_str());
  if (end_reason.empty())
    json_object_set_null_member(data, "end_reason");
  else
    json_object_set_string_member(data, "end_reason", end_reason.c_str());
  JsonNode *node = json_node_init_object(json_node_alloc(), data);
  json_object_unref(data);
  events_.publish("channel.news_flash", node);
}

void Api::create_news_flash(Request &request) {
  if (!valid_id(request, "id")) return;
  JsonNode *body = request.json_body();
  if (!body) return;
  Fields fields(body);
  store::NewsFlashCreate create;
  create.channel_id = request.param("id");
  std::optional<std::string> layer = fields.one_of("layer", {"lower-third", "crawl", "fullscreen"}, true);
  std::optional<std::string> text = fields.string("text", 1, max_text, true);
  check_markup(fields, "text", text);
  create.subtitle = fields.string("subtitle", 1, max_subtitle, false);
  check_markup(fields, "subtitle", create.subtitle);
  if (create.subtitle && layer && *layer != "lower-third")
    fields.fail("subtitle", "is for the lower third only");
  create.priority = int(fields.integer("priority", -max_priority, max_priority, false).value_or(0));
  create.duration = fields.number("duration", 0, max_duration_s, false);
  if (std::optional<std::string> expires = fields.string("expires_at", 1, 64, false)) {
    GDateTime *parsed = g_date_time_new_from_iso8601(expires->c_str(), nullptr);
    if (!parsed) {
      fields.fail("expires_at", "must be an RFC 3339 date-time with a time zone");
    } else {
      int64_t expires_us = g_date_time_to_unix(parsed) * G_USEC_PER_SEC + g_date_time_get_microsecond(parsed);
      g_date_time_unref(parsed);
      int64_t now = g_get_real_time();
      if (expires_us <= now)
        fields.fail("expires_at", "is in the past");
      else if (expires_us > now + max_ahead_us)
        fields.fail("expires_at", "must be within 7 days");
      else if (create.duration)
        fields.fail("expires_at", "cannot be given with duration");
      else
        create.expires_us = expires_us;
    }
  }
  create.loops = fields.integer("loops", 0, max_loops, false);
  if (create.loops && layer && *layer != "crawl")
    fields.fail("loops", "is for the crawl only");
  else if (create.loops && (create.duration || create.expires_us))
    fields.fail("loops", "cannot be given with duration or expires_at (the crawl runs passes until then)");
  create.fade = fields.number_in("fade", 0, max_fade_s, false);
  create.dim = fields.number_in("dim", 0, 1, false);
  if (create.dim && layer && *layer != "fullscreen") fields.fail("dim", "is for the full-screen layer only");
  bool ok = fields.finish();
  json_node_unref(body);
  if (!ok) return request.problem(fields.problem());
  create.layer = *layer;
  create.text = *text;

  auto pending = request.defer();
  /* Not cancelled if the client leaves: a row that exists is handed to the
   * element (or removed). */
  news_flashes_.create(create, [this, pending](const db::Error &error,
                                               std::optional<store::NewsFlash> flash) {
    if (error && error.sqlstate == "23503") return pending->problem(not_found("channel"));
    if (error) return pending->problem(problem_from_db_error(error));
    if (!flash)
      return pending->problem(conflict("the channel has " +
                                       std::to_string(store::NewsFlashStore::max_active) +
                                       " news flashes not ended; remove some first"));
    std::string location = base_ + "/api/v1/channels/" + flash->channel_id + "/news-flashes/" + flash->id;
    /* A channel that is not on air shows it when it goes on air. */
    channels::FlashResult shown = supervisor_ ? supervisor_->show_flash(*flash) : channels::FlashResult{};
    if (shown.outcome == channels::FlashResult::Outcome::refused) {
      /* Refused by the element (text too large for the picture): it never existed. */
      std::string reason = shown.reason;
      news_flashes_.remove(flash->id, [pending, reason](const db::Error &error, bool) {
        if (error) g_warning("cannot remove a refused news flash: %s", error.describe().c_str());
        pending->problem({422, {}, "the channel's news flash element refused the flash", {{"text", reason}}});
      });
      return;
    }
    publish_flash_state(flash->channel_id, flash->id, flash->state, "");
    pending->json(201, news_flash_json(*flash), location);
  });
}

void Api::list_news_flashes(Request &request) {
  if (!valid_id(request, "id")) return;
  QueryFields query(request.query());
  if (!query.finish()) return request.problem(query.problem());
  auto pending = request.defer();
  pending->watch(news_flashes_.list_active(
      request.param("id"),
      [pending](const db::Error &error, bool found, std::vector<store::NewsFlash> flashes) {
        if (error) return pending->problem(problem_from_db_error(error));
        if (!found) return pending->problem(not_found("channel"));
        pending->json(200, news_flashes_json(flashes));
      }));
}

void Api::get_news_flash(Request &request) {
  if (!valid_id(request, "id") || !valid_id(request, "flash")) return;
  auto pending = request.defer();
  pending->watch(news_flashes_.get(request.param("id"), request.param("flash"),
                                   [pending](const db::Error &error, std::optional<store::NewsFlash> flash) {
                                     if (error) return pending->problem(problem_from_db_error(error));
                                     if (!flash) return pending->problem(not_found("news flash"));
                                     pending->json(200, news_flash_json(*flash));
                                   }));
}

void Api::remove_news_flash(Request &request) {
  if (!valid_id(request, "id") || !valid_id(request, "flash")) return;
  auto pending = request.defer();
  std::string channel_id = request.param("id");
  std::string flash_id = request.param("flash");
  pending->watch(news_flashes_.get(
      channel_id, flash_id,
      [this, pending, channel_id, flash_id](const db::Error &error, std::optional<store::NewsFlash> flash) {
        if (error) return pending->problem(problem_from_db_error(error));
        if (!flash) return pending->problem(not_found("news flash"));
        if (flash->state == "ended")
          return pending->problem(
              conflict("the news flash has ended (" + flash->end_reason.value_or("") + ")"));
        /* Not cancelled if the client leaves: an ended row is taken off the picture. */
        news_flashes_.end(channel_id, flash_id, "removed",
                          [this, pending, channel_id, flash_id](const db::Error &error,
                                                                std::optional<store::NewsFlash> ended) {
                            if (error) return pending->problem(problem_from_db_error(error));
                            if (!ended) return pending->problem(conflict("the news flash has ended"));
                            if (supervisor_) supervisor_->remove_flashes(channel_id, {flash_id});
                            publish_flash_state(channel_id, flash_id, "ended", "removed");
                            pending->empty(204);
                          });
      }));
}

void Api::clear_news_flashes(Request &request) {
  if (!valid_id(request, "id")) return;
  QueryFields query(request.query());
  std::optional<std::string> layer = query.one_of("layer", {"lower-third", "crawl", "fullscreen", "all"});
  if (!query.finish()) return request.problem(query.problem());
  if (layer == "all") layer.reset();
  auto pending = request.defer();
  std::string channel_id = request.param("id");
  /* Not cancelled if the client leaves, like a removal. */
  news_flashes_.clear(
      channel_id, layer,
      [this, pending, channel_id](const db::Error &error, bool found, std::vector<std::string> ids) {
        if (error) return pending->problem(problem_from_db_error(error));
        if (!found) return pending->problem(not_found("channel"));
        /* Only the API's flashes go: items of the element's own text
         * properties (set in the pipeline file) stay. */
        if (supervisor_) supervisor_->remove_flashes(channel_id, ids);
        for (const std::string &id : ids) publish_flash_state(channel_id, id, "ended", "cleared");
        pending->empty(204);
      });
}

void Api::add_news_flash_routes() {
  using enum Access;
  router_.add(
      "POST", "/api/v1/channels/{id}/news-flashes", [this](Request &request) { create_news_flash(request); },
      operator_);
  router_.add(
      "GET", "/api/v1/channels/{id}/news-flashes", [this](Request &request) { list_news_flashes(request); },
      operator_);
  router_.add(
      "DELETE", "/api/v1/channels/{id}/news-flashes",
      [this](Request &request) { clear_news_flashes(request); }, operator_);
  router_.add(
      "GET", "/api/v1/channels/{id}/news-flashes/{flash}",
      [this](Request &request) { get_news_flash(request); }, operator_);
  router_.add(
      "DELETE", "/api/v1/channels/{id}/news-flashes/{flash}",
      [this](Request &request) { remove_news_flash(request); }, operator_);
}

}  // namespace onair::http
