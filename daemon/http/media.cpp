/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "http/media.h"

#include "http/router.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace onair::http {

namespace {

constexpr const char *allowed_methods = "GET, HEAD, OPTIONS";
/* Preflight answers are cached this long by browsers. */
constexpr const char *preflight_max_age = "86400";
/* A finished playlist may be cached this long, within the URL's expiry. */
constexpr gint64 finished_max_age = 3600;
/* A live playlist changes every segment: caches must come back soon. */
constexpr const char *live_cache = "public, max-age=1";
/* A segment's name is never reused for other bytes. */
constexpr const char *segment_cache = "public, max-age=31536000, immutable";

/* Top-level directories of the media root that a signed scope may name. */
const char *const scope_kinds[] = {"videos", nullptr};

enum class Caching {
  playlist, /* live (1 s) or finished (bounded), read from the content */
  segment,  /* immutable */
  bounded,  /* like a finished playlist */
};

struct MediaType {
  const char *extension;
  const char *content_type;
  Caching caching;
};

const MediaType media_types[] = {
    {".m3u8", "application/vnd.apple.mpegurl", Caching::playlist},
    {".mpd", "application/dash+xml", Caching::playlist},
    {".m4s", "video/iso.segment", Caching::segment},
    {".mp4", "video/mp4", Caching::segment},
    {".m4a", "audio/mp4", Caching::segment},
    {".ts", "video/mp2t", Caching::segment},
    {".vtt", "text/vtt", Caching::segment},
    /* A poster may be replaced while a video is live. */
    {".jpg", "image/jpeg", Caching::bounded},
};

const MediaType *media_type_of(const std::string &name) {
  for (const MediaType &type : media_types) {
    size_t length = strlen(type.extension);
    if (name.size() > length && name.compare(name.size() - length, length, type.extension) == 0) return &type;
  }
  return nullptr;
}

struct FreeDeleter {
  void operator()(char *pointer) const { free(pointer); }
};
using CString = std::unique_ptr<char, FreeDeleter>;

void add_cors(SoupServerMessage *message) {
  SoupMessageHeaders *headers = soup_server_message_get_response_headers(message);
  soup_message_headers_replace(headers, "Access-Control-Allow-Origin", "*");
  soup_message_headers_replace(headers, "Access-Control-Expose-Headers", "Content-Length, Content-Range");
}

void refuse(SoupServerMessage *message, guint status, const std::string &detail) {
  set_problem(message, {status, {}, detail, {}});
}

void method_not_allowed(SoupServerMessage *message) {
  refuse(message, 405,
         std::string(soup_server_message_get_method(message)) + " is not allowed here; use GET or HEAD");
  soup_message_headers_replace(soup_server_message_get_response_headers(message), "Allow", allowed_methods);
}

/* The path's segments after "/media", percent-decoded. False (with the
 * status and detail of the refusal) for a segment that could step outside
 * the directory it is in: "." or "..", an encoded slash, NUL, a backslash, or
 * a malformed escape. */
bool decode_segments(const char *path, std::vector<std::string> *segments, guint *status,
                     std::string *detail) {
  const char *rest = path + strlen("/media");
  if (*rest == '/') rest++;
  if (!*rest) return true;
  while (true) {
    const char *end = strchr(rest, '/');
    if (!end) end = rest + strlen(rest);
    char *decoded = g_uri_unescape_segment(rest, end, "/");
    if (!decoded || strchr(decoded, '\\')) {
      g_free(decoded);
      *status = 400;
      *detail = "the path holds an encoded slash, a NUL, a backslash or a malformed escape";
      return false;
    }
    std::string segment(decoded);
    g_free(decoded);
    if (segment == "." || segment == "..") {
      *status = 400;
      *detail = "the path may not hold \".\" or \"..\" segments";
      return false;
    }
    segments->push_back(std::move(segment));
    if (!*end) return true;
    rest = end + 1;
  }
}

bool matches_etag(const char *if_none_match, const std::string &etag) {
  std::string opaque = etag;
  gchar **candidates = g_strsplit(if_none_match, ",", -1);
  bool match = false;
  for (gchar **candidate = candidates; !match && *candidate; candidate++) {
    const char *tag = g_strstrip(*candidate);
    /* If-None-Match compares weakly (RFC 9110, 13.1.2). */
    if (g_str_has_prefix(tag, "W/")) tag += 2;
    match = strcmp(tag, "*") == 0 || opaque == tag;
  }
  g_strfreev(candidates);
  return match;
}

bool not_modified(SoupMessageHeaders *request, const std::string &etag, gint64 modified_unix) {
  const char *if_none_match = soup_message_headers_get_one(request, "If-None-Match");
  /* If-Modified-Since only counts without If-None-Match (RFC 9110, 13.1.3). */
  if (if_none_match) return matches_etag(if_none_match, etag);
  const char *if_modified_since = soup_message_headers_get_one(request, "If-Modified-Since");
  if (!if_modified_since) return false;
  GDateTime *since = soup_date_time_new_from_http_string(if_modified_since);
  if (!since) return false;
  bool unchanged = modified_unix <= g_date_time_to_unix(since);
  g_date_time_unref(since);
  return unchanged;
}

bool contains(GBytes *bytes, const char *needle) {
  gsize size = 0;
  const void *data = g_bytes_get_data(bytes, &size);
  return data && memmem(data, size, needle, strlen(needle)) != nullptr;
}

/* The first variant's URI in a multivariant playlist, if it is a plain
 * relative path (no scheme, query, or "..") as abrsink writes. */
std::string first_variant(GBytes *bytes) {
  gsize size = 0;
  const char *data = static_cast<const char *>(g_bytes_get_data(bytes, &size));
  std::string text(data ? data : "", size);
  size_t at = text.find("#EXT-X-STREAM-INF");
  while (at != std::string::npos) {
    size_t start = text.find('\n', at);
    if (start == std::string::npos) return {};
    start++;
    size_t end = text.find('\n', start);
    std::string line = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty() && line[0] != '#') {
      if (line[0] == '/' || line.find(':') != std::string::npos || line.find('?') != std::string::npos ||
          line.find("..") != std::string::npos)
        return {};
      return line;
    }
    at = end;
  }
  return {};
}

