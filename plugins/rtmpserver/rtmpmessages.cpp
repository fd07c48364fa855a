/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rtmpmessages.h"

#include <cmath>

#include <glib.h>

#include "bytes.h"

namespace onair::rtmp {

namespace {

Message control_message(MessageType type, std::vector<uint8_t> payload) {
  Message message;
  message.type = type;
  message.stream_id = 0;
  message.chunk_stream_id = kChunkStreamProtocolControl;
  message.payload = std::move(payload);
  return message;
}

Message u32_message(MessageType type, uint32_t value) {
  std::vector<uint8_t> payload;
  append_u32(payload, value);
  return control_message(type, std::move(payload));
}

std::string wrong_type(MessageType expected, MessageType got) {
  return std::string("expected a message of type ") + message_type_name(expected) + " (" +
         std::to_string(unsigned(expected)) + "), got " + message_type_name(got) + " (" +
         std::to_string(unsigned(got)) + ")";
}

bool check_payload(const Message &message, MessageType type, size_t minimum, std::string *error) {
  if (message.type != type) {
    *error = wrong_type(type, message.type);
    return false;
  }
  if (message.payload.size() < minimum) {
    *error = std::string(message_type_name(type)) + " message of " + std::to_string(message.payload.size()) +
             " bytes, needs " + std::to_string(minimum);
    return false;
  }
  return true;
}

bool parse_u32_message(const Message &message, MessageType type, uint32_t *value, std::string *error) {
  if (!check_payload(message, type, 4, error)) return false;
  *value = get_u32(message.payload.data());
  return true;
}

Amf0Value status_object(std::string_view level, std::string_view code, std::string_view description) {
  return Amf0Value::object({
      {"level", Amf0Value::string(std::string(level))},
      {"code", Amf0Value::string(std::string(code))},
      {"description", Amf0Value::string(std::string(description))},
  });
}

/* A stream name argument: clients send a string; a Null or missing one is
 * an empty name rather than an error, for the caller to refuse by name. */
bool first_string_argument(const Amf0Command &command, std::string *value, std::string *error) {
  value->clear();
  if (command.arguments.empty() || command.arguments[0].is_null()) return true;
  if (!command.arguments[0].is_string()) {
    *error = command.name + ": the stream name is a " + amf0_type_name(command.arguments[0].type()) +
             ", not a string";
    return false;
  }
  *value = command.arguments[0].as_string();
  return true;
}

std::string percent_decode(std::string_view text) {
  std::string raw(text);
  char *decoded = g_uri_unescape_string(raw.c_str(), nullptr);
  if (!decoded) return raw; /* invalid escapes (or an encoded NUL): keep as sent */
  std::string result(decoded);
  g_free(decoded);
  return result;
}

/* The body of an AMF3 command or data message (types 17 and 15): a format
 * selector byte, 0 for AMF0 values. */
bool amf0_body(const Message &message, MessageType amf0_type, MessageType amf3_type,
               std::span<const uint8_t> *body, std::string *error) {
  std::span<const uint8_t> payload(message.payload);
  if (message.type == amf0_type) {
    *body = payload;
    return true;
  }
  if (message.type == amf3_type) {
    if (payload.empty() || payload[0] != 0) {
      *error = std::string(message_type_name(amf3_type)) + " message does not start with format byte 0";
      return false;
    }
    *body = payload.subspan(1);
    return true;
  }
  *error = wrong_type(amf0_type, message.type);
  return false;
}

}  // namespace

Message make_set_chunk_size(uint32_t chunk_size) {
  return u32_message(MessageType::SetChunkSize, chunk_size & kMaxChunkSize);
}

Message make_acknowledgement(uint32_t sequence_number) {
  return u32_message(MessageType::Acknowledgement, sequence_number);
}

Message make_window_ack_size(uint32_t window_size) {
  return u32_message(MessageType::WindowAckSize, window_size);
}

Message make_set_peer_bandwidth(uint32_t window_size, PeerBandwidthLimit limit) {
  std::vector<uint8_t> payload;
  append_u32(payload, window_size);
  payload.push_back(uint8_t(limit));
  return control_message(MessageType::SetPeerBandwidth, std::move(payload));
}

bool parse_set_chunk_size(const Message &message, uint32_t *chunk_size, std::string *error) {
  uint32_t value;
  if (!parse_u32_message(message, MessageType::SetChunkSize, &value, error)) return false;
  if (value == 0 || value > kMaxChunkSize) {
    *error = "invalid chunk size " + std::to_string(value) + " in Set Chunk Size (valid: 1 to 2147483647)";
    return false;
  }
  *chunk_size = value;
  return true;
}

bool parse_abort(const Message &message, uint32_t *chunk_stream_id, std::string *error) {
  return parse_u32_message(message, MessageType::Abort, chunk_stream_id, error);
}

bool parse_acknowledgement(const Message &message, uint32_t *sequence_number, std::string *error) {
  return parse_u32_message(message, MessageType::Acknowledgement, sequence_number, error);
}

bool parse_window_ack_size(const Message &message, uint32_t *window_size, std::string *error) {
  return parse_u32_message(message, MessageType::WindowAckSize, window_size, error);
}

bool parse_set_peer_bandwidth(const Message &message, PeerBandwidth *bandwidth, std::string *error) {
  if (!check_payload(message, MessageType::SetPeerBandwidth, 5, error)) return false;
  uint8_t limit = message.payload[4];
  if (limit > 2) {
    *error = "invalid limit type " + std::to_string(limit) + " in Set Peer Bandwidth";
    return false;
  }
  bandwidth->window_size = get_u32(message.payload.data());
  bandwidth->limit = PeerBandwidthLimit(limit);
  return true;
}

Message make_user_control(const UserControl &control) {
  std::vector<uint8_t> payload;
  append_u16(payload, uint16_t(control.event));
  append_u32(payload, control.value);
  if (control.event == UserControlEvent::SetBufferLength) append_u32(payload, control.buffer_length);
  return control_message(MessageType::UserControl, std::move(payload));
}

Message make_stream_begin(uint32_t stream_id) {
  return make_user_control({UserControlEvent::StreamBegin, stream_id, 0});
}

Message make_stream_eof(uint32_t stream_id) {
  return make_user_control({UserControlEvent::StreamEof, stream_id, 0});
}

bool parse_user_control(const Message &message, UserControl *control, std::string *error) {
  if (!check_payload(message, MessageType::UserControl, 6, error)) return false;
  const uint8_t *p = message.payload.data();
  control->event = UserControlEvent(get_u16(p));
  control->value = get_u32(p + 2);
  control->buffer_length = 0;
  if (control->event == UserControlEvent::SetBufferLength) {
    if (message.payload.size() < 10) {
      *error =
          "User Control SetBufferLength of " + std::to_string(message.payload.size()) + " bytes, needs 10";
      return false;
    }
    control->buffer_length = get_u32(p + 6);
  }
  return true;
}

std::optional<Message> answer_ping(const UserControl &control) {
  if (control.event != UserControlEvent::PingRequest) return std::nullopt;
  return make_user_control({UserControlEvent::PingResponse, control.value, 0});
}

Message make_command(uint32_t stream_id, const Amf0Command &command) {
  Message message;
  message.type = MessageType::CommandAmf0;
  message.stream_id = stream_id;
  message.chunk_stream_id = kChunkStreamCommand;
  message.payload = amf0_encode_command(command);
  return message;
}

Message make_connect_result(double transaction_id, std::string_view fms_version) {
  Amf0Command command;
  command.name = "_result";
  command.transaction_id = transaction_id;
  command.command_object = Amf0Value::object({
      {"fmsVer", Amf0Value::string(std::string(fms_version))},
      {"capabilities", Amf0Value::number(31)},
  });
  Amf0Value information = status_object("status", "NetConnection.Connect.Success", "Connection succeeded.");
  information.set("objectEncoding", Amf0Value::number(0));
  command.arguments.push_back(std::move(information));
  return make_command(0, command);
}

Message make_create_stream_result(double transaction_id, uint32_t stream_id) {
  return make_result(0, transaction_id, {Amf0Value::number(stream_id)});
}

Message make_result(uint32_t stream_id, double transaction_id, std::vector<Amf0Value> arguments) {
  Amf0Command command;
  command.name = "_result";
  command.transaction_id = transaction_id;
  command.arguments = std::move(arguments);
  return make_command(stream_id, command);
}

Message make_error(uint32_t stream_id, double transaction_id, std::string_view code,
                   std::string_view description) {
  Amf0Command command;
  command.name = "_error";
  command.transaction_id = transaction_id;
  command.arguments.push_back(status_object("error", code, description));
  return make_command(stream_id, command);
}

Message make_on_status(uint32_t stream_id, std::string_view level, std::string_view code,
                       std::string_view description, std::string_view details) {
  Amf0Command command;
  command.name = "onStatus";
  command.transaction_id = 0;
  Amf0Value information = status_object(level, code, description);
  if (!details.empty()) information.set("details", Amf0Value::string(std::string(details)));
  command.arguments.push_back(std::move(information));
  return make_command(stream_id, command);
}

Message make_publish_start(uint32_t stream_id, std::string_view stream_name) {
  return make_on_status(stream_id, "status", "NetStream.Publish.Start",
                        std::string(stream_name) + " is now published.", stream_name);
}

Message make_publish_bad_name(uint32_t stream_id, std::string_view stream_name,
                              std::string_view description) {
  std::string text =
      description.empty() ? std::string(stream_name) + " cannot be published." : std::string(description);
  return make_on_status(stream_id, "error", "NetStream.Publish.BadName", text, stream_name);
}

Message make_unpublish_success(uint32_t stream_id, std::string_view stream_name) {
  return make_on_status(stream_id, "status", "NetStream.Unpublish.Success",
                        std::string(stream_name) + " is now unpublished.", stream_name);
}

bool parse_command_message(const Message &message, Amf0Command *command, std::string *error) {
  std::span<const uint8_t> body;
  if (!amf0_body(message, MessageType::CommandAmf0, MessageType::CommandAmf3, &body, error)) return false;
  return amf0_decode_command(body, command, error);
}

const std::string *StreamKey::parameter(std::string_view key) const {
  for (const auto &[name, value] : parameters)
    if (name == key) return &value;
  return nullptr;
}

StreamKey parse_stream_key(std::string_view stream_name) {
  StreamKey key;
  size_t question = stream_name.find('?');
  key.name = std::string(stream_name.substr(0, question));
  if (question == std::string_view::npos) return key;
  key.query = std::string(stream_name.substr(question + 1));
  std::string_view rest = key.query;
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.empty()) continue;
    size_t equals = pair.find('=');
    std::string name = percent_decode(pair.substr(0, equals));
    std::string value =
        equals == std::string_view::npos ? std::string() : percent_decode(pair.substr(equals + 1));
    key.parameters.emplace_back(std::move(name), std::move(value));
  }
  return key;
}

