/* onair — the RTMP protocol core of rtmpserversrc (AMF0, handshake, chunk
 * stream, messages) against bytes written out from the specs, against
 * itself, against real publishers (ffmpeg, rtmp2sink) and random input.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* C++ and project headers before gstcheck.h, whose fail() macro breaks <iostream> */
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rtmpamf0.h"
#include "rtmpchunk.h"
#include "rtmphandshake.h"
#include "rtmpmessages.h"
#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>

#include "publishers.h"

using namespace onair::rtmp;

/* ---- Heap accounting ------------------------------------------------------
 * Every operator new of this binary goes through here, so the fuzz cases can
 * assert how much the protocol layer held at its peak (GLib's and GStreamer's
 * own allocations use malloc and are not counted). */

namespace {
struct alignas(std::max_align_t) AllocationHeader {
  size_t size;
};
std::atomic<size_t> live_heap_bytes{0};
std::atomic<size_t> peak_heap_bytes{0};
}  // namespace

/* noinline: inlined into a caller, the malloc/free inside would look
 * mismatched with new/delete to the compiler's -Wmismatched-new-delete */
__attribute__((noinline)) void *operator new(size_t size) {
  auto *header = static_cast<AllocationHeader *>(std::malloc(sizeof(AllocationHeader) + size));
  if (!header) throw std::bad_alloc();
  header->size = size;
  size_t live = live_heap_bytes.fetch_add(size, std::memory_order_relaxed) + size;
  size_t peak = peak_heap_bytes.load(std::memory_order_relaxed);
  while (live > peak && !peak_heap_bytes.compare_exchange_weak(peak, live, std::memory_order_relaxed)) {
  }
  return header + 1;
}

__attribute__((noinline)) void operator delete(void *pointer) noexcept {
  if (!pointer) return;
  auto *header = static_cast<AllocationHeader *>(pointer) - 1;
  live_heap_bytes.fetch_sub(header->size, std::memory_order_relaxed);
  std::free(header);
}

void operator delete(void *pointer, size_t) noexcept {
  operator delete(pointer);
}

/* False when something else (valgrind) replaced operator new: the
 * accounting then sees nothing, and the bounds checked with it hold
 * trivially. */
static bool heap_accounting_active() {
  size_t before = live_heap_bytes.load();
  auto *probe = new std::vector<uint8_t>(4096);
  bool active = live_heap_bytes.load() > before;
  delete probe;
  return active;
}

/* Peak heap growth from its construction on. */
class HeapPeak {
 public:
  HeapPeak() : baseline_(live_heap_bytes.load()) { peak_heap_bytes.store(baseline_); }
  size_t bytes() const { return peak_heap_bytes.load() - baseline_; }

 private:
  size_t baseline_;
};

/* ---- Byte helpers -------------------------------------------------------- */

static std::vector<uint8_t> bytes_of(std::initializer_list<int> list) {
  std::vector<uint8_t> out;
  for (int b : list) out.push_back(uint8_t(b));
  return out;
}

static void append(std::vector<uint8_t> *out, const std::vector<uint8_t> &more) {
  out->insert(out->end(), more.begin(), more.end());
}

static void append_text(std::vector<uint8_t> *out, const char *text) {
  out->insert(out->end(), text, text + strlen(text));
}

static void put_u24(std::vector<uint8_t> *out, uint32_t v) {
  out->push_back(uint8_t(v >> 16));
  out->push_back(uint8_t(v >> 8));
  out->push_back(uint8_t(v));
}

static void put_u32(std::vector<uint8_t> *out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(uint8_t(v >> shift));
}

static std::vector<uint8_t> random_bytes(std::mt19937 &random, size_t n) {
  std::vector<uint8_t> out(n);
  for (uint8_t &b : out) b = uint8_t(random());
  return out;
}

/* A chunk header written by hand (RTMP spec section 5.3.1): basic header,
 * then the fmt's message header; a timestamp (or delta) of 0xFFFFFF or more
 * goes to the extended timestamp field. fmt 3 headers get no extended field
 * here: append it with put_u32 where the spec wants one. */
static void chunk_header(std::vector<uint8_t> *out, unsigned fmt, uint32_t chunk_stream_id,
                         uint32_t timestamp = 0, uint32_t length = 0, MessageType type = MessageType::Video,
                         uint32_t stream_id = 0) {
  if (chunk_stream_id < 64) {
    out->push_back(uint8_t(fmt << 6 | chunk_stream_id));
  } else if (chunk_stream_id < 320) {
    out->push_back(uint8_t(fmt << 6));
    out->push_back(uint8_t(chunk_stream_id - 64));
  } else {
    out->push_back(uint8_t(fmt << 6 | 1));
    out->push_back(uint8_t((chunk_stream_id - 64) & 0xFF));
    out->push_back(uint8_t((chunk_stream_id - 64) >> 8));
  }
  if (fmt == 3) return;
  bool extended = timestamp >= 0xFFFFFF;
  put_u24(out, extended ? 0xFFFFFF : timestamp);
  if (fmt <= 1) {
    put_u24(out, length);
    out->push_back(uint8_t(type));
  }
  if (fmt == 0)
    for (int shift = 0; shift <= 24; shift += 8) out->push_back(uint8_t(stream_id >> shift));
  if (extended) put_u32(out, timestamp);
}

/* Feeds `bytes` in random slices of 1..max_slice bytes; every push must succeed. */
static std::vector<Message> read_in_slices(ChunkReader &reader, const std::vector<uint8_t> &bytes,
                                           std::mt19937 &random, size_t max_slice) {
  std::vector<Message> out;
  size_t pos = 0;
  while (pos < bytes.size()) {
    size_t n = std::min<size_t>(bytes.size() - pos, 1 + random() % max_slice);
    fail_unless(reader.push(std::span<const uint8_t>(bytes.data() + pos, n), &out), "%s",
                reader.error().c_str());
    pos += n;
  }
  return out;
}

/* Feeds `bytes` at once and returns whether the reader accepted them. */
static bool read_all(ChunkReader &reader, const std::vector<uint8_t> &bytes, std::vector<Message> *out) {
  return reader.push(bytes, out);
}

static bool contains(const std::string &text, const char *part) {
  return text.find(part) != std::string::npos;
}

/* ---- AMF0 ---------------------------------------------------------------- */

/* "connect", 1.0, {app: "live", tcUrl: "rtmp://127.0.0.1/live"}, from the
 * AMF0 spec: string = 0x02 U16 length bytes; number = 0x00 + big-endian
 * double; object = 0x03 (U16 name, value)* then 00 00 09. */
static std::vector<uint8_t> connect_bytes() {
  std::vector<uint8_t> b = bytes_of({0x02, 0x00, 0x07});
  append_text(&b, "connect");
  append(&b, bytes_of({0x00, 0x3F, 0xF0, 0, 0, 0, 0, 0, 0}));
  b.push_back(0x03);
  append(&b, bytes_of({0x00, 0x03}));
  append_text(&b, "app");
  append(&b, bytes_of({0x02, 0x00, 0x04}));
  append_text(&b, "live");
  append(&b, bytes_of({0x00, 0x05}));
  append_text(&b, "tcUrl");
  append(&b, bytes_of({0x02, 0x00, 0x15}));
  append_text(&b, "rtmp://127.0.0.1/live");
  append(&b, bytes_of({0x00, 0x00, 0x09}));
  return b;
}

GST_START_TEST(test_amf0_known_bytes) {
  std::vector<uint8_t> expected = connect_bytes();
  std::vector<Amf0Value> values = {
      Amf0Value::string("connect"),
      Amf0Value::number(1.0),
      Amf0Value::object(
          {{"app", Amf0Value::string("live")}, {"tcUrl", Amf0Value::string("rtmp://127.0.0.1/live")}}),
  };
  fail_unless(amf0_encode_all(values) == expected);

  std::vector<Amf0Value> decoded;
  std::string error;
  fail_unless(amf0_decode_all(expected, &decoded, &error), "%s", error.c_str());
  fail_unless(decoded == values, "%s", decoded.size() == 3 ? decoded[2].to_string().c_str() : "count");

  /* one value of each type, byte for byte */
  struct Case {
    Amf0Value value;
    std::vector<uint8_t> bytes;
  };
  const Case cases[] = {
      {Amf0Value::number(-2.5), bytes_of({0x00, 0xC0, 0x04, 0, 0, 0, 0, 0, 0})},
      {Amf0Value::boolean(true), bytes_of({0x01, 0x01})},
      {Amf0Value::boolean(false), bytes_of({0x01, 0x00})},
      {Amf0Value::string(""), bytes_of({0x02, 0x00, 0x00})},
      {Amf0Value::string("hi"), bytes_of({0x02, 0x00, 0x02, 'h', 'i'})},
      {Amf0Value::object(), bytes_of({0x03, 0x00, 0x00, 0x09})},
      {Amf0Value::null(), bytes_of({0x05})},
      {Amf0Value::undefined(), bytes_of({0x06})},
      {Amf0Value::ecma_array({{"a", Amf0Value::number(1)}}),
       bytes_of({0x08, 0, 0, 0, 1, 0x00, 0x01, 'a', 0x00, 0x3F, 0xF0, 0, 0, 0, 0, 0, 0, 0x00, 0x00, 0x09})},
      {Amf0Value::strict_array({Amf0Value::number(0), Amf0Value::string("x")}),
       bytes_of({0x0A, 0, 0, 0, 2, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x00, 0x01, 'x'})},
      /* 2001-09-09T01:46:40Z = 1e12 ms = 0x426D1A94A2000000 */
      {Amf0Value::date(1e12), bytes_of({0x0B, 0x42, 0x6D, 0x1A, 0x94, 0xA2, 0x00, 0x00, 0x00, 0x00, 0x00})},
  };
  for (const Case &c : cases) {
    std::vector<uint8_t> encoded;
    amf0_encode(c.value, &encoded);
    fail_unless(encoded == c.bytes, "encoding of %s", c.value.to_string().c_str());
    Amf0Decoded back = amf0_decode(c.bytes);
    fail_unless(back.ok(), "%s", back.error.c_str());
    fail_unless(back.value == c.value, "%s", back.value.to_string().c_str());
    fail_unless_equals_int(back.consumed, c.bytes.size());
  }

  /* forms that decode to the common types: long string, XML document, typed
   * object, "unsupported" */
  Amf0Decoded long_string = amf0_decode(bytes_of({0x0C, 0, 0, 0, 3, 'a', 'b', 'c', 0xEE}));
  fail_unless(long_string.ok() && long_string.value == Amf0Value::string("abc"));
  fail_unless_equals_int(long_string.consumed, 8);
  Amf0Decoded xml = amf0_decode(bytes_of({0x0F, 0, 0, 0, 2, '<', '>'}));
  fail_unless(xml.ok() && xml.value == Amf0Value::string("<>"));
  Amf0Decoded typed = amf0_decode(bytes_of({0x10, 0x00, 0x01, 'C', 0x00, 0x01, 'k', 0x05, 0x00, 0x00, 0x09}));
  fail_unless(typed.ok(), "%s", typed.error.c_str());
  fail_unless(typed.value == Amf0Value::object({{"k", Amf0Value::null()}}));
  fail_unless(amf0_decode(bytes_of({0x0D})).value == Amf0Value::undefined());

  /* a string over 65535 bytes is written as a long string */
  std::vector<uint8_t> encoded;
  amf0_encode(Amf0Value::string(std::string(70000, 'z')), &encoded);
  fail_unless(encoded == [] {
    std::vector<uint8_t> b = bytes_of({0x0C, 0x00, 0x01, 0x11, 0x70});
    b.insert(b.end(), 70000, 'z');
    return b;
  }());
}
GST_END_TEST;

