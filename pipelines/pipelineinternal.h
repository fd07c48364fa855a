/* onair — pipeline files: pieces shared by the loader, the renderer and the checker
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "onairpipeline.h"

namespace onair::pipeline::detail {

std::string trim(std::string_view text);
std::string quoted(std::string_view text); /* "text" */
std::string join(const std::vector<std::string> &items, std::string_view separator);
Diagnostic diagnostic(const std::string &path, int line, std::string subject, std::string message);

/* The candidate closest to `name` by edit distance, when it is close enough
 * to be a likely typo. */
std::optional<std::string> closest(std::string_view name, const std::vector<std::string> &candidates);
/* " (did you mean "x"?)" or "". */
std::string did_you_mean(std::string_view name, const std::vector<std::string> &candidates);

/* Parameter names: letters, digits, '-' and '_'. */
bool is_parameter_name(std::string_view name);

/* Durations: a decimal number with an optional unit, ns us ms s min h
 * (seconds without one): "2", "2.5s", "500ms", "1min". */
std::optional<int64_t> parse_duration(std::string_view text);
/* Nanoseconds in `unit` ("ns", "us", "ms", "s"), as a plain decimal number
 * without trailing zeros: 1500000000 in "s" is "1.5". */
std::string format_duration(int64_t nanoseconds, std::string_view unit);
bool is_duration_unit(std::string_view unit);

/* "string", "int", ... in ParameterType order. */
const std::vector<std::string> &type_names();
/* "an integer", "a duration (e.g. 2s, 500ms, 1.5)", ... */
const char *type_description(ParameterType type);
/* Numbers (int, uint, double, duration) as the parameter's type reads them. */
bool parses_as_number(ParameterType type, const std::string &text);
/* Both must parse: -1, 0 or 1. */
int compare_numbers(ParameterType type, const std::string &a, const std::string &b);

/* Checks one value against its declaration. Returns the normalized value, or
 * nothing with `error` set to a message naming the value. */
std::optional<std::string> validate_value(const Parameter &parameter, const std::string &value,
                                          std::string *error);

/* ---- gst-launch syntax (as gst/parse/parse.l and grammar.y read it) ---- */

enum class TokenKind {
  Element,   /* text: factory name */
  Property,  /* text: property name, value: the value as written */
  Reference, /* text: element name, value: pad name (may be empty); "NAME." or "NAME.PAD" */
  Link,      /* "!"; value: the caps of "! CAPS !" (may be empty) */
  Uri,       /* text: a URI standing for an element (file:///x.mp4) */
  Preset,    /* value: "@preset=NAME" */
  OpenBin,   /* "(" or "TYPE.(": text the bin type, empty for a plain bin */
  CloseBin,  /* ")" */
};

struct Token {
  TokenKind kind;
  int line = 0;
  std::string text;
  std::string value;
};

struct LexError {
  int line = 0;
  std::string message;
};

/* Splits rendered lines into tokens; an error stops at the place it is found. */
std::vector<Token> lex(const std::vector<RenderedLine> &lines, std::optional<LexError> *error);

/* A property value as GStreamer hands it to gst_value_deserialize(): outer
 * double quotes dropped, backslash escapes outside quotes resolved. */
std::string property_value_as_parsed(std::string_view written);

/* The gst-launch words of a rendered line: runs of text split at blanks that
 * are neither escaped nor quoted. */
std::vector<std::string> split_words(std::string_view text);

/* What gst_parse_launchv() does to each argument before joining them with
 * spaces: a backslash before every space outside double quotes. */
std::string launchv_escape(std::string_view argument);

}  // namespace onair::pipeline::detail
