/* onair — pipeline files: loading, values, rendering and checking
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* C++ and project headers before gstcheck.h, whose fail() macro breaks <iostream> */
#include <string>
#include <vector>

#include "onairpipeline.h"

#include <gst/check/gstcheck.h>

namespace pipeline = onair::pipeline;

static std::string source_root() {
  const char *root = g_getenv("ONAIR_SOURCE_ROOT");
  return root ? root : ".";
}

static std::string shipped(const std::string &name) {
  return source_root() + "/pipelines/" + name + ".pipeline";
}

static std::string formatted(const pipeline::Diagnostics &errors) {
  std::string out;
  for (auto &e : errors) out += e.format() + "\n";
  return out;
}

static pipeline::PipelineFile load_text(const std::string &text) {
  auto loaded = pipeline::load_from_data("test.pipeline", text);
  fail_unless(loaded.file.has_value(), "does not load:\n%s", formatted(loaded.errors).c_str());
  return *loaded.file;
}

/* Asserts the exact diagnostics, in order. */
static void assert_errors(const pipeline::Diagnostics &errors, const std::vector<std::string> &expected) {
  std::string got = formatted(errors);
  std::string want;
  for (auto &e : expected) want += e + "\n";
  fail_unless(got == want, "diagnostics differ\n--- got:\n%s--- expected:\n%s", got.c_str(), want.c_str());
}

static pipeline::Diagnostics load_errors(const std::string &text) {
  auto loaded = pipeline::load_from_data("broken.pipeline", text);
  fail_if(loaded.file.has_value() && !loaded.errors.empty());
  return loaded.errors;
}

static std::string string_property(GstElement *bin, const char *name, const char *property) {
  GstElement *element = gst_bin_get_by_name(GST_BIN(bin), name);
  fail_unless(element != NULL, "no element %s", name);
  gchar *value = NULL;
  g_object_get(element, property, &value, NULL);
  std::string out = value ? value : "(NULL)";
  g_free(value);
  gst_object_unref(element);
  return out;
}

static GstElement *parse(const std::string &description) {
  GError *error = NULL;
  GstElement *element = gst_parse_launch_full(description.c_str(), NULL, GST_PARSE_FLAG_FATAL_ERRORS, &error);
  fail_unless(element != NULL && error == NULL, "%s: %s", description.c_str(), error ? error->message : "");
  return GST_ELEMENT(gst_object_ref_sink(element));
}

static GstElement *parse_arguments(const std::vector<std::string> &arguments) {
  std::vector<const gchar *> argv;
  for (auto &a : arguments) argv.push_back(a.c_str());
  argv.push_back(NULL);
  GError *error = NULL;
  GstElement *element = gst_parse_launchv_full(argv.data(), NULL, GST_PARSE_FLAG_FATAL_ERRORS, &error);
  fail_unless(element != NULL && error == NULL, "%s", error ? error->message : "");
  return GST_ELEMENT(gst_object_ref_sink(element));
}

/* The arguments a shell gives gst-launch-1.0 for the printed command line. */
static std::vector<std::string> shell_arguments(const std::string &command_line) {
  gint argc = 0;
  gchar **argv = NULL;
  GError *error = NULL;
  fail_unless(g_shell_parse_argv(command_line.c_str(), &argc, &argv, &error), "%s",
              error ? error->message : "");
  fail_unless(argc >= 2 && g_str_equal(argv[0], "gst-launch-1.0") && g_str_equal(argv[1], "-e"));
  std::vector<std::string> out(argv + 2, argv + argc);
  g_strfreev(argv);
  return out;
}

