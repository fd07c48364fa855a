/* onair — pipeline files: checking the rendered description with GStreamer
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Elements, properties, values, caps and references are looked up one by one
 * (so that every problem is reported with its line, not only the first), then
 * gst_parse_launch_full() builds the pipeline as the real run would.
 */

#include <gst/gst.h>

#include <algorithm>
#include <map>
#include <memory>

#include "onairpipeline.h"
#include "pipelineinternal.h"

namespace onair::pipeline {

using namespace detail;

namespace {

const std::vector<std::string> &element_factory_names() {
  static std::vector<std::string> names = [] {
    std::vector<std::string> all;
    GList *features = gst_registry_get_feature_list(gst_registry_get(), GST_TYPE_ELEMENT_FACTORY);
    for (GList *l = features; l; l = l->next)
      all.push_back(gst_plugin_feature_get_name(GST_PLUGIN_FEATURE(l->data)));
    gst_plugin_feature_list_free(features);
    std::sort(all.begin(), all.end());
    return all;
  }();
  return names;
}

/* One element of the description, as far as it could be looked up. */
struct ElementUse {
  std::string factory_name;
  int line = 0;
  GstElementFactory *factory = nullptr; /* loaded; null when missing */
  GObjectClass *klass = nullptr;
  std::string name; /* its name= */

