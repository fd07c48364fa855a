/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "playlist.h"

#include <glib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace onair {

namespace {

std::string format_seconds(double seconds) {
  char text[32];
  g_ascii_formatd(text, sizeof text, "%.5f", seconds);
  return text;
}

std::string format_fixed3(double value) {
  char text[32];
  g_ascii_formatd(text, sizeof text, "%.3f", value);
  return text;
}

std::string quote(const std::string &value) {
  /* quoted-string attributes may not contain '"', CR or LF (RFC 8216 4.2) */
  std::string out = "\"";
  for (char c : value)
    if (c != '"' && c != '\n' && c != '\r') out += c;
  return out + "\"";
}

}  // namespace

std::string format_iso8601_ms(int64_t utc_ms) {
  g_autoptr(GDateTime) time = g_date_time_new_from_unix_utc(utc_ms / 1000);
  if (!time) return "1970-01-01T00:00:00.000Z";
  g_autofree gchar *base = g_date_time_format(time, "%Y-%m-%dT%H:%M:%S");
  char text[64];
  g_snprintf(text, sizeof text, "%s.%03dZ", base, int(utc_ms % 1000));
  return text;
}

MediaPlaylist::MediaPlaylist(std::string init_uri, PlaylistMode mode, unsigned window)
    : init_uri_(std::move(init_uri)), mode_(mode), window_(window) {}

void MediaPlaylist::queue_marker(Marker marker) {
  queued_.push_back(std::move(marker));
}

std::vector<MediaSegment> MediaPlaylist::append(MediaSegment segment, uint64_t *sequence) {
  segment.sequence = next_sequence_++;
  if (sequence) *sequence = segment.sequence;
  segment.markers.insert(segment.markers.begin(), queued_.begin(), queued_.end());
  queued_.clear();
  /* one discontinuity, however many reasons it has (an input switch and a
   * new coding at once): each counts in the discontinuity sequence, which
   * must stay the same in every rendition's playlist */
  bool discontinuity = false;
  segment.markers.erase(std::remove_if(segment.markers.begin(), segment.markers.end(),
                                       [&discontinuity](const Marker &marker) {
                                         if (marker.kind != Marker::Kind::Discontinuity) return false;
                                         bool again = discontinuity;
                                         discontinuity = true;
                                         return again;
                                       }),
                        segment.markers.end());
  for (Marker &marker : segment.markers) {
    if (marker.kind != Marker::Kind::DateRange || marker.start_ms >= 0) continue;
    auto known = std::find_if(range_starts_.begin(), range_starts_.end(),
                              [&marker](const auto &entry) { return entry.first == marker.id; });
    if (known != range_starts_.end()) {
      marker.start_ms = known->second;
      continue;
    }
    marker.start_ms = std::max<int64_t>(segment.program_date_time_ms, 0);
    range_starts_.emplace_back(marker.id, marker.start_ms);
    if (range_starts_.size() > 64) range_starts_.pop_front();
  }

  if (segment.duration > 0) {
    peak_bitrate_ = std::max<uint64_t>(peak_bitrate_, uint64_t(segment.bytes * 8 / segment.duration));
    total_bytes_ += segment.bytes;
    total_seconds_ += segment.duration;
    longest_segment_ = std::max(longest_segment_, segment.duration);
  }
  segments_.push_back(std::move(segment));

  std::vector<MediaSegment> removed;
  /* A segment may leave only if what stays lasts at least three target
   * durations (RFC 8216 6.2.2): a short window grows rather than break that. */
  auto window_seconds = [this]() {
    double total = 0;
    for (const MediaSegment &s : segments_) total += s.duration;
    return total;
  };
  double target = std::max(1L, std::lround(longest_segment_));
  while (mode_ == PlaylistMode::Live && window_ > 0 && segments_.size() > window_ &&
         window_seconds() - segments_.front().duration >= 3 * target) {
    MediaSegment &old = segments_.front();
    for (const Marker &marker : old.markers) {
      if (marker.kind == Marker::Kind::Discontinuity)
        discontinuity_sequence_++;
      else if (marker.kind == Marker::Kind::CueOut) {
        window_starts_in_break_ = true;
        window_break_elapsed_ = 0;
        window_break_duration_ = marker.duration;
      } else if (marker.kind == Marker::Kind::CueIn)
        window_starts_in_break_ = false;
    }
    if (window_starts_in_break_) window_break_elapsed_ += old.duration;
    removed.push_back(std::move(old));
    segments_.pop_front();
  }
  return removed;
}

uint64_t MediaPlaylist::average_bitrate() const {
  return total_seconds_ > 0 ? uint64_t(total_bytes_ * 8 / total_seconds_) : 0;
}

