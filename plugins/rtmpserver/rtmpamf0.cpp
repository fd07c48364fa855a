/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rtmpamf0.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iterator>

#include "bytes.h"

namespace onair::rtmp {

namespace {

/* Type markers (AMF0 spec, section 2.1). */
enum Marker : uint8_t {
  kNumberMarker = 0x00,
  kBooleanMarker = 0x01,
  kStringMarker = 0x02,
  kObjectMarker = 0x03,
  kMovieclipMarker = 0x04, /* reserved */
  kNullMarker = 0x05,
  kUndefinedMarker = 0x06,
  kReferenceMarker = 0x07,
  kEcmaArrayMarker = 0x08,
  kObjectEndMarker = 0x09,
  kStrictArrayMarker = 0x0A,
  kDateMarker = 0x0B,
  kLongStringMarker = 0x0C,
  kUnsupportedMarker = 0x0D,
  kRecordsetMarker = 0x0E, /* reserved */
  kXmlDocumentMarker = 0x0F,
  kTypedObjectMarker = 0x10,
  kAvmplusObjectMarker = 0x11,
};

uint64_t double_bits(double value) {
  uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

void put_double(std::vector<uint8_t> *out, double value) {
  append_u64(*out, double_bits(value));
}

/* UTF-8 string without marker: U16 length (longer keys are cut, which no
 * real key ever is) */
void put_short_string(std::vector<uint8_t> *out, std::string_view s) {
  size_t n = std::min<size_t>(s.size(), 0xFFFF);
  append_u16(*out, uint16_t(n));
  out->insert(out->end(), s.begin(), s.begin() + n);
}

void put_properties(std::vector<uint8_t> *out, const std::vector<Amf0Property> &properties) {
  for (const Amf0Property &p : properties) {
    put_short_string(out, p.key);
    amf0_encode(p.value, out);
  }
  append_u16(*out, 0);
  out->push_back(kObjectEndMarker);
}

class Decoder {
 public:
  Decoder(std::span<const uint8_t> data, const Amf0Limits &limits) : data_(data), limits_(limits) {}

  bool value(Amf0Value *out, unsigned depth) {
    if (++values_ > limits_.max_values)
      return fail(pos_, "more than " + std::to_string(limits_.max_values) + " AMF0 values");
    size_t start = pos_;
    uint8_t marker = 0;
    if (!u8(&marker, "type marker")) return false;
    switch (marker) {
      case kNumberMarker: {
        double v = 0;
        if (!f64(&v, "number")) return false;
        *out = Amf0Value::number(v);
        return true;
      }
      case kBooleanMarker: {
        uint8_t v = 0;
        if (!u8(&v, "boolean")) return false;
        *out = Amf0Value::boolean(v != 0);
        return true;
      }
      case kStringMarker:
      case kLongStringMarker:
      case kXmlDocumentMarker: {
        std::string s;
        bool ok = marker == kStringMarker ? short_string(&s, "string") : long_string(&s, "long string");
        if (!ok) return false;
        *out = Amf0Value::string(std::move(s));
        return true;
      }
      case kObjectMarker:
      case kEcmaArrayMarker:
      case kTypedObjectMarker: {
        if (depth >= limits_.max_depth)
          return fail(start, "AMF0 values nested deeper than " + std::to_string(limits_.max_depth));
        if (marker == kEcmaArrayMarker) {
          /* The count is only a hint (and often wrong): the end marker ends it. */
          uint32_t ignored_count = 0;
          if (!u32(&ignored_count, "ECMA array count")) return false;
        } else if (marker == kTypedObjectMarker) {
          std::string ignored_class_name;
          if (!short_string(&ignored_class_name, "typed object class name")) return false;
        }
        std::vector<Amf0Property> properties;
        if (!property_list(&properties, depth + 1)) return false;
        *out = marker == kEcmaArrayMarker ? Amf0Value::ecma_array(std::move(properties))
                                          : Amf0Value::object(std::move(properties));
        return true;
      }
      case kNullMarker:
        *out = Amf0Value::null();
        return true;
      case kUndefinedMarker:
      case kUnsupportedMarker:
        *out = Amf0Value::undefined();
        return true;
      case kStrictArrayMarker: {
        if (depth >= limits_.max_depth)
          return fail(start, "AMF0 values nested deeper than " + std::to_string(limits_.max_depth));
        uint32_t count = 0;
        if (!u32(&count, "strict array count")) return false;
        /* every element takes at least its marker byte */
        if (count > remaining())
          return fail(start, "strict array of " + std::to_string(count) + " elements but only " +
                                 std::to_string(remaining()) + " bytes left");
        std::vector<Amf0Value> elements;
        for (uint32_t i = 0; i < count; i++) {
          Amf0Value element;
          if (!value(&element, depth + 1)) return false;
          elements.push_back(std::move(element));
        }
        *out = Amf0Value::strict_array(std::move(elements));
        return true;
      }
      case kDateMarker: {
        double ms = 0;
        uint16_t timezone = 0;
        if (!f64(&ms, "date") || !u16(&timezone, "date time zone")) return false;
        *out = Amf0Value::date(ms, int16_t(timezone));
        return true;
      }
      case kObjectEndMarker:
        return fail(start, "object-end marker outside an object");
      case kReferenceMarker:
        return fail(start, "AMF0 references (marker 0x07) are not supported");
      case kAvmplusObjectMarker:
        return fail(start, "AMF3 values (AVM+ marker 0x11) are not supported");
      case kMovieclipMarker:
      case kRecordsetMarker:
      default:
        return fail(start, "unknown AMF0 type marker " + std::to_string(marker));
    }
  }

  size_t pos() const { return pos_; }
  size_t remaining() const { return data_.size() - pos_; }
  const std::string &error() const { return error_; }

 private:
  bool property_list(std::vector<Amf0Property> *properties, unsigned depth) {
    for (;;) {
      std::string key;
      if (!short_string(&key, "property name")) return false;
      if (key.empty()) {
        if (remaining() == 0) return fail(pos_, "object ends without its end marker");
        if (data_[pos_] == kObjectEndMarker) {
          pos_++;
          return true;
        }
      }
      Amf0Value v;
      if (!value(&v, depth)) return false;
      properties->push_back({std::move(key), std::move(v)});
    }
  }

  bool fail(size_t offset, const std::string &what) {
    if (error_.empty()) error_ = what + " at offset " + std::to_string(offset);
    return false;
  }
  bool truncated(const char *what, size_t need) {
    return fail(pos_, std::string("truncated AMF0 ") + what + " (need " + std::to_string(need) + " bytes, " +
                          std::to_string(remaining()) + " left)");
  }
  bool u8(uint8_t *v, const char *what) {
    if (remaining() < 1) return truncated(what, 1);
    *v = data_[pos_++];
    return true;
  }
  bool u16(uint16_t *v, const char *what) {
    if (remaining() < 2) return truncated(what, 2);
    *v = get_u16(data_.data() + pos_);
    pos_ += 2;
    return true;
  }
  bool u32(uint32_t *v, const char *what) {
    if (remaining() < 4) return truncated(what, 4);
    *v = get_u32(data_.data() + pos_);
    pos_ += 4;
    return true;
  }
  bool f64(double *v, const char *what) {
    if (remaining() < 8) return truncated(what, 8);
    uint64_t bits = get_u64(data_.data() + pos_);
    pos_ += 8;
    std::memcpy(v, &bits, sizeof bits);
    return true;
  }
  bool bytes(std::string *s, size_t length, const char *what, size_t start) {
    if (length > remaining())
      return fail(start, std::string("AMF0 ") + what + " of " + std::to_string(length) +
                             " bytes runs past the end of the data (" + std::to_string(remaining()) +
                             " bytes left)");
    s->assign(reinterpret_cast<const char *>(data_.data() + pos_), length);
    pos_ += length;
    return true;
  }
  bool short_string(std::string *s, const char *what) {
    size_t start = pos_;
    uint16_t length = 0;
    return u16(&length, what) && bytes(s, length, what, start);
  }
  bool long_string(std::string *s, const char *what) {
    size_t start = pos_;
    uint32_t length = 0;
    return u32(&length, what) && bytes(s, length, what, start);
  }

  std::span<const uint8_t> data_;
  const Amf0Limits &limits_;
  size_t pos_ = 0;
  size_t values_ = 0;
  std::string error_;
};

void append_quoted(std::string *out, const std::string &s) {
  out->push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (uint8_t(c) < 0x20) {
      char escaped[8];
      snprintf(escaped, sizeof escaped, "\\u%04x", unsigned(uint8_t(c)));
      out->append(escaped);
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

void append_number(std::string *out, double v) {
  char text[32];
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15)
    snprintf(text, sizeof text, "%.0f", v);
  else
    snprintf(text, sizeof text, "%.17g", v);
  out->append(text);
}

void render(const Amf0Value &v, std::string *out) {
  switch (v.type()) {
    case Amf0Type::Number:
      append_number(out, v.as_number());
      break;
    case Amf0Type::Boolean:
      out->append(v.as_boolean() ? "true" : "false");
      break;
    case Amf0Type::String:
      append_quoted(out, v.as_string());
      break;
    case Amf0Type::Null:
      out->append("null");
      break;
    case Amf0Type::Undefined:
      out->append("undefined");
      break;
    case Amf0Type::Date:
      out->append("Date(");
      append_number(out, v.date_milliseconds());
      out->append(")");
      break;
    case Amf0Type::Object:
    case Amf0Type::EcmaArray: {
      out->append(v.type() == Amf0Type::EcmaArray ? "ecma{" : "{");
      bool first = true;
      for (const Amf0Property &p : v.properties()) {
        if (!first) out->append(", ");
        first = false;
        append_quoted(out, p.key);
        out->append(": ");
        render(p.value, out);
      }
      out->push_back('}');
      break;
    }
    case Amf0Type::StrictArray: {
      out->push_back('[');
      bool first = true;
      for (const Amf0Value &e : v.elements()) {
        if (!first) out->append(", ");
        first = false;
        render(e, out);
      }
      out->push_back(']');
      break;
    }
  }
}

}  // namespace

const char *amf0_type_name(Amf0Type type) {
  switch (type) {
    case Amf0Type::Number:
      return "number";
    case Amf0Type::Boolean:
      return "boolean";
    case Amf0Type::String:
      return "string";
    case Amf0Type::Object:
      return "object";
    case Amf0Type::Null:
      return "null";
    case Amf0Type::Undefined:
      return "undefined";
    case Amf0Type::EcmaArray:
      return "ECMA array";
    case Amf0Type::StrictArray:
      return "strict array";
    case Amf0Type::Date:
      return "date";
  }
  return "unknown";
}

Amf0Value Amf0Value::number(double value) {
  Amf0Value v;
  v.type_ = Amf0Type::Number;
  v.number_ = value;
  return v;
}

Amf0Value Amf0Value::boolean(bool value) {
  Amf0Value v;
  v.type_ = Amf0Type::Boolean;
  v.boolean_ = value;
  return v;
}

Amf0Value Amf0Value::string(std::string value) {
  Amf0Value v;
  v.type_ = Amf0Type::String;
  v.string_ = std::move(value);
  return v;
}

Amf0Value Amf0Value::null() {
  return Amf0Value();
}

Amf0Value Amf0Value::undefined() {
  Amf0Value v;
  v.type_ = Amf0Type::Undefined;
  return v;
}

Amf0Value Amf0Value::object() {
  return object(std::vector<Amf0Property>());
}

Amf0Value Amf0Value::ecma_array() {
  return ecma_array(std::vector<Amf0Property>());
}

Amf0Value Amf0Value::object(std::vector<Amf0Property> properties) {
  Amf0Value v;
  v.type_ = Amf0Type::Object;
  v.properties_ = std::move(properties);
  return v;
}

Amf0Value Amf0Value::ecma_array(std::vector<Amf0Property> properties) {
  Amf0Value v;
  v.type_ = Amf0Type::EcmaArray;
  v.properties_ = std::move(properties);
  return v;
}

Amf0Value Amf0Value::strict_array() {
  return strict_array(std::vector<Amf0Value>());
}

Amf0Value Amf0Value::strict_array(std::vector<Amf0Value> elements) {
  Amf0Value v;
  v.type_ = Amf0Type::StrictArray;
  v.elements_ = std::move(elements);
  return v;
}

Amf0Value Amf0Value::date(double milliseconds, int16_t timezone) {
  Amf0Value v;
  v.type_ = Amf0Type::Date;
  v.number_ = milliseconds;
  v.timezone_ = timezone;
  return v;
}

double Amf0Value::as_number(double fallback) const {
  return type_ == Amf0Type::Number ? number_ : fallback;
}

bool Amf0Value::as_boolean(bool fallback) const {
  return type_ == Amf0Type::Boolean ? boolean_ : fallback;
}

std::string Amf0Value::as_string(std::string_view fallback) const {
  return type_ == Amf0Type::String ? string_ : std::string(fallback);
}

const Amf0Value *Amf0Value::find(std::string_view key) const {
  if (!has_properties()) return nullptr;
  for (const Amf0Property &p : properties_)
    if (p.key == key) return &p.value;
  return nullptr;
}

double Amf0Value::number_property(std::string_view key, double fallback) const {
  const Amf0Value *v = find(key);
  return v ? v->as_number(fallback) : fallback;
}

std::string Amf0Value::string_property(std::string_view key, std::string_view fallback) const {
  const Amf0Value *v = find(key);
  return v ? v->as_string(fallback) : std::string(fallback);
}

void Amf0Value::set(std::string key, Amf0Value value) {
  if (!has_properties()) *this = object();
  for (Amf0Property &p : properties_) {
    if (p.key == key) {
      p.value = std::move(value);
      return;
    }
  }
  properties_.push_back({std::move(key), std::move(value)});
}

std::string Amf0Value::to_string() const {
  std::string out;
  render(*this, &out);
  return out;
}

bool Amf0Value::operator==(const Amf0Value &other) const {
  if (type_ != other.type_) return false;
  switch (type_) {
    case Amf0Type::Number:
      return double_bits(number_) == double_bits(other.number_);
    case Amf0Type::Boolean:
      return boolean_ == other.boolean_;
    case Amf0Type::String:
      return string_ == other.string_;
    case Amf0Type::Object:
    case Amf0Type::EcmaArray:
      return properties_ == other.properties_;
    case Amf0Type::StrictArray:
      return elements_ == other.elements_;
    case Amf0Type::Date:
      return double_bits(number_) == double_bits(other.number_) && timezone_ == other.timezone_;
    case Amf0Type::Null:
    case Amf0Type::Undefined:
      return true;
  }
  return false;
}

Amf0Decoded amf0_decode(std::span<const uint8_t> data, const Amf0Limits &limits) {
  Amf0Decoded result;
  Decoder decoder(data, limits);
  if (decoder.value(&result.value, 0)) {
    result.consumed = decoder.pos();
  } else {
    result.value = Amf0Value();
    result.error = decoder.error();
  }
  return result;
}

bool amf0_decode_all(std::span<const uint8_t> data, std::vector<Amf0Value> *values, std::string *error,
                     const Amf0Limits &limits) {
  values->clear();
  /* one Decoder for the whole body, so max_values bounds the body, and the
   * offsets in errors count from its start */
  Decoder decoder(data, limits);
  while (decoder.remaining() > 0) {
    Amf0Value v;
    if (!decoder.value(&v, 0)) {
      *error = decoder.error();
      values->clear();
      return false;
    }
    values->push_back(std::move(v));
  }
  return true;
}

void amf0_encode(const Amf0Value &value, std::vector<uint8_t> *out) {
  switch (value.type()) {
    case Amf0Type::Number:
      out->push_back(kNumberMarker);
      put_double(out, value.as_number());
      break;
    case Amf0Type::Boolean:
      out->push_back(kBooleanMarker);
      out->push_back(value.as_boolean() ? 1 : 0);
      break;
    case Amf0Type::String: {
      const std::string s = value.as_string();
      if (s.size() > 0xFFFF) {
        out->push_back(kLongStringMarker);
        append_u32(*out, uint32_t(std::min<size_t>(s.size(), 0xFFFFFFFF)));
        out->insert(out->end(), s.begin(), s.begin() + std::min<size_t>(s.size(), 0xFFFFFFFF));
      } else {
        out->push_back(kStringMarker);
        put_short_string(out, s);
      }
      break;
    }
    case Amf0Type::Object:
      out->push_back(kObjectMarker);
      put_properties(out, value.properties());
      break;
    case Amf0Type::EcmaArray:
      out->push_back(kEcmaArrayMarker);
      append_u32(*out, uint32_t(value.properties().size()));
      put_properties(out, value.properties());
      break;
    case Amf0Type::Null:
      out->push_back(kNullMarker);
      break;
    case Amf0Type::Undefined:
      out->push_back(kUndefinedMarker);
      break;
    case Amf0Type::StrictArray:
      out->push_back(kStrictArrayMarker);
      append_u32(*out, uint32_t(value.elements().size()));
      for (const Amf0Value &e : value.elements()) amf0_encode(e, out);
      break;
    case Amf0Type::Date:
      out->push_back(kDateMarker);
      put_double(out, value.date_milliseconds());
      append_u16(*out, uint16_t(value.date_timezone()));
      break;
  }
}

std::vector<uint8_t> amf0_encode_all(const std::vector<Amf0Value> &values) {
  std::vector<uint8_t> out;
  for (const Amf0Value &v : values) amf0_encode(v, &out);
  return out;
}

bool amf0_decode_command(std::span<const uint8_t> body, Amf0Command *command, std::string *error,
                         const Amf0Limits &limits) {
  std::vector<Amf0Value> values;
  if (!amf0_decode_all(body, &values, error, limits)) return false;
  if (values.empty() || !values[0].is_string()) {
    *error = "command message does not start with a command name (string)";
    return false;
  }
  if (values.size() >= 2 && !values[1].is_number()) {
    *error = "command \"" + values[0].as_string() + "\": transaction id is a " +
             amf0_type_name(values[1].type()) + ", not a number";
    return false;
  }
  command->name = values[0].as_string();
  command->transaction_id = values.size() >= 2 ? values[1].as_number() : 0;
  command->command_object = values.size() >= 3 ? std::move(values[2]) : Amf0Value::null();
  command->arguments.clear();
  if (values.size() > 3)
    command->arguments.assign(std::make_move_iterator(values.begin() + 3),
                              std::make_move_iterator(values.end()));
  return true;
}

std::vector<uint8_t> amf0_encode_command(const Amf0Command &command) {
  std::vector<uint8_t> out;
  amf0_encode(Amf0Value::string(command.name), &out);
  amf0_encode(Amf0Value::number(command.transaction_id), &out);
  amf0_encode(command.command_object, &out);
  for (const Amf0Value &v : command.arguments) amf0_encode(v, &out);
  return out;
}

}  // namespace onair::rtmp