/* A playlist or MPD that will not change again: HLS with ENDLIST, or a
 * static MPD (the default when `type` is absent). A multivariant playlist
 * never holds ENDLIST: it is finished when its first variant is. */
bool finished(const std::string &path, GBytes *bytes, const std::string &below_root) {
  if (!g_str_has_suffix(path.c_str(), ".m3u8"))
    return !contains(bytes, "type=\"dynamic\"") && !contains(bytes, "type='dynamic'");
  if (contains(bytes, "#EXT-X-ENDLIST")) return true;
  if (!contains(bytes, "#EXT-X-STREAM-INF")) return false;
  std::string variant = first_variant(bytes);
  if (variant.empty() || !g_str_has_suffix(variant.c_str(), ".m3u8")) return false;
  gchar *directory = g_path_get_dirname(path.c_str());
  CString resolved(realpath((std::string(directory) + "/" + variant).c_str(), nullptr));
  g_free(directory);
  if (!resolved || strncmp(resolved.get(), below_root.c_str(), below_root.size()) != 0) return false;
  gchar *contents = nullptr;
  gsize length = 0;
  if (!g_file_get_contents(resolved.get(), &contents, &length, nullptr)) return false;
  bool ended = memmem(contents, length, "#EXT-X-ENDLIST", strlen("#EXT-X-ENDLIST")) != nullptr;
  g_free(contents);
  return ended;
}

std::string cache_control(const MediaType &type, const std::string &path, GBytes *bytes,
                          const std::string &below_root, gint64 expires, gint64 now) {
  if (type.caching == Caching::segment) return segment_cache;
  if (type.caching == Caching::playlist && !finished(path, bytes, below_root)) return live_cache;
  gint64 max_age = std::clamp<gint64>(expires - now, 0, finished_max_age);
  return "public, max-age=" + std::to_string(max_age);
}

}  // namespace

MediaServer::MediaServer(std::string media_root, const UrlSigner &signer)
    : root_(std::move(media_root)), signer_(signer) {}

void MediaServer::mount(SoupServer *server) {
  soup_server_add_early_handler(server, "/media/", on_early, this, nullptr);
  soup_server_add_handler(server, "/media/", on_request, this, nullptr);
}

void MediaServer::on_early(SoupServer *, SoupServerMessage *message, const char *, GHashTable *, gpointer) {
  /* Refused before any body is read: nothing here takes one. A status set
   * here makes libsoup answer at once. */
  const char *method = soup_server_message_get_method(message);
  SoupMessageHeaders *headers = soup_server_message_get_request_headers(message);
  SoupEncoding encoding = soup_message_headers_get_encoding(headers);
  bool body = encoding == SOUP_ENCODING_CHUNKED || (encoding == SOUP_ENCODING_CONTENT_LENGTH &&
                                                    soup_message_headers_get_content_length(headers) > 0);
  if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 && strcmp(method, "OPTIONS") != 0) {
    add_cors(message);
    method_not_allowed(message);
  } else if (body) {
    add_cors(message);
    refuse(message, 413, "media requests take no body");
  } else {
    return;
  }
  soup_message_headers_replace(soup_server_message_get_response_headers(message), "Connection", "close");
}

void MediaServer::on_request(SoupServer *, SoupServerMessage *message, const char *path, GHashTable *,
                             gpointer self) {
  static_cast<MediaServer *>(self)->serve(message, path);
}

