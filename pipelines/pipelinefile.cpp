/* onair — pipeline files: reading the file, parameter declarations and values
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The head (everything before the [launch] line) is read by GKeyFile. The
 * lines are also scanned here, only to know on which line each group and key
 * stands, so that every diagnostic can name it.
 */

#include <glib.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "onairpipeline.h"
#include "pipelineinternal.h"

namespace onair::pipeline {

using namespace detail;

namespace {

const std::vector<std::string> kPipelineKeys = {"name", "description", "version"};
const std::vector<std::string> kParamKeys = {"type", "default", "description", "required",
                                             "min",  "max",     "values"};

struct KeyLine {
  std::string key;
  int line;
};

struct GroupLines {
  std::string name;
  int line;
  std::vector<KeyLine> keys;

  int key_line(std::string_view key) const {
    for (auto &k : keys)
      if (k.key == key) return k.line;
    return line;
  }
};

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string line(text.substr(start, end - start));
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
    if (end == text.size()) break;
    start = end + 1;
  }
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

bool is_numeric(ParameterType type) {
  return type == ParameterType::Int || type == ParameterType::Uint || type == ParameterType::Double ||
         type == ParameterType::Duration;
}

std::optional<ParameterType> type_from_name(std::string_view name) {
  for (size_t i = 0; i < type_names().size(); i++)
    if (type_names()[i] == name) return static_cast<ParameterType>(i);
  return std::nullopt;
}

/* The [launch] references of one line: ${NAME} and ${NAME:UNIT}, and a
 * leading ?{NAME} or ?{!NAME} guard. */
void check_launch_line(const PipelineFile &file, const LaunchLine &launch,
                       const std::set<std::string> &declared, std::set<std::string> *used,
                       Diagnostics *errors) {
  const std::string &text = launch.text;
  std::vector<std::string> names;
  for (auto &p : file.parameters) names.push_back(p.name);
  size_t pos = 0;

  std::string stripped = trim(text);
  if (stripped.rfind("?{", 0) == 0) {
    size_t close = stripped.find('}');
    std::string name = close == std::string::npos ? "" : stripped.substr(2, close - 2);
    if (!name.empty() && name[0] == '!') name.erase(0, 1);
    if (close == std::string::npos || !is_parameter_name(name)) {
      errors->push_back(diagnostic(file.path, launch.line, "",
                                   "a guard is ?{NAME} or ?{!NAME} with NAME a bool parameter"));
      return;
    }
    const Parameter *p = file.find_parameter(name);
    if (!p && declared.count(name)) {
      /* its declaration is wrong, and reported */
    } else if (!p) {
      errors->push_back(
          diagnostic(file.path, launch.line, name,
                     "?{" + name + "} is not a declared parameter" + did_you_mean(name, names)));
    } else if (p->type != ParameterType::Bool) {
      errors->push_back(diagnostic(
          file.path, launch.line, name,
          "?{" + name + "} needs a bool parameter, \"" + name + "\" is " + parameter_type_name(p->type)));
    }
    used->insert(name);
    pos = text.find('}') + 1;
  }

  while ((pos = text.find('$', pos)) != std::string::npos) {
    if (text.compare(pos, 3, "$${") == 0) {
      pos += 3;
      continue;
    }
    if (text.compare(pos, 2, "${") != 0) {
      pos++;
      continue;
    }
    size_t close = text.find('}', pos);
    if (close == std::string::npos) {
      errors->push_back(diagnostic(file.path, launch.line, "", "${ without a closing }"));
      return;
    }
    std::string inner = text.substr(pos + 2, close - pos - 2);
    std::string name = inner, unit;
    size_t colon = inner.find(':');
    if (colon != std::string::npos) {
      name = inner.substr(0, colon);
      unit = inner.substr(colon + 1);
    }
    pos = close + 1;
    if (!is_parameter_name(name)) {
      errors->push_back(
          diagnostic(file.path, launch.line, name,
                     "${" + inner + "} is not a parameter reference (${NAME} or ${NAME:UNIT})"));
      continue;
    }
    used->insert(name);
    const Parameter *p = file.find_parameter(name);
    if (!p && declared.count(name)) continue; /* its declaration is wrong, and reported */
    if (!p) {
      std::string suggestion = closest(name, names).value_or("");
      errors->push_back(
          diagnostic(file.path, launch.line, name,
                     "${" + name + "} is not a declared parameter" +
                         (suggestion.empty() ? std::string() : " (did you mean ${" + suggestion + "}?)")));
    } else if (colon != std::string::npos) {
      if (p->type != ParameterType::Duration)
        errors->push_back(diagnostic(file.path, launch.line, name,
                                     "${" + inner + "}: a unit applies to duration parameters only"));
      else if (!is_duration_unit(unit))
        errors->push_back(diagnostic(file.path, launch.line, name,
                                     "${" + inner + "}: unknown unit \"" + unit + "\" (ns, us, ms or s)"));
    }
  }
}

void parse_parameter(GKeyFile *keyfile, const GroupLines &group, const std::string &path, PipelineFile *file,
                     Diagnostics *errors) {
  const char *g = group.name.c_str();
  Parameter p;
  p.name = group.name.substr(strlen("param "));
  p.line = group.line;
  auto error = [&](std::string_view key, std::string message) {
    errors->push_back(diagnostic(path, key.empty() ? group.line : group.key_line(key), p.name,
                                 "parameter \"" + p.name + "\": " + message));
  };
  if (!is_parameter_name(p.name)) {
    errors->push_back(
        diagnostic(path, group.line, p.name,
                   "[" + group.name + "]: a parameter name has letters, digits, '-' and '_' only"));
    return;
  }
  size_t errors_before = errors->size();

  g_autofree gchar *type = g_key_file_get_string(keyfile, g, "type", nullptr);
  if (!type) {
    error("", "no type (type=" + join(type_names(), "|") + ")");
    return;
  }
  std::string type_name = trim(type);
  auto parsed = type_from_name(type_name);
  if (!parsed) {
    error("type", "unknown type \"" + type_name + "\"" + did_you_mean(type_name, type_names()) +
                      " (types: " + join(type_names(), ", ") + ")");
    return;
  }
  p.type = *parsed;

  g_autofree gchar *description = g_key_file_get_locale_string(keyfile, g, "description", nullptr, nullptr);
  if (description) p.description = description;

  if (g_key_file_has_key(keyfile, g, "required", nullptr)) {
    g_autofree gchar *required = g_key_file_get_string(keyfile, g, "required", nullptr);
    std::string r = trim(required ? required : "");
    if (r != "true" && r != "false")
      error("required", "required=" + r + ": write true or false");
    else
      p.required = r == "true";
  }

  if (g_key_file_has_key(keyfile, g, "values", nullptr)) {
    if (p.type != ParameterType::Enum) {
      error("values", "values= applies to enum parameters only");
    } else {
      gsize n = 0;
      g_auto(GStrv) values = g_key_file_get_string_list(keyfile, g, "values", &n, nullptr);
      for (gsize i = 0; i < n; i++) {
        std::string v = trim(values[i]);
        if (v.empty()) continue;
        if (std::find(p.values.begin(), p.values.end(), v) != p.values.end())
          error("values", "\"" + v + "\" is listed twice in values=");
        p.values.push_back(v);
      }
    }
  }
  if (p.type == ParameterType::Enum && p.values.empty() && errors->size() == errors_before)
    error(g_key_file_has_key(keyfile, g, "values", nullptr) ? "values" : "",
          "an enum needs its values (values=first;second;...)");

  for (const char *bound : {"min", "max"}) {
    if (!g_key_file_has_key(keyfile, g, bound, nullptr)) continue;
    g_autofree gchar *raw = g_key_file_get_string(keyfile, g, bound, nullptr);
    std::string text = trim(raw ? raw : "");
    if (!is_numeric(p.type)) {
      error(bound, std::string(bound) + "= applies to int, uint, double and duration parameters only");
      continue;
    }
    if (!parses_as_number(p.type, text)) {
      error(bound, std::string(bound) + "=" + text + " is not " + type_description(p.type));
      continue;
    }
    (std::string_view(bound) == "min" ? p.minimum : p.maximum) = text;
  }
  if (p.minimum && p.maximum && compare_numbers(p.type, *p.minimum, *p.maximum) > 0)
    error("max", "max=" + *p.maximum + " is below min=" + *p.minimum);

  if (g_key_file_has_key(keyfile, g, "default", nullptr)) {
    g_autofree gchar *raw = g_key_file_get_string(keyfile, g, "default", nullptr);
    std::string value = raw ? raw : "";
    if (p.required) {
      error("default", "a required parameter has no default");
    } else if (errors->size() == errors_before) {
      std::string problem;
      if (!validate_value(p, value, &problem))
        error("default", "default " + problem);
      else
        p.default_value = value;
    }
  } else if (!p.required) {
    error("", "give it a default or required=true");
  }

  file->parameters.push_back(std::move(p));
}

}  // namespace