bool parse_connect(const Amf0Command &command, ConnectRequest *request, std::string *error) {
  if (command.name != "connect") {
    *error = "expected connect, got \"" + command.name + "\"";
    return false;
  }
  if (!command.command_object.has_properties()) {
    *error = std::string("connect: the command object is a ") +
             amf0_type_name(command.command_object.type()) + ", not an object";
    return false;
  }
  const Amf0Value &o = command.command_object;
  request->transaction_id = command.transaction_id;
  request->app = o.string_property("app");
  request->tc_url = o.string_property("tcUrl");
  request->flash_ver = o.string_property("flashVer");
  if (request->flash_ver.empty()) request->flash_ver = o.string_property("flashver"); /* librtmp's spelling */
  request->swf_url = o.string_property("swfUrl");
  request->page_url = o.string_property("pageUrl");
  request->type = o.string_property("type");
  request->object_encoding = o.number_property("objectEncoding", 0);
  request->command_object = o;
  return true;
}

bool parse_stream_name_command(const Amf0Command &command, StreamNameRequest *request, std::string *error) {
  request->transaction_id = command.transaction_id;
  return first_string_argument(command, &request->stream_name, error);
}

bool parse_publish(const Amf0Command &command, PublishRequest *request, std::string *error) {
  if (command.name != "publish") {
    *error = "expected publish, got \"" + command.name + "\"";
    return false;
  }
  request->transaction_id = command.transaction_id;
  if (!first_string_argument(command, &request->stream_name, error)) return false;
  request->publish_type = command.arguments.size() >= 2 ? command.arguments[1].as_string("live") : "live";
  request->key = parse_stream_key(request->stream_name);
  return true;
}

