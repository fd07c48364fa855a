/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rtmpchunk.h"

#include <algorithm>
#include <cstring>

#include "bytes.h"
#include "rtmpmessages.h"

namespace onair::rtmp {

namespace {

/* message header size by fmt (spec section 5.3.1.2) */
constexpr size_t kMessageHeaderSize[4] = {11, 7, 3, 0};
constexpr uint32_t kExtendedTimestampMarker = 0xFFFFFF;

size_t basic_header_size(uint8_t first_byte) {
  switch (first_byte & 0x3F) {
    case 0:
      return 2;
    case 1:
      return 3;
    default:
      return 1;
  }
}

uint32_t basic_header_chunk_stream_id(const uint8_t *header) {
  switch (header[0] & 0x3F) {
    case 0:
      return 64 + header[1];
    case 1:
      return 64 + header[1] + 256 * uint32_t(header[2]);
    default:
      return header[0] & 0x3F;
  }
}

void put_basic_header(std::vector<uint8_t> *out, unsigned fmt, uint32_t chunk_stream_id) {
  if (chunk_stream_id < 64) {
    out->push_back(uint8_t(fmt << 6 | chunk_stream_id));
  } else if (chunk_stream_id < 64 + 256) {
    out->push_back(uint8_t(fmt << 6));
    out->push_back(uint8_t(chunk_stream_id - 64));
  } else {
    out->push_back(uint8_t(fmt << 6 | 1));
    out->push_back(uint8_t((chunk_stream_id - 64) & 0xFF));
    out->push_back(uint8_t((chunk_stream_id - 64) >> 8));
  }
}

/* Grows a partial message's buffer geometrically but never past the
 * message's declared length, so a peer announcing a large message gets
 * memory only as its bytes arrive. */
void append_payload(std::vector<uint8_t> *payload, uint32_t length, const uint8_t *data, size_t n) {
  size_t needed = payload->size() + n;
  if (needed > payload->capacity())
    payload->reserve(std::min<size_t>(length, std::max<size_t>(needed, payload->capacity() * 2)));
  payload->insert(payload->end(), data, data + n);
}

std::string type_description(MessageType type) {
  return std::string(message_type_name(type)) + " (type " + std::to_string(unsigned(type)) + ")";
}

}  // namespace

const char *message_type_name(MessageType type) {
  switch (type) {
    case MessageType::SetChunkSize:
      return "Set Chunk Size";
    case MessageType::Abort:
      return "Abort Message";
    case MessageType::Acknowledgement:
      return "Acknowledgement";
    case MessageType::UserControl:
      return "User Control";
    case MessageType::WindowAckSize:
      return "Window Acknowledgement Size";
    case MessageType::SetPeerBandwidth:
      return "Set Peer Bandwidth";
    case MessageType::Audio:
      return "Audio";
    case MessageType::Video:
      return "Video";
    case MessageType::DataAmf3:
      return "Data (AMF3)";
    case MessageType::SharedObjectAmf3:
      return "Shared Object (AMF3)";
    case MessageType::CommandAmf3:
      return "Command (AMF3)";
    case MessageType::DataAmf0:
      return "Data (AMF0)";
    case MessageType::SharedObjectAmf0:
      return "Shared Object (AMF0)";
    case MessageType::CommandAmf0:
      return "Command (AMF0)";
    case MessageType::Aggregate:
      return "Aggregate";
  }
  return "unknown message";
}

ChunkReader::ChunkReader(ChunkReaderLimits limits) : limits_(limits) {}

bool ChunkReader::fail(std::string message) {
  if (error_.empty()) error_ = std::move(message);
  return false;
}

size_t ChunkReader::buffered_bytes() const {
  size_t total = 0;
  for (const auto &[id, stream] : streams_) total += stream.payload.capacity();
  return total;
}

bool ChunkReader::take_acknowledgement(uint32_t *sequence_number) {
  if (bytes_received_ - last_acknowledged_ < window_ack_size_) return false;
  last_acknowledged_ = bytes_received_;
  *sequence_number = uint32_t(bytes_received_);
  return true;
}

bool ChunkReader::push(std::span<const uint8_t> data, std::vector<Message> *messages) {
  if (!error_.empty()) return false;
  bytes_received_ += data.size();
  return consume(data, messages);
}

/* How many header bytes the chunk being assembled has in all; grows as its
 * first bytes reveal the basic header form, the fmt and whether an extended
 * timestamp follows. */
size_t ChunkReader::header_bytes_needed() const {
  if (header_size_ == 0) return 1;
  size_t basic = basic_header_size(header_[0]);
  if (header_size_ < basic) return basic;
  unsigned fmt = header_[0] >> 6;
  size_t total = basic + kMessageHeaderSize[fmt];
  if (header_size_ < total) return total;
  bool extended;
  if (fmt < 3) {
    extended = get_u24(header_ + basic) == kExtendedTimestampMarker;
  } else {
    auto it = streams_.find(basic_header_chunk_stream_id(header_));
    extended = it != streams_.end() && it->second.has_header && it->second.extended_timestamp;
  }
  return extended ? total + 4 : total;
}

bool ChunkReader::consume(std::span<const uint8_t> data, std::vector<Message> *messages) {
  size_t pos = 0;
  while (pos < data.size()) {
    if (in_chunk_payload_) {
      ChunkStream &stream = streams_[chunk_stream_id_];
      size_t n = std::min<size_t>(chunk_remaining_, data.size() - pos);
      append_payload(&stream.payload, stream.length, data.data() + pos, n);
      pos += n;
      chunk_remaining_ -= uint32_t(n);
      if (chunk_remaining_ == 0) {
        in_chunk_payload_ = false;
        if (!finish_chunk(chunk_stream_id_, &stream, messages)) return false;
      }
      continue;
    }

    size_t needed = header_bytes_needed();
    size_t n = std::min(needed - header_size_, data.size() - pos);
    std::memcpy(header_ + header_size_, data.data() + pos, n);
    header_size_ += n;
    pos += n;
    if (header_size_ < header_bytes_needed()) continue;

    /* The extended timestamp a fmt 3 header should repeat may be missing
     * (some encoders leave it out of continuation chunks): parse_header()
     * then hands those 4 bytes back, and they are read again as what they
     * are, chunk payload and maybe the next header. */
    uint8_t replay[4];
    size_t replay_size = 0;
    size_t basic = basic_header_size(header_[0]);
    if (header_[0] >> 6 == 3 && header_size_ == basic + 4) {
      auto it = streams_.find(basic_header_chunk_stream_id(header_));
      if (it != streams_.end() && get_u32(header_ + basic) != it->second.timestamp_field) {
        std::memcpy(replay, header_ + basic, 4);
        replay_size = 4;
        header_size_ = basic;
      }
    }
    if (!parse_header(messages)) return false;
    header_size_ = 0;
    if (replay_size > 0 && !consume(std::span<const uint8_t>(replay, replay_size), messages)) return false;
  }
  return true;
}

bool ChunkReader::parse_header(std::vector<Message> *messages) {
  size_t basic = basic_header_size(header_[0]);
  unsigned fmt = header_[0] >> 6;
  uint32_t chunk_stream_id = basic_header_chunk_stream_id(header_);
  const uint8_t *fields = header_ + basic;
  bool extended = header_size_ == basic + kMessageHeaderSize[fmt] + 4;
  const uint8_t *extended_field = fields + kMessageHeaderSize[fmt];

  auto it = streams_.find(chunk_stream_id);
  if (it == streams_.end()) {
    if (streams_.size() >= limits_.max_chunk_streams)
      return fail("more than " + std::to_string(limits_.max_chunk_streams) + " chunk streams in use");
    it = streams_.emplace(chunk_stream_id, ChunkStream()).first;
  }
  ChunkStream &stream = it->second;

  if (fmt != 0 && !stream.has_header)
    return fail("fmt " + std::to_string(fmt) + " chunk header on chunk stream " +
                std::to_string(chunk_stream_id) + ", which has had no fmt 0 header to refer to");
  if (fmt != 3 && stream.in_progress)
    return fail("fmt " + std::to_string(fmt) + " chunk header on chunk stream " +
                std::to_string(chunk_stream_id) + " while its message of " + std::to_string(stream.length) +
                " bytes is incomplete (" + std::to_string(stream.payload.size()) +
                " received): continuation chunks must be fmt 3");

  switch (fmt) {
    case 0:
      stream.timestamp_field = extended ? get_u32(extended_field) : get_u24(fields);
      stream.timestamp = stream.timestamp_field;
      stream.length = get_u24(fields + 3);
      stream.type = MessageType(fields[6]);
      stream.stream_id = get_u32_le(fields + 7); /* "stored in little-endian format" */
      stream.extended_timestamp = extended;
      stream.has_header = true;
      break;
    case 1:
    case 2:
      stream.timestamp_field = extended ? get_u32(extended_field) : get_u24(fields);
      stream.timestamp += stream.timestamp_field; /* unsigned: wraps at 2^32 */
      if (fmt == 1) {
        stream.length = get_u24(fields + 3);
        stream.type = MessageType(fields[6]);
      }
      stream.extended_timestamp = extended;
      break;
    case 3:
      /* A new message with the previous header's delta; after a fmt 0 that
       * delta is the fmt 0 timestamp itself (spec section 5.3.1.2.4). A
       * continuation chunk changes nothing. */
      if (!stream.in_progress) stream.timestamp += stream.timestamp_field;
      break;
  }

  if (!stream.in_progress && !begin_message(chunk_stream_id, &stream)) return false;
  chunk_stream_id_ = chunk_stream_id;
  chunk_remaining_ = std::min<uint32_t>(chunk_size_, stream.length - uint32_t(stream.payload.size()));
  in_chunk_payload_ = chunk_remaining_ > 0;
  /* a zero-length message is complete with its header */
  if (!in_chunk_payload_ && !finish_chunk(chunk_stream_id, &stream, messages)) return false;
  return true;
}

bool ChunkReader::begin_message(uint32_t chunk_stream_id, ChunkStream *stream) {
  if (stream->length > limits_.max_message_length)
    return fail(type_description(stream->type) + " message of " + std::to_string(stream->length) +
                " bytes on chunk stream " + std::to_string(chunk_stream_id) + " exceeds the limit of " +
                std::to_string(limits_.max_message_length) + " bytes");
  stream->payload.clear();
  if (stream->length == 0) return true;
  if (partial_messages_ >= limits_.max_partial_messages)
    return fail("more than " + std::to_string(limits_.max_partial_messages) +
                " messages interleaved (incomplete at once): refused the one on chunk stream " +
                std::to_string(chunk_stream_id));
  partial_messages_++;
  stream->in_progress = true;
  return true;
}

bool ChunkReader::finish_chunk(uint32_t chunk_stream_id, ChunkStream *stream,
                               std::vector<Message> *messages) {
  if (stream->payload.size() < stream->length) return true;
  if (stream->in_progress) {
    stream->in_progress = false;
    partial_messages_--;
  }
  Message message;
  message.type = stream->type;
  message.stream_id = stream->stream_id;
  message.timestamp = stream->timestamp;
  message.chunk_stream_id = chunk_stream_id;
  message.payload = std::move(stream->payload);
  stream->payload = std::vector<uint8_t>();
  if (!apply_control(message)) return false;
  messages->push_back(std::move(message));
  return true;
}

bool ChunkReader::apply_control(const Message &message) {
  std::string error;
  switch (message.type) {
    case MessageType::SetChunkSize: {
      uint32_t size;
      if (!parse_set_chunk_size(message, &size, &error)) return fail(error);
      chunk_size_ = size;
      return true;
    }
    case MessageType::Abort: {
      uint32_t chunk_stream_id;
      if (!parse_abort(message, &chunk_stream_id, &error)) return fail(error);
      auto it = streams_.find(chunk_stream_id);
      if (it != streams_.end() && it->second.in_progress) {
        it->second.in_progress = false;
        it->second.payload = std::vector<uint8_t>();
        partial_messages_--;
      }
      return true;
    }
    case MessageType::WindowAckSize: {
      uint32_t size;
      if (!parse_window_ack_size(message, &size, &error)) return fail(error);
      if (size > 0) window_ack_size_ = size; /* 0 would mean acknowledging every byte: ignored */
      return true;
    }
    default:
      return true;
  }
}

uint32_t ChunkWriter::chunk_stream_for(MessageType type) {
  switch (type) {
    case MessageType::SetChunkSize:
    case MessageType::Abort:
    case MessageType::Acknowledgement:
    case MessageType::UserControl:
    case MessageType::WindowAckSize:
    case MessageType::SetPeerBandwidth:
      return kChunkStreamProtocolControl;
    case MessageType::Audio:
      return kChunkStreamAudio;
    case MessageType::Video:
      return kChunkStreamVideo;
    case MessageType::DataAmf0:
    case MessageType::DataAmf3:
    case MessageType::Aggregate:
      return kChunkStreamData;
    default:
      return kChunkStreamCommand;
  }
}

bool ChunkWriter::write(const Message &message, std::vector<uint8_t> *out) {
  if (message.payload.size() > kMaxMessageLength) return false;
  uint32_t chunk_stream_id =
      message.chunk_stream_id ? message.chunk_stream_id : chunk_stream_for(message.type);
  if (chunk_stream_id < 2 || chunk_stream_id > kMaxChunkStreamId) return false;
  uint32_t new_chunk_size = 0;
  if (message.type == MessageType::SetChunkSize) {
    std::string error;
    if (!parse_set_chunk_size(message, &new_chunk_size, &error)) return false;
  }

  const bool extended = message.timestamp >= kExtendedTimestampMarker;
  const size_t size = message.payload.size();
  size_t chunks = size == 0 ? 1 : (size + chunk_size_ - 1) / chunk_size_;
  out->reserve(out->size() + size + 18 + chunks * 7);
  size_t offset = 0;
  do {
    bool first = offset == 0;
    put_basic_header(out, first ? 0 : 3, chunk_stream_id);
    if (first) {
      append_u24(*out, extended ? kExtendedTimestampMarker : message.timestamp);
      append_u24(*out, uint32_t(size));
      out->push_back(uint8_t(message.type));
      append_u32_le(*out, message.stream_id);
    }
    if (extended) append_u32(*out, message.timestamp);
    size_t n = std::min<size_t>(chunk_size_, size - offset);
    out->insert(out->end(), message.payload.begin() + offset, message.payload.begin() + offset + n);
    offset += n;
  } while (offset < size);

  if (new_chunk_size) chunk_size_ = new_chunk_size;
  return true;
}

}  // namespace onair::rtmp