std::string MediaPlaylist::render() const {
  double longest = 0;
  for (const MediaSegment &segment : segments_) longest = std::max(longest, segment.duration);
  /* Rounded EXTINF may not exceed the target duration (RFC 8216 4.3.3.1). */
  int target = std::max(1, int(std::lround(std::max(longest, longest_segment_))));

  std::string out = "#EXTM3U\n#EXT-X-VERSION:7\n";
  out += "#EXT-X-TARGETDURATION:" + std::to_string(target) + "\n";
  if (mode_ == PlaylistMode::Vod)
    out += ended_ ? "#EXT-X-PLAYLIST-TYPE:VOD\n" : "#EXT-X-PLAYLIST-TYPE:EVENT\n";
  uint64_t first = segments_.empty() ? next_sequence_ : segments_.front().sequence;
  out += "#EXT-X-MEDIA-SEQUENCE:" + std::to_string(first) + "\n";
  out += "#EXT-X-DISCONTINUITY-SEQUENCE:" + std::to_string(discontinuity_sequence_) + "\n";
  out += "#EXT-X-INDEPENDENT-SEGMENTS\n";
  /* the window's first segment's initialization segment, and a new
   * EXT-X-MAP where a later one changes it (after its discontinuity) */
  auto map_of = [this](const MediaSegment &segment) -> const std::string & {
    return segment.map_uri.empty() ? init_uri_ : segment.map_uri;
  };
  const std::string *map = segments_.empty() ? &init_uri_ : &map_of(segments_.front());
  out += "#EXT-X-MAP:URI=" + quote(*map) + "\n";

  bool in_break = window_starts_in_break_;
  double break_elapsed = window_break_elapsed_;
  double break_duration = window_break_duration_;
  for (const MediaSegment &segment : segments_) {
    bool cue_written = false;
    for (const Marker &marker : segment.markers) {
      switch (marker.kind) {
        case Marker::Kind::Discontinuity:
          /* kept while its segment is in the window: the sequence number
           * counts it only once it leaves (RFC 8216 6.2.2) */
          out += "#EXT-X-DISCONTINUITY\n";
          break;
        case Marker::Kind::CueOut:
          out += "#EXT-X-CUE-OUT";
          if (marker.duration >= 0) out += ":DURATION=" + format_fixed3(marker.duration);
          out += "\n";
          in_break = true;
          break_elapsed = 0;
          break_duration = marker.duration;
          cue_written = true;
          break;
        case Marker::Kind::CueIn:
          out += "#EXT-X-CUE-IN\n";
          in_break = false;
          cue_written = true;
          break;
        case Marker::Kind::DateRange: {
          out += "#EXT-X-DATERANGE:ID=" + quote(marker.id);
          int64_t start =
              marker.start_ms >= 0 ? marker.start_ms : std::max<int64_t>(segment.program_date_time_ms, 0);
          out += ",START-DATE=" + quote(format_iso8601_ms(start));
          if (marker.duration >= 0) out += ",PLANNED-DURATION=" + format_fixed3(marker.duration);
          for (const auto &[name, value] : marker.attributes) out += "," + name + "=" + value;
          out += "\n";
          break;
        }
      }
    }
    if (in_break && !cue_written) {
      out += "#EXT-X-CUE-OUT-CONT:ElapsedTime=" + format_fixed3(break_elapsed);
      if (break_duration >= 0) out += ",Duration=" + format_fixed3(break_duration);
      out += "\n";
    }
    if (map_of(segment) != *map) {
      map = &map_of(segment);
      out += "#EXT-X-MAP:URI=" + quote(*map) + "\n";
    }
    if (segment.program_date_time_ms >= 0)
      out += "#EXT-X-PROGRAM-DATE-TIME:" + format_iso8601_ms(segment.program_date_time_ms) + "\n";
    out += "#EXTINF:" + format_seconds(segment.duration) + ",\n";
    out += segment.uri + "\n";
    if (in_break) break_elapsed += segment.duration;
  }
  if (ended_) out += "#EXT-X-ENDLIST\n";
  return out;
}

std::string render_multivariant_playlist(const std::vector<VariantStream> &variants,
                                         const std::vector<AudioRendition> &audio) {
  std::string out = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n";
  for (const AudioRendition &rendition : audio) {
    out += "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=" + quote(rendition.group) + ",NAME=" + quote(rendition.name);
    if (!rendition.language.empty()) out += ",LANGUAGE=" + quote(rendition.language);
    out += std::string(",DEFAULT=") + (rendition.is_default ? "YES" : "NO") + ",AUTOSELECT=YES";
    if (rendition.channels > 0) out += ",CHANNELS=" + quote(std::to_string(rendition.channels));
    out += ",URI=" + quote(rendition.uri) + "\n";
  }
  for (const VariantStream &variant : variants) {
    out += "#EXT-X-STREAM-INF:BANDWIDTH=" + std::to_string(variant.bandwidth);
    if (variant.average_bandwidth) out += ",AVERAGE-BANDWIDTH=" + std::to_string(variant.average_bandwidth);
    if (variant.width > 0 && variant.height > 0)
      out += ",RESOLUTION=" + std::to_string(variant.width) + "x" + std::to_string(variant.height);
    if (variant.frame_rate > 0) out += ",FRAME-RATE=" + format_fixed3(variant.frame_rate);
    if (!variant.codecs.empty()) out += ",CODECS=" + quote(variant.codecs);
    if (!variant.audio_group.empty()) out += ",AUDIO=" + quote(variant.audio_group);
    out += "\n" + variant.uri + "\n";
  }
  return out;
}

}  // namespace onair
