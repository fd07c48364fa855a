/* onair — fuzz target: what an RTMP publisher sends before and after the
 * handshake (handshake, chunk stream, AMF0 command and data bodies).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <cstdint>
#include <vector>

#include "rtmpamf0.h"
#include "rtmpchunk.h"
#include "rtmphandshake.h"
#include "rtmpmessages.h"

using namespace onair::rtmp;

static void decode_bodies(const std::vector<Message> &messages) {
  for (const Message &message : messages) {
    if (message.type == MessageType::CommandAmf0) {
      Amf0Command command;
      std::string error;
      amf0_decode_command(message.payload, &command, &error);
    } else if (message.type == MessageType::DataAmf0) {
      std::vector<Amf0Value> values;
      std::string error;
      amf0_decode_all(message.payload, &values, &error);
    } else if (message.type == MessageType::Aggregate) {
      std::vector<Message> parts;
      std::string error;
      if (split_aggregate(message, &parts, &error)) decode_bodies(parts);
    }
  }
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  /* the first byte picks the layer and how the rest is sliced */
  uint8_t mode = data[0] % 3;
  size_t slice = 1 + data[0] / 3;
  std::span<const uint8_t> rest(data + 1, size - 1);
  ChunkReaderLimits limits;
  limits.max_message_length = 1 << 20;

  if (mode == 0) { /* a whole session: handshake, then chunks */
    ServerHandshake handshake(0);
    ChunkReader reader(limits);
    std::vector<uint8_t> reply, after;
    std::vector<Message> messages;
    for (size_t pos = 0; pos < rest.size(); pos += slice) {
      auto piece = rest.subspan(pos, std::min(slice, rest.size() - pos));
      if (handshake.status() != HandshakeStatus::Done) {
        if (handshake.feed(piece, &reply, &after) == HandshakeStatus::Error) return 0;
        if (!after.empty() && !reader.push(after, &messages)) return 0;
        after.clear();
      } else if (!reader.push(piece, &messages)) {
        return 0;
      }
    }
    decode_bodies(messages);
  } else if (mode == 1) { /* chunks only */
    ChunkReader reader(limits);
    std::vector<Message> messages;
    for (size_t pos = 0; pos < rest.size(); pos += slice)
      if (!reader.push(rest.subspan(pos, std::min(slice, rest.size() - pos)), &messages)) break;
    decode_bodies(messages);
  } else { /* AMF0 values */
    std::vector<Amf0Value> values;
    std::string error;
    amf0_decode_all(rest, &values, &error);
  }
  return 0;
}

/* A publisher's opening: C0 C1 C2, then connect and publish commands, in
 * chunks of the default size. */
std::vector<std::vector<uint8_t>> fuzz_seeds() {
  std::vector<std::vector<uint8_t>> seeds;
  std::vector<uint8_t> chunks;
  ChunkWriter writer;
  Amf0Command connect;
  connect.name = "connect";
  connect.transaction_id = 1;
  connect.command_object = Amf0Value::object({{"app", Amf0Value::string("live")},
                                              {"tcUrl", Amf0Value::string("rtmp://127.0.0.1/live")},
                                              {"flashVer", Amf0Value::string("FMLE/3.0")}});
  Message message;
  message.type = MessageType::CommandAmf0;
  message.payload = amf0_encode_command(connect);
  writer.write(message, &chunks);
  Amf0Command publish;
  publish.name = "publish";
  publish.transaction_id = 5;
  publish.command_object = Amf0Value::null();
  publish.arguments = {Amf0Value::string("key?token=1"), Amf0Value::string("live")};
  message.stream_id = 1;
  message.payload = amf0_encode_command(publish);
  writer.write(message, &chunks);
  Message video;
  video.type = MessageType::Video;
  video.stream_id = 1;
  video.timestamp = 0x1000000; /* extended timestamp */
  video.payload.assign(300, 0x17);
  writer.write(video, &chunks);

  std::vector<uint8_t> session = {0}; /* mode 0, slices of 1 byte */
  session.push_back(3);
  session.insert(session.end(), 1536 * 2, 0x5a);
  session.insert(session.end(), chunks.begin(), chunks.end());
  seeds.push_back(session);
  std::vector<uint8_t> only_chunks = {1 + 3 * 40}; /* mode 1, slices of 41 */
  only_chunks.insert(only_chunks.end(), chunks.begin(), chunks.end());
  seeds.push_back(only_chunks);
  std::vector<uint8_t> amf = {2};
  std::vector<uint8_t> body = amf0_encode_command(connect);
  amf.insert(amf.end(), body.begin(), body.end());
  seeds.push_back(amf);
  return seeds;
}