GST_START_TEST(test_amf0_round_trip) {
  Amf0Value nested = Amf0Value::object({
      {"name", Amf0Value::string("caf\xC3\xA9 \"quoted\"")},
      {"list", Amf0Value::strict_array({Amf0Value::number(1), Amf0Value::null(), Amf0Value::undefined(),
                                        Amf0Value::ecma_array({{"deep", Amf0Value::boolean(true)}})})},
      {"", Amf0Value::number(7)}, /* an empty key that is not the end marker */
      {"when", Amf0Value::date(1700000000000.0, -60)},
  });
  const Amf0Value values[] = {
      Amf0Value::number(0),
      Amf0Value::number(-0.0),
      Amf0Value::number(1e300),
      Amf0Value::number(std::numeric_limits<double>::infinity()),
      Amf0Value::number(std::nan("")),
      Amf0Value::number(4294967295.0),
      Amf0Value::boolean(true),
      Amf0Value::string(std::string(65535, 'a')),
      Amf0Value::string(std::string(65536, 'b')),
      Amf0Value::string(std::string("nul\0byte", 8)),
      Amf0Value::object(),
      Amf0Value::null(),
      Amf0Value::undefined(),
      Amf0Value::ecma_array(),
      Amf0Value::strict_array(),
      Amf0Value::date(0),
      nested,
  };
  for (const Amf0Value &v : values) {
    std::vector<uint8_t> bytes;
    amf0_encode(v, &bytes);
    Amf0Decoded back = amf0_decode(bytes);
    fail_unless(back.ok(), "%s: %s", v.to_string().substr(0, 80).c_str(), back.error.c_str());
    fail_unless(back.value == v, "%s", v.to_string().substr(0, 80).c_str());
    fail_unless_equals_int(back.consumed, bytes.size());
  }
  /* -0.0 keeps its sign bit */
  fail_unless(
      std::signbit(amf0_decode(std::vector<uint8_t>{0x00, 0x80, 0, 0, 0, 0, 0, 0, 0}).value.as_number()));

  /* getters and their defaults */
  fail_unless(nested.find("name") != nullptr);
  fail_unless(nested.find("missing") == nullptr);
  fail_unless(nested.string_property("name") == "caf\xC3\xA9 \"quoted\"");
  fail_unless(nested.string_property("when", "fallback") == "fallback");
  fail_unless(nested.number_property("", 0) == 7);
  fail_unless(nested.number_property("name", 42) == 42);
  fail_unless(Amf0Value::string("x").as_number(3) == 3);
  fail_unless(Amf0Value::number(3).as_string("no") == "no");
  fail_unless(Amf0Value::null().find("a") == nullptr);
  fail_unless(nested.find("list")->elements().size() == 4);
  fail_unless(nested.find("when")->date_timezone() == -60);

  Amf0Value built;
  built.set("a", Amf0Value::number(1));
  built.set("b", Amf0Value::number(2));
  built.set("a", Amf0Value::number(3));
  fail_unless(built.type() == Amf0Type::Object);
  fail_unless(built.properties().size() == 2 && built.properties()[0].key == "a");
  fail_unless(built.number_property("a") == 3);
  std::string text = built.to_string();
  fail_unless(text == "{\"a\": 3, \"b\": 2}", "%s", text.c_str());
}
GST_END_TEST;

GST_START_TEST(test_amf0_malformed) {
  /* every strict prefix of a value is an error, never a crash or a value */
  std::vector<uint8_t> whole = connect_bytes();
  std::vector<uint8_t> object(whole.begin() + 19, whole.end()); /* the command object alone */
  fail_unless(amf0_decode(object).ok());
  for (size_t n = 0; n < object.size(); n++) {
    Amf0Decoded d = amf0_decode(std::span<const uint8_t>(object.data(), n));
    fail_if(d.ok(), "prefix of %zu bytes decoded", n);
    fail_unless(contains(d.error, "at offset"), "%s", d.error.c_str());
  }
  std::vector<Amf0Value> values;
  std::string error;
  fail_if(amf0_decode_all(std::span<const uint8_t>(whole.data(), whole.size() - 1), &values, &error));
  fail_unless(values.empty());

  struct Case {
    std::vector<uint8_t> bytes;
    const char *error_part;
  };
  const Case cases[] = {
      {bytes_of({}), "truncated AMF0 type marker"},
      {bytes_of({0x00, 0x3F, 0xF0}), "truncated AMF0 number"},
      {bytes_of({0x02, 0xFF, 0xFF, 'a', 'b'}), "string of 65535 bytes runs past the end"},
      {bytes_of({0x0C, 0xFF, 0xFF, 0xFF, 0xFF, 'a'}), "long string of 4294967295 bytes"},
      {bytes_of({0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x05}), "strict array of 4294967295 elements"},
      {bytes_of({0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00}), "object ends without its end marker"},
      {bytes_of({0x03, 0x00, 0x01, 'a', 0x09}), "object-end marker outside an object at offset 4"},
      {bytes_of({0x04}), "unknown AMF0 type marker 4"},
      {bytes_of({0x0E}), "unknown AMF0 type marker 14"},
      {bytes_of({0xFF}), "unknown AMF0 type marker 255"},
      {bytes_of({0x07, 0x00, 0x01}), "references"},
      {bytes_of({0x11, 0x06}), "AMF3"},
      {bytes_of({0x0B, 0, 0, 0, 0, 0, 0, 0, 0, 0x00}), "truncated AMF0 date time zone"},
  };
  for (const Case &c : cases) {
    Amf0Decoded d = amf0_decode(c.bytes);
    fail_if(d.ok());
    fail_unless(contains(d.error, c.error_part), "\"%s\" does not say \"%s\"", d.error.c_str(), c.error_part);
  }

  /* nesting: 32 levels decode, 33 do not */
  auto nested_objects = [](int levels) {
    std::vector<uint8_t> b;
    for (int i = 0; i < levels; i++) {
      b.push_back(0x03);
      if (i + 1 < levels) append(&b, bytes_of({0x00, 0x01, 'o'}));
    }
    for (int i = 0; i < levels; i++) append(&b, bytes_of({0x00, 0x00, 0x09}));
    return b;
  };
  fail_unless(amf0_decode(nested_objects(32)).ok(), "%s", amf0_decode(nested_objects(32)).error.c_str());
  Amf0Decoded deep = amf0_decode(nested_objects(33));
  fail_unless(contains(deep.error, "nested deeper than 32"), "%s", deep.error.c_str());
  std::vector<uint8_t> arrays;
  for (int i = 0; i < 100000; i++) append(&arrays, bytes_of({0x0A, 0, 0, 0, 1}));
  arrays.push_back(0x05);
  fail_unless(contains(amf0_decode(arrays).error, "nested deeper"));

  /* a cap on the number of values, whatever the input's size */
  std::vector<uint8_t> nulls = bytes_of({0x0A, 0x00, 0x01, 0x86, 0xA0}); /* 100000 elements */
  nulls.insert(nulls.end(), 100000, 0x05);
  Amf0Decoded many;
  {
    HeapPeak heap;
    many = amf0_decode(nulls);
    fail_unless(heap.bytes() < 64 * 1024 * 1024, "%zu bytes", heap.bytes());
  }
  fail_unless(contains(many.error, "more than 65536 AMF0 values"), "%s", many.error.c_str());
  Amf0Limits small;
  small.max_values = 10;
  fail_unless(contains(amf0_decode(nulls, small).error, "more than 10"));

  /* commands */
  Amf0Command command;
  fail_if(amf0_decode_command(bytes_of({0x05}), &command, &error));
  fail_unless(contains(error, "command name"), "%s", error.c_str());
  fail_if(amf0_decode_command(bytes_of({0x02, 0x00, 0x01, 'x', 0x02, 0x00, 0x00}), &command, &error));
  fail_unless(contains(error, "transaction id"), "%s", error.c_str());
}
GST_END_TEST;

GST_START_TEST(test_amf0_command) {
  Amf0Command command;
  std::string error;
  fail_unless(amf0_decode_command(connect_bytes(), &command, &error), "%s", error.c_str());
  fail_unless(command.name == "connect");
  fail_unless(command.transaction_id == 1.0);
  fail_unless(command.command_object.string_property("app") == "live");
  fail_unless(command.command_object.string_property("tcUrl") == "rtmp://127.0.0.1/live");
  fail_unless(command.arguments.empty());
  fail_unless(amf0_encode_command(command) == connect_bytes());

  /* a body that stops after the name: transaction id 0, Null object */
  fail_unless(amf0_decode_command(bytes_of({0x02, 0x00, 0x01, 'x'}), &command, &error));
  fail_unless(command.transaction_id == 0 && command.command_object.is_null() && command.arguments.empty());

  Amf0Command publish{"publish", 5, Amf0Value::null(), {Amf0Value::string("key"), Amf0Value::string("live")}};
  std::vector<uint8_t> bytes = amf0_encode_command(publish);
  fail_unless(amf0_decode_command(bytes, &command, &error));
  fail_unless(command.name == "publish" && command.transaction_id == 5 && command.arguments.size() == 2);
  fail_unless(command.arguments[1].as_string() == "live");
}
GST_END_TEST;

/* ---- Handshake ------------------------------------------------------------ */

GST_START_TEST(test_handshake_in_pieces) {
  std::mt19937 random(11);
  for (int round = 0; round < 20; round++) {
    std::vector<uint8_t> c0c1 = {3};
    put_u32(&c0c1, 0x01020304); /* C1 time */
    append(&c0c1,
           round % 2 ? bytes_of({9, 0, 124, 2}) : bytes_of({0, 0, 0, 0})); /* ffmpeg offers 9.0.124.2 */
    append(&c0c1, random_bytes(random, kHandshakePacketSize - 8));
    std::vector<uint8_t> c2 = random_bytes(random, kHandshakePacketSize);
    std::vector<uint8_t> first_chunks = random_bytes(random, 1 + random() % 300);
    std::vector<uint8_t> all = c0c1;
    append(&all, c2);
    append(&all, first_chunks);

    ServerHandshake handshake(5000);
    std::vector<uint8_t> reply, remaining;
    size_t pos = 0;
    /* round 0 feeds everything at once; the others in random pieces */
    while (pos < all.size()) {
      size_t n = round == 0 ? all.size() : std::min<size_t>(all.size() - pos, 1 + random() % 700);
      HandshakeStatus status =
          handshake.feed(std::span<const uint8_t>(all.data() + pos, n), &reply, &remaining);
      pos += n;
      fail_if(status == HandshakeStatus::Error, "%s", handshake.error().c_str());
      if (pos < c0c1.size()) fail_unless(reply.empty());
      if (pos >= c0c1.size()) fail_unless_equals_int(reply.size(), 1 + 2 * kHandshakePacketSize);
      fail_unless_equals_int(status == HandshakeStatus::Done, pos >= c0c1.size() + c2.size());
    }
    fail_unless_equals_int(reply[0], 3);                                                 /* S0 */
    fail_unless(reply[1] == 0 && reply[2] == 0 && reply[3] == 0x13 && reply[4] == 0x88); /* S1 time 5000 */
    fail_unless(reply[5] == 0 && reply[6] == 0 && reply[7] == 0 && reply[8] == 0);       /* S1 zero */
    fail_unless(std::equal(c0c1.begin() + 1, c0c1.end(), reply.begin() + 1 + kHandshakePacketSize)); /* S2 */
    fail_unless(remaining == first_chunks);
    fail_unless_equals_int(handshake.client_time(), 0x01020304);
    fail_unless_equals_int(handshake.client_version(), round % 2 ? 0x09007c02 : 0);
  }

  /* S1's random part is random */
  std::vector<uint8_t> c0c1(1 + kHandshakePacketSize, 0);
  c0c1[0] = 3;
  ServerHandshake a, b;
  std::vector<uint8_t> reply_a, reply_b, rest;
  a.feed(c0c1, &reply_a, &rest);
  b.feed(c0c1, &reply_b, &rest);
  fail_unless(
      !std::equal(reply_a.begin() + 9, reply_a.begin() + 1 + kHandshakePacketSize, reply_b.begin() + 9));

  /* after Done, everything is "remaining" */
  std::vector<uint8_t> c2(kHandshakePacketSize, 1);
  fail_unless(a.feed(c2, &reply_a, &rest) == HandshakeStatus::Done);
  rest.clear();
  fail_unless(a.feed(bytes_of({1, 2, 3}), &reply_a, &rest) == HandshakeStatus::Done);
  fail_unless(rest == bytes_of({1, 2, 3}));
}
GST_END_TEST;