GST_START_TEST(test_shipped_files_load) {
  for (const char *name : {"live-abr", "srt-abr", "file-vod", "test-card"}) {
    auto loaded = pipeline::load(shipped(name));
    fail_unless(loaded.file.has_value(), "%s:\n%s", name, formatted(loaded.errors).c_str());
    fail_unless(loaded.file->name == name, "%s is named %s", name, loaded.file->name.c_str());
    fail_if(loaded.file->description.empty());
    const pipeline::Parameter *output = loaded.file->find_parameter("output");
    fail_unless(output && output->required && output->type == pipeline::ParameterType::Path);
  }

  /* the parameter list an API exposes: names, types, defaults, ranges */
  auto file = *pipeline::load(shipped("test-card")).file;
  const pipeline::Parameter *gop = file.find_parameter("gop-duration");
  fail_unless(gop && gop->type == pipeline::ParameterType::Duration);
  fail_unless(gop->default_value == "2s" && gop->minimum == "100ms" && gop->maximum == "60s");
  fail_unless(g_str_equal(pipeline::parameter_type_name(gop->type), "duration"));
  const pipeline::Parameter *pattern = file.find_parameter("pattern");
  fail_unless(pattern && pattern->type == pipeline::ParameterType::Enum && pattern->default_value == "smpte");
  fail_unless(pattern->values.size() == 10 && pattern->values[1] == "smpte75");
  fail_unless(file.parameters.front().name == "output", "parameters keep the file's order");
  fail_unless(file.find_parameter("nonexistent") == NULL);
}
GST_END_TEST;

GST_START_TEST(test_shipped_files_check) {
  std::vector<std::pair<std::string, pipeline::Values>> files = {
      {"live-abr", {{"output", "/tmp/onair-check"}, {"stream-key", "secret"}}},
      {"srt-abr", {{"output", "/tmp/onair-check"}}},
      {"file-vod", {{"output", "/tmp/onair-check"}, {"input", "/nonexistent/input.mp4"}}},
      {"file-vod", {{"output", "/tmp/onair-check"}, {"input", "/nonexistent/input.mp4"}, {"audio", "false"}}},
      {"test-card", {{"output", "/tmp/onair-check"}}},
  };
  for (auto &[name, values] : files) {
    auto file = *pipeline::load(shipped(name)).file;
    auto errors = pipeline::check(file, values);
    fail_unless(errors.empty(), "%s:\n%s", name.c_str(), formatted(errors).c_str());
  }
  /* elements the daemon drives are found by name */
  for (auto &[name, values] : files) {
    if (name == "file-vod") continue;
    auto file = *pipeline::load(shipped(name)).file;
    auto rendered = pipeline::render(file, values);
    fail_unless(rendered.ok(), "%s", formatted(rendered.errors).c_str());
    GstElement *bin = parse(rendered.description);
    for (const char *element : {"input", "flash", "reactions", "ads", "ladder", "sink"}) {
      if (name == "test-card" && g_str_equal(element, "input")) continue;
      GstElement *found = gst_bin_get_by_name(GST_BIN(bin), element);
      fail_unless(found != NULL, "%s has no element named %s", name.c_str(), element);
      gst_object_unref(found);
    }
    gst_object_unref(bin);
  }
}
GST_END_TEST;

/* Every value reaches the property exactly, whether ${v} stands alone after
 * `text=`, inside quotes, or inside a longer value; through
 * gst_parse_launch(), through gst_parse_launchv() (gst-launch-1.0's
 * arguments) and through a shell reading the printed command line. */