void MediaServer::serve(SoupServerMessage *message, const char *path) {
  add_cors(message);
  SoupMessageHeaders *response = soup_server_message_get_response_headers(message);
  const char *method = soup_server_message_get_method(message);
  if (strcmp(method, "OPTIONS") == 0) {
    /* A preflight carries no token; it learns nothing about the files. */
    soup_message_headers_replace(response, "Access-Control-Allow-Methods", allowed_methods);
    soup_message_headers_replace(response, "Access-Control-Allow-Headers", "Range");
    soup_message_headers_replace(response, "Access-Control-Max-Age", preflight_max_age);
    soup_message_headers_replace(response, "Allow", allowed_methods);
    soup_server_message_set_status(message, 204, nullptr);
    return;
  }
  if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) return method_not_allowed(message);

  std::vector<std::string> segments;
  guint status = 0;
  std::string detail;
  if (!decode_segments(path, &segments, &status, &detail)) return refuse(message, status, detail);

  /* s / {exp} / {sig} / {kind} / {id} / file... */
  if (segments.empty() || segments[0] != "s")
    return refuse(message, 403, "the URL carries no signature; the API gives signed playback URLs");
  if (segments.size() < 5) return refuse(message, 403, "the signed URL is incomplete");
  const std::string &expires = segments[1];
  UrlSigner::Verdict verdict = signer_.verify(expires, segments[2], segments[3] + "/" + segments[4],
                                              g_get_real_time() / G_USEC_PER_SEC);
  if (verdict != UrlSigner::Verdict::valid) return refuse(message, 403, UrlSigner::describe(verdict));

  const std::string no_file = "no such file";
  if (!g_strv_contains(scope_kinds, segments[3].c_str()) || segments.size() < 6)
    return refuse(message, 404, no_file);
  std::string relative;
  for (size_t i = 3; i < segments.size(); i++) {
    /* Empty: "//" or a trailing slash. A leading dot: abrsink's temporary
     * files and anything hidden. */
    if (segments[i].empty() || segments[i][0] == '.') return refuse(message, 404, no_file);
    relative += "/" + segments[i];
  }
  const MediaType *type = media_type_of(segments.back());
  if (!type) return refuse(message, 404, "not a media file");

  /* Symbolic links are followed only while they stay below the root. */
  CString root(realpath(root_.c_str(), nullptr));
  if (!root) return refuse(message, 404, no_file);
  CString resolved(realpath((std::string(root.get()) + relative).c_str(), nullptr));
  std::string below = std::string(root.get()) + "/";
  if (!resolved || strncmp(resolved.get(), below.c_str(), below.size()) != 0 ||
      media_type_of(resolved.get()) != type)
    return refuse(message, 404, no_file);
  int fd = open(resolved.get(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return refuse(message, 404, no_file);
  struct stat info;
  if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    close(fd);
    return refuse(message, 404, no_file);
  }
  /* Mapped rather than read: a segment's bytes go from the page cache to the
   * socket without a copy in a string. abrsink replaces files by renaming,
   * so the mapping never sees a file change under it. */
  GError *error = nullptr;
  GMappedFile *mapped = g_mapped_file_new_from_fd(fd, FALSE, &error);
  close(fd);
  if (!mapped) {
    g_warning("cannot map %s: %s", resolved.get(), error->message);
    g_error_free(error);
    return refuse(message, 404, no_file);
  }
  GBytes *bytes = g_mapped_file_get_bytes(mapped);
  g_mapped_file_unref(mapped);

  gint64 now = g_get_real_time() / G_USEC_PER_SEC;
  gint64 expires_unix = g_ascii_strtoll(expires.c_str(), nullptr, 10);
  gint64 modified_ns = gint64(info.st_mtim.tv_sec) * G_GINT64_CONSTANT(1000000000) + info.st_mtim.tv_nsec;
  gchar *etag_text =
      g_strdup_printf("\"%" G_GINT64_MODIFIER "x-%" G_GINT64_MODIFIER "x-%" G_GINT64_MODIFIER "x\"",
                      gint64(info.st_ino), gint64(info.st_size), modified_ns);
  std::string etag = etag_text;
  g_free(etag_text);
  GDateTime *modified = g_date_time_new_from_unix_utc(info.st_mtim.tv_sec);
  gchar *last_modified = soup_date_time_to_string(modified, SOUP_DATE_HTTP);
  g_date_time_unref(modified);

  soup_message_headers_replace(response, "ETag", etag.c_str());
  soup_message_headers_replace(response, "Last-Modified", last_modified);
  g_free(last_modified);
  soup_message_headers_replace(response, "Cache-Control",
                               cache_control(*type, resolved.get(), bytes, below, expires_unix, now).c_str());
  soup_message_headers_replace(response, "Accept-Ranges", "bytes");
  if (not_modified(soup_server_message_get_request_headers(message), etag, info.st_mtim.tv_sec)) {
    g_bytes_unref(bytes);
    /* What a 200 would carry, rather than libsoup's 0 for the empty body (a
     * cache updates its stored headers from a 304). */
    soup_message_headers_set_content_length(response, info.st_size);
    soup_server_message_set_status(message, 304, nullptr);
    return;
  }
  soup_message_headers_set_content_type(response, type->content_type, nullptr);
  /* A Range header on a GET turns this into 206 in libsoup itself (it cuts
   * the complete body), or 416 when unsatisfiable. */
  soup_message_body_append_bytes(soup_server_message_get_response_body(message), bytes);
  g_bytes_unref(bytes);
  soup_server_message_set_status(message, 200, nullptr);
}

}  // namespace onair::http