bool parse_delete_stream(const Amf0Command &command, DeleteStreamRequest *request, std::string *error) {
  if (command.name != "deleteStream") {
    *error = "expected deleteStream, got \"" + command.name + "\"";
    return false;
  }
  request->transaction_id = command.transaction_id;
  double id = command.arguments.empty() ? -1 : command.arguments[0].as_number(-1);
  if (!(id >= 0 && id <= 4294967295.0) || id != std::floor(id)) {
    *error = "deleteStream: no valid stream id";
    return false;
  }
  request->stream_id = uint32_t(id);
  return true;
}

const Amf0Value *DataMessage::metadata() const {
  if (!is_metadata()) return nullptr;
  for (const Amf0Value &v : values)
    if (v.has_properties()) return &v;
  return nullptr;
}

bool parse_data_message(const Message &message, DataMessage *data, std::string *error) {
  std::span<const uint8_t> body;
  if (!amf0_body(message, MessageType::DataAmf0, MessageType::DataAmf3, &body, error)) return false;
  std::vector<Amf0Value> values;
  if (!amf0_decode_all(body, &values, error)) return false;
  size_t first = 0;
  data->set_data_frame = false;
  if (!values.empty() && values[0].as_string() == "@setDataFrame") {
    data->set_data_frame = true;
    first = 1;
  }
  if (values.size() <= first || !values[first].is_string()) {
    *error = "data message without a handler name (string)";
    return false;
  }
  data->handler = values[first].as_string();
  data->values.assign(std::make_move_iterator(values.begin() + first + 1),
                      std::make_move_iterator(values.end()));
  return true;
}

