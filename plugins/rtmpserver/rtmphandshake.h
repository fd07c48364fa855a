/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace onair::rtmp {

constexpr uint8_t kRtmpVersion = 3;
constexpr size_t kHandshakePacketSize = 1536; /* C1, C2, S1, S2 */

enum class HandshakeStatus { NeedMore, Done, Error };

/* The server side of the RTMP 1.0 "simple" handshake (spec section 5.2):
 *
 *   client: C0 (version 3) + C1 (1536 bytes: time, 4 bytes, random)
 *   server: S0 (version 3) + S1 (our time, 4 zero bytes, random) + S2 (C1 echoed)
 *   client: C2 (1536 bytes, normally S1 echoed; not checked)
 *
 * The zero bytes 4..7 of S1 tell clients that speak the Flash Player 9
 * digest handshake (ffmpeg, librtmp and so OBS) that this server does not:
 * they then skip digest verification, and GStreamer's rtmp2sink only ever
 * uses the simple form. S2 is C1 byte for byte, which is what rtmp2sink's
 * strict check (S2's random part equals C1's) and librtmp's comparison want.
 *
 * Fed any split of the client's bytes; no I/O of its own. */
class ServerHandshake {
 public:
  /* `server_time` goes into S1's time field (milliseconds on any epoch; the
   * spec allows 0). */
  explicit ServerHandshake(uint32_t server_time = 0);

  /* Feeds bytes from the client. When C0+C1 are complete, S0+S1+S2 (3073
   * bytes) are appended to *reply. Returns Done once C2 is complete; the
   * bytes of `data` after C2 (a client may send its first chunks right
   * behind C2) are then appended to *remaining. After Done every byte fed
   * goes to *remaining. On Error, error() says why; close the connection. */
  HandshakeStatus feed(std::span<const uint8_t> data, std::vector<uint8_t> *reply,
                       std::vector<uint8_t> *remaining);

  HandshakeStatus status() const { return status_; }
  const std::string &error() const { return error_; }

  /* What the client sent in C1, for logs: its time field, and its bytes 4..7
   * (non-zero when it offers the digest handshake, e.g. 9.0.124.2 from ffmpeg). */
  uint32_t client_time() const { return client_time_; }
  uint32_t client_version() const { return client_version_; }

 private:
  enum class Phase { ReadC0, ReadC1, ReadC2, Done };

  HandshakeStatus fail(std::string message);

  Phase phase_ = Phase::ReadC0;
  HandshakeStatus status_ = HandshakeStatus::NeedMore;
  uint32_t server_time_;
  std::vector<uint8_t> c1_;
  size_t c2_received_ = 0;
  uint32_t client_time_ = 0;
  uint32_t client_version_ = 0;
  std::string error_;
};

}  // namespace onair::rtmp
