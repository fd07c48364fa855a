/* onair — pipeline files: parameter values (types, ranges, durations) and small helpers
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <glib.h>

#include <algorithm>
#include <cmath>

#include "onairpipeline.h"
#include "pipelineinternal.h"

namespace onair::pipeline {

namespace detail {

namespace {

const std::vector<std::string> kTypeNames = {"string", "int",      "uint", "double", "bool",
                                             "enum",   "duration", "path", "uri"};

bool has_control_characters(const std::string &value) {
  return std::any_of(value.begin(), value.end(), [](char c) { return (unsigned char)c < 0x20 || c == 0x7f; });
}

/* A number of the parameter's type, comparable across types: int64, uint64
 * or double (durations are int64 nanoseconds). */
struct Number {
  enum { Signed, Unsigned, Real } kind;
  int64_t s = 0;
  uint64_t u = 0;
  double d = 0;
};

std::optional<Number> parse_number(ParameterType type, const std::string &text) {
  Number n{};
  switch (type) {
    case ParameterType::Int: {
      gint64 v;
      if (!g_ascii_string_to_signed(text.c_str(), 10, G_MININT64, G_MAXINT64, &v, nullptr))
        return std::nullopt;
      n.kind = Number::Signed;
      n.s = v;
      return n;
    }
    case ParameterType::Uint: {
      guint64 v;
      if (!g_ascii_string_to_unsigned(text.c_str(), 10, 0, G_MAXUINT64, &v, nullptr)) return std::nullopt;
      n.kind = Number::Unsigned;
      n.u = v;
      return n;
    }
    case ParameterType::Double: {
      if (text.empty()) return std::nullopt;
      char *end = nullptr;
      double v = g_ascii_strtod(text.c_str(), &end);
      if (!end || *end != '\0' || !std::isfinite(v)) return std::nullopt;
      n.kind = Number::Real;
      n.d = v;
      return n;
    }
    case ParameterType::Duration: {
      auto v = parse_duration(text);
      if (!v) return std::nullopt;
      n.kind = Number::Signed;
      n.s = *v;
      return n;
    }
    default:
      return std::nullopt;
  }
}

int compare(const Number &a, const Number &b) {
  switch (a.kind) {
    case Number::Signed:
      return a.s < b.s ? -1 : a.s > b.s;
    case Number::Unsigned:
      return a.u < b.u ? -1 : a.u > b.u;
    case Number::Real:
      return a.d < b.d ? -1 : a.d > b.d;
  }
  return 0;
}

}  // namespace

const std::vector<std::string> &type_names() {
  return kTypeNames;
}

std::string quoted(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

const char *type_description(ParameterType type) {
  switch (type) {
    case ParameterType::Int:
      return "an integer";
    case ParameterType::Uint:
      return "an unsigned integer";
    case ParameterType::Double:
      return "a number";
    case ParameterType::Duration:
      return "a duration (e.g. 2s, 500ms, 1.5)";
    default:
      return "a value";
  }
}

bool parses_as_number(ParameterType type, const std::string &text) {
  return parse_number(type, text).has_value();
}

int compare_numbers(ParameterType type, const std::string &a, const std::string &b) {
  return compare(*parse_number(type, a), *parse_number(type, b));
}

std::string trim(std::string_view text) {
  size_t start = 0, end = text.size();
  while (start < end && g_ascii_isspace(text[start])) start++;
  while (end > start && g_ascii_isspace(text[end - 1])) end--;
  return std::string(text.substr(start, end - start));
}

std::string join(const std::vector<std::string> &items, std::string_view separator) {
  std::string out;
  for (size_t i = 0; i < items.size(); i++) {
    if (i) out += separator;
    out += items[i];
  }
  return out;
}

Diagnostic diagnostic(const std::string &path, int line, std::string subject, std::string message) {
  return Diagnostic{path, line, std::move(subject), std::move(message)};
}

static size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); j++) row[j] = j;
  for (size_t i = 1; i <= a.size(); i++) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); j++) {
      size_t above = row[j];
      bool same = g_ascii_tolower(a[i - 1]) == g_ascii_tolower(b[j - 1]);
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::optional<std::string> closest(std::string_view name, const std::vector<std::string> &candidates) {
  std::optional<std::string> best;
  size_t best_distance = std::max<size_t>(2, name.size() / 3) + 1;
  for (auto &candidate : candidates) {
    if (candidate == name) continue;
    size_t d = edit_distance(name, candidate);
    /* a prefix typed in full ("gop" for "gop-duration") counts as close */
    if (candidate.size() > name.size() + 2 && name.size() >= 3 &&
        candidate.compare(0, name.size(), name) == 0)
      d = std::min<size_t>(d, 2);
    /* and a name that starts with one ("integer" for "int") */
    if (name.size() > candidate.size() + 2 && candidate.size() >= 3 &&
        name.compare(0, candidate.size(), candidate) == 0)
      d = std::min<size_t>(d, 2);
    if (d < best_distance && d < std::max(name.size(), candidate.size())) {
      best_distance = d;
      best = candidate;
    }
  }
  return best;
}

std::string did_you_mean(std::string_view name, const std::vector<std::string> &candidates) {
  auto best = closest(name, candidates);
  return best ? " (did you mean \"" + *best + "\"?)" : "";
}

bool is_parameter_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(),
                                      [](char c) { return g_ascii_isalnum(c) || c == '-' || c == '_'; });
}