GST_START_TEST(test_handshake_refuses_other_versions) {
  struct Case {
    uint8_t c0;
    const char *error_part;
  };
  const Case cases[] = {{6, "RTMPE"},  {0x16, "TLS"},    {'G', "HTTP"},
                        {'P', "HTTP"}, {0, "version 0"}, {4, "version 4"}};
  for (const Case &c : cases) {
    ServerHandshake handshake;
    std::vector<uint8_t> reply, remaining;
    std::vector<uint8_t> bytes(1 + kHandshakePacketSize, 0);
    bytes[0] = c.c0;
    fail_unless(handshake.feed(bytes, &reply, &remaining) == HandshakeStatus::Error);
    fail_unless(reply.empty() && remaining.empty());
    fail_unless(contains(handshake.error(), c.error_part), "%s", handshake.error().c_str());
    /* refused for good */
    fail_unless(handshake.feed(bytes, &reply, &remaining) == HandshakeStatus::Error);
  }
  /* refused on its first byte, without waiting for C1 */
  ServerHandshake early;
  std::vector<uint8_t> reply, remaining;
  fail_unless(early.feed(bytes_of({6}), &reply, &remaining) == HandshakeStatus::Error);
}
GST_END_TEST;

/* ---- Chunk stream ----------------------------------------------------------- */

static void check_same_messages(const std::vector<Message> &sent, const std::vector<Message> &received) {
  fail_unless_equals_int(received.size(), sent.size());
  for (size_t i = 0; i < sent.size(); i++) {
    fail_unless_equals_int(int(received[i].type), int(sent[i].type));
    fail_unless_equals_int(received[i].stream_id, sent[i].stream_id);
    fail_unless_equals_uint64(received[i].timestamp, sent[i].timestamp);
    uint32_t chunk_stream_id =
        sent[i].chunk_stream_id ? sent[i].chunk_stream_id : ChunkWriter::chunk_stream_for(sent[i].type);
    fail_unless_equals_int(received[i].chunk_stream_id, chunk_stream_id);
    fail_unless_equals_int(received[i].payload.size(), sent[i].payload.size());
    fail_unless(received[i].payload == sent[i].payload, "payload %zu differs", i);
  }
}

GST_START_TEST(test_chunk_round_trip) {
  const size_t sizes[] = {0, 1, 127, 128, 129, 60000, 300000};
  const uint32_t chunk_sizes[] = {1, 128, 4096, 65536};
  const MessageType types[] = {MessageType::Video, MessageType::Audio, MessageType::CommandAmf0,
                               MessageType::DataAmf0};
  /* the three basic header forms: 1 byte (2..63), 2 bytes (64..319), 3 bytes (320..65599) */
  const uint32_t chunk_stream_ids[] = {0, 63, 64, 319, 320, 65599};
  std::mt19937 random(7);
  for (uint32_t chunk_size : chunk_sizes) {
    ChunkWriter writer;
    std::vector<uint8_t> stream;
    std::vector<Message> sent;
    Message set_chunk_size = make_set_chunk_size(chunk_size);
    fail_unless(writer.write(set_chunk_size, &stream));
    fail_unless_equals_int(writer.chunk_size(), chunk_size);
    sent.push_back(set_chunk_size);
    unsigned n = 0;
    for (size_t size : sizes) {
      for (int extended = 0; extended < 2; extended++, n++) {
        Message m;
        m.type = types[n % 4];
        m.stream_id = 1 + n % 3;
        m.timestamp = extended ? 0xFFFFFF + uint32_t(n) * 1000 : uint32_t(n) * 40;
        m.chunk_stream_id = chunk_stream_ids[n % 6];
        m.payload = random_bytes(random, size);
        fail_unless(writer.write(m, &stream));
        sent.push_back(m);
      }
    }
    ChunkReader reader;
    std::vector<Message> received = read_in_slices(reader, stream, random, chunk_size == 1 ? 9 : 9000);
    check_same_messages(sent, received);
    fail_unless_equals_int(reader.chunk_size(), chunk_size);
    fail_unless_equals_int(reader.partial_messages(), 0);
    fail_unless_equals_uint64(reader.bytes_received(), stream.size());
  }

  /* and one byte at a time */
  ChunkWriter writer;
  std::vector<uint8_t> stream;
  std::vector<Message> sent;
  for (size_t size : sizes) {
    Message m;
    m.type = MessageType::Video;
    m.timestamp = uint32_t(size);
    m.payload = random_bytes(random, size);
    fail_unless(writer.write(m, &stream));
    sent.push_back(m);
  }
  ChunkReader reader;
  check_same_messages(sent, read_in_slices(reader, stream, random, 1));
}
GST_END_TEST;

GST_START_TEST(test_chunk_writer_bytes) {
  /* a 200-byte video message at 0x01020304 ms in 128-byte chunks: fmt 0 with
   * the extended timestamp, then fmt 3 repeating it */
  Message m;
  m.type = MessageType::Video;
  m.stream_id = 1;
  m.timestamp = 0x01020304;
  m.payload.assign(200, 0xAB);
  ChunkWriter writer;
  std::vector<uint8_t> out;
  fail_unless(writer.write(m, &out));
  std::vector<uint8_t> expected = bytes_of(
      {0x06, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0xC8, 0x09, 0x01, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04});
  expected.insert(expected.end(), 128, 0xAB);
  append(&expected, bytes_of({0xC6, 0x01, 0x02, 0x03, 0x04}));
  expected.insert(expected.end(), 72, 0xAB);
  fail_unless(out == expected);

  /* a small timestamp has no extended field; commands go on chunk stream 3,
   * control on 2 */
  out.clear();
  fail_unless(writer.write(make_window_ack_size(2500000), &out));
  fail_unless(out == bytes_of({0x02, 0, 0, 0, 0, 0, 4, 0x05, 0, 0, 0, 0, 0x00, 0x26, 0x25, 0xA0}));
  out.clear();
  fail_unless(writer.write(make_result(0, 2), &out));
  fail_unless_equals_int(out[0], 0x03);

  /* what cannot be written is refused, and nothing is written */
  out.clear();
  Message too_big;
  too_big.payload.resize(0x1000000);
  fail_if(writer.write(too_big, &out));
  Message bad_stream;
  bad_stream.chunk_stream_id = 1;
  fail_if(writer.write(bad_stream, &out));
  bad_stream.chunk_stream_id = 65600;
  fail_if(writer.write(bad_stream, &out));
  fail_if(writer.write(make_set_chunk_size(0), &out));
  fail_unless(out.empty());
  fail_unless_equals_int(writer.chunk_size(), 128);
}
GST_END_TEST;

GST_START_TEST(test_chunk_header_compression) {
  std::vector<uint8_t> b;
  /* chunk stream 4: fmt 0, then deltas with fmt 1, 2, 3, 3 */
  chunk_header(&b, 0, 4, 1000, 3, MessageType::Audio, 1);
  append_text(&b, "abc");
  chunk_header(&b, 1, 4, 20, 2, MessageType::Video);
  append_text(&b, "de");
  chunk_header(&b, 2, 4, 33);
  append_text(&b, "fg");
  chunk_header(&b, 3, 4);
  append_text(&b, "hi");
  /* chunk stream 5: fmt 3 right after fmt 0 reuses its timestamp as the delta */
  chunk_header(&b, 0, 5, 40, 1, MessageType::DataAmf0, 1);
  append_text(&b, "x");
  chunk_header(&b, 3, 4);
  append_text(&b, "jk");
  chunk_header(&b, 3, 5);
  append_text(&b, "y");
  /* chunk stream 6: 200-byte messages in 128-byte chunks, interleaved with 4 */
  chunk_header(&b, 0, 6, 0, 200, MessageType::Video, 1);
  b.insert(b.end(), 128, 'A');
  chunk_header(&b, 2, 4, 1);
  append_text(&b, "lm");
  chunk_header(&b, 3, 6);
  b.insert(b.end(), 72, 'A');
  chunk_header(&b, 2, 6, 40);
  b.insert(b.end(), 128, 'B');
  chunk_header(&b, 3, 6);
  b.insert(b.end(), 72, 'B');
  /* chunk stream 7: the 32-bit timestamp wraps */
  chunk_header(&b, 0, 7, 0xFFFFFFF0, 1, MessageType::Audio, 1);
  append_text(&b, "w");
  chunk_header(&b, 2, 7, 0x20);
  append_text(&b, "v");

  struct Expected {
    uint32_t chunk_stream_id;
    MessageType type;
    uint32_t timestamp;
    std::string payload;
  };
  const Expected expected[] = {
      {4, MessageType::Audio, 1000, "abc"},
      {4, MessageType::Video, 1020, "de"},
      {4, MessageType::Video, 1053, "fg"},
      {4, MessageType::Video, 1086, "hi"},
      {5, MessageType::DataAmf0, 40, "x"},
      {4, MessageType::Video, 1119, "jk"},
      {5, MessageType::DataAmf0, 80, "y"},
      {4, MessageType::Video, 1120, "lm"},
      {6, MessageType::Video, 0, std::string(200, 'A')},
      {6, MessageType::Video, 40, std::string(200, 'B')},
      {7, MessageType::Audio, 0xFFFFFFF0, "w"},
      {7, MessageType::Audio, 0x10, "v"},
  };
  std::mt19937 random(3);
  for (size_t max_slice : {size_t(1), size_t(5), b.size()}) {
    ChunkReader reader;
    std::vector<Message> messages = read_in_slices(reader, b, random, max_slice);
    fail_unless_equals_int(messages.size(), G_N_ELEMENTS(expected));
    for (size_t i = 0; i < messages.size(); i++) {
      fail_unless_equals_int(messages[i].chunk_stream_id, expected[i].chunk_stream_id);
      fail_unless_equals_int(int(messages[i].type), int(expected[i].type));
      fail_unless_equals_uint64(messages[i].timestamp, expected[i].timestamp);
      fail_unless_equals_int(messages[i].stream_id, 1);
      fail_unless(std::string(messages[i].payload.begin(), messages[i].payload.end()) == expected[i].payload,
                  "message %zu", i);
    }
  }
}
GST_END_TEST;

