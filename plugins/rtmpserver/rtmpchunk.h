/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace onair::rtmp {

/* Message type ids (RTMP 1.0 spec sections 5.4, 6.2 and 7.1). */
enum class MessageType : uint8_t {
  SetChunkSize = 1,
  Abort = 2,
  Acknowledgement = 3,
  UserControl = 4,
  WindowAckSize = 5,
  SetPeerBandwidth = 6,
  Audio = 8,
  Video = 9,
  DataAmf3 = 15,
  SharedObjectAmf3 = 16,
  CommandAmf3 = 17,
  DataAmf0 = 18,
  SharedObjectAmf0 = 19,
  CommandAmf0 = 20,
  Aggregate = 22,
};

const char *message_type_name(MessageType type);

/* One complete RTMP message. */
struct Message {
  MessageType type = MessageType::CommandAmf0;
  uint32_t stream_id = 0; /* message stream id: 0 for the connection, else from createStream */
  uint32_t timestamp = 0; /* milliseconds, absolute, wraps at 2^32 */
  /* As received; when writing, 0 lets the writer choose by type. */
  uint32_t chunk_stream_id = 0;
  std::vector<uint8_t> payload;
};

/* Chunk stream ids the writer uses. 2 is fixed by the spec for protocol
 * control and user control messages; the rest follow ffmpeg's and
 * rtmp2sink's habits so traces look familiar: one chunk stream per kind, so
 * a large video message never holds a command up behind it. */
constexpr uint32_t kChunkStreamProtocolControl = 2; /* types 1-6 */
constexpr uint32_t kChunkStreamCommand = 3;         /* commands (17, 20) and shared objects */
constexpr uint32_t kChunkStreamAudio = 4;           /* 8 */
constexpr uint32_t kChunkStreamData = 5;            /* data (15, 18) and aggregates */
constexpr uint32_t kChunkStreamVideo = 6;           /* 9 */
constexpr uint32_t kMaxChunkStreamId = 65599;       /* 3-byte basic header: 64 + 65535 */

constexpr uint32_t kDefaultChunkSize = 128;
constexpr uint32_t kMaxChunkSize = 0x7FFFFFFF;
constexpr uint32_t kMaxMessageLength = 0xFFFFFF; /* the header's 24-bit length field */
constexpr uint32_t kDefaultWindowAckSize = 2500000;

/* Against a hostile or broken peer: memory held by a reader never exceeds
 * max_partial_messages * max_message_length of payload (and only as bytes
 * actually arrive), plus max_chunk_streams small headers. */
struct ChunkReaderLimits {
  uint32_t max_message_length = 8 * 1024 * 1024;
  unsigned max_partial_messages = 16;
  unsigned max_chunk_streams = 64;
};

/* Turns the chunk stream a peer sends (after the handshake) back into
 * messages (spec section 5.3). Fed arbitrary slices; keeps per chunk stream
 * the last header, so fmt 1/2/3 headers and timestamp deltas resolve to
 * absolute 32-bit timestamps (wrapping as the spec says).
 *
 * Handled here rather than by the caller, because they change how the
 * following bytes are parsed: Set Chunk Size (applied as soon as it is
 * complete), Abort (drops the partial message of that chunk stream) and
 * Window Acknowledgement Size (the window for take_acknowledgement()).
 * These messages are still returned, for logging.
 *
 * Extended timestamps are expected on fmt 3 chunks too whenever the chunk
 * stream's last fmt 0/1/2 header had one (spec section 5.3.1.3; ffmpeg,
 * librtmp and rtmp2sink send them). Some encoders leave them out of
 * continuation chunks, so, as GStreamer's rtmp2src does, 4 bytes that do not
 * repeat the stream's timestamp field are taken as payload instead. */
class ChunkReader {
 public:
  explicit ChunkReader(ChunkReaderLimits limits = {});

  /* Parses `data`, appending each message completed by it to *messages.
   * Returns false on a protocol violation or an exceeded limit: error() says
   * which, the reader refuses further input, and the connection should be
   * closed. */
  bool push(std::span<const uint8_t> data, std::vector<Message> *messages);

  const std::string &error() const { return error_; }
  uint32_t chunk_size() const { return chunk_size_; }
  uint32_t window_ack_size() const { return window_ack_size_; }
  /* Bytes fed to push() so far (the handshake's are not included). */
  uint64_t bytes_received() const { return bytes_received_; }
  /* Payload bytes held in partial messages (the memory the limits bound). */
  size_t buffered_bytes() const;
  size_t partial_messages() const { return partial_messages_; }

  /* True once a window's worth of bytes arrived since the last
   * acknowledgement: the caller sends an Acknowledgement carrying
   * *sequence_number (bytes received, modulo 2^32). */
  bool take_acknowledgement(uint32_t *sequence_number);

 private:
  struct ChunkStream {
    bool has_header = false;
    bool extended_timestamp = false; /* the last fmt 0/1/2 header used one */
    uint32_t timestamp_field = 0;    /* that header's timestamp or delta (32-bit) */
    uint32_t timestamp = 0;          /* absolute time of the current/last message */
    uint32_t length = 0;
    MessageType type = MessageType::CommandAmf0;
    uint32_t stream_id = 0;
    bool in_progress = false;
    std::vector<uint8_t> payload;
  };

  size_t header_bytes_needed() const;
  bool parse_header(std::vector<Message> *messages);
  bool begin_message(uint32_t chunk_stream_id, ChunkStream *stream);
  bool finish_chunk(uint32_t chunk_stream_id, ChunkStream *stream, std::vector<Message> *messages);
  bool apply_control(const Message &message);
  bool consume(std::span<const uint8_t> data, std::vector<Message> *messages);
  bool fail(std::string message);

  ChunkReaderLimits limits_;
  uint32_t chunk_size_ = kDefaultChunkSize;
  uint32_t window_ack_size_ = kDefaultWindowAckSize;
  uint64_t bytes_received_ = 0;
  uint64_t last_acknowledged_ = 0;
  std::map<uint32_t, ChunkStream> streams_;
  size_t partial_messages_ = 0;

  /* chunk header being assembled (basic 1-3 + message 0-11 + extended 4) */
  uint8_t header_[18];
  size_t header_size_ = 0;
  /* payload bytes still to read for the current chunk */
  uint32_t chunk_stream_id_ = 0;
  uint32_t chunk_remaining_ = 0;
  bool in_chunk_payload_ = false;
  std::string error_;
};

/* Serializes messages into chunks (spec section 5.3): fmt 0 for a message's
 * first chunk, fmt 3 for its continuations, the extended timestamp (also on
 * every continuation, as the spec, ffmpeg and librtmp do) when the
 * timestamp is 0xFFFFFF or more. The server only sends control messages and
 * commands, so header compression (fmt 1/2) would save nothing worth its
 * state. */
class ChunkWriter {
 public:
  /* Appends the chunks of `message` to *out. The chunk stream id is
   * message.chunk_stream_id, or chosen by chunk_stream_for() when 0. A Set
   * Chunk Size message changes the writer's chunk size after being written,
   * as it does for the peer. Returns false (writing nothing) when the
   * message cannot be represented: payload over 16 MiB - 1, chunk stream id
   * out of range, or an invalid Set Chunk Size. */
  bool write(const Message &message, std::vector<uint8_t> *out);

  uint32_t chunk_size() const { return chunk_size_; }

  static uint32_t chunk_stream_for(MessageType type);

 private:
  uint32_t chunk_size_ = kDefaultChunkSize;
};

}  // namespace onair::rtmp