static const struct {
  const char *name;
  int64_t nanoseconds;
} kDurationUnits[] = {{"ns", 1},         {"us", 1000},           {"ms", 1000000},
                      {"s", 1000000000}, {"min", 60000000000LL}, {"h", 3600000000000LL}};

bool is_duration_unit(std::string_view unit) {
  return unit == "ns" || unit == "us" || unit == "ms" || unit == "s";
}

std::optional<int64_t> parse_duration(std::string_view text) {
  std::string t = trim(text);
  size_t i = 0;
  std::string whole, fraction;
  while (i < t.size() && g_ascii_isdigit(t[i])) whole += t[i++];
  if (i < t.size() && t[i] == '.') {
    i++;
    while (i < t.size() && g_ascii_isdigit(t[i])) fraction += t[i++];
  }
  if (whole.empty() && fraction.empty()) return std::nullopt;
  std::string unit = trim(std::string_view(t).substr(i));
  int64_t scale = 0;
  if (unit.empty()) unit = "s";
  for (auto &u : kDurationUnits)
    if (unit == u.name) scale = u.nanoseconds;
  if (!scale) return std::nullopt;
  /* exact decimal arithmetic: "0.1s" is 100000000 ns, not 99999999 */
  guint64 w = 0;
  if (!whole.empty() && !g_ascii_string_to_unsigned(whole.c_str(), 10, 0, G_MAXINT64 / scale, &w, nullptr))
    return std::nullopt;
  int64_t total = (int64_t)w * scale;
  int64_t place = scale;
  for (char digit : fraction) {
    if (place % 10 != 0) {
      if (digit != '0') return std::nullopt; /* finer than a nanosecond */
      continue;
    }
    place /= 10;
    total += (digit - '0') * place;
  }
  return total;
}

std::string format_duration(int64_t nanoseconds, std::string_view unit) {
  int64_t scale = 1000000000;
  for (auto &u : kDurationUnits)
    if (unit == u.name) scale = u.nanoseconds;
  std::string out = std::to_string(nanoseconds / scale);
  int64_t rest = nanoseconds % scale;
  if (rest) {
    std::string digits = std::to_string(rest);
    int width = 0;
    for (int64_t s = scale; s > 1; s /= 10) width++;
    digits.insert(0, width - digits.size(), '0');
    while (!digits.empty() && digits.back() == '0') digits.pop_back();
    out += "." + digits;
  }
  return out;
}

std::optional<std::string> validate_value(const Parameter &p, const std::string &value, std::string *error) {
  std::string text = trim(value);
  switch (p.type) {
    case ParameterType::String:
    case ParameterType::Path:
      if (!g_utf8_validate(value.c_str(), value.size(), nullptr)) {
        *error = "is not valid UTF-8";
        return std::nullopt;
      }
      if (has_control_characters(value)) {
        g_autofree gchar *escaped = g_strescape(value.c_str(), nullptr);
        *error = quoted(escaped) + " contains a control character";
        return std::nullopt;
      }
      return value;
    case ParameterType::Bool: {
      g_autofree gchar *lower = g_ascii_strdown(text.c_str(), -1);
      std::string l = lower;
      if (l == "true" || l == "yes" || l == "on" || l == "1") return std::string("true");
      if (l == "false" || l == "no" || l == "off" || l == "0") return std::string("false");
      *error = quoted(value) + " is not a bool (true or false)";
      return std::nullopt;
    }
    case ParameterType::Enum:
      if (std::find(p.values.begin(), p.values.end(), text) == p.values.end()) {
        *error = quoted(value) + " is not one of " + join(p.values, ", ") + did_you_mean(text, p.values);
        return std::nullopt;
      }
      return text;
    case ParameterType::Uri: {
      if (text.empty()) return text;
      if (has_control_characters(text) || !g_utf8_validate(text.c_str(), text.size(), nullptr)) {
        *error = quoted(value) + " is not a URI or a path";
        return std::nullopt;
      }
      if (g_uri_peek_scheme(text.c_str())) {
        if (!g_uri_is_valid(text.c_str(), G_URI_FLAGS_NONE, nullptr)) {
          *error = quoted(value) + " is not a valid URI";
          return std::nullopt;
        }
        return text;
      }
      /* a plain path: a file URI, absolute from the working directory */
      g_autofree gchar *absolute = g_canonicalize_filename(text.c_str(), nullptr);
      g_autofree gchar *uri = g_filename_to_uri(absolute, nullptr, nullptr);
      if (!uri) {
        *error = quoted(value) + " is not a URI or a path";
        return std::nullopt;
      }
      return std::string(uri);
    }
    case ParameterType::Int:
    case ParameterType::Uint:
    case ParameterType::Double:
    case ParameterType::Duration: {
      auto number = parse_number(p.type, text);
      if (!number) {
        *error = quoted(value) + " is not " + type_description(p.type);
        return std::nullopt;
      }
      if (p.minimum && compare(*number, *parse_number(p.type, *p.minimum)) < 0) {
        *error = text + " is below the minimum " + *p.minimum;
        return std::nullopt;
      }
      if (p.maximum && compare(*number, *parse_number(p.type, *p.maximum)) > 0) {
        *error = text + " is above the maximum " + *p.maximum;
        return std::nullopt;
      }
      return text;
    }
  }
  return std::nullopt;
}

}  // namespace detail

std::string Diagnostic::format() const {
  if (line > 0) return path + ":" + std::to_string(line) + ": " + message;
  return path + ": " + message;
}

const char *parameter_type_name(ParameterType type) {
  return detail::type_names()[static_cast<size_t>(type)].c_str();
}

}  // namespace onair::pipeline
