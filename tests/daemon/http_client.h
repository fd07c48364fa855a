/* onair — the REST API served in-process on a loopback port, and the HTTP
 * clients the daemon tests use on it: one request at a time, a raw request
 * line, and an event-stream reader (server-sent events); the fixture of a
 * database and a Server.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "harness.h"
#include "http/api.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include <arpa/inet.h>
#include <atomic>
#include <functional>
#include <memory>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

namespace onair::test {

struct Response {
  guint status = 0;
  std::string body;
  std::string content_type;
  SoupMessageHeaders *headers = nullptr;
  JsonNode *json = nullptr;
  ~Response() {
    if (json) json_node_unref(json);
    if (headers) soup_message_headers_unref(headers);
  }
  std::string header(const char *name) const {
    const char *value = headers ? soup_message_headers_get_one(headers, name) : nullptr;
    return value ? value : "";
  }
  JsonObject *object() const {
    g_assert_nonnull(json);
    g_assert_true(JSON_NODE_HOLDS_OBJECT(json));
    return json_node_get_object(json);
  }
  std::string string(const char *name) const {
    JsonNode *node = json_object_get_member(object(), name);
    return node && !JSON_NODE_HOLDS_NULL(node) ? json_node_get_string(node) : "";
  }
  /* The field named by the problem's error `index`. */
  std::string error_field(size_t index = 0) const {
    JsonArray *errors = json_object_get_array_member(object(), "errors");
    g_assert_nonnull(errors);
    g_assert_cmpuint(json_array_get_length(errors), >, index);
    return json_object_get_string_member(json_array_get_object_element(errors, index), "field");
  }
  /* The problem's "detail", whatever the content type; "" when none. */
  std::string detail() const {
    JsonParser *parser = json_parser_new();
    std::string out;
    if (json_parser_load_from_data(parser, body.data(), body.size(), nullptr) &&
        JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
      JsonObject *object = json_node_get_object(json_parser_get_root(parser));
      if (json_object_has_member(object, "detail")) out = json_object_get_string_member(object, "detail");
    }
    g_object_unref(parser);
    return out;
  }
};

#define assert_status(response, expected)                                                  \
  do {                                                                                     \
    if ((response)->status != (expected))                                                  \
      g_error("%s:%d: status %u, expected %u: %s", __FILE__, __LINE__, (response)->status, \
              (guint)(expected), (response)->body.c_str());                                \
  } while (0)

using Headers = std::vector<std::pair<std::string, std::string>>;

/* A free loopback port of an in-process SoupServer serving the API (when
 * given a database) and whatever the hooks add, and a client of it. */
class Server {
 public:
  /* Adds routes to the API's router before the API is mounted. */
  using AddRoutes =
      std::function<void(http::Api &api, const std::string &base, const store::MediaLinks &links)>;
  /* Mounts handlers of its own on the SoupServer, after the API if any. */
  using Mount = std::function<void(SoupServer *server)>;

  explicit Server(db::Database &database, const AddRoutes &add_routes = {}, const Mount &mount = {}) {
    listen();
    store::MediaLinks links(base_, signer_, 3600);
    api_ = std::make_unique<http::Api>(database, base_, links);
    if (add_routes) add_routes(*api_, base_, links);
    api_->mount(server_);
    if (mount) mount(server_);
    session_ = soup_session_new();
    token = make_token(store::Role::admin);
  }
  /* No API, no token: only what `mount` serves. */
  explicit Server(const Mount &mount) {
    listen();
    mount(server_);
    session_ = soup_session_new();
  }
  ~Server() {
    g_object_unref(session_);
    soup_server_disconnect(server_);
    g_object_unref(server_);
  }

  /* A new token of `role`, made through the store as onaird's bootstrap does. */
  std::string make_token(store::Role role, const std::string &expires_at = {}) {
    std::string secret = store::make_token_secret();
    bool done = false;
    api_->authenticator().tokens().create("test", role, secret, expires_at,
                                          [&](const db::Error &error, std::optional<store::Token>) {
                                            g_assert_false(error);
                                            done = true;
                                          });
    run_until([&] { return done; }, 60, "a token");
    return secret;
  }

  /* Sent as "Authorization: Bearer <token>"; empty: no header. An admin
   * token of the Server's making unless changed. */
  std::string token;
  /* Seconds a request may take. */
  int timeout = 60;

