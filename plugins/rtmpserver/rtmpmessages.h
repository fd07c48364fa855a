/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rtmpamf0.h"
#include "rtmpchunk.h"

namespace onair::rtmp {

/* ---- Protocol control messages (spec section 5.4), message stream 0 ---- */

enum class PeerBandwidthLimit : uint8_t { Hard = 0, Soft = 1, Dynamic = 2 };

Message make_set_chunk_size(uint32_t chunk_size);
Message make_acknowledgement(uint32_t sequence_number);
Message make_window_ack_size(uint32_t window_size);
Message make_set_peer_bandwidth(uint32_t window_size, PeerBandwidthLimit limit);

/* Each returns false, with *error, when the message has another type or a
 * short payload. A chunk size of 0 or with the top bit set is an error
 * (spec: valid sizes are 1 to 0x7FFFFFFF). */
bool parse_set_chunk_size(const Message &message, uint32_t *chunk_size, std::string *error);
bool parse_abort(const Message &message, uint32_t *chunk_stream_id, std::string *error);
bool parse_acknowledgement(const Message &message, uint32_t *sequence_number, std::string *error);
bool parse_window_ack_size(const Message &message, uint32_t *window_size, std::string *error);
struct PeerBandwidth {
  uint32_t window_size = 0;
  PeerBandwidthLimit limit = PeerBandwidthLimit::Hard;
};
bool parse_set_peer_bandwidth(const Message &message, PeerBandwidth *bandwidth, std::string *error);

/* ---- User control messages (spec section 6.2 / 7.1.7) ---- */

enum class UserControlEvent : uint16_t {
  StreamBegin = 0,
  StreamEof = 1,
  StreamDry = 2,
  SetBufferLength = 3,
  StreamIsRecorded = 4,
  PingRequest = 6,
  PingResponse = 7,
};

struct UserControl {
  UserControlEvent event = UserControlEvent::StreamBegin;
  uint32_t value = 0;         /* stream id, or the ping's timestamp */
  uint32_t buffer_length = 0; /* SetBufferLength only: milliseconds */
};

Message make_user_control(const UserControl &control);
Message make_stream_begin(uint32_t stream_id);
Message make_stream_eof(uint32_t stream_id);
bool parse_user_control(const Message &message, UserControl *control, std::string *error);
/* The Ping Response to a Ping Request (same timestamp); nothing for any
 * other event. */
std::optional<Message> answer_ping(const UserControl &control);

/* ---- Commands (spec section 7.2), AMF0 ---- */

/* A command message (type 20) on message stream `stream_id`. */
Message make_command(uint32_t stream_id, const Amf0Command &command);

/* The reply to connect: `_result` with the server's properties (fmsVer,
 * capabilities) and NetConnection.Connect.Success. objectEncoding is always
 * 0: this server speaks AMF0 only, and a client asking for AMF3 then falls
 * back to AMF0. */
Message make_connect_result(double transaction_id, std::string_view fms_version = "FMS/3,0,1,123");
/* `_result` to createStream, carrying the new message stream id. */
Message make_create_stream_result(double transaction_id, uint32_t stream_id);
/* A `_result` with a Null command object and the given arguments (e.g. to
 * answer releaseStream or FCPublish, which clients do not wait for). */
Message make_result(uint32_t stream_id, double transaction_id, std::vector<Amf0Value> arguments = {});
/* `_error` for a command: information object {level: "error", code,
 * description}. */
Message make_error(uint32_t stream_id, double transaction_id, std::string_view code,
                   std::string_view description);

/* onStatus on message stream `stream_id`, transaction id 0, information
 * object {level, code, description[, details]}. */
Message make_on_status(uint32_t stream_id, std::string_view level, std::string_view code,
                       std::string_view description, std::string_view details = {});
/* NetStream.Publish.Start: the client may now send media. */
Message make_publish_start(uint32_t stream_id, std::string_view stream_name);
/* NetStream.Publish.BadName (level error): the name is refused (unknown
 * key, or already being published). Clients give up on it. */
Message make_publish_bad_name(uint32_t stream_id, std::string_view stream_name,
                              std::string_view description = {});
/* NetStream.Unpublish.Success: the answer to FCUnpublish/deleteStream. */
Message make_unpublish_success(uint32_t stream_id, std::string_view stream_name);

/* Reads a command message: type 20, or type 17 (AMF3 command) whose body is
 * a format byte 0 followed by AMF0 values, which is what AMF3-capable
 * clients send when the values themselves need no AMF3. */
bool parse_command_message(const Message &message, Amf0Command *command, std::string *error);

/* The stream name a publisher uses as its key, split at the first '?':
 * "key?token=x&a=b" is name "key", query "token=x&a=b", and the query's
 * parameters (percent-decoded, '+' kept as is, a parameter without '='
 * has an empty value). */
struct StreamKey {
  std::string name;
  std::string query;
  std::vector<std::pair<std::string, std::string>> parameters;
  /* First value of `key`, or nullptr. */
  const std::string *parameter(std::string_view key) const;
};
StreamKey parse_stream_key(std::string_view stream_name);

/* connect: the command object's properties, as every client sends them. */
struct ConnectRequest {
  double transaction_id = 0;
  std::string app;       /* e.g. "live"; may carry a query ("live?token=x") */
  std::string tc_url;    /* "rtmp://host[:port]/app" */
  std::string flash_ver; /* client identification, e.g. "FMLE/3.0 (compatible; FMSc/1.0)" */
  std::string swf_url;
  std::string page_url;
  std::string type; /* "nonprivate" from some clients */
  double object_encoding = 0;
  Amf0Value command_object; /* all of it, for logs and less common fields */
};
bool parse_connect(const Amf0Command &command, ConnectRequest *request, std::string *error);

/* releaseStream, FCPublish, FCUnpublish: the first argument is the stream name. */
struct StreamNameRequest {
  double transaction_id = 0;
  std::string stream_name;
};
bool parse_stream_name_command(const Amf0Command &command, StreamNameRequest *request, std::string *error);

/* publish: name and type ("live", "record" or "append"; "live" when absent). */
struct PublishRequest {
  double transaction_id = 0;
  std::string stream_name; /* as sent, query included */
  std::string publish_type;
  StreamKey key; /* stream_name split */
};
bool parse_publish(const Amf0Command &command, PublishRequest *request, std::string *error);

/* deleteStream: the message stream id to delete (first argument). */
struct DeleteStreamRequest {
  double transaction_id = 0;
  uint32_t stream_id = 0;
};
bool parse_delete_stream(const Amf0Command &command, DeleteStreamRequest *request, std::string *error);

/* ---- Data messages (type 18; type 15 with a leading 0 byte) ---- */

/* "@setDataFrame", "onMetaData", {...} from ffmpeg, OBS and rtmp2sink, or
 * "onMetaData", {...} straight from older encoders. */
struct DataMessage {
  bool set_data_frame = false; /* it was wrapped in @setDataFrame (which is removed here) */
  std::string handler;         /* "onMetaData", "onTextData", "onCuePoint", ... */
  std::vector<Amf0Value> values;
  bool is_metadata() const { return handler == "onMetaData"; }
  /* The metadata object (Object or ECMA array), or nullptr. */
  const Amf0Value *metadata() const;
};
bool parse_data_message(const Message &message, DataMessage *data, std::string *error);

/* ---- Aggregate messages (type 22) ---- */

/* An aggregate message carries FLV-style tags (type, 24-bit size, 32-bit
 * timestamp, 24-bit stream id, payload, 32-bit back pointer). Returns them
 * as messages on the aggregate's stream, their timestamps moved so that the
 * first one has the aggregate's own. Fails on a truncated or inconsistent
 * tag, or one that is itself an aggregate. */
bool split_aggregate(const Message &aggregate, std::vector<Message> *messages, std::string *error);

}  // namespace onair::rtmp