GST_START_TEST(test_chunk_extended_timestamps) {
  std::vector<uint8_t> b;
  /* fmt 0 with an extended timestamp; its fmt 3 continuations repeat it */
  chunk_header(&b, 0, 6, 0x01000000, 300, MessageType::Video, 1);
  b.insert(b.end(), 128, 1);
  chunk_header(&b, 3, 6);
  put_u32(&b, 0x01000000);
  b.insert(b.end(), 128, 2);
  chunk_header(&b, 3, 6);
  put_u32(&b, 0x01000000);
  b.insert(b.end(), 44, 3);
  /* an extended delta (fmt 1), then a fmt 3 new message with that delta */
  chunk_header(&b, 1, 6, 0x01000000, 10, MessageType::Video);
  b.insert(b.end(), 10, 4);
  chunk_header(&b, 3, 6);
  put_u32(&b, 0x01000000);
  b.insert(b.end(), 10, 5);
  /* exactly 0xFFFFFF is already extended */
  chunk_header(&b, 0, 8, 0xFFFFFF, 1, MessageType::Audio, 1);
  b.push_back(6);
  /* a peer that leaves the extended timestamp out of continuation chunks
   * (against the spec, as some encoders do) is still understood */
  chunk_header(&b, 0, 9, 0x02000000, 200, MessageType::Video, 1);
  b.insert(b.end(), 128, 7);
  chunk_header(&b, 3, 9);
  b.insert(b.end(), 72, 8);
  /* ... also when the continuation is shorter than the 4 bytes looked at */
  chunk_header(&b, 0, 10, 0x02000000, 130, MessageType::Video, 1);
  b.insert(b.end(), 128, 9);
  chunk_header(&b, 3, 10);
  append(&b, bytes_of({10, 11}));
  chunk_header(&b, 0, 11, 5, 1, MessageType::Audio, 1);
  b.push_back(12);

  std::mt19937 random(5);
  for (size_t max_slice : {size_t(1), size_t(3), size_t(64), b.size()}) {
    ChunkReader reader;
    std::vector<Message> messages = read_in_slices(reader, b, random, max_slice);
    fail_unless_equals_int(messages.size(), 7);
    fail_unless_equals_uint64(messages[0].timestamp, 0x01000000);
    std::vector<uint8_t> first(128, 1);
    first.insert(first.end(), 128, 2);
    first.insert(first.end(), 44, 3);
    fail_unless(messages[0].payload == first);
    fail_unless_equals_uint64(messages[1].timestamp, 0x02000000);
    fail_unless(messages[1].payload == std::vector<uint8_t>(10, 4));
    fail_unless_equals_uint64(messages[2].timestamp, 0x03000000);
    fail_unless(messages[2].payload == std::vector<uint8_t>(10, 5));
    fail_unless_equals_uint64(messages[3].timestamp, 0xFFFFFF);
    fail_unless_equals_uint64(messages[4].timestamp, 0x02000000);
    std::vector<uint8_t> fourth(128, 7);
    fourth.insert(fourth.end(), 72, 8);
    fail_unless(messages[4].payload == fourth);
    fail_unless_equals_int(messages[5].payload.size(), 130);
    fail_unless(messages[5].payload[128] == 10 && messages[5].payload[129] == 11);
    fail_unless_equals_int(messages[6].chunk_stream_id, 11);
    fail_unless(messages[6].payload == bytes_of({12}));
  }
}
GST_END_TEST;

GST_START_TEST(test_chunk_size_changes) {
  std::mt19937 random(9);
  ChunkWriter writer;
  std::vector<uint8_t> stream;
  std::vector<Message> sent;
  auto send = [&](Message m) {
    fail_unless(writer.write(m, &stream));
    sent.push_back(std::move(m));
  };
  auto video = [&](size_t size) {
    Message m;
    m.type = MessageType::Video;
    m.stream_id = 1;
    m.timestamp = uint32_t(sent.size() * 33);
    m.payload = random_bytes(random, size);
    return m;
  };
  send(video(300));
  send(make_set_chunk_size(10));
  send(video(300));
  send(make_set_chunk_size(70000));
  send(video(100000));
  send(make_set_chunk_size(1));
  send(video(50));
  send(make_set_chunk_size(0x7FFFFFFF));
  send(video(1000));
  for (size_t max_slice : {size_t(1), size_t(1000)}) {
    ChunkReader reader;
    check_same_messages(sent, read_in_slices(reader, stream, random, max_slice));
    fail_unless_equals_int(reader.chunk_size(), 0x7FFFFFFF);
  }

  /* 0, the top bit set, and a short payload are refused */
  struct Case {
    std::vector<uint8_t> payload;
    const char *error_part;
  };
  const Case cases[] = {{bytes_of({0, 0, 0, 0}), "invalid chunk size 0"},
                        {bytes_of({0x80, 0, 0, 0}), "invalid chunk size 2147483648"},
                        {bytes_of({0, 0, 1}), "needs 4"}};
  for (const Case &c : cases) {
    std::vector<uint8_t> b;
    chunk_header(&b, 0, 2, 0, uint32_t(c.payload.size()), MessageType::SetChunkSize, 0);
    append(&b, c.payload);
    ChunkReader reader;
    std::vector<Message> messages;
    fail_if(read_all(reader, b, &messages));
    fail_unless(contains(reader.error(), c.error_part), "%s", reader.error().c_str());
    fail_if(reader.push(bytes_of({0x02}), &messages)); /* and nothing more is read */
  }
}
GST_END_TEST;

GST_START_TEST(test_chunk_abort) {
  std::vector<uint8_t> b;
  chunk_header(&b, 0, 6, 0, 300, MessageType::Video, 1);
  b.insert(b.end(), 128, 1);
  ChunkReader reader;
  std::vector<Message> messages;
  fail_unless(read_all(reader, b, &messages));
  fail_unless(messages.empty());
  fail_unless_equals_int(reader.partial_messages(), 1);
  fail_unless(reader.buffered_bytes() >= 128);

  b.clear();
  chunk_header(&b, 0, 2, 0, 4, MessageType::Abort, 0);
  put_u32(&b, 6);
  fail_unless(read_all(reader, b, &messages));
  fail_unless_equals_int(messages.size(), 1);
  fail_unless(messages[0].type == MessageType::Abort);
  fail_unless_equals_int(reader.partial_messages(), 0);
  fail_unless_equals_int(reader.buffered_bytes(), 0);

  /* the chunk stream starts over */
  b.clear();
  chunk_header(&b, 0, 6, 40, 5, MessageType::Video, 1);
  append_text(&b, "hello");
  messages.clear();
  fail_unless(read_all(reader, b, &messages), "%s", reader.error().c_str());
  fail_unless_equals_int(messages.size(), 1);
  fail_unless_equals_int(messages[0].timestamp, 40);
  fail_unless(messages[0].payload == bytes_of({'h', 'e', 'l', 'l', 'o'}));

  /* aborting a chunk stream with nothing in progress is harmless */
  b.clear();
  chunk_header(&b, 0, 2, 0, 4, MessageType::Abort, 0);
  put_u32(&b, 33);
  fail_unless(read_all(reader, b, &messages));
}
GST_END_TEST;

GST_START_TEST(test_chunk_limits) {
  std::vector<Message> messages;
  {
    /* a message over the configured maximum */
    ChunkReaderLimits limits;
    limits.max_message_length = 1000;
    ChunkReader reader(limits);
    std::vector<uint8_t> b;
    chunk_header(&b, 0, 6, 0, 1001, MessageType::Video, 1);
    fail_if(read_all(reader, b, &messages));
    fail_unless(
        contains(reader.error(), "Video (type 9) message of 1001 bytes on chunk stream 6 exceeds the limit"),
        "%s", reader.error().c_str());
  }
  {
    /* the default maximum is 8 MiB */
    ChunkReader reader;
    std::vector<uint8_t> b;
    chunk_header(&b, 0, 6, 0, 8 * 1024 * 1024, MessageType::Video, 1);
    fail_unless(read_all(reader, b, &messages));
    ChunkReader other;
    b.clear();
    chunk_header(&b, 0, 7, 0, 8 * 1024 * 1024 + 1, MessageType::Video, 1);
    fail_if(read_all(other, b, &messages));
  }
  {
    /* a declared length costs nothing until the bytes arrive */
    ChunkReader reader;
    std::vector<uint8_t> b;
    HeapPeak heap;
    for (uint32_t id = 3; id < 3 + 16; id++) {
      chunk_header(&b, 0, id, 0, 8 * 1024 * 1024, MessageType::Video, 1);
      b.insert(b.end(), 128, 0);
    }
    fail_unless(read_all(reader, b, &messages));
    fail_unless_equals_int(reader.partial_messages(), 16);
    fail_unless(reader.buffered_bytes() <= 16 * 128, "%zu", reader.buffered_bytes());
    fail_unless(heap.bytes() < 64 * 1024, "%zu", heap.bytes());
    /* one more interleaved message is one too many */
    b.clear();
    chunk_header(&b, 0, 40, 0, 1000, MessageType::Video, 1);
    fail_if(read_all(reader, b, &messages));
    fail_unless(contains(reader.error(), "more than 16 messages interleaved"), "%s", reader.error().c_str());
  }
  {
    /* too many chunk streams */
    ChunkReader reader;
    std::vector<uint8_t> b;
    for (uint32_t id = 2; id < 2 + 64; id++) {
      chunk_header(&b, 0, id, 0, 1, MessageType::Audio, 1);
      b.push_back(0);
    }
    messages.clear();
    fail_unless(read_all(reader, b, &messages), "%s", reader.error().c_str());
    fail_unless_equals_int(messages.size(), 64);
    b.clear();
    chunk_header(&b, 0, 1000, 0, 1, MessageType::Audio, 1);
    fail_if(read_all(reader, b, &messages));
    fail_unless(contains(reader.error(), "more than 64 chunk streams"), "%s", reader.error().c_str());
  }
  {
    /* fmt 1, 2, 3 need an earlier fmt 0 on their chunk stream */
    for (unsigned fmt = 1; fmt <= 3; fmt++) {
      ChunkReader reader;
      std::vector<uint8_t> b;
      chunk_header(&b, fmt, 5, 10, 1, MessageType::Audio);
      b.push_back(0);
      fail_if(read_all(reader, b, &messages));
      fail_unless(contains(reader.error(), "has had no fmt 0 header"), "%s", reader.error().c_str());
    }
  }
  {
    /* a new header in the middle of a message */
    ChunkReader reader;
    std::vector<uint8_t> b;
    chunk_header(&b, 0, 5, 0, 300, MessageType::Video, 1);
    b.insert(b.end(), 128, 0);
    chunk_header(&b, 0, 5, 0, 300, MessageType::Video, 1);
    fail_if(read_all(reader, b, &messages));
    fail_unless(contains(reader.error(), "continuation chunks must be fmt 3"), "%s", reader.error().c_str());
  }
}
GST_END_TEST;