/* ---- small shared helpers ---- */

/* ---- public API ---- */

const Parameter *PipelineFile::find_parameter(std::string_view wanted) const {
  for (auto &p : parameters)
    if (p.name == wanted) return &p;
  return nullptr;
}

Loaded load_from_data(const std::string &path, std::string_view text) {
  Loaded result;
  Diagnostics &errors = result.errors;
  PipelineFile file;
  file.path = path;

  if (!g_utf8_validate(text.data(), text.size(), nullptr)) {
    errors.push_back(diagnostic(path, 0, "", "is not UTF-8 text"));
    return result;
  }
  std::vector<std::string> lines = split_lines(text);

  /* the [launch] line splits the file: GKeyFile reads what is above it */
  size_t launch_index = lines.size();
  for (size_t i = 0; i < lines.size(); i++)
    if (trim(lines[i]) == "[launch]") {
      launch_index = i;
      break;
    }
  if (launch_index == lines.size()) {
    errors.push_back(diagnostic(path, 0, "", "no [launch] section (the gst-launch description)"));
    return result;
  }
  file.launch_line = launch_index + 1;

  std::vector<GroupLines> groups;
  bool malformed = false;
  for (size_t i = 0; i < launch_index; i++) {
    std::string t = trim(lines[i]);
    int number = i + 1;
    if (t.empty() || t[0] == '#') continue;
    if (t[0] == '[') {
      if (t.back() != ']') {
        errors.push_back(diagnostic(path, number, "", "a group line is [NAME]"));
        malformed = true;
        continue;
      }
      groups.push_back({trim(std::string_view(t).substr(1, t.size() - 2)), number, {}});
      continue;
    }
    size_t equals = t.find('=');
    if (equals == std::string::npos) {
      errors.push_back(diagnostic(path, number, "",
                                  "\"" + t + "\" is neither a [group], a key=value line nor a # comment"));
      malformed = true;
      continue;
    }
    if (groups.empty()) {
      errors.push_back(diagnostic(path, number, "", "key outside a group: start with [pipeline]"));
      malformed = true;
      continue;
    }
    groups.back().keys.push_back({trim(std::string_view(t).substr(0, equals)), number});
  }

  /* groups and keys: known, and each once */
  std::map<std::string, int> seen_groups;
  bool have_pipeline = false;
  for (auto &group : groups) {
    auto [it, inserted] = seen_groups.emplace(group.name, group.line);
    if (!inserted) {
      errors.push_back(diagnostic(
          path, group.line, "",
          "[" + group.name + "] appears twice (first at line " + std::to_string(it->second) + ")"));
      continue;
    }
    const std::vector<std::string> *known = nullptr;
    if (group.name == "pipeline") {
      known = &kPipelineKeys;
      have_pipeline = true;
    } else if (group.name.rfind("param ", 0) == 0) {
      known = &kParamKeys;
    } else {
      errors.push_back(
          diagnostic(path, group.line, "",
                     "unknown group [" + group.name + "] (groups: [pipeline], [param NAME], [launch])"));
      continue;
    }
    std::map<std::string, int> seen_keys;
    for (auto &key : group.keys) {
      auto [kit, kinserted] = seen_keys.emplace(key.key, key.line);
      if (!kinserted) {
        errors.push_back(diagnostic(path, key.line, "",
                                    "key \"" + key.key + "\" appears twice in [" + group.name +
                                        "] (first at line " + std::to_string(kit->second) + ")"));
        continue;
      }
      /* localized variants (description[fr]) are GKeyFile's */
      std::string base = key.key.substr(0, key.key.find('['));
      if (std::find(known->begin(), known->end(), base) == known->end())
        errors.push_back(diagnostic(path, key.line, "",
                                    "unknown key \"" + key.key + "\" in [" + group.name + "]" +
                                        did_you_mean(base, *known) + " (keys: " + join(*known, ", ") + ")"));
    }
  }
  if (malformed) return result;
  if (!have_pipeline)
    errors.push_back(diagnostic(path, 1, "", "no [pipeline] group (name=, description=, version=)"));

  std::string head;
  for (size_t i = 0; i < launch_index; i++) head += lines[i] + "\n";
  g_autoptr(GKeyFile) keyfile = g_key_file_new();
  g_autoptr(GError) error = nullptr;
  if (!g_key_file_load_from_data(keyfile, head.c_str(), head.size(), G_KEY_FILE_NONE, &error)) {
    errors.push_back(diagnostic(path, 1, "", error->message));
    return result;
  }

  std::set<std::string> declared; /* parameters, even those whose declaration is wrong */
  for (auto &group : groups) {
    if (group.name.rfind("param ", 0) == 0) declared.insert(group.name.substr(strlen("param ")));
    if (group.name == "pipeline") {
      g_autofree gchar *name = g_key_file_get_string(keyfile, "pipeline", "name", nullptr);
      g_autofree gchar *description =
          g_key_file_get_locale_string(keyfile, "pipeline", "description", nullptr, nullptr);
      g_autofree gchar *version = g_key_file_get_string(keyfile, "pipeline", "version", nullptr);
      file.name = trim(name ? name : "");
      if (file.name.empty()) errors.push_back(diagnostic(path, group.line, "", "[pipeline] has no name="));
      file.description = description ? description : "";
      file.version = trim(version ? version : "");
    } else if (group.name.rfind("param ", 0) == 0) {
      parse_parameter(keyfile, group, path, &file, &errors);
    }
  }

  for (size_t i = launch_index + 1; i < lines.size(); i++) {
    std::string text = lines[i];
    std::string t = trim(text);
    if (!t.empty() && t[0] == '#') {
      text.clear();
    } else if (!t.empty() && t.back() == '\\' && (t.size() == 1 || g_ascii_isspace(t[t.size() - 2]))) {
      /* a shell line continuation copied from a README is not gst-launch syntax */
      text.erase(text.find_last_of('\\'));
    }
    file.launch.push_back({static_cast<int>(i + 1), text});
  }

  std::set<std::string> used;
  bool any = false;
  for (auto &line : file.launch) {
    check_launch_line(file, line, declared, &used, &errors);
    if (!trim(line.text).empty()) any = true;
  }
  if (!any) errors.push_back(diagnostic(path, file.launch_line, "", "[launch] is empty"));
  for (auto &p : file.parameters)
    if (!used.count(p.name) && errors.empty())
      errors.push_back(
          diagnostic(path, p.line, p.name, "parameter \"" + p.name + "\" is not used in [launch]"));

  if (errors.empty()) result.file = std::move(file);
  return result;
}

