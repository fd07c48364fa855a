/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "http/router.h"

#include "store/common.h"

#include <cstring>
#include <set>
#include <string_view>

namespace onair::http {

namespace {

std::vector<std::string_view> split_path_views(const char *path) {
  std::vector<std::string_view> segments;
  const char *start = path;
  while (*start) {
    while (*start == '/') start++;
    if (!*start) break;
    const char *end = strchr(start, '/');
    if (!end) end = start + strlen(start);
    segments.emplace_back(start, end - start);
    start = end;
  }
  return segments;
}

std::vector<std::string> split_path(const char *path) {
  std::vector<std::string> segments;
  const char *start = path;
  while (*start) {
    while (*start == '/') start++;
    if (!*start) break;
    const char *end = strchr(start, '/');
    if (!end) end = start + strlen(start);
    segments.emplace_back(start, end - start);
    start = end;
  }
  return segments;
}

const char *title_of(guint status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Content";
    case 503:
      return "Service Unavailable";
    default:
      return soup_status_get_phrase(status);
  }
}

gchar *serialize(JsonNode *node, gsize *length) {
  /* One generator per thread rather than a new GObject for every answer. */
  static thread_local struct Generator {
    JsonGenerator *generator = json_generator_new();
    ~Generator() { g_object_unref(generator); }
  } cached;
  json_generator_set_root(cached.generator, node);
  gchar *text = json_generator_to_data(cached.generator, length);
  json_generator_set_root(cached.generator, nullptr);
  return text;
}

}  // namespace

GBytes *json_bytes(JsonNode *body) {
  gsize length = 0;
  gchar *text = serialize(body, &length);
  json_node_unref(body);
  return g_bytes_new_take(text, length);
}

void set_json(SoupServerMessage *message, guint status, JsonNode *body) {
  soup_server_message_set_status(message, status, nullptr);
  if (!body) return;
  gsize length = 0;
  gchar *text = serialize(body, &length);
  json_node_unref(body);
  soup_server_message_set_response(message, "application/json", SOUP_MEMORY_TAKE, text, length);
}

void set_problem(SoupServerMessage *message, const Problem &problem) {
  JsonBuilder *builder = json_builder_new();
  json_builder_begin_object(builder);
  json_builder_set_member_name(builder, "type");
  json_builder_add_string_value(builder, "about:blank");
  json_builder_set_member_name(builder, "title");
  json_builder_add_string_value(builder,
                                problem.title.empty() ? title_of(problem.status) : problem.title.c_str());
  json_builder_set_member_name(builder, "status");
  json_builder_add_int_value(builder, problem.status);
  if (!problem.detail.empty()) {
    json_builder_set_member_name(builder, "detail");
    json_builder_add_string_value(builder, problem.detail.c_str());
  }
  if (!problem.errors.empty()) {
    json_builder_set_member_name(builder, "errors");
    json_builder_begin_array(builder);
    for (const FieldError &error : problem.errors) {
      json_builder_begin_object(builder);
      json_builder_set_member_name(builder, "field");
      json_builder_add_string_value(builder, error.field.c_str());
      json_builder_set_member_name(builder, "message");
      json_builder_add_string_value(builder, error.message.c_str());
      json_builder_end_object(builder);
    }
    json_builder_end_array(builder);
  }
  json_builder_end_object(builder);
  JsonNode *root = json_builder_get_root(builder);
  g_object_unref(builder);

  soup_server_message_set_status(message, problem.status, nullptr);
  SoupMessageHeaders *headers = soup_server_message_get_response_headers(message);
  if (problem.retry_after > 0)
    soup_message_headers_replace(headers, "Retry-After", std::to_string(problem.retry_after).c_str());
  gsize length = 0;
  gchar *text = serialize(root, &length);
  json_node_unref(root);
  soup_server_message_set_response(message, "application/problem+json", SOUP_MEMORY_TAKE, text, length);
}

Problem problem_from_db_error(const db::Error &error) {
  Problem problem;
  if (error.unavailable()) {
    problem.status = 503;
    problem.detail = "the database is unavailable; retry later";
    problem.retry_after = 1;
    return problem;
  }
  if (error.kind == db::Error::Kind::server && error.data_error()) {
    std::string field = store::field_of(error);
    if (error.sqlstate == "23505") {
      problem.status = 409;
      problem.detail = "already exists";
    } else {
      problem.status = 422;
      problem.detail = "the value is not acceptable";
    }
    if (!field.empty()) problem.errors.push_back({field, problem.detail});
    return problem;
  }
  g_warning("query failed: %s", error.describe().c_str());
  problem.status = 500;
  problem.detail = "internal error";
  return problem;
}