GST_START_TEST(test_render_round_trip) {
  const std::vector<std::string> values = {"plain",
                                           "",
                                           "Channel 1",
                                           "two  spaces",
                                           " leading and trailing ",
                                           "say \"hi\"",
                                           "\"fully quoted\"",
                                           "\"",
                                           "\"\"",
                                           "NULL",
                                           "back\\slash",
                                           "ends with \\",
                                           "\\\\ double",
                                           "\\\" escaped",
                                           "it's",
                                           "'single'",
                                           "a!b",
                                           " ! fakesink",
                                           "x=y",
                                           "720p:2800,480p:1400",
                                           "semi;colon",
                                           "(paren) [bracket] {brace}",
                                           "#hash",
                                           "$HOME `date` $(date) *.mp4 ~",
                                           "${output}",
                                           "a\"b c",
                                           "(int)5",
                                           "{a,b} <1,2> [1,2]",
                                           "video/x-raw,width=1",
                                           "t. ! queue",
                                           "=",
                                           "@preset=x",
                                           "ünïcødé 🎬 ニュース"};
  const std::vector<std::pair<std::string, std::string>> templates = {
      {"uridecodebin name=t uri=${v} ! fakesink", "%s"},
      {"uridecodebin name=t uri=\"${v}\" ! fakesink", "%s"},
      {"uridecodebin name=t uri=/dir/${v}/end ! fakesink", "/dir/%s/end"},
      {"uridecodebin name=t uri=\"< ${v} >\" ! fakesink", "< %s >"},
  };
  for (auto &[launch, expected_format] : templates) {
    auto file = load_text("[pipeline]\nname=round-trip\n[param v]\ntype=string\ndefault=\n[launch]\n" +
                          launch + "\n");
    for (auto &value : values) {
      std::string expected = expected_format;
      expected.replace(expected.find("%s"), 2, value);
      auto rendered = pipeline::render(file, {{"v", value}});
      size_t after = launch.find("${v}") + 4;
      bool backslash_before_blank =
          !value.empty() && value.back() == '\\' && (launch[after] == ' ' || launch[after] == '"');
      if (backslash_before_blank) {
        /* gst-launch cannot read it: said so, with the line */
        fail_unless(!rendered.ok() && rendered.errors[0].line == 7, "[%s] in [%s]", value.c_str(),
                    launch.c_str());
        continue;
      }
      fail_unless(rendered.ok(), "[%s]: %s", value.c_str(), formatted(rendered.errors).c_str());

      GstElement *bin = parse(rendered.description);
      std::string got = string_property(bin, "t", "uri");
      fail_unless(got == expected, "gst_parse_launch: [%s] became [%s] in: %s", expected.c_str(), got.c_str(),
                  rendered.description.c_str());
      gst_object_unref(bin);

      fail_unless(rendered.command_line_errors.empty(), "[%s]: %s", value.c_str(),
                  formatted(rendered.command_line_errors).c_str());
      bin = parse_arguments(rendered.arguments);
      got = string_property(bin, "t", "uri");
      fail_unless(got == expected, "gst_parse_launchv: [%s] became [%s]", expected.c_str(), got.c_str());
      gst_object_unref(bin);

      auto from_shell = shell_arguments(rendered.command_line);
      fail_unless(from_shell == rendered.arguments, "the shell reads other arguments: %s",
                  rendered.command_line.c_str());
    }
  }
}
GST_END_TEST;

GST_START_TEST(test_values_are_typed) {
  auto file = load_text(
      "[pipeline]\nname=typed\n"
      "[param d]\ntype=duration\ndefault=1.5s\n"
      "[param flag]\ntype=bool\ndefault=yes\n"
      "[param n]\ntype=double\ndefault=0.25\n"
      "[param u]\ntype=uri\ndefault=/srv/input.mp4\n"
      "[launch]\n"
      "fakesrc ! fakesink name=a${d} name=b${d:ms} name=c${d:us} name=d${d:ns} name=${flag} name=${n} "
      "name=${u}\n");
  auto resolved = pipeline::resolve(file, {});
  fail_unless(resolved.errors.empty());
  fail_unless(resolved.values.at("flag") == "true", "bool normalized: %s",
              resolved.values.at("flag").c_str());
  fail_unless(resolved.values.at("u") == "file:///srv/input.mp4", "a path becomes a file URI: %s",
              resolved.values.at("u").c_str());
  auto rendered = pipeline::render(file, {});
  fail_unless(
      rendered.description ==
          "fakesrc ! fakesink name=a1.5 name=b1500 name=c1500000 name=d1500000000 name=true name=0.25 "
          "name=file:///srv/input.mp4",
      "%s", rendered.description.c_str());

  rendered = pipeline::render(file, {{"d", "250ms"}, {"flag", "off"}, {"u", "rtmp://host/app/key"}});
  fail_unless(rendered.description ==
                  "fakesrc ! fakesink name=a0.25 name=b250 name=c250000 name=d250000000 name=false name=0.25 "
                  "name=rtmp://host/app/key",
              "%s", rendered.description.c_str());
  rendered = pipeline::render(file, {{"d", "1min"}});
  fail_unless(rendered.description.find("name=a60 name=b60000 ") != std::string::npos, "%s",
              rendered.description.c_str());
  rendered = pipeline::render(file, {{"d", "0.000000001"}});
  fail_unless(
      rendered.description.find("name=a0.000000001 name=b0.000001 name=c0.001 name=d1 ") != std::string::npos,
      "%s", rendered.description.c_str());
}
GST_END_TEST;