Loaded load(const std::string &path) {
  g_autofree gchar *contents = nullptr;
  gsize length = 0;
  g_autoptr(GError) error = nullptr;
  if (!g_file_get_contents(path.c_str(), &contents, &length, &error)) {
    Loaded result;
    result.errors.push_back(diagnostic(path, 0, "", error->message));
    return result;
  }
  return load_from_data(path, std::string_view(contents, length));
}

Resolved resolve(const PipelineFile &file, const Values &given) {
  Resolved result;
  std::vector<std::string> names;
  for (auto &p : file.parameters) names.push_back(p.name);
  for (auto &[name, value] : given) {
    if (file.find_parameter(name)) continue;
    result.errors.push_back(diagnostic(file.path, 0, name,
                                       "unknown parameter \"" + name + "\"" + did_you_mean(name, names) +
                                           " (parameters: " + join(names, ", ") + ")"));
  }
  for (auto &p : file.parameters) {
    auto it = given.find(p.name);
    if (it == given.end()) {
      std::string unused;
      if (p.default_value)
        result.values[p.name] = validate_value(p, *p.default_value, &unused).value_or(*p.default_value);
      else
        result.errors.push_back(diagnostic(file.path, p.line, p.name,
                                           "parameter \"" + p.name + "\" is required and has no value"));
      continue;
    }
    std::string problem;
    auto value = validate_value(p, it->second, &problem);
    if (!value)
      result.errors.push_back(
          diagnostic(file.path, p.line, p.name, "parameter \"" + p.name + "\": " + problem));
    else
      result.values[p.name] = *value;
  }
  return result;
}

}  // namespace onair::pipeline