/* Pending */

Pending::Pending(SoupServerMessage *message) : message_(SOUP_SERVER_MESSAGE(g_object_ref(message))) {
  soup_server_message_pause(message_);
  disconnected_handler_ = g_signal_connect(message_, "disconnected", G_CALLBACK(on_disconnected), this);
}

Pending::~Pending() {
  if (!answered_ && !disconnected_) {
    /* Dropped without an answer (the daemon is shutting down). */
    set_problem(message_, Problem{503, {}, "the server is shutting down", {}, 1});
    soup_server_message_unpause(message_);
  }
  g_signal_handler_disconnect(message_, disconnected_handler_);
  g_object_unref(message_);
}

void Pending::on_disconnected(SoupServerMessage *, gpointer self) {
  auto *pending = static_cast<Pending *>(self);
  pending->disconnected_ = true;
  /* May drop the last reference to this Pending (held by the callback). */
  db::Ticket ticket = pending->ticket_;
  ticket.cancel();
}

void Pending::watch(db::Ticket ticket) {
  ticket_ = std::move(ticket);
}

void Pending::finish() {
  answered_ = true;
  if (!disconnected_) soup_server_message_unpause(message_);
}

void Pending::json(guint status, JsonNode *body, const std::string &location) {
  if (answered_ || disconnected_) {
    if (body) json_node_unref(body);
    answered_ = true;
    return;
  }
  set_json(message_, status, body);
  if (!location.empty())
    soup_message_headers_replace(soup_server_message_get_response_headers(message_), "Location",
                                 location.c_str());
  finish();
}

void Pending::json(guint status, GBytes *body, const std::string &location) {
  if (answered_ || disconnected_) {
    answered_ = true;
    return;
  }
  soup_server_message_set_status(message_, status, nullptr);
  SoupMessageHeaders *headers = soup_server_message_get_response_headers(message_);
  if (!location.empty()) soup_message_headers_replace(headers, "Location", location.c_str());
  soup_message_headers_set_content_type(headers, "application/json", nullptr);
  SoupMessageBody *response_body = soup_server_message_get_response_body(message_);
  soup_message_body_truncate(response_body);
  soup_message_body_append_bytes(response_body, body);
  finish();
}

void Pending::problem(const Problem &problem) {
  if (answered_ || disconnected_) {
    answered_ = true;
    return;
  }
  set_problem(message_, problem);
  finish();
}

void Pending::empty(guint status) {
  if (answered_ || disconnected_) {
    answered_ = true;
    return;
  }
  soup_server_message_set_status(message_, status, nullptr);
  finish();
}

/* A path id: false (and 400 answered) when not a UUID. */
bool valid_id(Request &request, const char *name) {
  if (g_uuid_string_is_valid(request.param(name).c_str())) return true;
  request.problem({400, {}, "not a valid id", {{name, "must be a UUID"}}});
  return false;
}

Problem not_found(const char *what) {
  return {404, {}, std::string(what) + " not found", {}};
}

void Pending::bytes(guint status, const char *content_type, GBytes *body,
                    const std::map<std::string, std::string> &headers) {
  if (answered_ || disconnected_) {
    answered_ = true;
    return;
  }
  soup_server_message_set_status(message_, status, nullptr);
  SoupMessageHeaders *response_headers = soup_server_message_get_response_headers(message_);
  for (const auto &[name, value] : headers)
    soup_message_headers_replace(response_headers, name.c_str(), value.c_str());
  /* By reference: a body shared by many answers (SharedReads) is not copied. */
  soup_message_headers_set_content_type(response_headers, content_type, nullptr);
  SoupMessageBody *response_body = soup_server_message_get_response_body(message_);
  soup_message_body_truncate(response_body);
  soup_message_body_append_bytes(response_body, body);
  finish();
}

/* Request */

void Request::json(guint status, JsonNode *body, const std::string &location) {
  set_json(message_, status, body);
  if (!location.empty())
    soup_message_headers_replace(soup_server_message_get_response_headers(message_), "Location",
                                 location.c_str());
}

void Request::problem(const Problem &problem) {
  set_problem(message_, problem);
}