GST_START_TEST(test_guards) {
  auto file = load_text(
      "[pipeline]\nname=guards\n[param audio]\ntype=bool\ndefault=true\n[launch]\n"
      "videotestsrc ! fakesink\n"
      "  ?{audio} audiotestsrc ! fakesink name=with\n"
      "?{!audio} fakesrc ! fakesink name=without\n");
  auto rendered = pipeline::render(file, {});
  fail_unless(rendered.description == "videotestsrc ! fakesink audiotestsrc ! fakesink name=with", "%s",
              rendered.description.c_str());
  fail_unless(rendered.lines[1].line == 8 &&
              rendered.lines[1].text == "   audiotestsrc ! fakesink name=with");
  rendered = pipeline::render(file, {{"audio", "false"}});
  fail_unless(rendered.description == "videotestsrc ! fakesink fakesrc ! fakesink name=without", "%s",
              rendered.description.c_str());
  fail_unless(rendered.lines[1].text.empty(), "a line left out keeps its place");
}
GST_END_TEST;

GST_START_TEST(test_launch_lines) {
  /* comments keep their line numbers; a shell continuation is dropped; $${ is a literal ${ */
  auto file = load_text(
      "[pipeline]\nname=lines\n[param n]\ntype=int\ndefault=1\n[launch]\n"
      "# a comment that ends like a continuation \\\n"
      "fakesrc num-buffers=${n} \\\n"
      "  ! fakesink name=a$${b}\n");
  fail_unless(file.launch_line == 6 && file.launch.size() == 3 && file.launch[0].text.empty());
  auto rendered = pipeline::render(file, {});
  fail_unless(rendered.description == "fakesrc num-buffers=1 ! fakesink name=a${b}", "%s",
              rendered.description.c_str());
  fail_unless(rendered.lines[1].line == 8);
  GstElement *bin = parse(rendered.description);
  fail_unless(string_property(bin, "a${b}", "name") == "a${b}");
  gst_object_unref(bin);
}
GST_END_TEST;

