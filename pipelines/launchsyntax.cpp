/* onair — pipeline files: reading gst-launch syntax
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Only as much of GStreamer's gst-launch grammar (gst/parse/parse.l,
 * grammar.y) as is needed to say on which line an element, a property or a
 * reference stands. GStreamer itself has the last word: check() builds the
 * pipeline with gst_parse_launch_full() once these checks pass.
 */

#include <glib.h>

#include "pipelineinternal.h"

namespace onair::pipeline::detail {

namespace {

bool is_identifier_char(char c) {
  return g_ascii_isalnum(c) || c == '_' || c == '-' || c == '%' || c == ':';
}

class Text {
 public:
  explicit Text(const std::vector<RenderedLine> &lines) {
    for (auto &line : lines) {
      starts_.push_back({text_.size(), line.line});
      text_ += line.text;
      text_ += '\n';
    }
  }
  const std::string &str() const { return text_; }
  size_t size() const { return text_.size(); }
  char at(size_t i) const { return i < text_.size() ? text_[i] : '\0'; }
  int line_of(size_t offset) const {
    int line = 0;
    for (auto &[start, number] : starts_)
      if (start <= offset) line = number;
    return line;
  }
  size_t skip_space(size_t i) const {
    while (i < text_.size() && g_ascii_isspace(text_[i])) i++;
    return i;
  }