  /* `path` is absolute ("http...") or under base(). */
  std::unique_ptr<Response> request(const char *method, const std::string &path, const std::string &body = {},
                                    const Headers &headers = {},
                                    const char *content_type = "application/json") {
    std::string uri = path.rfind("http", 0) == 0 ? path : base_ + path;
    SoupMessage *message = soup_message_new(method, uri.c_str());
    g_assert_nonnull(message);
    if (!token.empty())
      soup_message_headers_replace(soup_message_get_request_headers(message), "Authorization",
                                   ("Bearer " + token).c_str());
    for (const auto &[name, value] : headers)
      soup_message_headers_replace(soup_message_get_request_headers(message), name.c_str(), value.c_str());
    if (!body.empty()) {
      GBytes *bytes = g_bytes_new(body.data(), body.size());
      soup_message_set_request_body_from_bytes(message, content_type, bytes);
      g_bytes_unref(bytes);
    }
    struct State {
      GBytes *bytes = nullptr;
      bool done = false;
    } state;
    soup_session_send_and_read_async(
        session_, message, G_PRIORITY_DEFAULT, nullptr,
        [](GObject *source, GAsyncResult *result, gpointer data) {
          auto *state = static_cast<State *>(data);
          GError *error = nullptr;
          state->bytes = soup_session_send_and_read_finish(SOUP_SESSION(source), result, &error);
          if (error) g_printerr("# request failed: %s\n", error->message);
          g_clear_error(&error);
          state->done = true;
        },
        &state);
    run_until([&] { return state.done; }, timeout, "an HTTP answer");
    auto response = std::make_unique<Response>();
    response->status = soup_message_get_status(message);
    response->headers = soup_message_headers_ref(soup_message_get_response_headers(message));
    response->content_type = response->header("Content-Type");
    if (state.bytes) {
      gsize size = 0;
      const char *data = static_cast<const char *>(g_bytes_get_data(state.bytes, &size));
      response->body.assign(data ? data : "", size);
      g_bytes_unref(state.bytes);
    }
    if (!response->body.empty() && response->content_type.find("json") != std::string::npos) {
      JsonParser *parser = json_parser_new();
      if (json_parser_load_from_data(parser, response->body.data(), response->body.size(), nullptr))
        response->json = json_node_copy(json_parser_get_root(parser));
      g_object_unref(parser);
    }
    g_object_unref(message);
    return response;
  }

  /* The request line and headers sent as they are, bypassing the client's
   * URI normalisation (which would remove dot segments): returns the status
   * and the whole answer. */
  guint raw(const std::string &target, std::string *answer) {
    std::string text;
    connected(
        [&](int fd) {
          std::string request = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
          if (write(fd, request.data(), request.size()) == ssize_t(request.size())) {
            char buffer[4096];
            ssize_t got;
            while ((got = read(fd, buffer, sizeof buffer)) > 0) text.append(buffer, got);
          }
        },
        "a raw HTTP answer");
    *answer = text;
    guint status = 0;
    if (text.rfind("HTTP/1.1 ", 0) == 0) status = guint(g_ascii_strtoull(text.c_str() + 9, nullptr, 10));
    return status;
  }

  /* Runs `client` on a TCP connection of its own to the server, in a thread
   * of its own, while this thread runs the main loop (the server's) until
   * it returns. */
  void connected(const std::function<void(int fd)> &client, const char *what) {
    std::atomic<bool> done = false;
    std::thread thread([&] {
      int fd = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in address = {};
      address.sin_family = AF_INET;
      address.sin_port = htons(port_);
      address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof address) == 0) client(fd);
      close(fd);
      done = true;
    });
    run_until([&] { return done.load(); }, 60, what);
    thread.join();
  }

  const std::string &base() const { return base_; }
  const http::UrlSigner &signer() const { return signer_; }
  http::Api &api() { return *api_; }

 private:
  void listen() {
    server_ = soup_server_new(nullptr, nullptr);
    GError *error = nullptr;
    g_assert_true(soup_server_listen_local(server_, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error));
    g_assert_no_error(error);
    GSList *uris = soup_server_get_uris(server_);
    GUri *uri = static_cast<GUri *>(uris->data);
    port_ = g_uri_get_port(uri);
    char *text = g_uri_to_string(uri);
    base_ = text;
    if (!base_.empty() && base_.back() == '/') base_.pop_back();
    g_free(text);
    g_slist_free_full(uris, reinterpret_cast<GDestroyNotify>(g_uri_unref));
  }

  http::UrlSigner signer_{std::string(32, 'k')};
  SoupServer *server_ = nullptr;
  SoupSession *session_ = nullptr;
  std::string base_;
  guint port_ = 0;
  std::unique_ptr<http::Api> api_;
};

/* A migrated database of its own, a pool on it and a Server. */
struct ServerFixture {
  TestDatabase database;
  std::unique_ptr<db::Database> pool;
  std::unique_ptr<Server> server;
  ServerFixture() {
    migrate_schema(database.uri());
    pool = open_pool(database.uri());
    server = std::make_unique<Server>(*pool);
  }
  ~ServerFixture() {
    server.reset();
    pool->close();
    run_for(10);
    pool.reset();
  }
};

/* A client of GET /api/v1/events on a session of its own (a session opens
 * at most two connections to one host), parsing the stream as EventSource
 * does, minus reconnection. */
class EventStream {
 public:
  struct Event {
    std::string id;
    std::string type;
    std::string data;
  };