GST_START_TEST(test_declaration_errors) {
  /* the head: groups, keys, lines */
  assert_errors(
      load_errors(
          "[pipeline]\nname=x\n[parm a]\ntype=int\n[pipeline]\nname=y\n[launch]\nfakesrc ! fakesink\n"),
      {"broken.pipeline:3: unknown group [parm a] (groups: [pipeline], [param NAME], [launch])",
       "broken.pipeline:5: [pipeline] appears twice (first at line 1)"});
  assert_errors(load_errors("[pipeline]\nname=x\nfoo bar\n[launch]\nfakesrc ! fakesink\n"),
                {"broken.pipeline:3: \"foo bar\" is neither a [group], a key=value line nor a # comment"});
  assert_errors(load_errors("name=x\n[launch]\nfakesrc ! fakesink\n"),
                {"broken.pipeline:1: key outside a group: start with [pipeline]"});
  assert_errors(load_errors("[pipeline]\nname=x\n"),
                {"broken.pipeline: no [launch] section (the gst-launch description)"});
  assert_errors(load_errors("[pipeline]\nname=x\n[launch]\n# nothing\n\n"),
                {"broken.pipeline:3: [launch] is empty"});
  assert_errors(load_errors("[pipeline]\nname=x\nname=y\n[launch]\nfakesrc ! fakesink\n"),
                {"broken.pipeline:3: key \"name\" appears twice in [pipeline] (first at line 2)"});
  assert_errors(load_errors("[pipeline]\ndescription=no name\n[launch]\nfakesrc ! fakesink\n"),
                {"broken.pipeline:1: [pipeline] has no name="});
  assert_errors(
      load_errors("[param a]\ntype=int\ndefault=1\n[launch]\nfakesrc num-buffers=${a} ! fakesink\n"),
      {"broken.pipeline:1: no [pipeline] group (name=, description=, version=)"});

  /* parameter declarations: all of them, each at its line */
  assert_errors(
      load_errors("[pipeline]\n"                            /* 1 */
                  "name=x\n"                                /* 2 */
                  "[param port]\n"                          /* 3 */
                  "type=uint\n"                             /* 4 */
                  "default=-1\n"                            /* 5 */
                  "[param size]\n"                          /* 6 */
                  "type=integer\n"                          /* 7 */
                  "[param preset]\n"                        /* 8 */
                  "type=enum\n"                             /* 9 */
                  "values=fast;slow\n"                      /* 10 */
                  "default=fastest\n"                       /* 11 */
                  "[param gop]\n"                           /* 12 */
                  "type=duration\n"                         /* 13 */
                  "defualt=2s\n"                            /* 14 */
                  "[param rate]\n"                          /* 15 */
                  "type=double\n"                           /* 16 */
                  "min=10\n"                                /* 17 */
                  "max=1\n"                                 /* 18 */
                  "default=5\n"                             /* 19 */
                  "[param key]\n"                           /* 20 */
                  "type=string\n"                           /* 21 */
                  "required=true\n"                         /* 22 */
                  "default=secret\n"                        /* 23 */
                  "[param mode]\n"                          /* 24 */
                  "type=enum\n"                             /* 25 */
                  "default=live\n"                          /* 26 */
                  "[param name]\n"                          /* 27 */
                  "type=string\n"                           /* 28 */
                  "default=x\n"                             /* 29 */
                  "min=1\n"                                 /* 30 */
                  "[launch]\n"                              /* 31 */
                  "fakesrc ! fakesink name=${prot}\n"       /* 32 */
                  "  ${port} ${size} ${preset} ${gop}\n"    /* 33 */
                  "  ${rate} ${key} ${mode} ${name:ms}\n"), /* 34 */
      {"broken.pipeline:14: unknown key \"defualt\" in [param gop] (did you mean \"default\"?) (keys: type, "
       "default, description, required, min, max, values)",
       "broken.pipeline:5: parameter \"port\": default \"-1\" is not an unsigned integer",
       "broken.pipeline:7: parameter \"size\": unknown type \"integer\" (did you mean \"int\"?) (types: "
       "string, int, uint, double, bool, enum, duration, path, uri)",
       "broken.pipeline:11: parameter \"preset\": default \"fastest\" is not one of fast, slow (did you "
       "mean \"fast\"?)",
       "broken.pipeline:12: parameter \"gop\": give it a default or required=true",
       "broken.pipeline:18: parameter \"rate\": max=1 is below min=10",
       "broken.pipeline:23: parameter \"key\": a required parameter has no default",
       "broken.pipeline:24: parameter \"mode\": an enum needs its values (values=first;second;...)",
       "broken.pipeline:30: parameter \"name\": min= applies to int, uint, double and duration parameters "
       "only",
       "broken.pipeline:32: ${prot} is not a declared parameter (did you mean ${port}?)",
       "broken.pipeline:34: ${name:ms}: a unit applies to duration parameters only"});

  /* references and guards */
  assert_errors(load_errors("[pipeline]\nname=x\n"
                            "[param audio]\ntype=string\ndefault=yes\n"
                            "[param unused]\ntype=int\ndefault=1\n"
                            "[param gop]\ntype=duration\ndefault=2\n"
                            "[launch]\n"
                            "?{audio} fakesrc ! fakesink\n"
                            "?{sound} fakesrc ! fakesink\n"
                            "fakesrc ! fakesink name=${gop:minutes} ${gop\n"),
                {"broken.pipeline:13: ?{audio} needs a bool parameter, \"audio\" is string",
                 "broken.pipeline:14: ?{sound} is not a declared parameter",
                 "broken.pipeline:15: ${gop:minutes}: unknown unit \"minutes\" (ns, us, ms or s)",
                 "broken.pipeline:15: ${ without a closing }"});
  assert_errors(
      load_errors("[pipeline]\nname=x\n[param unused]\ntype=int\ndefault=1\n[launch]\nfakesrc ! fakesink\n"),
      {"broken.pipeline:3: parameter \"unused\" is not used in [launch]"});

  auto missing = pipeline::load("/nonexistent/dir/x.pipeline");
  fail_unless(!missing.file && missing.errors.size() == 1 &&
              missing.errors[0].path == "/nonexistent/dir/x.pipeline");
}
GST_END_TEST;