bool split_aggregate(const Message &aggregate, std::vector<Message> *messages, std::string *error) {
  std::span<const uint8_t> rest(aggregate.payload);
  std::vector<Message> out;
  bool have_first = false;
  uint32_t first = 0;
  while (!rest.empty()) {
    if (rest.size() < 11) {
      *error = "aggregate: truncated tag header";
      return false;
    }
    uint8_t type = rest[0];
    uint32_t size = get_u24(rest.data() + 1);
    /* the timestamp's low 24 bits, then its high 8 */
    uint32_t timestamp = uint32_t(rest[7]) << 24 | get_u24(rest.data() + 4);
    if (rest.size() < 11 + size_t(size) + 4) {
      *error = "aggregate: tag of " + std::to_string(size) + " bytes overruns the message";
      return false;
    }
    if (type == uint8_t(MessageType::Aggregate)) {
      *error = "aggregate: nested aggregate";
      return false;
    }
    std::span<const uint8_t> back = rest.subspan(11 + size, 4);
    uint32_t back_pointer = get_u32(back.data());
    if (back_pointer != size + 11) {
      *error = "aggregate: back pointer " + std::to_string(back_pointer) + " for a tag of " +
               std::to_string(size + 11) + " bytes";
      return false;
    }
    if (!have_first) {
      first = timestamp;
      have_first = true;
    }
    Message m;
    m.type = MessageType(type);
    m.stream_id = aggregate.stream_id;
    m.timestamp = aggregate.timestamp + (timestamp - first);
    m.chunk_stream_id = aggregate.chunk_stream_id;
    auto payload = rest.subspan(11, size);
    m.payload.assign(payload.begin(), payload.end());
    out.push_back(std::move(m));
    rest = rest.subspan(11 + size + 4);
  }
  messages->insert(messages->end(), std::make_move_iterator(out.begin()), std::make_move_iterator(out.end()));
  return true;
}

}  // namespace onair::rtmp