GST_START_TEST(test_acknowledgement_window) {
  ChunkWriter writer;
  std::vector<uint8_t> stream;
  fail_unless(writer.write(make_set_chunk_size(65536), &stream));
  Message video;
  video.type = MessageType::Video;
  video.stream_id = 1;
  video.payload.assign(100000, 0x27);
  for (int i = 0; i < 26; i++) fail_unless(writer.write(video, &stream));

  ChunkReader reader;
  uint32_t sequence = 0;
  fail_if(reader.take_acknowledgement(&sequence));
  std::vector<Message> messages;
  size_t half = 2500000 - 10;
  fail_unless(reader.push(std::span<const uint8_t>(stream.data(), half), &messages));
  fail_if(reader.take_acknowledgement(&sequence));
  fail_unless(reader.push(std::span<const uint8_t>(stream.data() + half, 10), &messages));
  fail_unless(reader.take_acknowledgement(&sequence));
  fail_unless_equals_int(sequence, 2500000);
  fail_if(reader.take_acknowledgement(&sequence));
  fail_unless(
      reader.push(std::span<const uint8_t>(stream.data() + 2500000, stream.size() - 2500000), &messages));
  fail_if(reader.take_acknowledgement(&sequence));

  /* the peer's Window Acknowledgement Size sets the window */
  std::vector<uint8_t> b;
  ChunkWriter peer;
  fail_unless(peer.write(make_window_ack_size(1000), &b));
  fail_unless(reader.push(b, &messages));
  fail_unless_equals_int(reader.window_ack_size(), 1000);
  fail_unless(reader.take_acknowledgement(&sequence)); /* already 1000 past the last one */
  fail_unless_equals_uint64(sequence, stream.size() + b.size());
  std::vector<uint8_t> more;
  video.payload.resize(1000);
  fail_unless(writer.write(video, &more)); /* one chunk: the reader's chunk size is 65536 */
  fail_unless(read_all(reader, more, &messages), "%s", reader.error().c_str());
  fail_unless(reader.take_acknowledgement(&sequence));
  fail_unless_equals_uint64(sequence, stream.size() + b.size() + more.size());
}
GST_END_TEST;

/* ---- Messages ------------------------------------------------------------- */

GST_START_TEST(test_control_messages) {
  std::string error;
  uint32_t value = 0;
  Message m = make_set_chunk_size(4096);
  fail_unless(m.type == MessageType::SetChunkSize && m.stream_id == 0 && m.chunk_stream_id == 2);
  fail_unless(m.payload == bytes_of({0, 0, 0x10, 0}));
  fail_unless(parse_set_chunk_size(m, &value, &error) && value == 4096);
  fail_if(parse_acknowledgement(m, &value, &error));
  fail_unless(contains(error, "expected a message of type Acknowledgement (3), got Set Chunk Size (1)"), "%s",
              error.c_str());

  fail_unless(parse_acknowledgement(make_acknowledgement(0xDEADBEEF), &value, &error) && value == 0xDEADBEEF);
  fail_unless(parse_window_ack_size(make_window_ack_size(2500000), &value, &error) && value == 2500000);
  Message bandwidth = make_set_peer_bandwidth(2500000, PeerBandwidthLimit::Dynamic);
  fail_unless(bandwidth.payload == bytes_of({0x00, 0x26, 0x25, 0xA0, 2}));
  PeerBandwidth peer;
  fail_unless(parse_set_peer_bandwidth(bandwidth, &peer, &error));
  fail_unless(peer.window_size == 2500000 && peer.limit == PeerBandwidthLimit::Dynamic);
  bandwidth.payload[4] = 3;
  fail_if(parse_set_peer_bandwidth(bandwidth, &peer, &error));

  Message begin = make_stream_begin(1);
  fail_unless(begin.type == MessageType::UserControl && begin.chunk_stream_id == 2);
  fail_unless(begin.payload == bytes_of({0, 0, 0, 0, 0, 1}));
  fail_unless(make_stream_eof(1).payload == bytes_of({0, 1, 0, 0, 0, 1}));
  UserControl control;
  fail_unless(parse_user_control(begin, &control, &error));
  fail_unless(control.event == UserControlEvent::StreamBegin && control.value == 1);
  fail_unless(!answer_ping(control));

  Message ping;
  ping.type = MessageType::UserControl;
  ping.payload = bytes_of({0, 6, 0, 1, 0xE2, 0x40});
  fail_unless(parse_user_control(ping, &control, &error));
  std::optional<Message> pong = answer_ping(control);
  fail_unless(pong.has_value());
  fail_unless(pong->payload == bytes_of({0, 7, 0, 1, 0xE2, 0x40}));

  Message buffer_length;
  buffer_length.type = MessageType::UserControl;
  buffer_length.payload = bytes_of({0, 3, 0, 0, 0, 1, 0, 0, 0x0B, 0xB8});
  fail_unless(parse_user_control(buffer_length, &control, &error));
  fail_unless(control.event == UserControlEvent::SetBufferLength && control.buffer_length == 3000);
  buffer_length.payload.resize(6);
  fail_if(parse_user_control(buffer_length, &control, &error));
  buffer_length.payload.resize(5);
  fail_if(parse_user_control(buffer_length, &control, &error));
}
GST_END_TEST;

GST_START_TEST(test_server_commands) {
  std::string error;
  Amf0Command command;

  Message connect = make_connect_result(1);
  fail_unless(connect.type == MessageType::CommandAmf0 && connect.stream_id == 0 &&
              connect.chunk_stream_id == 3);
  fail_unless(parse_command_message(connect, &command, &error), "%s", error.c_str());
  fail_unless(command.name == "_result" && command.transaction_id == 1);
  fail_unless(command.command_object.string_property("fmsVer") == "FMS/3,0,1,123");
  fail_unless(command.command_object.number_property("capabilities") == 31);
  fail_unless_equals_int(command.arguments.size(), 1);
  const Amf0Value &information = command.arguments[0];
  fail_unless(information.string_property("level") == "status");
  fail_unless(information.string_property("code") == "NetConnection.Connect.Success");
  fail_unless(information.string_property("description") == "Connection succeeded.");
  fail_unless(information.find("objectEncoding") && information.number_property("objectEncoding", -1) == 0);

  fail_unless(parse_command_message(make_create_stream_result(4, 1), &command, &error));
  fail_unless(command.name == "_result" && command.transaction_id == 4 && command.command_object.is_null());
  fail_unless(command.arguments.size() == 1 && command.arguments[0].as_number() == 1);

  struct Status {
    Message message;
    const char *level;
    const char *code;
  };
  const Status statuses[] = {
      {make_publish_start(1, "key"), "status", "NetStream.Publish.Start"},
      {make_publish_bad_name(1, "key"), "error", "NetStream.Publish.BadName"},
      {make_unpublish_success(1, "key"), "status", "NetStream.Unpublish.Success"},
  };
  for (const Status &s : statuses) {
    fail_unless(s.message.stream_id == 1);
    fail_unless(parse_command_message(s.message, &command, &error));
    fail_unless(command.name == "onStatus" && command.transaction_id == 0 &&
                command.command_object.is_null());
    fail_unless(command.arguments.size() == 1);
    fail_unless(command.arguments[0].string_property("level") == s.level);
    fail_unless(command.arguments[0].string_property("code") == s.code);
    fail_unless(command.arguments[0].string_property("details") == "key");
    fail_unless(!command.arguments[0].string_property("description").empty());
  }
  fail_unless(
      parse_command_message(make_publish_bad_name(1, "key", "key already published"), &command, &error));
  fail_unless(command.arguments[0].string_property("description") == "key already published");

  fail_unless(parse_command_message(make_error(0, 3, "NetConnection.Connect.Rejected", "no such app"),
                                    &command, &error));
  fail_unless(command.name == "_error" && command.transaction_id == 3);
  fail_unless(command.arguments[0].string_property("level") == "error");
  fail_unless(command.arguments[0].string_property("code") == "NetConnection.Connect.Rejected");
}
GST_END_TEST;

GST_START_TEST(test_client_commands) {
  std::string error;
  Amf0Command command;

  /* connect as ffmpeg sends it */
  Amf0Value object = Amf0Value::object({
      {"app", Amf0Value::string("live")},
      {"type", Amf0Value::string("nonprivate")},
      {"flashVer", Amf0Value::string("FMLE/3.0 (compatible; Lavf59.27.100)")},
      {"tcUrl", Amf0Value::string("rtmp://127.0.0.1:1935/live")},
  });
  Message message = make_command(0, {"connect", 1, object, {}});
  fail_unless(parse_command_message(message, &command, &error));
  ConnectRequest connect;
  fail_unless(parse_connect(command, &connect, &error), "%s", error.c_str());
  fail_unless(connect.app == "live" && connect.tc_url == "rtmp://127.0.0.1:1935/live");
  fail_unless(connect.flash_ver == "FMLE/3.0 (compatible; Lavf59.27.100)" && connect.type == "nonprivate");
  fail_unless(connect.transaction_id == 1 && connect.object_encoding == 0);
  fail_unless(connect.command_object == object);
  fail_if(parse_connect({"connect", 1, Amf0Value::null(), {}}, &connect, &error));
  fail_unless(contains(error, "not an object"), "%s", error.c_str());
  fail_if(parse_connect({"publish", 1, object, {}}, &connect, &error));

  StreamNameRequest name;
  for (const char *command_name : {"releaseStream", "FCPublish", "FCUnpublish"}) {
    fail_unless(parse_command_message(
        make_command(0, {command_name, 2, Amf0Value::null(), {Amf0Value::string("key")}}), &command, &error));
    fail_unless(parse_stream_name_command(command, &name, &error));
    fail_unless(name.stream_name == "key" && name.transaction_id == 2);
  }
  fail_if(
      parse_stream_name_command({"FCPublish", 2, Amf0Value::null(), {Amf0Value::number(1)}}, &name, &error));

  PublishRequest publish;
  fail_unless(parse_command_message(
      make_command(
          1,
          {"publish", 5, Amf0Value::null(), {Amf0Value::string("key?token=abc"), Amf0Value::string("live")}}),
      &command, &error));
  fail_unless(parse_publish(command, &publish, &error));
  fail_unless(publish.stream_name == "key?token=abc" && publish.publish_type == "live");
  fail_unless(publish.key.name == "key" && publish.key.query == "token=abc");
  fail_unless(publish.key.parameter("token") && *publish.key.parameter("token") == "abc");
  fail_unless(parse_publish({"publish", 5, Amf0Value::null(), {Amf0Value::string("k")}}, &publish, &error));
  fail_unless(publish.publish_type == "live");

  DeleteStreamRequest remove;
  fail_unless(
      parse_delete_stream({"deleteStream", 6, Amf0Value::null(), {Amf0Value::number(1)}}, &remove, &error));
  fail_unless(remove.stream_id == 1 && remove.transaction_id == 6);
  fail_if(
      parse_delete_stream({"deleteStream", 6, Amf0Value::null(), {Amf0Value::number(-1)}}, &remove, &error));
  fail_if(parse_delete_stream({"deleteStream", 6, Amf0Value::null(), {}}, &remove, &error));

  /* AMF3 command messages: a 0 format byte, then AMF0 */
  Message amf3 = make_command(0, {"createStream", 4, Amf0Value::null(), {}});
  amf3.type = MessageType::CommandAmf3;
  amf3.payload.insert(amf3.payload.begin(), 0);
  fail_unless(parse_command_message(amf3, &command, &error), "%s", error.c_str());
  fail_unless(command.name == "createStream" && command.transaction_id == 4);
  amf3.payload[0] = 1;
  fail_if(parse_command_message(amf3, &command, &error));
  Message video;
  video.type = MessageType::Video;
  fail_if(parse_command_message(video, &command, &error));

  /* data messages */
  Message data;
  data.type = MessageType::DataAmf0;
  data.payload = amf0_encode_all({Amf0Value::string("@setDataFrame"), Amf0Value::string("onMetaData"),
                                  Amf0Value::ecma_array({{"width", Amf0Value::number(160)}})});
  DataMessage parsed;
  fail_unless(parse_data_message(data, &parsed, &error), "%s", error.c_str());
  fail_unless(parsed.set_data_frame && parsed.is_metadata() && parsed.metadata());
  fail_unless(parsed.metadata()->number_property("width") == 160);
  data.payload = amf0_encode_all(
      {Amf0Value::string("onMetaData"), Amf0Value::object({{"height", Amf0Value::number(90)}})});
  fail_unless(parse_data_message(data, &parsed, &error));
  fail_unless(!parsed.set_data_frame && parsed.metadata()->number_property("height") == 90);
  data.payload = amf0_encode_all({Amf0Value::string("onTextData"), Amf0Value::object()});
  fail_unless(parse_data_message(data, &parsed, &error));
  fail_unless(!parsed.is_metadata() && !parsed.metadata() && parsed.handler == "onTextData");
  data.payload = amf0_encode_all({Amf0Value::string("@setDataFrame")});
  fail_if(parse_data_message(data, &parsed, &error));
  data.type = MessageType::DataAmf3;
  data.payload = bytes_of({0, 0x02, 0, 1, 'x'});
  fail_unless(parse_data_message(data, &parsed, &error) && parsed.handler == "x");
}
GST_END_TEST;

