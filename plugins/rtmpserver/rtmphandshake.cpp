/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rtmphandshake.h"

#include <algorithm>

#include <glib.h>

#include "bytes.h"

namespace onair::rtmp {

namespace {

/* A first byte that is not an RTMP version usually means another protocol
 * was pointed at the port: say which, so the user can fix the URL. */
std::string describe_bad_version(uint8_t c0) {
  std::string message = "unsupported RTMP version " + std::to_string(c0) + " (only version 3 is supported)";
  if (c0 == 6 || c0 == 8) message += ": RTMPE (encrypted RTMP) is not supported, use rtmp://";
  if (c0 == 0x16) message += ": this looks like a TLS handshake, rtmps:// is not supported on this port";
  if (c0 == 'G' || c0 == 'P' || c0 == 'H' || c0 == 'O')
    message += ": this looks like HTTP (RTMPT tunnelling is not supported)";
  return message;
}

}  // namespace

ServerHandshake::ServerHandshake(uint32_t server_time) : server_time_(server_time) {}

HandshakeStatus ServerHandshake::fail(std::string message) {
  error_ = std::move(message);
  status_ = HandshakeStatus::Error;
  return status_;
}

HandshakeStatus ServerHandshake::feed(std::span<const uint8_t> data, std::vector<uint8_t> *reply,
                                      std::vector<uint8_t> *remaining) {
  if (status_ == HandshakeStatus::Error) return status_;
  size_t pos = 0;
  while (pos < data.size() && phase_ != Phase::Done) {
    switch (phase_) {
      case Phase::ReadC0: {
        uint8_t version = data[pos++];
        /* refused at once: no need to wait for a C1 that may never come */
        if (version != kRtmpVersion) return fail(describe_bad_version(version));
        phase_ = Phase::ReadC1;
        c1_.reserve(kHandshakePacketSize);
        break;
      }
      case Phase::ReadC1: {
        size_t n = std::min(data.size() - pos, kHandshakePacketSize - c1_.size());
        c1_.insert(c1_.end(), data.begin() + pos, data.begin() + pos + n);
        pos += n;
        if (c1_.size() < kHandshakePacketSize) break;
        client_time_ = get_u32(c1_.data());
        client_version_ = get_u32(c1_.data() + 4);

        reply->reserve(reply->size() + 1 + 2 * kHandshakePacketSize);
        reply->push_back(kRtmpVersion);   /* S0 */
        append_u32(*reply, server_time_); /* S1 */
        append_u32(*reply, 0);
        for (size_t i = 8; i < kHandshakePacketSize; i += 4) append_u32(*reply, g_random_int());
        reply->insert(reply->end(), c1_.begin(), c1_.end()); /* S2 */
        phase_ = Phase::ReadC2;
        break;
      }
      case Phase::ReadC2: {
        size_t n = std::min(data.size() - pos, kHandshakePacketSize - c2_received_);
        c2_received_ += n;
        pos += n;
        if (c2_received_ == kHandshakePacketSize) {
          phase_ = Phase::Done;
          status_ = HandshakeStatus::Done;
          std::vector<uint8_t>().swap(c1_);
        }
        break;
      }
      case Phase::Done:
        break;
    }
  }
  if (phase_ == Phase::Done) remaining->insert(remaining->end(), data.begin() + pos, data.end());
  return status_;
}

}  // namespace onair::rtmp