void Request::empty(guint status) {
  soup_server_message_set_status(message_, status, nullptr);
}

std::shared_ptr<Pending> Request::defer() {
  deferred_ = true;
  return std::make_shared<Pending>(message_);
}

JsonNode *Request::json_body() {
  SoupMessageHeaders *headers = soup_server_message_get_request_headers(message_);
  const char *type = soup_message_headers_get_content_type(headers, nullptr);
  if (type && strcmp(type, "application/json") != 0 && !g_str_has_suffix(type, "+json")) {
    problem({415, {}, "the body must be application/json", {}});
    return nullptr;
  }
  SoupMessageBody *body = soup_server_message_get_request_body(message_);
  GBytes *bytes = soup_message_body_flatten(body);
  gsize size = 0;
  const char *data = static_cast<const char *>(g_bytes_get_data(bytes, &size));
  if (size > max_body_bytes) {
    g_bytes_unref(bytes);
    problem({413, {}, "the body is larger than " + std::to_string(max_body_bytes) + " bytes", {}});
    return nullptr;
  }
  /* One parser per thread rather than a new GObject for every body; it holds
   * the last tree until the next parse. */
  static thread_local struct Parser {
    JsonParser *parser = json_parser_new_immutable();
    ~Parser() { g_object_unref(parser); }
  } cached;
  JsonParser *parser = cached.parser;
  GError *error = nullptr;
  bool parsed = size > 0 && json_parser_load_from_data(parser, data, size, &error);
  g_bytes_unref(bytes);
  if (!parsed) {
    problem({400, {}, error ? std::string("malformed JSON: ") + error->message : "the body is empty", {}});
    g_clear_error(&error);
    return nullptr;
  }
  JsonNode *root = json_parser_get_root(parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
    problem({400, {}, "the body must be a JSON object", {}});
    return nullptr;
  }
  return json_node_ref(root);
}

/* Router */

void Router::add(const std::string &method, const std::string &pattern, Handler handler, Access access) {
  std::vector<std::string> segments = split_path(pattern.c_str());
  std::vector<std::string> parameters;
  for (const std::string &segment : segments)
    parameters.push_back(segment.size() > 2 && segment.front() == '{' && segment.back() == '}'
                             ? segment.substr(1, segment.size() - 2)
                             : std::string());
  routes_.push_back(
      {method, pattern, std::move(segments), std::move(parameters), std::move(handler), access});
}

void Router::mount(SoupServer *server) {
  soup_server_add_early_handler(server, nullptr, on_early, this, nullptr);
  soup_server_add_handler(server, nullptr, on_request, this, nullptr);
}

void Router::on_early(SoupServer *, SoupServerMessage *message, const char *, GHashTable *, gpointer) {
  SoupMessageHeaders *headers = soup_server_message_get_request_headers(message);
  if (soup_message_headers_get_encoding(headers) == SOUP_ENCODING_CONTENT_LENGTH &&
      soup_message_headers_get_content_length(headers) > static_cast<goffset>(max_body_bytes)) {
    /* A status set here makes libsoup answer without reading the body. */
    set_problem(message,
                {413, {}, "the body is larger than " + std::to_string(max_body_bytes) + " bytes", {}});
    soup_message_headers_replace(soup_server_message_get_response_headers(message), "Connection", "close");
  }
}

void Router::on_request(SoupServer *, SoupServerMessage *message, const char *path, GHashTable *query,
                        gpointer self) {
  static_cast<Router *>(self)->dispatch(message, path, query);
}