/* An aggregate message: two FLV-style tags, written here byte by byte. */
static void append_tag(std::vector<uint8_t> &out, uint8_t type, uint32_t timestamp,
                       std::vector<uint8_t> payload, int back_pointer_error = 0) {
  uint32_t size = payload.size();
  uint8_t header[11] = {type,
                        uint8_t(size >> 16),
                        uint8_t(size >> 8),
                        uint8_t(size),
                        uint8_t(timestamp >> 16),
                        uint8_t(timestamp >> 8),
                        uint8_t(timestamp),
                        uint8_t(timestamp >> 24),
                        0,
                        0,
                        0};
  out.insert(out.end(), header, header + 11);
  out.insert(out.end(), payload.begin(), payload.end());
  uint32_t back = size + 11 + back_pointer_error;
  uint8_t trailer[4] = {uint8_t(back >> 24), uint8_t(back >> 16), uint8_t(back >> 8), uint8_t(back)};
  out.insert(out.end(), trailer, trailer + 4);
}

GST_START_TEST(test_aggregate) {
  Message aggregate;
  aggregate.type = MessageType::Aggregate;
  aggregate.stream_id = 1;
  aggregate.timestamp = 5000;
  /* the tags' own times start at 0x01000010 (uses the extended byte) */
  append_tag(aggregate.payload, 9, 0x01000010, {0x17, 0x01, 0xaa, 0xbb});
  append_tag(aggregate.payload, 8, 0x01000010 + 23, {0xaf, 0x01, 0xcc});
  std::vector<Message> parts;
  std::string error;
  fail_unless(split_aggregate(aggregate, &parts, &error), "%s", error.c_str());
  fail_unless_equals_int(parts.size(), 2);
  fail_unless(parts[0].type == MessageType::Video);
  fail_unless_equals_int(parts[0].timestamp, 5000);
  fail_unless_equals_int(parts[0].stream_id, 1);
  fail_unless(parts[0].payload == std::vector<uint8_t>({0x17, 0x01, 0xaa, 0xbb}));
  fail_unless(parts[1].type == MessageType::Audio);
  fail_unless_equals_int(parts[1].timestamp, 5023);
  fail_unless(parts[1].payload == std::vector<uint8_t>({0xaf, 0x01, 0xcc}));

  /* truncated, a wrong back pointer, a size past the end, nesting */
  Message bad = aggregate;
  bad.payload.resize(bad.payload.size() - 2);
  fail_if(split_aggregate(bad, &parts, &error));
  bad = aggregate;
  bad.payload.clear();
  append_tag(bad.payload, 9, 0, {1, 2, 3}, 1);
  fail_if(split_aggregate(bad, &parts, &error));
  fail_unless(error.find("back pointer") != std::string::npos, "%s", error.c_str());
  bad.payload = {9, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 1, 2};
  fail_if(split_aggregate(bad, &parts, &error));
  bad.payload.clear();
  append_tag(bad.payload, 22, 0, {1});
  fail_if(split_aggregate(bad, &parts, &error));
  fail_unless_equals_int(parts.size(), 2); /* failures add nothing */
}
GST_END_TEST;

GST_START_TEST(test_stream_key) {
  StreamKey key = parse_stream_key("key");
  fail_unless(key.name == "key" && key.query.empty() && key.parameters.empty());
  key = parse_stream_key("key?token=x");
  fail_unless(key.name == "key" && key.query == "token=x");
  fail_unless(key.parameter("token") && *key.parameter("token") == "x");
  fail_unless(key.parameter("other") == nullptr);
  key = parse_stream_key("my%20key?a=b%20c&flag&&=empty&a=second&bad=%zz&q=1?2");
  fail_unless(key.name == "my%20key"); /* the name is kept as sent */
  fail_unless_equals_int(key.parameters.size(), 6);
  fail_unless(*key.parameter("a") == "b c");
  fail_unless(key.parameter("flag") && key.parameter("flag")->empty());
  fail_unless(key.parameter("") && *key.parameter("") == "empty");
  fail_unless(key.parameters[3].second == "second");
  fail_unless(*key.parameter("bad") == "%zz");
  fail_unless(*key.parameter("q") == "1?2");
  key = parse_stream_key("?only=query");
  fail_unless(key.name.empty() && *key.parameter("only") == "query");
}
GST_END_TEST;

/* ---- Real publishers over loopback ------------------------------------------
 * A one-connection server built from the protocol layer alone, the way the
 * element will use it, answering what a publisher asks and noting what it
 * sent. */

struct PublishLog {
  std::string failure; /* why the session ended early, if it did */
  bool handshake_done = false;
  uint32_t client_handshake_version = 0;
  std::vector<std::string> commands;
  ConnectRequest connect;
  std::string release_stream, fc_publish, fc_unpublish;
  bool create_stream = false;
  PublishRequest publish;
  uint32_t publish_stream_id = 0;
  bool delete_stream = false;
  bool have_metadata = false;
  bool metadata_in_set_data_frame = false;
  Amf0Value metadata;
  unsigned audio_messages = 0, video_messages = 0;
  std::vector<uint8_t> first_audio, first_video;
  uint32_t last_video_timestamp = 0;
  bool video_timestamps_monotonic = true;
  bool media_before_publish = false;
  uint32_t client_chunk_size = 128;
  unsigned acknowledgements_sent = 0;
};

static pid_t client_pid = -1;
static gchar *client_dir = nullptr;

static void stop_client(void) {
  if (client_pid > 0) {
    kill(client_pid, SIGKILL);
    waitpid(client_pid, nullptr, 0);
    client_pid = -1;
  }
  if (client_dir) {
    gchar *log = g_build_filename(client_dir, "client.log", nullptr);
    g_unlink(log);
    g_rmdir(client_dir);
    g_free(log);
    g_free(client_dir);
    client_dir = nullptr;
  }
}

/* Starts a client with its output in a log file; it dies with this process
 * (PR_SET_PDEATHSIG), whatever happens to the test. */
static void start_client(const std::vector<std::string> &args, std::string *log_path) {
  if (!client_dir) client_dir = g_dir_make_tmp("onair-rtmp-XXXXXX", nullptr);
  fail_unless(client_dir != nullptr);
  *log_path = std::string(client_dir) + "/client.log";
  std::vector<char *> argv;
  for (const std::string &a : args) argv.push_back(const_cast<char *>(a.c_str()));
  argv.push_back(nullptr);
  int log_fd = open(log_path->c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  fail_unless(log_fd >= 0);
  pid_t parent = getpid();
  pid_t pid = fork();
  fail_unless(pid >= 0);
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127); /* the parent died before prctl */
    int null_fd = open("/dev/null", O_RDONLY);
    dup2(null_fd, 0);
    dup2(log_fd, 1);
    dup2(log_fd, 2);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  close(log_fd);
  client_pid = pid;
}

/* Waits up to `seconds` for the client to exit; returns its wait status or -1. */
static int wait_for_client(int seconds) {
  gint64 deadline = g_get_monotonic_time() + seconds * G_TIME_SPAN_SECOND;
  while (client_pid > 0 && g_get_monotonic_time() < deadline) {
    int status;
    pid_t done = waitpid(client_pid, &status, WNOHANG);
    if (done == client_pid) {
      client_pid = -1;
      return status;
    }
    g_usleep(20000);
  }
  return -1;
}

static std::string client_log(const std::string &path) {
  gchar *text = nullptr;
  if (!g_file_get_contents(path.c_str(), &text, nullptr, nullptr)) return "";
  std::string out(text);
  g_free(text);
  return out.size() > 4000 ? out.substr(out.size() - 4000) : out;
}

static int listen_on_loopback(uint16_t *port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  fail_unless(fd >= 0);
  struct sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  fail_unless(bind(fd, reinterpret_cast<struct sockaddr *>(&address), sizeof address) == 0);
  fail_unless(listen(fd, 4) == 0);
  socklen_t length = sizeof address;
  fail_unless(getsockname(fd, reinterpret_cast<struct sockaddr *>(&address), &length) == 0);
  *port = ntohs(address.sin_port);
  return fd;
}

static bool send_all(int fd, const std::vector<uint8_t> &bytes, gint64 deadline) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    if (g_get_monotonic_time() > deadline) return false;
    struct pollfd p = {fd, POLLOUT, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    ssize_t n = send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EINTR && errno != EAGAIN) return false;
    if (n > 0) sent += size_t(n);
  }
  return true;
}

static void handle_message(const Message &m, const ChunkReader &reader, bool accept_publish,
                           ChunkWriter *writer, std::vector<uint8_t> *out, PublishLog *log) {
  const uint32_t kPublishStreamId = 1;
  auto reply = [&](const Message &message) { fail_unless(writer->write(message, out)); };
  std::string error;
  switch (m.type) {
    case MessageType::SetChunkSize:
      log->client_chunk_size = reader.chunk_size();
      break;
    case MessageType::UserControl: {
      UserControl control;
      if (!parse_user_control(m, &control, &error)) log->failure = error;
      if (std::optional<Message> pong = answer_ping(control)) reply(*pong);
      break;
    }
    case MessageType::CommandAmf0:
    case MessageType::CommandAmf3: {
      Amf0Command command;
      if (!parse_command_message(m, &command, &error)) {
        log->failure = "command: " + error;
        return;
      }
      log->commands.push_back(command.name);
      StreamNameRequest name;
      if (command.name == "connect") {
        if (!parse_connect(command, &log->connect, &error)) log->failure = error;
        reply(make_window_ack_size(kDefaultWindowAckSize));
        reply(make_set_peer_bandwidth(kDefaultWindowAckSize, PeerBandwidthLimit::Dynamic));
        reply(make_set_chunk_size(4096));
        reply(make_connect_result(command.transaction_id));
      } else if (command.name == "releaseStream") {
        if (parse_stream_name_command(command, &name, &error)) log->release_stream = name.stream_name;
      } else if (command.name == "FCPublish") {
        if (parse_stream_name_command(command, &name, &error)) log->fc_publish = name.stream_name;
      } else if (command.name == "FCUnpublish") {
        if (parse_stream_name_command(command, &name, &error)) log->fc_unpublish = name.stream_name;
      } else if (command.name == "createStream") {
        log->create_stream = true;
        reply(make_create_stream_result(command.transaction_id, kPublishStreamId));
      } else if (command.name == "publish") {
        if (!parse_publish(command, &log->publish, &error)) log->failure = error;
        log->publish_stream_id = m.stream_id;
        if (accept_publish) {
          reply(make_stream_begin(m.stream_id));
          reply(make_publish_start(m.stream_id, log->publish.stream_name));
        } else {
          reply(make_publish_bad_name(m.stream_id, log->publish.stream_name, "unknown stream key"));
        }
      } else if (command.name == "deleteStream") {
        DeleteStreamRequest request;
        log->delete_stream =
            parse_delete_stream(command, &request, &error) && request.stream_id == kPublishStreamId;
      }
      break;
    }
    case MessageType::DataAmf0:
    case MessageType::DataAmf3: {
      DataMessage data;
      if (!parse_data_message(m, &data, &error)) {
        log->failure = "data: " + error;
      } else if (data.metadata()) {
        log->have_metadata = true;
        log->metadata_in_set_data_frame = data.set_data_frame;
        log->metadata = *data.metadata();
      }
      break;
    }
    case MessageType::Audio:
      if (log->publish_stream_id == 0) log->media_before_publish = true;
      if (log->audio_messages++ == 0) log->first_audio = m.payload;
      break;
    case MessageType::Video:
      if (log->publish_stream_id == 0) log->media_before_publish = true;
      if (log->video_messages++ == 0) log->first_video = m.payload;
      if (m.timestamp < log->last_video_timestamp) log->video_timestamps_monotonic = false;
      log->last_video_timestamp = m.timestamp;
      break;
    default:
      break;
  }
}