 private:
  std::string text_;
  std::vector<std::pair<size_t, int>> starts_;
};

/* "video/x-raw", "audio/mpeg,...": a media type where an element could stand. */
bool looks_like_caps(const Text &t, size_t i) {
  if (!g_ascii_isalpha(t.at(i))) return false;
  size_t j = i;
  while (g_ascii_isalnum(t.at(j)) || t.at(j) == '-' || t.at(j) == '.' || t.at(j) == '+' || t.at(j) == '_')
    j++;
  return t.at(j) == '/' && t.at(j + 1) != '/';
}

/* "rtmp://...", "file:///...": a URI standing for an element. */
bool looks_like_uri(const Text &t, size_t i) {
  if (!g_ascii_isalpha(t.at(i))) return false;
  size_t j = i;
  while (g_ascii_isalnum(t.at(j)) || t.at(j) == '+' || t.at(j) == '-' || t.at(j) == '.') j++;
  return t.at(j) == ':' && t.at(j + 1) == '/' && t.at(j + 2) == '/';
}

/* A value: "quoted" (\" inside), 'quoted', or a run of non-blank characters
 * where a backslash takes the next character along. Returns the end, or
 * npos for an unterminated quote. */
size_t value_end(const Text &t, size_t i) {
  char quote = t.at(i);
  if (quote == '"' || quote == '\'') {
    for (size_t j = i + 1; j < t.size(); j++) {
      if (t.at(j) == '\\') {
        j++;
        continue;
      }
      if (t.at(j) == quote) return j + 1;
    }
    return std::string::npos;
  }
  size_t j = i;
  while (j < t.size() && !g_ascii_isspace(t.at(j))) j += t.at(j) == '\\' && j + 1 < t.size() ? 2 : 1;
  return j;
}

}  // namespace

std::vector<Token> lex(const std::vector<RenderedLine> &lines, std::optional<LexError> *error) {
  Text t(lines);
  std::vector<Token> tokens;
  size_t i = 0;
  auto fail = [&](size_t at, std::string message) {
    *error = LexError{t.line_of(at), std::move(message)};
    return tokens;
  };
  while ((i = t.skip_space(i)) < t.size()) {
    size_t start = i;
    int line = t.line_of(start);
    char c = t.at(i);
    if (c == '!') {
      size_t j = t.skip_space(i + 1);
      std::string caps;
      if (looks_like_caps(t, j)) {
        size_t close = t.str().find('!', j);
        if (close == std::string::npos) return fail(j, "the caps after ! must be followed by another !");
        caps = trim(std::string_view(t.str()).substr(j, close - j));
        i = close + 1;
      } else {
        i++;
      }
      tokens.push_back({TokenKind::Link, line, "!", caps});
    } else if (c == '(') {
      tokens.push_back({TokenKind::OpenBin, line, "", ""});
      i++;
    } else if (c == ')') {
      tokens.push_back({TokenKind::CloseBin, line, "", ""});
      i++;
    } else if (c == '.') {
      size_t j = i + 1;
      while (is_identifier_char(t.at(j))) j++;
      tokens.push_back({TokenKind::Reference, line, "", t.str().substr(i + 1, j - i - 1)});
      i = j;
    } else if (c == '@') {
      size_t equals = t.str().find('=', i);
      size_t end = equals == std::string::npos ? std::string::npos : value_end(t, t.skip_space(equals + 1));
      if (end == std::string::npos) return fail(i, "a preset is @preset=NAME");
      tokens.push_back({TokenKind::Preset, line, "", t.str().substr(i, end - i)});
      i = end;
    } else if (looks_like_uri(t, i)) {
      size_t end = value_end(t, i);
      tokens.push_back({TokenKind::Uri, line, t.str().substr(i, end - i), ""});
      i = end;
    } else if (is_identifier_char(c)) {
      size_t j = i;
      while (is_identifier_char(t.at(j))) j++;
      std::string identifier = t.str().substr(i, j - i);
      size_t k = t.skip_space(j);
      if (t.at(k) == '=') {
        size_t value_start = t.skip_space(k + 1);
        size_t end = value_end(t, value_start);
        if (end == std::string::npos)
          return fail(value_start, "unterminated quote in the value of " + identifier);
        tokens.push_back(
            {TokenKind::Property, line, identifier, t.str().substr(value_start, end - value_start)});
        i = end;
      } else if (t.at(j) == '.') {
        if (t.at(j + 1) == '(') {
          tokens.push_back({TokenKind::OpenBin, line, identifier, ""});
          i = j + 2;
        } else {
          size_t p = j + 1;
          while (is_identifier_char(t.at(p))) p++;
          tokens.push_back({TokenKind::Reference, line, identifier, t.str().substr(j + 1, p - j - 1)});
          i = p;
        }
      } else {
        tokens.push_back({TokenKind::Element, line, identifier, ""});
        i = j;
      }
    } else {
      return fail(i, std::string("unexpected \"") + c + "\"");
    }
  }
  return tokens;
}

std::string property_value_as_parsed(std::string_view written) {
  std::string value(written);
  /* grammar.y: a value delimited with double quotes loses them */
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
    value = value.substr(1, value.size() - 2);
  /* types.h gst_parse_unescape(): outside quotes a backslash takes the next
   * character literally; inside, everything stays */
  std::string out;
  bool in_quotes = false;
  for (size_t i = 0; i < value.size(); i++) {
    char c = value[i];
    if (c == '\\' && !in_quotes) {
      if (++i >= value.size()) break;
      c = value[i];
    } else if (c == '"' && (!in_quotes || value[i - 1] != '\\')) {
      in_quotes = !in_quotes;
    }
    out += c;
  }
  return out;
}

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  bool in_quotes = false, in_word = false;
  for (size_t i = 0; i < text.size(); i++) {
    char c = text[i];
    if (!in_quotes && g_ascii_isspace(c)) {
      if (in_word) words.push_back(word);
      word.clear();
      in_word = false;
      continue;
    }
    in_word = true;
    word += c;
    if (c == '\\' && i + 1 < text.size()) {
      word += text[++i];
    } else if (c == '"') {
      in_quotes = !in_quotes;
    }
  }
  if (in_word) words.push_back(word);
  return words;
}

std::string launchv_escape(std::string_view argument) {
  /* gstparse.c _gst_parse_escape() */
  std::string out;
  bool in_quotes = false;
  for (size_t i = 0; i < argument.size(); i++) {
    char c = argument[i];
    if (c == '"' && (!in_quotes || argument[i - 1] != '\\')) in_quotes = !in_quotes;
    if (c == ' ' && !in_quotes) out += '\\';
    out += c;
  }
  return out;
}

}  // namespace onair::pipeline::detail
