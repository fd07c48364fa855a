/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "http/events.h"

#include "http/cork.h"
#include "http/fields.h"

#include <cstring>

namespace onair::http {

namespace {

/* "comment.created", "channel.state": dot-separated words. */
bool valid_type(const std::string &type) {
  if (type.empty() || type.front() == '.' || type.back() == '.') return false;
  char previous = 0;
  for (char c : type) {
    bool word = g_ascii_isalnum(c) || c == '_' || c == '-';
    if (!word && !(c == '.' && previous != '.')) return false;
    previous = c;
  }
  return true;
}

std::optional<uint64_t> parse_id(const std::string &text) {
  guint64 value = 0;
  if (!g_ascii_string_to_unsigned(text.c_str(), 10, 0, G_MAXUINT64, &value, nullptr)) return std::nullopt;
  return value;
}

GBytes *bytes_of(const std::string &text) {
  return g_bytes_new(text.data(), text.size());
}

}  // namespace

bool EventHub::Filter::passes(const Event &event) const {
  if (video_id && event.video_id != *video_id) return false;
  if (!channels && g_str_has_prefix(event.type.c_str(), "channel.")) return false;
  if (types.empty()) return true;
  for (const std::string &type : types) {
    if (event.type == type) return true;
    if (event.type.size() > type.size() && event.type.compare(0, type.size(), type) == 0 &&
        event.type[type.size()] == '.')
      return true;
  }
  return false;
}

EventHub::EventHub(Options options)
    : options_(options),
      next_id_(uint64_t(g_get_real_time() / 1000)),
      heartbeat_text_(bytes_of(": heartbeat\n\n")) {}

EventHub::~EventHub() {
  if (heartbeat_source_) g_source_remove(heartbeat_source_);
  /* Still connected (the server outlives the hub): end each stream cleanly. */
  while (!clients_.empty()) {
    Client *client = clients_.front().get();
    soup_message_body_complete(soup_server_message_get_response_body(client->message));
    soup_server_message_unpause(client->message);
    remove(client, false);
  }
  for (Event &event : buffer_) g_bytes_unref(event.text);
  g_bytes_unref(heartbeat_text_);
}

std::string EventHub::publish(const std::string &type, JsonNode *data) {
  if (!valid_type(type) || (data && !JSON_NODE_HOLDS_OBJECT(data))) {
    g_critical("events: not published: type \"%s\" or data not an object", type.c_str());
    if (data) json_node_unref(data);
    return {};
  }
  std::string video_id;
  std::string json = "{}";
  if (data) {
    JsonObject *object = json_node_get_object(data);
    JsonNode *video = json_object_get_member(object, "video_id");
    if (video && JSON_NODE_HOLDS_VALUE(video) && json_node_get_value_type(video) == G_TYPE_STRING)
      video_id = json_node_get_string(video);
    /* Not pretty-printed: one line, newlines inside strings escaped. */
    gchar *text = json_to_string(data, FALSE);
    json = text;
    g_free(text);
    json_node_unref(data);
  }
  return publish_serialized(type, video_id, json);
}

std::string EventHub::publish_serialized(const std::string &type, const std::string &video_id,
                                         std::string_view data) {
  if (!valid_type(type)) {
    g_critical("events: not published: type \"%s\"", type.c_str());
    return {};
  }
  Event event{next_id_++, type, video_id, nullptr};
  std::string text = "id: " + std::to_string(event.id) + "\nevent: " + type + "\ndata: ";
  text.append(data.empty() ? std::string_view("{}") : data);
  text += "\n\n";
  event.text = bytes_of(text);
  buffer_.push_back(event);
  if (buffer_.size() > options_.capacity) {
    g_bytes_unref(buffer_.front().text);
    buffer_.pop_front();
  }
  published_++;
  for (auto it = clients_.begin(); it != clients_.end();) {
    /* send() may remove this client (too slow), never another. */
    Client &client = **it++;
    if (client.filter.passes(event)) send(client, event.text);
  }
  return std::to_string(event.id);
}

void EventHub::serve(Request &request) {
  SoupServerMessage *message = request.message();
  QueryFields query(request.query());
  Filter filter;
  filter.channels = request.has_role(store::Role::operator_);
  if (std::optional<std::string> types = query.text("types")) {
    gchar **names = g_strsplit(types->c_str(), ",", -1);
    for (gchar **name = names; *name; name++) filter.types.push_back(*name);
    g_strfreev(names);
    bool valid = !filter.types.empty();
    for (const std::string &type : filter.types) valid = valid && valid_type(type);
    if (!valid)
      query.fail("types", "must be event types (such as comment.created or channel) separated by commas");
  }
  filter.video_id = query.uuid("video_id");
  std::optional<uint64_t> last_id;
  if (std::optional<std::string> text = query.text("last_event_id")) {
    last_id = parse_id(*text);
    if (!last_id) query.fail("last_event_id", "must be an event id");
  }
  /* The header, sent by EventSource when it reconnects, is newer than the
   * URL's parameter. */
  const char *header =
      soup_message_headers_get_one(soup_server_message_get_request_headers(message), "Last-Event-ID");
  if (header && *header) {
    last_id = parse_id(header);
    if (!last_id) query.fail("Last-Event-ID", "must be an event id");
  }
  if (!query.finish()) return request.problem(query.problem());

  soup_server_message_set_status(message, 200, nullptr);
  SoupMessageHeaders *headers = soup_server_message_get_response_headers(message);
  soup_message_headers_replace(headers, "Content-Type", "text/event-stream");
  soup_message_headers_replace(headers, "Cache-Control", "no-store");
  /* nginx would otherwise hold events back in its buffer. */
  soup_message_headers_replace(headers, "X-Accel-Buffering", "no");
  soup_message_headers_replace(headers, "Access-Control-Allow-Origin", "*");
  soup_message_headers_set_encoding(headers, SOUP_ENCODING_CHUNKED);
  /* An open-ended answer: each event leaves as it is written. */
  uncork(message);
  /* Written chunks are dropped, not kept for the message's lifetime. */
  soup_message_body_set_accumulate(soup_server_message_get_response_body(message), FALSE);

  auto owned = std::make_unique<Client>();
  Client *client = owned.get();
  client->hub = this;
  client->message = SOUP_SERVER_MESSAGE(g_object_ref(message));
  client->filter = std::move(filter);
  client->handlers[0] = g_signal_connect(message, "wrote-body-data", G_CALLBACK(on_wrote), client);
  client->handlers[1] = g_signal_connect(message, "finished", G_CALLBACK(on_gone), client);
  client->handlers[2] = g_signal_connect(message, "disconnected", G_CALLBACK(on_gone), client);
  clients_.push_back(std::move(owned));
  update_heartbeat();

  std::string start = "retry: " + std::to_string(options_.retry_ms) + "\n\n";
  if (last_id) {
    uint64_t newest = next_id_ - 1;
    uint64_t oldest = buffer_.empty() ? next_id_ : buffer_.front().id;
    if (*last_id > newest || *last_id + 1 < oldest) {
      /* Events were missed for good (or the id is from elsewhere): the client
       * must reload its state. The id makes a reconnection resume after it. */
      uint64_t resume = *last_id > newest ? newest : oldest - 1;
      JsonBuilder *builder = json_builder_new();
      json_builder_begin_object(builder);
      json_builder_set_member_name(builder, "last_event_id");
      json_builder_add_string_value(builder, std::to_string(*last_id).c_str());
      json_builder_end_object(builder);
      JsonNode *data = json_builder_get_root(builder);
      g_object_unref(builder);
      gchar *json = json_to_string(data, FALSE);
      json_node_unref(data);
      start += "id: " + std::to_string(resume) + "\nevent: reset\ndata: " + json + "\n\n";
      g_free(json);
    }
  }
  GBytes *text = bytes_of(start);
  bool connected = send(*client, text);
  g_bytes_unref(text);
  if (!last_id) return;
  for (auto it = buffer_.begin(); it != buffer_.end() && connected; ++it)
    if (it->id > *last_id && client->filter.passes(*it)) connected = send(*client, it->text);
}

bool EventHub::send(Client &client, GBytes *text) {
  soup_message_body_append_bytes(soup_server_message_get_response_body(client.message), text);
  client.queued += g_bytes_get_size(text);
  if (client.queued > options_.max_client_bytes) {
    g_message("events: dropping a client with %zu bytes unsent", client.queued);
    dropped_++;
    remove(&client, true);
    return false;
  }
  soup_server_message_unpause(client.message);
  return true;
}

void EventHub::remove(Client *client, bool close) {
  for (gulong handler : client->handlers) g_signal_handler_disconnect(client->message, handler);
  if (close) {
    /* Shutting the socket down makes the pending write fail, and libsoup
     * then closes the connection and finishes the message. */
    if (GSocket *socket = soup_server_message_get_socket(client->message))
      g_socket_shutdown(socket, TRUE, TRUE, nullptr);
    soup_server_message_unpause(client->message);
  }
  g_object_unref(client->message);
  clients_.remove_if([client](const std::unique_ptr<Client> &item) { return item.get() == client; });
  update_heartbeat();
}

void EventHub::set_heartbeat_interval(guint milliseconds) {
  options_.heartbeat_ms = milliseconds;
  if (heartbeat_source_) g_source_remove(heartbeat_source_);
  heartbeat_source_ = 0;
  update_heartbeat();
}

void EventHub::update_heartbeat() {
  if (clients_.empty() && heartbeat_source_) {
    g_source_remove(heartbeat_source_);
    heartbeat_source_ = 0;
  } else if (!clients_.empty() && !heartbeat_source_) {
    heartbeat_source_ = g_timeout_add(options_.heartbeat_ms, on_heartbeat, this);
  }
}

gboolean EventHub::on_heartbeat(gpointer self) {
  auto *hub = static_cast<EventHub *>(self);
  /* A comment line: ignored by EventSource, but it finds the clients that are
   * gone (writing to them fails). */
  for (auto it = hub->clients_.begin(); it != hub->clients_.end();) {
    Client &client = **it++;
    hub->send(client, hub->heartbeat_text_);
  }
  if (hub->clients_.empty()) {
    hub->heartbeat_source_ = 0;
    return G_SOURCE_REMOVE;
  }
  return G_SOURCE_CONTINUE;
}

void EventHub::on_wrote(SoupServerMessage *, guint size, gpointer data) {
  auto *client = static_cast<Client *>(data);
  client->queued -= std::min<size_t>(client->queued, size);
}

void EventHub::on_gone(SoupServerMessage *, gpointer data) {
  auto *client = static_cast<Client *>(data);
  client->hub->remove(client, false);
}

}  // namespace onair::http