GST_START_TEST(test_value_errors) {
  auto file = load_text(
      "[pipeline]\nname=values\n"                                                       /* 1-2 */
      "[param port]\ntype=uint\ndefault=1935\nmin=1\nmax=65535\n"                       /* 3-7 */
      "[param preset]\ntype=enum\nvalues=ultrafast;veryfast;medium\ndefault=veryfast\n" /* 8-11 */
      "[param gop]\ntype=duration\ndefault=2s\nmax=60s\n"                               /* 12-15 */
      "[param key]\ntype=string\nrequired=true\n"                                       /* 16-18 */
      "[param audio]\ntype=bool\ndefault=true\n"                                        /* 19-21 */
      "[param n]\ntype=int\ndefault=1\n"                                                /* 22-24 */
      "[launch]\n"                                                                      /* 25 */
      "fakesrc num-buffers=${n} ! fakesink name=${key} ts-offset=${gop:ns} blocksize=${port} ${preset} "
      "${audio}\n");
  auto resolved = pipeline::resolve(file, {{"port", "70000"},
                                           {"preset", "veryfastest"},
                                           {"gop", "2 seconds"},
                                           {"strem-key", "x"},
                                           {"audio", "maybe"},
                                           {"n", "1.5"}});
  assert_errors(
      resolved.errors,
      {"test.pipeline: unknown parameter \"strem-key\" (parameters: port, preset, gop, key, audio, n)",
       "test.pipeline:3: parameter \"port\": 70000 is above the maximum 65535",
       "test.pipeline:8: parameter \"preset\": \"veryfastest\" is not one of ultrafast, veryfast, medium "
       "(did you mean \"veryfast\"?)",
       "test.pipeline:12: parameter \"gop\": \"2 seconds\" is not a duration (e.g. 2s, 500ms, 1.5)",
       "test.pipeline:16: parameter \"key\" is required and has no value",
       "test.pipeline:19: parameter \"audio\": \"maybe\" is not a bool (true or false)",
       "test.pipeline:22: parameter \"n\": \"1.5\" is not an integer"});
  fail_unless(resolved.errors[0].subject == "strem-key" && resolved.errors[1].subject == "port");

  resolved = pipeline::resolve(file, {{"key", "line\nbreak"}, {"port", "0"}, {"prot", "1"}});
  assert_errors(
      resolved.errors,
      {"test.pipeline: unknown parameter \"prot\" (did you mean \"port\"?) (parameters: port, preset, gop, "
       "key, audio, n)",
       "test.pipeline:3: parameter \"port\": 0 is below the minimum 1",
       "test.pipeline:16: parameter \"key\": \"line\\nbreak\" contains a control character"});

  /* render and check stop at the same errors */
  assert_errors(pipeline::render(file, {}).errors,
                {"test.pipeline:16: parameter \"key\" is required and has no value"});
  assert_errors(pipeline::check(file, {}),
                {"test.pipeline:16: parameter \"key\" is required and has no value"});
}
GST_END_TEST;