/* Serves one connection on `listen_fd` until the client closes it, an error,
 * or `seconds` pass. */
static void serve_publish(int listen_fd, bool accept_publish, int seconds, PublishLog *log) {
  gint64 deadline = g_get_monotonic_time() + seconds * G_TIME_SPAN_SECOND;
  int fd = -1;
  while (fd < 0 && g_get_monotonic_time() < deadline) {
    struct pollfd p = {listen_fd, POLLIN, 0};
    if (poll(&p, 1, 100) > 0) fd = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (client_pid > 0 && waitpid(client_pid, nullptr, WNOHANG) == client_pid) {
      client_pid = -1;
      log->failure = "the client exited before connecting";
      return;
    }
  }
  if (fd < 0) {
    log->failure = "no client connected";
    return;
  }
  ServerHandshake handshake(uint32_t(g_get_monotonic_time() / 1000));
  ChunkReader reader;
  ChunkWriter writer;
  std::vector<uint8_t> in(64 * 1024), out;
  while (log->failure.empty()) {
    if (g_get_monotonic_time() > deadline) {
      log->failure = "timed out";
      break;
    }
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    ssize_t n = recv(fd, in.data(), in.size(), 0);
    if (n == 0) break; /* the client closed the connection */
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      if (errno != ECONNRESET) log->failure = std::string("recv: ") + strerror(errno);
      break;
    }
    std::span<const uint8_t> data(in.data(), size_t(n));
    std::vector<uint8_t> after_handshake;
    if (handshake.status() != HandshakeStatus::Done) {
      HandshakeStatus status = handshake.feed(data, &out, &after_handshake);
      if (status == HandshakeStatus::Error) {
        log->failure = "handshake: " + handshake.error();
        break;
      }
      if (status != HandshakeStatus::Done) {
        if (!send_all(fd, out, deadline)) log->failure = "cannot send S0+S1+S2";
        out.clear();
        continue;
      }
      log->handshake_done = true;
      log->client_handshake_version = handshake.client_version();
      data = after_handshake;
    }
    std::vector<Message> messages;
    if (!reader.push(data, &messages)) {
      log->failure = "chunk stream: " + reader.error();
      break;
    }
    for (const Message &m : messages) handle_message(m, reader, accept_publish, &writer, &out, log);
    uint32_t sequence;
    if (reader.take_acknowledgement(&sequence)) {
      fail_unless(writer.write(make_acknowledgement(sequence), &out));
      log->acknowledgements_sent++;
    }
    if (!out.empty() && !send_all(fd, out, deadline)) break; /* the client may be gone already */
    out.clear();
  }
  close(fd);
}

/* Splits a command line at spaces (no argument here contains one). */
static std::vector<std::string> split_args(const std::string &line) {
  std::vector<std::string> args;
  gchar **parts = g_strsplit(line.c_str(), " ", -1);
  for (gchar **part = parts; *part; part++)
    if (**part) args.emplace_back(*part);
  g_strfreev(parts);
  return args;
}

/* One second of 160x90 H.264 and AAC, paced in real time (-re) as a live
 * encoder would send it. */
static std::vector<std::string> ffmpeg_publish_args(uint16_t port, const char *key) {
  return split_args(
      "ffmpeg -hide_banner -nostdin -loglevel warning -re -f lavfi -i testsrc=size=160x90:rate=10 "
      "-f lavfi -i sine=frequency=440:sample_rate=44100 -t 1 -c:v libx264 -preset ultrafast -g 10 "
      "-pix_fmt yuv420p -c:a aac -b:a 64k -f flv -rw_timeout 20000000 rtmp://127.0.0.1:" +
      std::to_string(port) + "/live/" + key);
}

static void print_session(const char *client, const PublishLog &log) {
  std::string commands;
  for (const std::string &c : log.commands) commands += (commands.empty() ? "" : ", ") + c;
  g_print(
      "%s: flashVer \"%s\", commands [%s], chunk size %u, %u video and %u audio messages up to %u ms\n  "
      "metadata %s\n",
      client, log.connect.flash_ver.c_str(), commands.c_str(), log.client_chunk_size, log.video_messages,
      log.audio_messages, log.last_video_timestamp, log.metadata.to_string().c_str());
}

static void check_avc_sequence_header_first(const PublishLog &log) {
  fail_unless(log.video_messages >= 5, "%u video messages", log.video_messages);
  fail_unless(log.first_video.size() > 5);
  fail_unless_equals_int(log.first_video[0], 0x17); /* keyframe, AVC */
  fail_unless_equals_int(log.first_video[1], 0);    /* AVC sequence header */
  fail_unless(log.video_timestamps_monotonic);
  fail_if(log.media_before_publish);
}

GST_START_TEST(test_ffmpeg_publishes) {
  if (!ffmpeg_can_publish()) {
    g_print("SKIP test_ffmpeg_publishes: ffmpeg with libx264 and aac not found\n");
    return;
  }
  uint16_t port;
  int listen_fd = listen_on_loopback(&port);
  std::string log_path;
  start_client(ffmpeg_publish_args(port, "key"), &log_path);
  PublishLog log;
  serve_publish(listen_fd, true, 60, &log);
  close(listen_fd);
  int status = wait_for_client(20);
  std::string output = client_log(log_path);
  fail_unless(log.failure.empty(), "%s\nffmpeg said:\n%s", log.failure.c_str(), output.c_str());
  fail_unless(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0, "ffmpeg failed:\n%s",
              output.c_str());

  print_session("ffmpeg", log);
  fail_unless(log.handshake_done);
  fail_unless(log.client_handshake_version != 0); /* ffmpeg offered the digest handshake and accepted ours */
  fail_unless(log.connect.app == "live", "app \"%s\"", log.connect.app.c_str());
  fail_unless(log.connect.tc_url == "rtmp://127.0.0.1:" + std::to_string(port) + "/live", "%s",
              log.connect.tc_url.c_str());
  fail_unless(log.connect.flash_ver.rfind("FMLE/", 0) == 0, "%s", log.connect.flash_ver.c_str());
  fail_unless(log.release_stream == "key");
  fail_unless(log.fc_publish == "key");
  fail_unless(log.create_stream);
  fail_unless(log.publish.stream_name == "key" && log.publish.publish_type == "live");
  fail_unless_equals_int(log.publish_stream_id, 1);
  fail_unless(log.client_chunk_size > 128, "ffmpeg kept chunk size %u", log.client_chunk_size);

  fail_unless(log.have_metadata);
  fail_unless(log.metadata_in_set_data_frame);
  fail_unless(log.metadata.number_property("width") == 160, "%s", log.metadata.to_string().c_str());
  fail_unless(log.metadata.number_property("height") == 90);
  fail_unless(log.metadata.number_property("videocodecid") == 7);  /* AVC */
  fail_unless(log.metadata.number_property("audiocodecid") == 10); /* AAC */

  check_avc_sequence_header_first(log);
  fail_unless(log.last_video_timestamp >= 500 && log.last_video_timestamp <= 5000, "last video at %u ms",
              log.last_video_timestamp);
  fail_unless(log.audio_messages >= 5);
  fail_unless_equals_int(log.first_audio[0], 0xAF); /* AAC, 44 kHz, 16 bit, stereo flag */
  fail_unless_equals_int(log.first_audio[1], 0);    /* AAC sequence header */

  fail_unless(log.fc_unpublish == "key");
  fail_unless(log.delete_stream);
  std::vector<std::string> order;
  for (const std::string &c : log.commands)
    if (c != "_checkbw") order.push_back(c);
  const char *expected[] = {"connect", "releaseStream", "FCPublish",   "createStream",
                            "publish", "FCUnpublish",   "deleteStream"};
  fail_unless_equals_int(order.size(), G_N_ELEMENTS(expected));
  for (size_t i = 0; i < order.size(); i++)
    fail_unless(order[i] == expected[i], "command %zu is %s", i, order[i].c_str());
}
GST_END_TEST;

GST_START_TEST(test_ffmpeg_refused_key) {
  if (!ffmpeg_can_publish()) {
    g_print("SKIP test_ffmpeg_refused_key: ffmpeg with libx264 and aac not found\n");
    return;
  }
  uint16_t port;
  int listen_fd = listen_on_loopback(&port);
  std::string log_path;
  start_client(ffmpeg_publish_args(port, "wrong"), &log_path);
  PublishLog log;
  serve_publish(listen_fd, false, 60, &log);
  close(listen_fd);
  int status = wait_for_client(20);
  std::string output = client_log(log_path);
  fail_unless(log.failure.empty(), "%s\nffmpeg said:\n%s", log.failure.c_str(), output.c_str());
  fail_unless(log.publish.stream_name == "wrong");
  /* ffmpeg gives up on NetStream.Publish.BadName: no media, an error exit */
  fail_unless_equals_int(log.audio_messages + log.video_messages, 0);
  fail_unless(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) != 0, "ffmpeg status %d:\n%s", status,
              output.c_str());
  fail_unless(contains(output, "NetStream.Publish.BadName") || contains(output, "unknown stream key"), "%s",
              output.c_str());
}
GST_END_TEST;

