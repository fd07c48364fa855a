/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "mpd.h"

#include "playlist.h"

#include <libxml/tree.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>

#include <glib.h>

namespace onair {

namespace {

const xmlChar *X(const char *text) {
  return reinterpret_cast<const xmlChar *>(text);
}

void set(xmlNodePtr node, const char *name, const std::string &value) {
  xmlNewProp(node, X(name), X(value.c_str()));
}

std::string duration_text(double seconds) {
  char number[G_ASCII_DTOSTR_BUF_SIZE];
  g_ascii_formatd(number, sizeof number, "%.3f", std::max(0.0, seconds));
  return std::string("PT") + number + "S";
}

void add_timeline(xmlNodePtr template_node, const std::vector<MpdSegment> &segments) {
  xmlNodePtr timeline = xmlNewChild(template_node, nullptr, X("SegmentTimeline"), nullptr);
  size_t i = 0;
  while (i < segments.size()) {
    size_t repeat = 0;
    while (i + repeat + 1 < segments.size() && segments[i + repeat + 1].duration == segments[i].duration &&
           segments[i + repeat + 1].start == segments[i + repeat].start + segments[i + repeat].duration)
      repeat++;
    xmlNodePtr s = xmlNewChild(timeline, nullptr, X("S"), nullptr);
    set(s, "t", std::to_string(segments[i].start));
    set(s, "d", std::to_string(segments[i].duration));
    if (repeat) set(s, "r", std::to_string(repeat));
    i += repeat + 1;
  }
}

}  // namespace

std::string render_mpd(const MpdDocument &document) {
  std::unique_ptr<xmlDoc, decltype(&xmlFreeDoc)> doc(xmlNewDoc(X("1.0")), xmlFreeDoc);
  xmlNodePtr mpd = xmlNewNode(nullptr, X("MPD"));
  xmlDocSetRootElement(doc.get(), mpd);
  xmlNewNs(mpd, X("urn:mpeg:dash:schema:mpd:2011"), nullptr);
  set(mpd, "profiles", "urn:mpeg:dash:profile:isoff-live:2011");
  set(mpd, "minBufferTime", duration_text(std::max(2.0, document.max_segment)));
  if (document.dynamic) {
    set(mpd, "type", "dynamic");
    set(mpd, "availabilityStartTime", format_iso8601_ms(document.availability_start_ms));
    set(mpd, "publishTime", format_iso8601_ms(document.publish_ms));
    set(mpd, "minimumUpdatePeriod", duration_text(document.max_segment));
    set(mpd, "timeShiftBufferDepth", duration_text(document.time_shift_buffer));
    set(mpd, "suggestedPresentationDelay", duration_text(3 * document.max_segment));
    set(mpd, "maxSegmentDuration", duration_text(document.max_segment));
  } else {
    set(mpd, "type", "static");
    set(mpd, "mediaPresentationDuration", duration_text(document.duration));
    set(mpd, "maxSegmentDuration", duration_text(document.max_segment));
  }

  xmlNodePtr period = xmlNewChild(mpd, nullptr, X("Period"), nullptr);
  set(period, "id", "0");
  set(period, "start", "PT0S");

  if (!document.scte35_events.empty()) {
    /* before the AdaptationSets, as the schema orders them */
    xmlNodePtr stream = xmlNewChild(period, nullptr, X("EventStream"), nullptr);
    set(stream, "schemeIdUri", "urn:scte:scte35:2014:xml+bin");
    set(stream, "timescale", "90000");
    for (const MpdEvent &event : document.scte35_events) {
      xmlNodePtr node = xmlNewChild(stream, nullptr, X("Event"), nullptr);
      set(node, "presentationTime", std::to_string(std::llround(event.presentation_time * 90000)));
      if (event.duration >= 0) set(node, "duration", std::to_string(std::llround(event.duration * 90000)));
      set(node, "id", std::to_string(event.id));
      xmlNodePtr signal = xmlNewChild(node, nullptr, X("Signal"), nullptr);
      xmlNsPtr scte35 = xmlNewNs(signal, X("http://www.scte.org/schemas/35/2016"), nullptr);
      xmlSetNs(signal, scte35);
      gchar *base64 = g_base64_encode(event.section.data(), event.section.size());
      xmlNewChild(signal, scte35, X("Binary"), X(base64));
      g_free(base64);
    }
  }

  std::vector<std::string> schemes;
  for (const MpdMetadataEvent &event : document.metadata_events)
    if (std::find(schemes.begin(), schemes.end(), event.scheme) == schemes.end())
      schemes.push_back(event.scheme);
  for (const std::string &scheme : schemes) {
    xmlNodePtr stream = xmlNewChild(period, nullptr, X("EventStream"), nullptr);
    set(stream, "schemeIdUri", scheme);
    set(stream, "timescale", "1000");
    for (const MpdMetadataEvent &event : document.metadata_events) {
      if (event.scheme != scheme) continue;
      /* xmlNewTextChild escapes the text */
      xmlNodePtr node = xmlNewTextChild(stream, nullptr, X("Event"), X(event.payload.c_str()));
      set(node, "presentationTime", std::to_string(std::llround(event.presentation_time * 1000)));
      set(node, "duration", std::to_string(std::llround(event.duration * 1000)));
      set(node, "id", std::to_string(event.id));
    }
  }

  for (bool audio : {false, true}) {
    std::vector<const MpdRepresentation *> members;
    for (const MpdRepresentation &rep : document.representations)
      if (rep.is_audio == audio && !rep.segments.empty()) members.push_back(&rep);
    if (members.empty()) continue;
    xmlNodePtr set_node = xmlNewChild(period, nullptr, X("AdaptationSet"), nullptr);
    set(set_node, "id", audio ? "1" : "0");
    set(set_node, "contentType", audio ? "audio" : "video");
    set(set_node, "mimeType", audio ? "audio/mp4" : "video/mp4");
    set(set_node, "segmentAlignment", "true");
    set(set_node, "startWithSAP", "1");
    if (!audio) {
      int max_width = 0, max_height = 0;
      for (const MpdRepresentation *rep : members) {
        max_width = std::max(max_width, rep->width);
        max_height = std::max(max_height, rep->height);
      }
      /* sizes unknown (no caps with a size yet): none written */
      if (max_width > 0 && max_height > 0) {
        int divisor = std::gcd(max_width, max_height);
        set(set_node, "maxWidth", std::to_string(max_width));
        set(set_node, "maxHeight", std::to_string(max_height));
        set(set_node, "par",
            std::to_string(max_width / divisor) + ":" + std::to_string(max_height / divisor));
      }
    } else {
      xmlNodePtr role = xmlNewChild(set_node, nullptr, X("Role"), nullptr);
      set(role, "schemeIdUri", "urn:mpeg:dash:role:2011");
      set(role, "value", "main");
    }
    for (const MpdRepresentation *rep : members) {
      xmlNodePtr node = xmlNewChild(set_node, nullptr, X("Representation"), nullptr);
      set(node, "id", rep->id);
      set(node, "bandwidth", std::to_string(rep->bandwidth));
      set(node, "codecs", rep->codecs);
      if (audio) {
        if (rep->sample_rate) set(node, "audioSamplingRate", std::to_string(rep->sample_rate));
        if (rep->channels) {
          xmlNodePtr config = xmlNewChild(node, nullptr, X("AudioChannelConfiguration"), nullptr);
          set(config, "schemeIdUri", "urn:mpeg:dash:23003:3:audio_channel_configuration:2011");
          set(config, "value", std::to_string(rep->channels));
        }
      } else {
        set(node, "width", std::to_string(rep->width));
        set(node, "height", std::to_string(rep->height));
        if (rep->frame_rate_n > 0)
          set(node, "frameRate",
              rep->frame_rate_d == 1
                  ? std::to_string(rep->frame_rate_n)
                  : std::to_string(rep->frame_rate_n) + "/" + std::to_string(rep->frame_rate_d));
        set(node, "sar", "1:1");
      }
      xmlNodePtr segment_template = xmlNewChild(node, nullptr, X("SegmentTemplate"), nullptr);
      set(segment_template, "timescale", std::to_string(rep->timescale));
      set(segment_template, "initialization", rep->initialization);
      set(segment_template, "media", rep->media);
      set(segment_template, "startNumber", std::to_string(rep->segments.front().number));
      set(segment_template, "presentationTimeOffset", std::to_string(rep->presentation_time_offset));
      add_timeline(segment_template, rep->segments);
    }
  }

  if (document.dynamic) {
    /* the server's clock, so players place the live edge without asking a
     * time server on the internet */
    xmlNodePtr timing = xmlNewChild(mpd, nullptr, X("UTCTiming"), nullptr);
    set(timing, "schemeIdUri", "urn:mpeg:dash:utc:direct:2014");
    set(timing, "value", format_iso8601_ms(document.publish_ms));
  }

  xmlChar *text = nullptr;
  int size = 0;
  xmlDocDumpFormatMemoryEnc(doc.get(), &text, &size, "UTF-8", 1);
  std::string out(reinterpret_cast<const char *>(text), size_t(size));
  xmlFree(text);
  return out;
}

}  // namespace onair
