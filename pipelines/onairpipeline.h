/* onair — pipeline files: load, resolve parameters, render, check
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A pipeline file (pipelines/README.md) is a GKeyFile head — [pipeline] and one
 * [param NAME] group per parameter — followed by a [launch] section holding a
 * gst-launch description that refers to the parameters as ${NAME}.
 *
 *   auto loaded = onair::pipeline::load("pipelines/test-card.pipeline");
 *   if (!loaded.file) { for (auto &e : loaded.errors) print(e.format()); }
 *   auto rendered = onair::pipeline::render(*loaded.file, {{"output", "/tmp/tc"}});
 *   gst_parse_launch(rendered.description.c_str(), &error);
 *
 * Every problem is a Diagnostic naming the file, the line and the parameter or
 * element at fault; functions collect all of them instead of stopping at the
 * first. load(), resolve() and render() need GLib only; check() needs
 * gst_init().
 */
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace onair::pipeline {

/* One problem in a pipeline file or in the values given for it. */
struct Diagnostic {
  std::string path;    /* the file, as given to load() */
  int line = 0;        /* 1-based line in the file; 0 when no line is at fault */
  std::string subject; /* the parameter or element at fault ("stream-key", "abrladder"); may be empty */
  std::string message; /* what is wrong, without the location */

  /* "path:line: message", or "path: message" without a line. */
  std::string format() const;
};
using Diagnostics = std::vector<Diagnostic>;

enum class ParameterType { String, Int, Uint, Double, Bool, Enum, Duration, Path, Uri };

/* "string", "int", "uint", "double", "bool", "enum", "duration", "path", "uri". */
const char *parameter_type_name(ParameterType type);

struct Parameter {
  std::string name;
  ParameterType type = ParameterType::String;
  std::string description;
  std::optional<std::string> default_value; /* as written in the file */
  bool required = false;
  std::optional<std::string> minimum, maximum; /* int, uint, double, duration; as written */
  std::vector<std::string> values;             /* enum: the allowed values */
  int line = 0;                                /* the [param NAME] line */
};

/* A line of the [launch] section: comment lines are kept empty so that every
 * line keeps its number. */
struct LaunchLine {
  int line = 0;
  std::string text;
};

struct PipelineFile {
  std::string path;
  std::string name;
  std::string description;
  std::string version;
  std::vector<Parameter> parameters; /* in file order */
  int launch_line = 0;               /* the [launch] line */
  std::vector<LaunchLine> launch;    /* the lines after it */

  const Parameter *find_parameter(std::string_view name) const;
};

/* Parameter values by name, as text: "1935", "2.5s", "true", "Channel 1". */
using Values = std::map<std::string, std::string>;

struct Loaded {
  std::optional<PipelineFile> file; /* set when errors is empty */
  Diagnostics errors;
};

/* Reads and validates a pipeline file: the head's groups and keys, every
 * parameter declaration (type, default, range, enum values), and every
 * ${NAME} and ?{NAME} of the [launch] section. */
Loaded load(const std::string &path);
/* The same from text already in memory; `path` names it in diagnostics. */
Loaded load_from_data(const std::string &path, std::string_view text);

struct Resolved {
  Values values; /* every parameter that has a value, defaults included, normalized */
  Diagnostics errors;
};

/* Checks the given values against the declarations (unknown parameter, wrong
 * type, out of range, not one of the enum values, required but missing) and
 * fills in the defaults. Normalized forms: bool "true"/"false", uri a URI
 * (a plain path becomes file:///absolute/path), duration as written. */
Resolved resolve(const PipelineFile &file, const Values &given);

struct RenderedLine {
  int line = 0;     /* in the pipeline file */
  std::string text; /* substituted gst-launch text; empty for comments and lines left out */
};

struct Rendered {
  Diagnostics errors;
  std::vector<RenderedLine> lines;
  /* What gst_parse_launch() takes, on one line. */
  std::string description;
  /* The same as gst-launch-1.0 arguments (gst_parse_launchv() takes them). */
  std::vector<std::string> arguments;
  /* A shell command line running it with gst-launch-1.0 -e, one line of the
   * file per line. */
  std::string command_line;
  /* Why arguments and command_line are empty although the description is
   * fine: a value that gst-launch-1.0's own escaping of its arguments would
   * change (rare: a double quote and a space in one unquoted value). */
  Diagnostics command_line_errors;

  bool ok() const { return errors.empty(); }
};

/* Resolves the values and substitutes them into the [launch] section, each
 * quoted or escaped as gst-launch syntax needs at that place, so that every
 * property receives exactly the given text. */
Rendered render(const PipelineFile &file, const Values &given);

/* render(), then checks the description with GStreamer: every element exists,
 * every property exists, is writable and takes its value, every caps filter
 * parses, every NAME.PAD reference names an element and one of its pads; and
 * finally builds the pipeline with gst_parse_launch_full() (without starting
 * it). Needs gst_init(). Empty when the file can run. */
Diagnostics check(const PipelineFile &file, const Values &given);

}  // namespace onair::pipeline