  ElementUse(std::string factory_name, int line) : factory_name(std::move(factory_name)), line(line) {}
  ElementUse(const ElementUse &) = delete;
  ~ElementUse() {
    if (klass) g_type_class_unref(klass);
    if (factory) gst_object_unref(factory);
  }
};

std::string describe_type(GParamSpec *pspec) {
  GType type = G_PARAM_SPEC_VALUE_TYPE(pspec);
  if (G_IS_PARAM_SPEC_ENUM(pspec)) {
    GEnumClass *e = G_PARAM_SPEC_ENUM(pspec)->enum_class;
    std::vector<std::string> nicks;
    for (guint i = 0; i < e->n_values; i++) nicks.push_back(e->values[i].value_nick);
    return "one of " + join(nicks, ", ");
  }
  if (G_IS_PARAM_SPEC_FLAGS(pspec)) {
    GFlagsClass *f = G_PARAM_SPEC_FLAGS(pspec)->flags_class;
    std::vector<std::string> nicks;
    for (guint i = 0; i < f->n_values; i++) nicks.push_back(f->values[i].value_nick);
    return "a combination of " + join(nicks, "+");
  }
  if (type == G_TYPE_BOOLEAN) return "a boolean (true or false)";
  if (type == G_TYPE_INT || type == G_TYPE_INT64 || type == G_TYPE_LONG) return "an integer";
  if (type == G_TYPE_UINT || type == G_TYPE_UINT64 || type == G_TYPE_ULONG) return "an unsigned integer";
  if (type == G_TYPE_DOUBLE || type == G_TYPE_FLOAT) return "a number";
  if (type == GST_TYPE_FRACTION) return "a fraction (e.g. 30/1)";
  if (type == GST_TYPE_CAPS) return "caps";
  return std::string("a ") + g_type_name(type);
}

std::string describe_range(GParamSpec *pspec) {
  auto range = [](auto min, auto max) {
    /* not printf: the locale may write a decimal comma */
    gchar low[G_ASCII_DTOSTR_BUF_SIZE], high[G_ASCII_DTOSTR_BUF_SIZE];
    g_ascii_formatd(low, sizeof(low), "%g", (double)min);
    g_ascii_formatd(high, sizeof(high), "%g", (double)max);
    return std::string(" (") + low + " to " + high + ")";
  };
  if (G_IS_PARAM_SPEC_INT(pspec))
    return range(G_PARAM_SPEC_INT(pspec)->minimum, G_PARAM_SPEC_INT(pspec)->maximum);
  if (G_IS_PARAM_SPEC_UINT(pspec))
    return range(G_PARAM_SPEC_UINT(pspec)->minimum, G_PARAM_SPEC_UINT(pspec)->maximum);
  if (G_IS_PARAM_SPEC_INT64(pspec))
    return range(G_PARAM_SPEC_INT64(pspec)->minimum, G_PARAM_SPEC_INT64(pspec)->maximum);
  if (G_IS_PARAM_SPEC_UINT64(pspec))
    return range(G_PARAM_SPEC_UINT64(pspec)->minimum, G_PARAM_SPEC_UINT64(pspec)->maximum);
  if (G_IS_PARAM_SPEC_DOUBLE(pspec))
    return range(G_PARAM_SPEC_DOUBLE(pspec)->minimum, G_PARAM_SPEC_DOUBLE(pspec)->maximum);
  if (G_IS_PARAM_SPEC_FLOAT(pspec))
    return range(G_PARAM_SPEC_FLOAT(pspec)->minimum, G_PARAM_SPEC_FLOAT(pspec)->maximum);
  if (GST_IS_PARAM_SPEC_FRACTION(pspec)) {
    auto *f = GST_PARAM_SPEC_FRACTION(pspec);
    return " (" + std::to_string(f->min_num) + "/" + std::to_string(f->min_den) + " to " +
           std::to_string(f->max_num) + "/" + std::to_string(f->max_den) + ")";
  }
  return "";
}

void check_property(const std::string &path, const ElementUse &element, const Token &token,
                    Diagnostics *errors) {
  const std::string &property = token.text;
  auto error = [&](std::string message) {
    errors->push_back(diagnostic(path, token.line, element.factory_name, std::move(message)));
  };
  /* child::property reaches into a bin's children, which may not exist yet */
  if (property.find("::") != std::string::npos) return;
  GParamSpec *pspec = g_object_class_find_property(element.klass, property.c_str());
  if (!pspec) {
    guint n = 0;
    g_autofree GParamSpec **all = g_object_class_list_properties(element.klass, &n);
    std::vector<std::string> names;
    for (guint i = 0; i < n; i++)
      if (all[i]->flags & G_PARAM_WRITABLE) names.push_back(all[i]->name);
    error("element " + quoted(element.factory_name) + " has no property " + quoted(property) +
          did_you_mean(property, names));
    return;
  }
  if (!(pspec->flags & G_PARAM_WRITABLE)) {
    error("property " + quoted(property) + " of element " + quoted(element.factory_name) + " is read-only");
    return;
  }
  GType type = G_PARAM_SPEC_VALUE_TYPE(pspec);
  /* gst-launch builds a bin from the description for element properties */
  if (g_type_is_a(type, GST_TYPE_ELEMENT)) return;

  std::string value = property_value_as_parsed(token.value);
  GValue v = G_VALUE_INIT;
  g_value_init(&v, type);
  if (!gst_value_deserialize_with_pspec(&v, value.c_str(), pspec)) {
    error("property " + quoted(property) + " of element " + quoted(element.factory_name) + ": " +
          quoted(value) + " is not " + describe_type(pspec) + describe_range(pspec));
  } else if (g_param_value_validate(pspec, &v)) {
    error("property " + quoted(property) + " of element " + quoted(element.factory_name) + ": " + value +
          " is out of range" + describe_range(pspec));
  }
  g_value_unset(&v);
}

/* Whether one of the element's pad templates can give a pad named `pad`
 * ("video", or "src_0" from "src_%u"). */
bool has_pad(GstElementFactory *factory, const std::string &pad, std::vector<std::string> *templates) {
  bool found = false;
  for (const GList *l = gst_element_factory_get_static_pad_templates(factory); l; l = l->next) {
    auto *t = static_cast<GstStaticPadTemplate *>(l->data);
    std::string name = t->name_template;
    templates->push_back(name);
    size_t percent = name.find('%');
    if (percent == std::string::npos) {
      found = found || name == pad;
    } else {
      std::string prefix = name.substr(0, percent), suffix = name.substr(percent + 2);
      found = found ||
              (pad.size() > prefix.size() + suffix.size() && pad.compare(0, prefix.size(), prefix) == 0 &&
               pad.compare(pad.size() - suffix.size(), suffix.size(), suffix) == 0);
    }
  }
  return found;
}

bool is_name_char(char c) {
  return g_ascii_isalnum(c) || c == '-' || c == '_';
}

/* Where `name` stands in `message` as a word of its own, with digits after
 * it when `numbered` (GStreamer's default names: "videoconvert0"). */
size_t find_word(const std::string &message, const std::string &name, bool numbered) {
  for (size_t at = message.find(name); at != std::string::npos; at = message.find(name, at + 1)) {
    size_t end = at + name.size();
    if (numbered) {
      if (end >= message.size() || !g_ascii_isdigit(message[end])) continue;
      while (end < message.size() && g_ascii_isdigit(message[end])) end++;
    }
    if ((at == 0 || !is_name_char(message[at - 1])) && (end >= message.size() || !is_name_char(message[end])))
      return at;
  }
  return std::string::npos;
}

/* The line a GStreamer parse error is about: of the elements it names (by
 * name= or by GStreamer's default name), the last one named, as in "could
 * not link a to b"; else the [launch] line. */
int line_of_message(const std::string &message, const std::vector<Token> &tokens, int fallback) {
  size_t best = std::string::npos;
  int line = fallback;
  for (auto &token : tokens) {
    size_t at = std::string::npos;
    if (token.kind == TokenKind::Element)
      at = find_word(message, token.text, true);
    else if (token.kind == TokenKind::Property && token.text == "name")
      at = find_word(message, property_value_as_parsed(token.value), false);
    if (at != std::string::npos && (best == std::string::npos || at > best)) {
      best = at;
      line = token.line;
    }
  }
  return line;
}

}  // namespace

Diagnostics check(const PipelineFile &file, const Values &given) {
  Rendered rendered = render(file, given);
  if (!rendered.ok()) return rendered.errors;
  Diagnostics errors;
  const std::string &path = file.path;

  std::optional<LexError> lex_error;
  std::vector<Token> tokens = lex(rendered.lines, &lex_error);
  if (lex_error) {
    errors.push_back(diagnostic(path, lex_error->line, "", lex_error->message));
    return errors;
  }

  std::vector<std::unique_ptr<ElementUse>> elements;
  ElementUse *current = nullptr;
  std::map<std::string, ElementUse *> named;
  std::vector<const Token *> references;

  auto add_element = [&](const std::string &factory_name, int line) {
    elements.push_back(std::make_unique<ElementUse>(factory_name, line));
    ElementUse *use = elements.back().get();
    GstElementFactory *found = gst_element_factory_find(factory_name.c_str());
    if (!found) {
      errors.push_back(diagnostic(path, line, factory_name,
                                  "element " + quoted(factory_name) + " does not exist" +
                                      did_you_mean(factory_name, element_factory_names())));
      return use;
    }
    use->factory = GST_ELEMENT_FACTORY(gst_plugin_feature_load(GST_PLUGIN_FEATURE(found)));
    gst_object_unref(found);
    GType type = use->factory ? gst_element_factory_get_element_type(use->factory) : G_TYPE_INVALID;
    if (!type) {
      errors.push_back(
          diagnostic(path, line, factory_name, "element " + quoted(factory_name) + " cannot be loaded"));
      return use;
    }
    use->klass = static_cast<GObjectClass *>(g_type_class_ref(type));
    return use;
  };

  for (const Token &token : tokens) {
    switch (token.kind) {
      case TokenKind::Element:
        current = add_element(token.text, token.line);
        break;
      case TokenKind::OpenBin:
        current = token.text.empty() ? nullptr : add_element(token.text, token.line);
        break;
      case TokenKind::Uri: {
        g_autofree gchar *protocol = gst_uri_get_protocol(token.text.c_str());
        if (!protocol || (!gst_uri_protocol_is_supported(GST_URI_SRC, protocol) &&
                          !gst_uri_protocol_is_supported(GST_URI_SINK, protocol)))
          errors.push_back(
              diagnostic(path, token.line, token.text, "no element handles " + quoted(token.text)));
        current = nullptr;
        break;
      }
      case TokenKind::Property: {
        if (!current) {
          errors.push_back(diagnostic(path, token.line, token.text,
                                      "property " + quoted(token.text) + " does not follow an element"));
          break;
        }
        if (token.text == "name") {
          std::string name = property_value_as_parsed(token.value);
          auto [it, inserted] = named.emplace(name, current);
          if (!inserted)
            errors.push_back(diagnostic(path, token.line, name,
                                        "two elements are named " + quoted(name) + " (the other at line " +
                                            std::to_string(it->second->line) + ")"));
          current->name = name;
          break;
        }
        if (current->klass) check_property(path, *current, token, &errors);
        break;
      }
      case TokenKind::Reference:
        if (!token.text.empty()) references.push_back(&token);
        current = nullptr;
        break;
      case TokenKind::Link:
        if (!token.value.empty()) {
          GstCaps *caps = gst_caps_from_string(token.value.c_str());
          if (!caps)
            errors.push_back(
                diagnostic(path, token.line, token.value, "caps " + quoted(token.value) + " do not parse"));
          else
            gst_caps_unref(caps);
        }
        current = nullptr;
        break;
      case TokenKind::Preset:
      case TokenKind::CloseBin:
        break;
    }
  }

  std::vector<std::string> names;
  for (auto &[name, use] : named) names.push_back(name);
  for (const Token *reference : references) {
    auto it = named.find(reference->text);
    if (it == named.end()) {
      errors.push_back(diagnostic(
          path, reference->line, reference->text,
          "no element is named " + quoted(reference->text) + did_you_mean(reference->text, names)));
      continue;
    }
    ElementUse *element = it->second;
    if (reference->value.empty() || !element->factory) continue;
    std::vector<std::string> templates;
    bool found = has_pad(element->factory, reference->value, &templates);
    std::sort(templates.begin(), templates.end()); /* the registry cache keeps no order */
    if (!found)
      errors.push_back(diagnostic(path, reference->line, reference->value,
                                  "element " + quoted(element->factory_name) + " (" + element->name +
                                      ") has no pad " + quoted(reference->value) +
                                      did_you_mean(reference->value, templates) +
                                      " (pads: " + join(templates, ", ") + ")"));
  }
  if (!errors.empty()) return errors;

  /* GStreamer's own reading: links between always pads, anything above missed */
  g_autoptr(GstParseContext) context = gst_parse_context_new();
  g_autoptr(GError) error = nullptr;
  GstElement *pipeline =
      gst_parse_launch_full(rendered.description.c_str(), context, GST_PARSE_FLAG_FATAL_ERRORS, &error);
  if (pipeline) gst_object_unref(gst_object_ref_sink(pipeline));
  if (error) {
    std::string message = error->message;
    errors.push_back(diagnostic(path, line_of_message(message, tokens, file.launch_line), "",
                                "GStreamer cannot build the pipeline: " + message));
  }
  return errors;
}

}  // namespace onair::pipeline