  /* Opens `url` with `token` (empty: none) and waits for the response
   * headers. */
  EventStream(const std::string &url, const std::string &token, const std::string &last_event_id = {}) {
    state_ = std::make_shared<State>();
    session_ = soup_session_new();
    message_ = soup_message_new("GET", url.c_str());
    g_assert_nonnull(message_);
    if (!token.empty())
      soup_message_headers_replace(soup_message_get_request_headers(message_), "Authorization",
                                   ("Bearer " + token).c_str());
    if (!last_event_id.empty())
      soup_message_headers_replace(soup_message_get_request_headers(message_), "Last-Event-ID",
                                   last_event_id.c_str());
    state_->cancellable = g_cancellable_new();
    soup_session_send_async(session_, message_, G_PRIORITY_DEFAULT, state_->cancellable, on_sent,
                            new std::shared_ptr<State>(state_));
    run_until([&] { return state_->opened; }, 60, "the event stream's headers");
  }
  ~EventStream() {
    close();
    g_clear_object(&message_);
  }

  guint status() const { return soup_message_get_status(message_); }
  std::string header(const char *name) const {
    const char *value = soup_message_headers_get_one(soup_message_get_response_headers(message_), name);
    return value ? value : "";
  }
  const std::vector<Event> &events() const { return state_->events; }
  int comments() const { return state_->comments; }
  const std::string &retry() const { return state_->retry; }
  bool ended() const { return state_->ended; }

  /* Waits until `count` events have come. */
  void wait_events(size_t count, const char *what = "events") {
    run_until([&] { return state_->events.size() >= count || state_->ended; }, 60, what);
    if (state_->events.size() < count) g_error("the stream ended after %zu events", state_->events.size());
  }

  /* Drops the connection, as a browser tab that closes. */
  void close() {
    if (!session_) return;
    /* A read still pending ends as cancelled, holding its own references. */
    g_cancellable_cancel(state_->cancellable);
    g_clear_object(&state_->stream);
    soup_session_abort(session_);
    g_clear_object(&session_);
    state_->ended = true;
  }

 private:
  struct State {
    GInputStream *stream = nullptr;
    bool opened = false;
    bool ended = false;
    char buffer[16384];
    std::string pending;
    std::vector<Event> events;
    int comments = 0;
    std::string retry;
    GCancellable *cancellable = nullptr;
    ~State() { g_clear_object(&cancellable); }
  };

  static void on_sent(GObject *source, GAsyncResult *result, gpointer data) {
    std::unique_ptr<std::shared_ptr<State>> holder(static_cast<std::shared_ptr<State> *>(data));
    State &state = **holder;
    GError *error = nullptr;
    state.stream = soup_session_send_finish(SOUP_SESSION(source), result, &error);
    state.opened = true;
    if (!state.stream) {
      g_clear_error(&error);
      state.ended = true;
      return;
    }
    read_more(std::move(*holder));
  }

  static void read_more(std::shared_ptr<State> state) {
    State &current = *state;
    g_input_stream_read_async(current.stream, current.buffer, sizeof current.buffer, G_PRIORITY_DEFAULT,
                              current.cancellable, on_read, new std::shared_ptr<State>(std::move(state)));
  }

  static void on_read(GObject *source, GAsyncResult *result, gpointer data) {
    std::unique_ptr<std::shared_ptr<State>> holder(static_cast<std::shared_ptr<State> *>(data));
    State &state = **holder;
    GError *error = nullptr;
    gssize size = g_input_stream_read_finish(G_INPUT_STREAM(source), result, &error);
    g_clear_error(&error);
    if (size <= 0 || !state.stream) {
      state.ended = true;
      return;
    }
    state.pending.append(state.buffer, size);
    parse(state);
    read_more(std::move(*holder));
  }

  /* Blocks end at a blank line; fields are "name: value". */
  static void parse(State &state) {
    size_t end;
    while ((end = state.pending.find("\n\n")) != std::string::npos) {
      std::string block = state.pending.substr(0, end + 1);
      state.pending.erase(0, end + 2);
      Event event;
      bool has_data = false;
      size_t start = 0, newline;
      while ((newline = block.find('\n', start)) != std::string::npos) {
        std::string line = block.substr(start, newline - start);
        start = newline + 1;
        if (!line.empty() && line[0] == ':') {
          state.comments++;
          continue;
        }
        size_t colon = line.find(':');
        std::string name = line.substr(0, colon);
        std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
        if (!value.empty() && value[0] == ' ') value.erase(0, 1);
        if (name == "id")
          event.id = value;
        else if (name == "event")
          event.type = value;
        else if (name == "data") {
          event.data += (has_data ? "\n" : "") + value;
          has_data = true;
        } else if (name == "retry")
          state.retry = value;
      }
      if (has_data) state.events.push_back(event);
    }
  }

  std::shared_ptr<State> state_;
  SoupSession *session_ = nullptr;
  SoupMessage *message_ = nullptr;
};

}  // namespace onair::test