GST_START_TEST(test_rtmp2sink_publishes) {
  const char *needed[] = {"rtmp2sink", "x264enc", "flvmux", "h264parse", "videotestsrc"};
  for (const char *name : needed) {
    GstElementFactory *factory = gst_element_factory_find(name);
    if (!factory || !have_program("gst-launch-1.0")) {
      g_print("SKIP test_rtmp2sink_publishes: %s not available\n", factory ? "gst-launch-1.0" : name);
      if (factory) gst_object_unref(factory);
      return;
    }
    gst_object_unref(factory);
  }
  uint16_t port;
  int listen_fd = listen_on_loopback(&port);
  std::string log_path;
  start_client(split_args("gst-launch-1.0 -q videotestsrc num-buffers=20 ! "
                          "video/x-raw,width=160,height=90,framerate=10/1 ! "
                          "x264enc key-int-max=10 speed-preset=ultrafast tune=zerolatency ! h264parse ! "
                          "flvmux streamable=true ! rtmp2sink timeout=20 location=rtmp://127.0.0.1:" +
                          std::to_string(port) + "/live/key"),
               &log_path);
  PublishLog log;
  serve_publish(listen_fd, true, 60, &log);
  close(listen_fd);
  int status = wait_for_client(20);
  std::string output = client_log(log_path);
  fail_unless(log.failure.empty(), "%s\ngst-launch said:\n%s", log.failure.c_str(), output.c_str());
  fail_unless(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0, "gst-launch failed:\n%s",
              output.c_str());
  print_session("rtmp2sink", log);
  fail_unless(log.handshake_done);
  fail_unless(log.connect.app == "live", "app \"%s\"", log.connect.app.c_str());
  fail_unless(log.create_stream);
  fail_unless(log.publish.stream_name == "key", "%s", log.publish.stream_name.c_str());
  fail_unless(log.have_metadata);
  fail_unless(log.metadata.number_property("width") == 160, "%s", log.metadata.to_string().c_str());
  check_avc_sequence_header_first(log);
  fail_unless(log.video_messages >= 20, "%u video messages", log.video_messages);
}
GST_END_TEST;

/* ---- Random input ------------------------------------------------------------ */

/* What a publisher sends after the handshake: connect in 128-byte chunks,
 * a larger chunk size, the publish commands, metadata, audio and video. */
static std::vector<uint8_t> publisher_stream(std::mt19937 &random) {
  ChunkWriter writer;
  std::vector<uint8_t> out;
  Amf0Value object =
      Amf0Value::object({{"app", Amf0Value::string("live")},
                         {"type", Amf0Value::string("nonprivate")},
                         {"flashVer", Amf0Value::string("FMLE/3.0 (compatible; Lavf59.27.100)")},
                         {"tcUrl", Amf0Value::string("rtmp://127.0.0.1:1935/live")}});
  writer.write(make_command(0, {"connect", 1, object, {}}), &out);
  writer.write(make_set_chunk_size(1024), &out);
  writer.write(make_command(0, {"releaseStream", 2, Amf0Value::null(), {Amf0Value::string("key")}}), &out);
  writer.write(make_command(0, {"FCPublish", 3, Amf0Value::null(), {Amf0Value::string("key")}}), &out);
  writer.write(make_command(0, {"createStream", 4, Amf0Value::null(), {}}), &out);
  writer.write(
      make_command(1,
                   {"publish", 5, Amf0Value::null(), {Amf0Value::string("key"), Amf0Value::string("live")}}),
      &out);
  Message data;
  data.type = MessageType::DataAmf0;
  data.stream_id = 1;
  data.payload =
      amf0_encode_all({Amf0Value::string("@setDataFrame"), Amf0Value::string("onMetaData"),
                       Amf0Value::ecma_array(
                           {{"width", Amf0Value::number(160)},
                            {"height", Amf0Value::number(90)},
                            {"encoder", Amf0Value::string("Lavf59.27.100")},
                            {"list", Amf0Value::strict_array({Amf0Value::number(1), Amf0Value::date(0)})}})});
  writer.write(data, &out);
  for (int i = 0; i < 4; i++) {
    Message media;
    media.type = i % 2 ? MessageType::Audio : MessageType::Video;
    media.stream_id = 1;
    media.timestamp = uint32_t(i * 50 + (i == 3 ? 0x1000000 : 0));
    media.payload = random_bytes(random, i == 0 ? 2500 : 150);
    writer.write(media, &out);
  }
  Message ping;
  ping.type = MessageType::UserControl;
  ping.payload = bytes_of({0, 6, 0, 0, 0, 1});
  writer.write(ping, &out);
  return out;
}

static void mutate(std::vector<uint8_t> *bytes, std::mt19937 &random) {
  int count = 1 + random() % 8;
  for (int i = 0; i < count; i++) {
    if (bytes->empty()) {
      bytes->push_back(uint8_t(random()));
      continue;
    }
    size_t at = random() % bytes->size();
    size_t span = std::min<size_t>(1 + random() % 16, bytes->size() - at);
    switch (random() % 6) {
      case 0:
        (*bytes)[at] ^= uint8_t(1 << (random() % 8));
        break;
      case 1:
        (*bytes)[at] = uint8_t(random());
        break;
      case 2: {
        std::vector<uint8_t> extra = random_bytes(random, span);
        bytes->insert(bytes->begin() + at, extra.begin(), extra.end());
        break;
      }
      case 3:
        bytes->erase(bytes->begin() + at, bytes->begin() + at + span);
        break;
      case 4:
        bytes->resize(at);
        break;
      case 5: /* huge lengths, extended timestamps */
        std::fill(bytes->begin() + at, bytes->begin() + at + std::min<size_t>(span, 4), 0xFF);
        break;
    }
  }
}

GST_START_TEST(test_fuzz_chunk_reader) {
  std::mt19937 random(2024);
  std::vector<uint8_t> valid = publisher_stream(random);
  {
    ChunkReader reader;
    std::vector<Message> messages;
    fail_unless(read_all(reader, valid, &messages), "%s", reader.error().c_str());
    fail_unless_equals_int(messages.size(), 12);
  }
  size_t worst_ratio_input = 0, worst_peak = 0, accepted = 0;
  for (int i = 0; i < 10000; i++) {
    std::vector<uint8_t> input;
    if (i % 2 == 0) {
      input = random_bytes(random, random() % 4096);
    } else {
      input = valid;
      mutate(&input, random);
    }
    HeapPeak heap;
    {
      ChunkReader reader;
      std::vector<Message> messages;
      size_t pos = 0;
      bool ok = true;
      while (ok && pos < input.size()) {
        size_t n = std::min<size_t>(input.size() - pos, 1 + random() % 600);
        ok = reader.push(std::span<const uint8_t>(input.data() + pos, n), &messages);
        pos += n;
      }
      if (ok) accepted++;
      fail_unless(ok || !reader.error().empty());
      fail_unless(reader.partial_messages() <= 16);
      fail_unless(reader.buffered_bytes() <= 2 * input.size());
      /* what the element will do with what came out */
      std::string error;
      for (const Message &m : messages) {
        Amf0Command command;
        DataMessage data;
        UserControl control;
        if (parse_command_message(m, &command, &error)) {
          ConnectRequest connect;
          PublishRequest publish;
          parse_connect(command, &connect, &error);
          parse_publish(command, &publish, &error);
        }
        parse_data_message(m, &data, &error);
        parse_user_control(m, &control, &error);
      }
    }
    /* the reader holds payload bytes (buffers grown by doubling, capped at
     * the declared length) plus decoded AMF0 values, never more because of
     * a length field */
    size_t peak = heap.bytes();
    if (peak > worst_peak) {
      worst_peak = peak;
      worst_ratio_input = input.size();
    }
    fail_unless(peak <= 64 * 1024 + 300 * input.size(), "%zu bytes at peak for %zu bytes of input", peak,
                input.size());
  }
  g_print("chunk reader fuzz: %zu of 10000 inputs accepted, worst heap peak %zu bytes (input %zu bytes)%s\n",
          accepted, worst_peak, worst_ratio_input,
          heap_accounting_active() ? "" : " (heap accounting inactive)");
}
GST_END_TEST;

GST_START_TEST(test_fuzz_amf0) {
  std::mt19937 random(77);
  const uint8_t markers[] = {0x00, 0x01, 0x02, 0x03, 0x05, 0x06, 0x08, 0x0A, 0x0B, 0x0C, 0x10};
  std::vector<uint8_t> valid = connect_bytes();
  append(&valid, amf0_encode_all({Amf0Value::ecma_array(
                     {{"width", Amf0Value::number(160)},
                      {"list", Amf0Value::strict_array({Amf0Value::string("x"), Amf0Value::date(5)})},
                      {"nested", Amf0Value::object({{"flag", Amf0Value::boolean(true)}})}})}));
  size_t decoded = 0, worst_peak = 0;
  for (int i = 0; i < 10000; i++) {
    std::vector<uint8_t> input;
    if (i % 2 == 0) {
      input = random_bytes(random, random() % 2048);
      /* mostly valid markers, so decoding gets past the first byte */
      for (size_t k = 0; k < input.size(); k += 1 + random() % 8)
        input[k] = markers[random() % sizeof markers];
    } else {
      input = valid;
      mutate(&input, random);
    }
    HeapPeak heap;
    {
      std::vector<Amf0Value> values;
      std::string error;
      if (amf0_decode_all(input, &values, &error)) {
        decoded++;
        /* what decodes re-encodes to the same values */
        std::vector<Amf0Value> again;
        fail_unless(amf0_decode_all(amf0_encode_all(values), &again, &error), "%s", error.c_str());
        fail_unless(again == values);
      } else {
        fail_unless(contains(error, "at offset"), "%s", error.c_str());
      }
      Amf0Decoded one = amf0_decode(input);
      fail_unless(one.ok() ? one.consumed <= input.size() : !one.error.empty());
      Amf0Command command;
      amf0_decode_command(input, &command, &error);
    }
    size_t peak = heap.bytes();
    worst_peak = std::max(worst_peak, peak);
    /* a value costs ~100-130 bytes and takes at least one input byte; vectors double */
    fail_unless(peak <= 64 * 1024 + 1000 * input.size(), "%zu bytes at peak for %zu bytes of input", peak,
                input.size());
  }
  g_print("AMF0 fuzz: %zu of 10000 inputs decoded, worst heap peak %zu bytes%s\n", decoded, worst_peak,
          heap_accounting_active() ? "" : " (heap accounting inactive)");
}
GST_END_TEST;

static Suite *rtmpprotocol_suite(void) {
  Suite *s = suite_create("rtmpprotocol");
  TCase *tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_add_checked_fixture(tc, nullptr, stop_client);
  tcase_add_test(tc, test_amf0_known_bytes);
  tcase_add_test(tc, test_amf0_round_trip);
  tcase_add_test(tc, test_amf0_malformed);
  tcase_add_test(tc, test_amf0_command);
  tcase_add_test(tc, test_handshake_in_pieces);
  tcase_add_test(tc, test_handshake_refuses_other_versions);
  tcase_add_test(tc, test_chunk_round_trip);
  tcase_add_test(tc, test_chunk_writer_bytes);
  tcase_add_test(tc, test_chunk_header_compression);
  tcase_add_test(tc, test_chunk_extended_timestamps);
  tcase_add_test(tc, test_chunk_size_changes);
  tcase_add_test(tc, test_chunk_abort);
  tcase_add_test(tc, test_chunk_limits);
  tcase_add_test(tc, test_acknowledgement_window);
  tcase_add_test(tc, test_control_messages);
  tcase_add_test(tc, test_server_commands);
  tcase_add_test(tc, test_client_commands);
  tcase_add_test(tc, test_stream_key);
  tcase_add_test(tc, test_aggregate);
  tcase_add_test(tc, test_ffmpeg_publishes);
  tcase_add_test(tc, test_ffmpeg_refused_key);
  tcase_add_test(tc, test_rtmp2sink_publishes);
  tcase_add_test(tc, test_fuzz_chunk_reader);
  tcase_add_test(tc, test_fuzz_amf0);
  return s;
}

GST_CHECK_MAIN(rtmpprotocol);