GST_START_TEST(test_gstreamer_errors) {
  /* every problem at once, each at its line */
  auto file = load_text(
      "[pipeline]\nname=broken\n"                                                       /* 1-2 */
      "[param gop]\ntype=string\ndefault=two seconds\n"                                 /* 3-5 */
      "[launch]\n"                                                                      /* 6 */
      "videotestsrc is-live=true patern=ball\n"                                         /* 7 */
      "  ! abrladdr name=ladder\n"                                                      /* 8 */
      "  ! abrladder name=ladder gop-duration=${gop} audio-bitrate=9000 renditions=x\n" /* 9 */
      "  ! video/x-raw,width=(int)abc ! abrsink name=sink mode=livestream\n"            /* 10 */
      "audiotestsrc ! ladder.audoi\n"                                                   /* 11 */
      "audiotestsrc ! ladr.audio\n");                                                   /* 12 */
  auto errors = pipeline::check(file, {});
  assert_errors(
      errors,
      {"test.pipeline:7: element \"videotestsrc\" has no property \"patern\" (did you mean \"pattern\"?)",
       "test.pipeline:8: element \"abrladdr\" does not exist (did you mean \"abrladder\"?)",
       "test.pipeline:9: two elements are named \"ladder\" (the other at line 8)",
       "test.pipeline:9: property \"gop-duration\" of element \"abrladder\": \"two seconds\" is not a "
       "number (0.1 to 60)",
       "test.pipeline:9: property \"audio-bitrate\" of element \"abrladder\": 9000 is out of range (16 to "
       "512)",
       "test.pipeline:9: property \"renditions\" of element \"abrladder\" is read-only",
       "test.pipeline:10: caps \"video/x-raw,width=(int)abc\" do not parse",
       "test.pipeline:10: property \"mode\" of element \"abrsink\": \"livestream\" is not one of live, vod",
       "test.pipeline:12: no element is named \"ladr\" (did you mean \"ladder\"?)"});
  fail_unless(errors[1].subject == "abrladdr", "the subject is the element at fault");

  file = load_text(
      "[pipeline]\nname=pads\n[launch]\nvideotestsrc ! abrladder name=ladder ! fakesink\n"
      "audiotestsrc ! ladder.audoi\n");
  assert_errors(
      pipeline::check(file, {}),
      {"test.pipeline:5: element \"abrladder\" (ladder) has no pad \"audoi\" (did you mean \"audio\"?) "
       "(pads: audio, audio_src, sink, src_%u)"});

  /* what only GStreamer's own parse finds: a link between always pads */
  file = load_text("[pipeline]\nname=link\n[launch]\naudiotestsrc\n  ! videoconvert ! fakesink\n");
  errors = pipeline::check(file, {});
  fail_unless(errors.size() == 1 && errors[0].line == 5, "%s", formatted(errors).c_str());
  fail_unless(
      g_str_has_prefix(errors[0].message.c_str(), "GStreamer cannot build the pipeline: could not link"),
      "%s", errors[0].message.c_str());

  file = load_text("[pipeline]\nname=syntax\n[launch]\nfakesrc ! fakesink name=\"unterminated\n");
  assert_errors(pipeline::check(file, {}), {"test.pipeline:4: unterminated quote in the value of name"});
}
GST_END_TEST;

static Suite *pipelinefile_suite(void) {
  Suite *s = suite_create("pipelinefile");
  TCase *tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_shipped_files_load);
  tcase_add_test(tc, test_shipped_files_check);
  tcase_add_test(tc, test_render_round_trip);
  tcase_add_test(tc, test_values_are_typed);
  tcase_add_test(tc, test_guards);
  tcase_add_test(tc, test_launch_lines);
  tcase_add_test(tc, test_declaration_errors);
  tcase_add_test(tc, test_value_errors);
  tcase_add_test(tc, test_gstreamer_errors);
  return s;
}

GST_CHECK_MAIN(pipelinefile);
