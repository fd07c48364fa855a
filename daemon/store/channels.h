/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "db/database.h"

#include <json-glib/json-glib.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace onair::store {

struct Channel {
  std::string id;
  std::string name;
  std::string pipeline;
  /* The parameters object as stored. */
  std::shared_ptr<JsonNode> parameters;
  std::string stream_key;
  std::string desired_state; /* stopped | running */
  std::string state;         /* stopped | starting | live | degraded | failed */
  std::optional<std::string> last_error;
  std::string last_error_at;
  std::string created_at;
  std::string updated_at;
  /* The broadcast of the current run, if any: the newest live video. */
  std::optional<std::string> video_id;
};

struct ChannelCreate {
  std::string name;
  std::string pipeline;
  std::shared_ptr<JsonNode> parameters; /* an object */
  std::string stream_key;
  std::string desired_state = "stopped";
};

/* Absent members are left as they are. */
struct ChannelUpdate {
  std::optional<std::string> name;
  std::optional<std::string> pipeline;
  std::shared_ptr<JsonNode> parameters; /* null: unchanged */
};

/* Channels: the prepared statements. Callbacks run on the database's context. */
class ChannelStore {
 public:
  using ChannelDone = std::function<void(const db::Error &, std::optional<Channel>)>;
  using ListDone = std::function<void(const db::Error &, std::vector<Channel>)>;
  using FoundDone = std::function<void(const db::Error &, bool found)>;
  using VideoDone = std::function<void(const db::Error &, std::string video_id)>;

  explicit ChannelStore(db::Database &database) : database_(database) {}

  db::Ticket create(const ChannelCreate &channel, ChannelDone done);
  db::Ticket get(const std::string &id, ChannelDone done);
  db::Ticket list(int limit, ListDone done);
  db::Ticket update(const std::string &id, const ChannelUpdate &update, ChannelDone done);
  db::Ticket remove(const std::string &id, FoundDone done);
  db::Ticket set_desired(const std::string &id, const std::string &desired, ChannelDone done);
  db::Ticket set_stream_key(const std::string &id, const std::string &key, ChannelDone done);
  /* What the supervisor saw; `error` empty keeps the last error. */
  db::Ticket set_state(const std::string &id, const std::string &state, const std::string &error,
                       FoundDone done);
  /* The channel whose key this is may publish now (it should run). */
  db::Ticket key_is_valid(const std::string &id, const std::string &key, FoundDone done);
  /* Channels that should run, for the supervisor at boot. */
  db::Ticket list_to_run(ListDone done);

  /* A broadcast: a live video of the channel, its media under videos/<id>. */
  db::Ticket begin_broadcast(const std::string &channel_id, const std::string &title, VideoDone done);
  /* status live / ready / ended / failed, with the renditions (a JSON array) when known. */
  db::Ticket update_broadcast(const std::string &video_id, const std::string &status, JsonNode *renditions,
                              FoundDone done);

 private:
  db::Database &database_;
};

/* A new stream key: 32 base64url characters (24 bytes of the kernel's CSPRNG). */
std::string make_stream_key();

}  // namespace onair::store
