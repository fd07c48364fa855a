/* onair — pipeline files: substituting values into the gst-launch description
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A value goes through three readers before it reaches a property: the
 * gst-launch lexer (blanks end a word unless escaped or quoted), the grammar
 * (outer double quotes dropped, backslashes resolved) and
 * gst_value_deserialize() (a string in double quotes is unwrapped, "NULL" is
 * no string at all). Each value is written so that all three give back exactly
 * the text given. See pipelines/README.md, "Values in the description".
 */

#include <glib.h>

#include "onairpipeline.h"
#include "pipelineinternal.h"

namespace onair::pipeline {

using namespace detail;

namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

/* Characters the lexer or the grammar would read specially in an unquoted value. */
bool is_special(char c) {
  return is_blank(c) || c == '"' || c == '\'' || c == '\\';
}

/* Values that gst_value_deserialize() would not keep as they are. */
bool deserializer_changes(const std::string &value) {
  return value == "NULL" || (!value.empty() && value.front() == '"' && value.back() == '"');
}

/* gst_string_wrap(): the serialized form gst_value_deserialize() unwraps;
 * every character outside [A-Za-z0-9_+-/:.] behind a backslash. */
std::string serialized_string(const std::string &value) {
  std::string out = "\"";
  for (char c : value) {
    if (!(g_ascii_isalnum(c) || c == '_' || c == '-' || c == '+' || c == '/' || c == ':' || c == '.'))
      out += '\\';
    out += c;
  }
  return out + "\"";
}

/* Inside "...": the lexer ends the string at an unescaped quote. */
std::string escape_in_quotes(const std::string &value) {
  std::string out;
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string escape_with_backslashes(const std::string &value) {
  std::string out;
  for (char c : value) {
    if (is_special(c)) out += '\\';
    out += c;
  }
  return out;
}

/* A value standing alone after `name=`. */
std::string whole_unquoted_value(const std::string &value) {
  if (value.empty()) return "\"\""; /* `name=` alone would take the next word as its value */
  if (deserializer_changes(value)) return "\"" + escape_in_quotes(serialized_string(value)) + "\"";
  bool special = false;
  for (char c : value) special = special || is_special(c);
  if (!special) return value;
  return "\"" + escape_in_quotes(value) + "\"";
}

/* The word as a gst-launch-1.0 argument: gst_parse_launchv() puts a
 * backslash before every space outside quotes, so those spaces go bare. */
std::optional<std::string> as_argument(const std::string &word) {
  std::string argument;
  bool in_quotes = false; /* launchv_escape()'s view of the argument so far */
  auto append = [&](char c) {
    if (c == '"' && (!in_quotes || argument.back() != '\\')) in_quotes = !in_quotes;
    argument += c;
  };
  for (size_t i = 0; i < word.size(); i++) {
    if (word[i] == '\\' && i + 1 < word.size()) {
      if (word[i + 1] == ' ' && !in_quotes) {
        argument += ' ';
      } else {
        append('\\');
        append(word[i + 1]);
      }
      i++;
    } else {
      append(word[i]);
    }
  }
  if (launchv_escape(argument) != word) return std::nullopt;
  return argument;
}

std::string shell_word(const std::string &argument) {
  if (argument == "!") return argument;
  bool plain = !argument.empty();
  for (char c : argument)
    plain =
        plain && (g_ascii_isalnum(c) || std::string_view("_-+=/.,:@%^").find(c) != std::string_view::npos);
  if (plain) return argument;
  g_autofree gchar *quoted = g_shell_quote(argument.c_str());
  return quoted;
}

}  // namespace

Rendered render(const PipelineFile &file, const Values &given) {
  Rendered result;
  Resolved resolved = resolve(file, given);
  if (!resolved.errors.empty()) {
    result.errors = std::move(resolved.errors);
    return result;
  }
  const Values &values = resolved.values;

  bool in_quotes = false; /* carried from line to line, as the lexer reads them */
  for (const LaunchLine &launch : file.launch) {
    std::string text = launch.text;
    std::string stripped = trim(text);
    if (stripped.rfind("?{", 0) == 0) {
      size_t close = text.find('}');
      std::string name = text.substr(text.find("?{") + 2, close - text.find("?{") - 2);
      bool negated = name[0] == '!';
      if (negated) name.erase(0, 1);
      bool on = values.at(name) == "true";
      if (on == negated) {
        result.lines.push_back({launch.line, ""});
        continue;
      }
      /* keep the indentation, drop the guard */
      text = text.substr(0, text.find("?{")) + text.substr(close + 1);
    }

    std::string out;
    for (size_t i = 0; i < text.size(); i++) {
      char c = text[i];
      if (c == '\\' && i + 1 < text.size()) {
        out += c;
        out += text[++i];
        continue;
      }
      if (c == '"') {
        in_quotes = !in_quotes;
        out += c;
        continue;
      }
      if (text.compare(i, 3, "$${") == 0) {
        out += "${";
        i += 2;
        continue;
      }
      if (text.compare(i, 2, "${") != 0) {
        out += c;
        continue;
      }
      size_t close = text.find('}', i);
      std::string inner = text.substr(i + 2, close - i - 2);
      std::string name = inner.substr(0, inner.find(':'));
      std::string unit = inner.find(':') == std::string::npos ? "" : inner.substr(inner.find(':') + 1);
      const Parameter *parameter = file.find_parameter(name);
      std::string value = values.at(name);
      if (parameter->type == ParameterType::Duration)
        value = format_duration(*parse_duration(value), unit.empty() ? "s" : unit);

      char after = close + 1 < text.size() ? text[close + 1] : '\0';
      /* gst-launch's lexer takes the longest match: a backslash before a blank
       * or a closing quote escapes it, whatever precedes the backslash */
      if (!value.empty() && value.back() == '\\' && (after == '\0' || is_blank(after) || after == '"')) {
        result.errors.push_back(
            diagnostic(file.path, launch.line, name,
                       "parameter \"" + name +
                           "\": gst-launch cannot read a value that ends with a backslash "
                           "before a blank or a quote"));
      } else if (in_quotes) {
        /* name="${x}" : the whole value, in quotes */
        bool whole = i >= 2 && text[i - 1] == '"' && text[i - 2] == '=' && after == '"' &&
                     (close + 2 >= text.size() || is_blank(text[close + 2]));
        if (whole && deserializer_changes(value)) value = serialized_string(value);
        out += escape_in_quotes(value);
      } else {
        bool whole = i >= 1 && text[i - 1] == '=' && (after == '\0' || is_blank(after));
        out += whole ? whole_unquoted_value(value) : escape_with_backslashes(value);
      }
      i = close;
    }
    result.lines.push_back({launch.line, out});
  }
  if (!result.errors.empty()) return result;

  std::vector<std::string> parts, shell_lines;
  for (const RenderedLine &line : result.lines) {
    std::string text = trim(line.text);
    if (text.empty()) continue;
    parts.push_back(text);
    std::vector<std::string> shell_words;
    for (const std::string &word : split_words(text)) {
      auto argument = as_argument(word);
      if (!argument) {
        result.command_line_errors.push_back(diagnostic(
            file.path, line.line, "", "\"" + word + "\" cannot be written as a gst-launch-1.0 argument"));
        continue;
      }
      result.arguments.push_back(*argument);
      shell_words.push_back(shell_word(*argument));
    }
    size_t indent = line.text.find_first_not_of(" \t");
    shell_lines.push_back("  " + line.text.substr(0, indent) + join(shell_words, " "));
  }
  result.description = join(parts, " ");
  if (result.command_line_errors.empty()) {
    result.command_line = "gst-launch-1.0 -e";
    for (auto &l : shell_lines) result.command_line += " \\\n" + l;
    result.command_line += "\n";
  } else {
    result.arguments.clear();
  }
  return result;
}

}  // namespace onair::pipeline
