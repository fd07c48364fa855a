/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "http/router.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace onair::http {

/* Server-sent events (GET /api/v1/events, the WHATWG "text/event-stream"
 * format): what the daemon publishes is pushed to every connected client
 * whose filters it passes.
 *
 * Each event is `id: N`, `event: TYPE`, `data: JSON` on one line each. Ids
 * increase monotonically and start, at each daemon start, from the wall clock
 * in milliseconds, so that an id remembered from an earlier run is older than
 * anything buffered. The last `capacity` events are kept: a client that
 * reconnects with Last-Event-ID (or ?last_event_id=) gets what it missed, after
 * an event `reset` when some of it is no longer buffered (or the id is
 * unknown). Filters: ?types=a.b,c (a type, or a prefix ending at a dot) and
 * ?video_id=UUID (events whose data.video_id is that one); malformed values
 * answer 400 naming the parameter.
 *
 * A comment line every heartbeat interval keeps proxies from closing idle
 * streams and finds the clients that went away. A client whose unsent data
 * passes `max_client_bytes` (a reader too slow for the stream) is
 * disconnected rather than buffered without bound.
 *
 * Main context only. */
class EventHub {
 public:
  struct Options {
    size_t capacity = 1024;
    size_t max_client_bytes = 1024 * 1024;
    guint heartbeat_ms = 15000;
    /* The reconnection delay suggested to clients (`retry:`). */
    guint retry_ms = 3000;
  };

  EventHub() : EventHub(Options{}) {}
  explicit EventHub(Options options);
  ~EventHub();
  EventHub(const EventHub &) = delete;
  EventHub &operator=(const EventHub &) = delete;

  /* Sends an event of `type` (e.g. "comment.created") with `data` (adopted;
   * an object, or nullptr for {}) to the matching clients; returns its id. */
  std::string publish(const std::string &type, JsonNode *data);
  /* The same with `data` already serialized by json-glib (one line, an
   * object) and its video id ("" when none): an answer's body published as
   * it is, not serialized twice. */
  std::string publish_serialized(const std::string &type, const std::string &video_id, std::string_view data);

  /* GET /api/v1/events */
  void serve(Request &request);

  /* Takes effect for the next heartbeat (tests shorten it). */
  void set_heartbeat_interval(guint milliseconds);
  void set_max_client_bytes(size_t bytes) { options_.max_client_bytes = bytes; }

  size_t clients() const { return clients_.size(); }
  uint64_t published() const { return published_; }
  /* Clients disconnected for being too slow. */
  uint64_t dropped() const { return dropped_; }

 private:
  struct Event {
    uint64_t id;
    std::string type;
    std::string video_id;
    GBytes *text; /* the event as sent */
  };
  struct Filter {
    std::vector<std::string> types;
    std::optional<std::string> video_id;
    /* channel.* events (states, errors) are for operators. */
    bool channels = true;
    bool passes(const Event &event) const;
  };
  struct Client {
    EventHub *hub;
    SoupServerMessage *message;
    Filter filter;
    size_t queued = 0;
    gulong handlers[3] = {};
  };

  /* False when the client was dropped (too slow). */
  bool send(Client &client, GBytes *text);
  void remove(Client *client, bool close);
  void update_heartbeat();
  static gboolean on_heartbeat(gpointer self);
  static void on_wrote(SoupServerMessage *, guint size, gpointer client);
  static void on_gone(SoupServerMessage *, gpointer client);

  Options options_;
  uint64_t next_id_;
  std::deque<Event> buffer_;
  std::list<std::unique_ptr<Client>> clients_;
  GBytes *heartbeat_text_;
  guint heartbeat_source_ = 0;
  uint64_t published_ = 0;
  uint64_t dropped_ = 0;
};

}  // namespace onair::http
