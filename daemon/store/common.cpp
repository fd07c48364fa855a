/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "store/common.h"

#include <glib.h>

#include <sys/random.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace onair::store {

namespace {

struct ConstraintField {
  const char *constraint;
  const char *field;
};

/* The constraints of schemas/postgres that values a client sends can break. */
constexpr ConstraintField constraint_fields[] = {
    {"videos_kind_valid", "kind"},
    {"videos_title_length", "title"},
    {"videos_description_length", "description"},
    {"videos_tags_valid", "tags"},
    {"videos_visibility_valid", "visibility"},
    {"videos_status_valid", "status"},
    {"videos_channel_id_fkey", "channel_id"},
    {"comments_author_length", "author"},
    {"comments_body_length", "body"},
    {"comments_media_time_positive", "media_time_ms"},
    {"comments_video_id_fkey", "video_id"},
    {"channels_name_unique", "name"},
    {"channels_name_length", "name"},
    {"channels_pipeline_length", "pipeline"},
    {"channels_parameters_object", "parameters"},
    {"api_tokens_name_length", "name"},
    {"ad_breaks_duration_range", "duration"},
    {"ad_breaks_creatives_array", "creatives"},
    {"news_flashes_layer_valid", "layer"},
    {"news_flashes_text_length", "text"},
    {"news_flashes_subtitle_length", "subtitle"},
    {"news_flashes_subtitle_lower_third", "subtitle"},
    {"news_flashes_priority_range", "priority"},
    {"news_flashes_loops_range", "loops"},
    {"news_flashes_loops_crawl", "loops"},
    {"news_flashes_fade_range", "fade"},
    {"news_flashes_dim_range", "dim"},
    {"news_flashes_dim_fullscreen", "dim"},
    {"news_flashes_duration_range", "duration"},
    {"point_transactions_reason_length", "reason"},
    {"reaction_counts_kind_length", "kind"},
    {"point_transactions_channel_id_fkey", "channel_id"},
    {"point_transactions_video_id_fkey", "video_id"},
};

}  // namespace

std::string field_of(const db::Error &error) {
  for (const ConstraintField &entry : constraint_fields)
    if (error.constraint == entry.constraint) return entry.field;
  return error.column;
}

std::string base64url(const void *data, size_t size) {
  gchar *text = g_base64_encode(static_cast<const guchar *>(data), size);
  std::string out;
  for (const gchar *c = text; *c && *c != '='; c++) out += *c == '+' ? '-' : *c == '/' ? '_' : *c;
  g_free(text);
  return out;
}

bool random_bytes(void *out, size_t size) {
  auto *bytes = static_cast<uint8_t *>(out);
  size_t filled = 0;
  while (filled < size) {
    ssize_t got = getrandom(bytes + filled, size - filled, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return false;
    filled += got;
  }
  return true;
}

std::string Cursor::encode() const {
  std::string raw = kind + "|" + key + "|" + id;
  return base64url(raw.data(), raw.size());
}

std::optional<Cursor> Cursor::decode(const std::string &text, const std::string &kind) {
  if (text.empty() || text.size() > 200) return std::nullopt;
  std::string padded;
  for (char c : text) {
    if (!g_ascii_isalnum(c) && c != '-' && c != '_') return std::nullopt;
    padded += c == '-' ? '+' : c == '_' ? '/' : c;
  }
  while (padded.size() % 4) padded += '=';
  gsize length = 0;
  guchar *data = g_base64_decode(padded.c_str(), &length);
  std::string raw(reinterpret_cast<char *>(data), length);
  g_free(data);
  size_t first = raw.find('|');
  size_t second = first == std::string::npos ? first : raw.find('|', first + 1);
  if (second == std::string::npos) return std::nullopt;
  Cursor cursor{raw.substr(0, first), raw.substr(first + 1, second - first - 1), raw.substr(second + 1)};
  if (cursor.kind != kind || !g_uuid_string_is_valid(cursor.id.c_str())) return std::nullopt;
  if (kind == "t") {
    GDateTime *time = g_date_time_new_from_iso8601(cursor.key.c_str(), nullptr);
    if (!time) return std::nullopt;
    g_date_time_unref(time);
  } else {
    char *end = nullptr;
    errno = 0;
    long long value = strtoll(cursor.key.c_str(), &end, 10);
    if (cursor.key.empty() || *end || errno || value < 0) return std::nullopt;
  }
  return cursor;
}

}  // namespace onair::store
