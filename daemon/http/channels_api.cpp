/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * /api/v1/channels: channels stored in PostgreSQL, run by the supervisor.
 * What is stored (name, pipeline, parameters, key, desired state) comes
 * from the database; what is running (state, stats, the broadcast) from
 * the supervisor when this daemon runs the channel.
 */
#include "http/api.h"
#include "http/fields.h"
#include "http/json.h"

namespace onair::http {

namespace {

void add_stats(JsonBuilder *builder, const channels::Stats &stats) {
  json_builder_begin_object(builder);
  add_optional_int(builder, "input_bitrate",
                   stats.input_bitrate ? std::optional<int64_t>(*stats.input_bitrate) : std::nullopt);
  add_optional_string(builder, "publisher", stats.publisher);
  json_builder_set_member_name(builder, "fps");
  json_builder_add_double_value(builder, stats.fps);
  add_int(builder, "frames", int64_t(stats.frames));
  add_int(builder, "dropped_frames", int64_t(stats.dropped_frames));
  add_int(builder, "uptime_s", int64_t(stats.uptime_s));
  add_int(builder, "segments", int64_t(stats.segments));
  add_int(builder, "restarts", int64_t(stats.restarts));
  json_builder_set_member_name(builder, "renditions");
  json_builder_begin_array(builder);
  for (const std::string &name : stats.renditions) json_builder_add_string_value(builder, name.c_str());
  json_builder_end_array(builder);
  json_builder_end_object(builder);
}

/* The host publishers connect to: the public URL's. */
std::string public_host(const std::string &base) {
  GUri *uri = g_uri_parse(base.c_str(), G_URI_FLAGS_NONE, nullptr);
  std::string host = uri && g_uri_get_host(uri) ? g_uri_get_host(uri) : "127.0.0.1";
  if (uri) g_uri_unref(uri);
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return host;
}

}  // namespace

JsonNode *Api::channel_json(const store::Channel &channel) const {
  std::optional<channels::Runtime> runtime = supervisor_ ? supervisor_->runtime(channel.id) : std::nullopt;
  std::optional<std::string> video_id = runtime ? runtime->video_id : channel.video_id;
  std::string state = runtime ? runtime->state : channel.state;
  std::optional<std::string> error = runtime && !runtime->error.empty() ? runtime->error : channel.last_error;

  JsonBuilder *builder = json_builder_new();
  json_builder_begin_object(builder);
  add_string(builder, "id", channel.id);
  add_string(builder, "name", channel.name);
  add_string(builder, "pipeline", channel.pipeline);
  json_builder_set_member_name(builder, "parameters");
  json_builder_add_value(builder, json_node_copy(channel.parameters.get()));
  add_string(builder, "stream_key", channel.stream_key);
  std::string publish = supervisor_ ? supervisor_->publish_url(channel, public_host(base_)) : "";
  add_optional_string(builder, "publish_url",
                      publish.empty() ? std::nullopt : std::optional<std::string>(publish));
  add_string(builder, "desired_state", channel.desired_state);
  add_string(builder, "state", state);
  add_optional_string(builder, "last_error", error);
  add_time(builder, "last_error_at", channel.last_error_at);
  add_optional_string(builder, "video_id", video_id);
  json_builder_set_member_name(builder, "playback");
  if (video_id) {
    json_builder_begin_object(builder);
    add_string(builder, "hls", links_.hls(*video_id));
    add_string(builder, "dash", links_.dash(*video_id));
    json_builder_end_object(builder);
  } else {
    json_builder_add_null_value(builder);
  }
  json_builder_set_member_name(builder, "stats");
  if (runtime)
    add_stats(builder, runtime->stats);
  else
    json_builder_add_null_value(builder);
  add_string(builder, "created_at", channel.created_at);
  add_string(builder, "updated_at", channel.updated_at);
  json_builder_end_object(builder);
  JsonNode *root = json_builder_get_root(builder);
  g_object_unref(builder);
  return root;
}

void Api::list_channels(Request &request) {
  QueryFields query(request.query());
  int64_t limit = query.integer("limit", 100, 1, 1000);
  if (!query.finish()) return request.problem(query.problem());
  auto pending = request.defer();
  pending->watch(
      channels_.list(limit, [this, pending](const db::Error &error, std::vector<store::Channel> list) {
        if (error) return pending->problem(problem_from_db_error(error));
        JsonArray *items = json_array_new();
        for (const store::Channel &channel : list) json_array_add_element(items, channel_json(channel));
        JsonObject *object = json_object_new();
        json_object_set_array_member(object, "items", items);
        pending->json(200, json_node_init_object(json_node_alloc(), object));
        json_object_unref(object);
      }));
}

void Api::create_channel(Request &request) {
  JsonNode *body = request.json_body();
  if (!body) return;
  Fields fields(body);
  store::ChannelCreate channel;
  channel.name = fields.string("name", 1, 100, true).value_or("");
  channel.pipeline = fields.string("pipeline", 1, 255, true).value_or("");
  JsonNode *parameters = fields.object("parameters");
  if (!parameters) parameters = json_node_init_object(json_node_alloc(), json_object_new());
  channel.parameters.reset(parameters, json_node_unref);
  bool start = fields.boolean("start").value_or(false);
  if (!channel.pipeline.empty() && supervisor_)
    for (const channels::ParameterError &error : supervisor_->validate(channel.pipeline, parameters))
      fields.fail(error.field.c_str(), error.message);
  bool ok = fields.finish();
  json_node_unref(body);
  if (!ok) return request.problem(fields.problem());
  channel.stream_key = store::make_stream_key();
  channel.desired_state = start ? "running" : "stopped";

  auto pending = request.defer();
  pending->watch(channels_.create(
      channel, [this, pending](const db::Error &error, std::optional<store::Channel> channel) {
        if (error) return pending->problem(problem_from_db_error(error));
        if (channel->desired_state == "running" && supervisor_) supervisor_->run(*channel);
        pending->json(201, channel_json(*channel), base_ + "/api/v1/channels/" + channel->id);
      }));
}

void Api::get_channel(Request &request) {
  if (!valid_id(request, "id")) return;
  auto pending = request.defer();
  pending->watch(channels_.get(
      request.param("id"), [this, pending](const db::Error &error, std::optional<store::Channel> channel) {
        if (error) return pending->problem(problem_from_db_error(error));
        if (!channel) return pending->problem(not_found("channel"));
        pending->json(200, channel_json(*channel));
      }));
}

void Api::update_channel(Request &request) {
  if (!valid_id(request, "id")) return;
  JsonNode *body = request.json_body();
  if (!body) return;
  auto fields = std::make_shared<Fields>(body);
  store::ChannelUpdate update;
  update.name = fields->string("name", 1, 100, false);
  update.pipeline = fields->string("pipeline", 1, 255, false);
  if (JsonNode *parameters = fields->object("parameters"))
    update.parameters.reset(parameters, json_node_unref);
  bool ok = fields->finish();
  json_node_unref(body);
  if (!ok) return request.problem(fields->problem());
  if (fields->present() == 0)
    return request.problem({422, {}, "nothing to update: give name, pipeline or parameters", {}});

  /* The pipeline and its parameters are checked together: one may change
   * without the other. */
  auto pending = request.defer();
  std::string id = request.param("id");
  pending->watch(channels_.get(
      id, [this, pending, id, update](const db::Error &error, std::optional<store::Channel> current) {
        if (error) return pending->problem(problem_from_db_error(error));
        if (!current) return pending->problem(not_found("channel"));
        if (supervisor_) {
          std::string pipeline = update.pipeline.value_or(current->pipeline);
          JsonNode *parameters = update.parameters ? update.parameters.get() : current->parameters.get();
          std::vector<FieldError> errors;
          for (const channels::ParameterError &failure : supervisor_->validate(pipeline, parameters))
            errors.push_back({failure.field, failure.message});
          if (!errors.empty()) return pending->problem({422, {}, "the body has invalid fields", errors});
        }
        channels_.update(id, update,
                         [this, pending](const db::Error &error, std::optional<store::Channel> channel) {
                           if (error) return pending->problem(problem_from_db_error(error));
                           if (!channel) return pending->problem(not_found("channel"));
                           if (supervisor_) supervisor_->reconfigure(*channel);
                           pending->json(200, channel_json(*channel));
                         });
      }));
}

void Api::delete_channel(Request &request) {
  if (!valid_id(request, "id")) return;
  auto pending = request.defer();
  std::string id = request.param("id");
  pending->watch(channels_.remove(id, [this, pending, id](const db::Error &error, bool found) {
    if (error) return pending->problem(problem_from_db_error(error));
    if (!found) return pending->problem(not_found("channel"));
    if (supervisor_) supervisor_->stop(id);
    pending->empty(204);
  }));
}

void Api::set_channel_running(Request &request, bool running) {
  if (!valid_id(request, "id")) return;
  auto pending = request.defer();
  pending->watch(channels_.set_desired(
      request.param("id"), running ? "running" : "stopped",
      [this, pending, running](const db::Error &error, std::optional<store::Channel> channel) {
        if (error) return pending->problem(problem_from_db_error(error));
        if (!channel) return pending->problem(not_found("channel"));
        if (supervisor_) {
          if (running)
            supervisor_->run(*channel);
          else
            supervisor_->stop(channel->id);
        }
        pending->json(200, channel_json(*channel));
      }));
}

void Api::rotate_channel_key(Request &request) {
  if (!valid_id(request, "id")) return;
  auto pending = request.defer();
  pending->watch(channels_.set_stream_key(
      request.param("id"), store::make_stream_key(),
      [this, pending](const db::Error &error, std::optional<store::Channel> channel) {
        if (error) return pending->problem(problem_from_db_error(error));
        if (!channel) return pending->problem(not_found("channel"));
        /* The publisher on the old key is cut off: the run restarts with the new one. */
        if (supervisor_) supervisor_->reconfigure(*channel);
        pending->json(200, channel_json(*channel));
      }));
}

void Api::add_channel_routes() {
  using enum Access;
  router_.add(
      "GET", "/api/v1/channels", [this](Request &request) { list_channels(request); }, operator_);
  router_.add(
      "POST", "/api/v1/channels", [this](Request &request) { create_channel(request); }, admin);
  router_.add(
      "GET", "/api/v1/channels/{id}", [this](Request &request) { get_channel(request); }, operator_);
  router_.add(
      "PATCH", "/api/v1/channels/{id}", [this](Request &request) { update_channel(request); }, operator_);
  router_.add(
      "DELETE", "/api/v1/channels/{id}", [this](Request &request) { delete_channel(request); }, admin);
  router_.add(
      "POST", "/api/v1/channels/{id}/start", [this](Request &request) { set_channel_running(request, true); },
      operator_);
  router_.add(
      "POST", "/api/v1/channels/{id}/stop", [this](Request &request) { set_channel_running(request, false); },
      operator_);
  router_.add(
      "POST", "/api/v1/channels/{id}/rotate-key", [this](Request &request) { rotate_channel_key(request); },
      operator_);
}

}  // namespace onair::http
