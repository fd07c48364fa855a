/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace onair::rtmp {

/* The AMF0 types an RTMP peer sends (Adobe "Action Message Format -- AMF 0").
 * Long strings and XML documents decode to String; typed objects decode to
 * Object (the class name is dropped); the "unsupported" marker decodes to
 * Undefined. References, record sets and AMF3 (AVM+) values are refused:
 * no RTMP publisher sends them in the messages a server reads. */
enum class Amf0Type { Number, Boolean, String, Object, Null, Undefined, EcmaArray, StrictArray, Date };

const char *amf0_type_name(Amf0Type type);

struct Amf0Property;

/* One AMF0 value. Objects and ECMA arrays keep their properties in the order
 * received, so a value re-encodes to the bytes it came from and logs read
 * as the peer wrote them. */
class Amf0Value {
 public:
  /* Null. The special members are defined below Amf0Property, which they
   * need complete. */
  Amf0Value();
  Amf0Value(const Amf0Value &other);
  Amf0Value(Amf0Value &&other) noexcept;
  Amf0Value &operator=(const Amf0Value &other);
  Amf0Value &operator=(Amf0Value &&other) noexcept;
  ~Amf0Value();

  static Amf0Value number(double value);
  static Amf0Value boolean(bool value);
  static Amf0Value string(std::string value);
  static Amf0Value null();
  static Amf0Value undefined();
  /* (overloads rather than default arguments, which would need
   * Amf0Property complete here) */
  static Amf0Value object();
  static Amf0Value object(std::vector<Amf0Property> properties);
  static Amf0Value ecma_array();
  static Amf0Value ecma_array(std::vector<Amf0Property> properties);
  static Amf0Value strict_array();
  static Amf0Value strict_array(std::vector<Amf0Value> elements);
  /* Milliseconds since the Unix epoch; the time zone field is reserved
   * (the spec says to send 0) but is kept as read. */
  static Amf0Value date(double milliseconds, int16_t timezone = 0);

  Amf0Type type() const { return type_; }
  bool is_number() const { return type_ == Amf0Type::Number; }
  bool is_string() const { return type_ == Amf0Type::String; }
  bool is_null() const { return type_ == Amf0Type::Null; }
  /* Object or ECMA array: a list of named properties. */
  bool has_properties() const { return type_ == Amf0Type::Object || type_ == Amf0Type::EcmaArray; }

  /* The value if it has that type, else `fallback`. */
  double as_number(double fallback = 0) const;
  bool as_boolean(bool fallback = false) const;
  std::string as_string(std::string_view fallback = {}) const;

  /* Property lookup on an Object or ECMA array (first match); nullptr when
   * absent or when this value has no properties. */
  const Amf0Value *find(std::string_view key) const;
  double number_property(std::string_view key, double fallback = 0) const;
  std::string string_property(std::string_view key, std::string_view fallback = {}) const;

  /* Replaces the property named `key` or appends it. Turns a value without
   * properties into an Object. */
  void set(std::string key, Amf0Value value);

  const std::vector<Amf0Property> &properties() const { return properties_; }
  const std::vector<Amf0Value> &elements() const { return elements_; }
  double date_milliseconds() const { return type_ == Amf0Type::Date ? number_ : 0; }
  int16_t date_timezone() const { return timezone_; }

  /* A JSON-like rendering for logs and test failures. */
  std::string to_string() const;

  /* Same type and content; numbers compare by bits, so NaN equals NaN. */
  bool operator==(const Amf0Value &other) const;

 private:
  Amf0Type type_ = Amf0Type::Null;
  double number_ = 0; /* Number, or Date milliseconds */
  bool boolean_ = false;
  int16_t timezone_ = 0;
  std::string string_;
  std::vector<Amf0Property> properties_;
  std::vector<Amf0Value> elements_;
};

struct Amf0Property {
  std::string key;
  Amf0Value value;
  bool operator==(const Amf0Property &other) const = default;
};

inline Amf0Value::Amf0Value() = default;
inline Amf0Value::Amf0Value(const Amf0Value &other) = default;
inline Amf0Value::Amf0Value(Amf0Value &&other) noexcept = default;
inline Amf0Value &Amf0Value::operator=(const Amf0Value &other) = default;
inline Amf0Value &Amf0Value::operator=(Amf0Value &&other) noexcept = default;
inline Amf0Value::~Amf0Value() = default;

/* Bounds against hostile input: every length field is checked against the
 * bytes actually present, nesting is limited, and so is the number of values
 * one call may create (each costs far more memory than its one marker byte). */
struct Amf0Limits {
  unsigned max_depth = 32;
  size_t max_values = 65536;
};

struct Amf0Decoded {
  Amf0Value value;
  size_t consumed = 0;
  std::string error; /* empty on success; else what is wrong and at which offset */
  bool ok() const { return error.empty(); }
};

/* Decodes the one value at the start of `data`. */
Amf0Decoded amf0_decode(std::span<const uint8_t> data, const Amf0Limits &limits = {});

/* Decodes values until `data` is used up (a command or data message body). */
bool amf0_decode_all(std::span<const uint8_t> data, std::vector<Amf0Value> *values, std::string *error,
                     const Amf0Limits &limits = {});

/* Appends the encoding of `value` to `out`. Strings longer than 65535 bytes
 * are written as long strings. */
void amf0_encode(const Amf0Value &value, std::vector<uint8_t> *out);
std::vector<uint8_t> amf0_encode_all(const std::vector<Amf0Value> &values);

/* A command message body: name, transaction id, command object (Null when
 * the command has none), then the optional arguments. */
struct Amf0Command {
  std::string name;
  double transaction_id = 0;
  Amf0Value command_object;
  std::vector<Amf0Value> arguments;
};

/* Reads a command body. The spec requires the transaction id and the command
 * object and every known client sends them; when a body stops after the name
 * they read as 0 and Null (being strict there would only refuse clients). */
bool amf0_decode_command(std::span<const uint8_t> body, Amf0Command *command, std::string *error,
                         const Amf0Limits &limits = {});
std::vector<uint8_t> amf0_encode_command(const Amf0Command &command);

}  // namespace onair::rtmp