void Router::dispatch(SoupServerMessage *message, const char *path, GHashTable *query) {
  std::vector<std::string_view> segments = split_path_views(path);
  const char *method = soup_server_message_get_method(message);
  std::set<std::string> allowed;
  const std::string *matched = nullptr;
  for (Route &route : routes_) {
    if (route.segments.size() != segments.size()) continue;
    /* Literal segments first: the parameters are only copied for the route taken. */
    bool match = true;
    for (size_t i = 0; i < segments.size() && match; i++)
      match = !route.parameters[i].empty() || route.segments[i] == segments[i];
    if (!match) continue;
    matched = &route.pattern;
    if (route.method != method) {
      allowed.insert(route.method);
      continue;
    }
    std::map<std::string, std::string> params;
    for (size_t i = 0; i < segments.size(); i++)
      if (!route.parameters[i].empty()) params.emplace(route.parameters[i], segments[i]);
    std::map<std::string, std::string> query_map;
    if (query) {
      GHashTableIter iter;
      gpointer key, value;
      g_hash_table_iter_init(&iter, query);
      while (g_hash_table_iter_next(&iter, &key, &value))
        query_map[static_cast<const char *>(key)] = value ? static_cast<const char *>(value) : "";
    }
    if (observer_) observer_(message, route.pattern);
    authorize_and_run(message, route, Request(message, std::move(params), std::move(query_map)));
    return;
  }
  if (observer_) observer_(message, matched ? *matched : std::string("unmatched"));
  if (allowed.empty()) {
    set_problem(message, {404, {}, std::string("no resource at ") + path, {}});
    return;
  }
  std::string allow;
  for (const std::string &name : allowed) allow += (allow.empty() ? "" : ", ") + name;
  set_problem(message, {405, {}, std::string(method) + " is not allowed here", {}});
  soup_message_headers_replace(soup_server_message_get_response_headers(message), "Allow", allow.c_str());
}

namespace {

/* The secret of "Authorization: Bearer <secret>"; "" when the header is
 * absent, nullopt when it is there but not a bearer token. */
std::optional<std::string> bearer_token(SoupServerMessage *message) {
  const char *header =
      soup_message_headers_get_one(soup_server_message_get_request_headers(message), "Authorization");
  if (!header) return std::string();
  if (g_ascii_strncasecmp(header, "Bearer ", 7) != 0) return std::nullopt;
  const char *secret = header + 7;
  while (*secret == ' ') secret++;
  if (!*secret || strlen(secret) > 256) return std::nullopt;
  return std::string(secret);
}

void unauthorized(SoupServerMessage *message, const std::string &detail) {
  set_problem(message, {401, {}, detail, {}});
  soup_message_headers_replace(soup_server_message_get_response_headers(message), "WWW-Authenticate",
                               "Bearer realm=\"onair\"");
}

}  // namespace

void Router::authorize_and_run(SoupServerMessage *message, const Route &route, Request request) {
  std::optional<std::string> secret = bearer_token(message);
  if (!secret) return unauthorized(message, "the Authorization header must be \"Bearer <token>\"");
  if (secret->empty()) {
    if (route.access == Access::anyone) return route.handler(request);
    return unauthorized(message, "this call needs an API token (Authorization: Bearer <token>)");
  }
  if (!authenticator_) return unauthorized(message, "API tokens are not accepted here");

  /* Usually answered from the cache at once; otherwise the message waits,
   * paused, for the lookup. */
  struct Waiting {
    SoupServerMessage *message = nullptr;
    bool done = false;
    bool paused = false;
    bool gone = false;
    gulong disconnected = 0;
  };
  auto waiting = std::make_shared<Waiting>();
  waiting->message = SOUP_SERVER_MESSAGE(g_object_ref(message));
  Access access = route.access;
  Handler handler = route.handler;
  authenticator_->authenticate(
      *secret, [waiting, access, handler, request = std::move(request)](const AuthResult &result) mutable {
        SoupServerMessage *message = waiting->message;
        waiting->done = true;
        if (waiting->disconnected) g_signal_handler_disconnect(message, waiting->disconnected);
        bool unpause = waiting->paused;
        if (waiting->gone) {
          unpause = false;
        } else if (result.kind == AuthResult::Kind::unavailable) {
          set_problem(message, {503, {}, "the database is unavailable; retry later", {}, 1});
        } else if (result.kind != AuthResult::Kind::granted) {
          unauthorized(message, "the API token is unknown, revoked or expired");
        } else if (static_cast<int>(result.grant.role) < static_cast<int>(access)) {
          set_problem(message, {403,
                                {},
                                std::string("this call needs a token of role ") +
                                    store::role_name(static_cast<store::Role>(access)) + " or above",
                                {}});
        } else {
          /* Called once: the request is taken, not copied. */
          request.grant_ = result.grant;
          handler(request);
          /* A deferred answer unpauses the message itself. */
          if (request.deferred()) unpause = false;
        }
        if (unpause) soup_server_message_unpause(message);
        g_object_unref(message);
      });
  if (!waiting->done) {
    waiting->paused = true;
    soup_server_message_pause(message);
    waiting->disconnected = g_signal_connect_swapped(
        message, "disconnected", G_CALLBACK(+[](Waiting *waiting) { waiting->gone = true; }), waiting.get());
  }
}

}  // namespace onair::http
