/* onair — signed HLS/DASH playback: a real abrsink output served by the
 * MediaServer on a loopback SoupServer, fetched through the relative URIs of
 * its playlists; every refusal (unsigned, forged, expired, another video's
 * token, path traversal, other methods), caching, CORS, HEAD, Range and
 * conditional requests; the key file.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "assertions.h"
#include "harness.h"
#include "http/media.h"
#include "http/router.h"
#include "http/signing.h"
#include "http_client.h"

#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include <memory>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>
#include <vector>

using namespace onair;

namespace {

using test::Response;

std::string read_file(const std::string &path) {
  gchar *contents = nullptr;
  gsize length = 0;
  GError *error = nullptr;
  if (!g_file_get_contents(path.c_str(), &contents, &length, &error)) g_error("%s", error->message);
  std::string out(contents, length);
  g_free(contents);
  return out;
}

void write_file(const std::string &path, const std::string &text) {
  g_assert_true(g_file_set_contents(path.c_str(), text.c_str(), text.size(), nullptr));
}

std::string replace_all(std::string text, const std::string &from, const std::string &to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

/* The first line of a playlist that is not a tag: a URI. */
std::string first_uri(const std::string &playlist) {
  gchar **lines = g_strsplit(playlist.c_str(), "\n", -1);
  std::string uri;
  for (gchar **line = lines; *line && uri.empty(); line++) {
    const char *text = g_strstrip(*line);
    if (*text && *text != '#') uri = text;
  }
  g_strfreev(lines);
  return uri;
}

/* The value of `attribute="..."` after `from` in a text. */
std::string attribute(const std::string &text, const std::string &name) {
  size_t at = text.find(name + "=\"");
  g_assert_true(at != std::string::npos);
  at += name.size() + 2;
  return text.substr(at, text.find('"', at) - at);
}

std::string resolve(const std::string &base, const std::string &relative) {
  GError *error = nullptr;
  gchar *out = g_uri_resolve_relative(base.c_str(), relative.c_str(), G_URI_FLAGS_ENCODED, &error);
  g_assert_no_error(error);
  std::string uri = out;
  g_free(out);
  return uri;
}

gint64 now_unix() {
  return g_get_real_time() / G_USEC_PER_SEC;
}

/* "public, max-age=N" -> N; -1 otherwise. */
gint64 max_age(const std::string &cache_control) {
  size_t at = cache_control.find("max-age=");
  return at == std::string::npos ? -1 : g_ascii_strtoll(cache_control.c_str() + at + 8, nullptr, 10);
}

/* Runs abrsink (VOD) into `directory`: one 180p rung, 3 s. */
void make_output(const std::string &directory) {
  std::string location = "location=" + directory;
  const char *argv[] = {"gst-launch-1.0",
                        "-q",
                        "videotestsrc",
                        "num-buffers=90",
                        "!",
                        "video/x-raw,width=320,height=180,framerate=30/1",
                        "!",
                        "abrladder",
                        "ladder=180p:300",
                        "!",
                        "abrsink",
                        location.c_str(),
                        "mode=vod",
                        nullptr};
  gchar **env = g_get_environ();
  /* A registry of our own: the freshly built plugin, no shared cache. */
  env = g_environ_setenv(env, "GST_REGISTRY", (test::scratch_dir() + "/gst-registry.bin").c_str(), TRUE);
  gchar *out = nullptr, *err = nullptr;
  gint wait_status = 0;
  GError *error = nullptr;
  bool spawned = g_spawn_sync(nullptr, const_cast<gchar **>(argv), env, G_SPAWN_SEARCH_PATH, nullptr, nullptr,
                              &out, &err, &wait_status, &error);
  g_strfreev(env);
  if (!spawned) g_error("cannot run gst-launch-1.0: %s", error->message);
  if (!g_spawn_check_wait_status(wait_status, nullptr))
    g_error("gst-launch-1.0 with abrsink failed (GST_PLUGIN_PATH=%s): %s %s", g_getenv("GST_PLUGIN_PATH"),
            out, err);
  g_free(out);
  g_free(err);
  g_assert_true(g_file_test((directory + "/master.m3u8").c_str(), G_FILE_TEST_IS_REGULAR));
}

/* The media root, shared by the tests: one VOD output, a live copy of it,
 * another video, and a secret outside the root with links pointing at it. */
struct Media {
  std::string root;
  std::string vod_id;
  std::string live_id;
  std::string other_id;
  std::string vod_dir;
  std::string secret = "SECRET-OUTSIDE-THE-ROOT";

  Media() {
    std::string top = test::make_dir("media");
    root = top + "/root";
    vod_id = random_id();
    live_id = random_id();
    other_id = random_id();
    vod_dir = root + "/videos/" + vod_id;
    make_output(vod_dir);
    /* A live output is the same files before its end: no ENDLIST, and a
     * dynamic MPD. */
    std::string live_dir = root + "/videos/" + live_id;
    g_assert_cmpint(g_mkdir_with_parents((live_dir + "/180p").c_str(), 0755), ==, 0);
    write_file(live_dir + "/master.m3u8", read_file(vod_dir + "/master.m3u8"));
    write_file(live_dir + "/180p/index.m3u8",
               replace_all(replace_all(read_file(vod_dir + "/180p/index.m3u8"), "#EXT-X-ENDLIST\n", ""),
                           "#EXT-X-PLAYLIST-TYPE:VOD\n", ""));
    write_file(live_dir + "/manifest.mpd",
               replace_all(read_file(vod_dir + "/manifest.mpd"), "type=\"static\"", "type=\"dynamic\""));
    std::string other_dir = root + "/videos/" + other_id;
    g_assert_cmpint(g_mkdir_with_parents(other_dir.c_str(), 0755), ==, 0);
    write_file(other_dir + "/master.m3u8", read_file(vod_dir + "/master.m3u8"));

    write_file(top + "/secret.m3u8", secret);
    write_file(top + "/secret.mp4", secret);
    g_assert_cmpint(symlink("../../../secret.m3u8", (vod_dir + "/leak.m3u8").c_str()), ==, 0);
    g_assert_cmpint(symlink(top.c_str(), (vod_dir + "/outside").c_str()), ==, 0);
    /* abrsink's temporary file while it writes, and a hidden file. */
    write_file(vod_dir + "/180p/index.m3u8.tmp", "#EXTM3U\n");
    write_file(vod_dir + "/.hidden.m3u8", "#EXTM3U\n");
  }

  static std::string random_id() {
    gchar *id = g_uuid_string_random();
    std::string out = id;
    g_free(id);
    return out;
  }
};

Media &media() {
  static Media shared;
  return shared;
}

const std::string test_key(32, 'k');

/* A loopback SoupServer with the MediaServer and, as in onaird, a Router for
 * every other path. */
struct Site {
  http::MediaServer files;
  http::Router router;
  test::Server server;
  explicit Site(const http::UrlSigner &signer)
      : files(media().root, signer), server([this](SoupServer *soup) {
          router.add("GET", "/ping", [](http::Request &request) { request.empty(204); });
          router.mount(soup);
          files.mount(soup);
        }) {}
};

void assert_cors(const Response &answer) {
  assert_string(answer.header("Access-Control-Allow-Origin"), ==, "*");
}

void assert_refused(const Response &answer, guint status, const char *detail_part) {
  if (answer.status != status)
    g_error("status %u, expected %u: %s", answer.status, status, answer.body.c_str());
  assert_string(answer.header("Content-Type"), ==, "application/problem+json");
  assert_cors(answer);
  if (answer.detail().find(detail_part) == std::string::npos)
    g_error("detail \"%s\" does not say \"%s\"", answer.detail().c_str(), detail_part);
}

void test_playback() {
  http::UrlSigner signer(test_key);
  Site site(signer);
  test::Server &server = site.server;
  Media &m = media();
  gint64 expires = now_unix() + 3000;
  std::string video = server.base() + signer.sign("videos/" + m.vod_id, expires);

  auto master = server.request("GET", video + "/master.m3u8");
  assert_status(master, 200);
  assert_string(master->header("Content-Type"), ==, "application/vnd.apple.mpegurl");
  assert_cors(*master);
  assert_string(master->header("Access-Control-Expose-Headers"), ==, "Content-Length, Content-Range");
  assert_string(master->body, ==, read_file(m.vod_dir + "/master.m3u8"));
  /* Finished (its variant has ENDLIST): cached, but not past the expiry. */
  gint64 age = max_age(master->header("Cache-Control"));
  g_assert_cmpint(age, <=, 3000);
  g_assert_cmpint(age, >=, 2900);
  g_assert_true(master->header("Cache-Control").rfind("public", 0) == 0);
  g_assert_false(master->header("ETag").empty());
  g_assert_false(master->header("Last-Modified").empty());

  /* The media playlist and its segments through the relative URIs. */
  std::string playlist_url = resolve(video + "/master.m3u8", first_uri(master->body));
  auto playlist = server.request("GET", playlist_url);
  assert_status(playlist, 200);
  assert_string(playlist->header("Content-Type"), ==, "application/vnd.apple.mpegurl");
  g_assert_true(playlist->body.find("#EXT-X-ENDLIST") != std::string::npos);
  age = max_age(playlist->header("Cache-Control"));
  g_assert_cmpint(age, <=, 3000);
  g_assert_cmpint(age, >=, 2900);

  auto init = server.request("GET", resolve(playlist_url, attribute(playlist->body, "URI")));
  assert_status(init, 200);
  assert_string(init->header("Content-Type"), ==, "video/mp4");
  assert_string(init->header("Cache-Control"), ==, "public, max-age=31536000, immutable");
  assert_string(init->body, ==, read_file(m.vod_dir + "/180p/init.mp4"));

  std::string segment_url = resolve(playlist_url, first_uri(playlist->body));
  auto segment = server.request("GET", segment_url);
  assert_status(segment, 200);
  assert_string(segment->header("Content-Type"), ==, "video/iso.segment");
  assert_string(segment->header("Cache-Control"), ==, "public, max-age=31536000, immutable");
  assert_cors(*segment);
  std::string segment_bytes = read_file(m.vod_dir + "/180p/" + first_uri(playlist->body));
  g_assert_cmpuint(segment_bytes.size(), >, 1000);
  g_assert_true(segment->body == segment_bytes);
  assert_string(segment->header("Content-Length"), ==, std::to_string(segment_bytes.size()));

  /* DASH: the MPD and its SegmentTemplate's initialization. */
  auto mpd = server.request("GET", video + "/manifest.mpd");
  assert_status(mpd, 200);
  assert_string(mpd->header("Content-Type"), ==, "application/dash+xml");
  g_assert_cmpint(max_age(mpd->header("Cache-Control")), >=, 2900);
  auto dash_init =
      server.request("GET", resolve(video + "/manifest.mpd", attribute(mpd->body, "initialization")));
  assert_status(dash_init, 200);
  assert_string(dash_init->header("Content-Type"), ==, "video/mp4");

  /* HEAD: the headers of a GET, no body. */
  auto head = server.request("HEAD", segment_url);
  assert_status(head, 200);
  g_assert_true(head->body.empty());
  assert_string(head->header("Content-Length"), ==, std::to_string(segment_bytes.size()));
  assert_string(head->header("Content-Type"), ==, "video/iso.segment");
  assert_string(head->header("ETag"), ==, segment->header("ETag"));

  /* Range: libsoup cuts the complete body. */
  auto range = server.request("GET", segment_url, {}, {{"Range", "bytes=100-299"}});
  assert_status(range, 206);
  assert_string(range->header("Content-Range"), ==, "bytes 100-299/" + std::to_string(segment_bytes.size()));
  g_assert_true(range->body == segment_bytes.substr(100, 200));
  assert_cors(*range);
  auto suffix = server.request("GET", segment_url, {}, {{"Range", "bytes=-10"}});
  assert_status(suffix, 206);
  g_assert_true(suffix->body == segment_bytes.substr(segment_bytes.size() - 10));
  auto beyond = server.request("GET", segment_url, {}, {{"Range", "bytes=99999999-"}});
  assert_status(beyond, 416);

  /* Conditional requests. */
  std::string etag = segment->header("ETag");
  auto unchanged = server.request("GET", segment_url, {}, {{"If-None-Match", etag}});
  assert_status(unchanged, 304);
  g_assert_true(unchanged->body.empty());
  assert_string(unchanged->header("ETag"), ==, etag);
  assert_string(unchanged->header("Cache-Control"), ==, "public, max-age=31536000, immutable");
  assert_cors(*unchanged);
  assert_status(server.request("GET", segment_url, {}, {{"If-None-Match", "\"other\", W/" + etag}}), 304);
  assert_status(server.request("HEAD", segment_url, {}, {{"If-None-Match", etag}}), 304);
  assert_status(server.request("GET", segment_url, {}, {{"If-None-Match", "\"other\""}}), 200);
  assert_status(
      server.request("GET", segment_url, {}, {{"If-Modified-Since", segment->header("Last-Modified")}}), 304);
  assert_status(
      server.request("GET", segment_url, {}, {{"If-Modified-Since", "Thu, 01 Jan 2004 00:00:00 GMT"}}), 200);
}

void test_live_caching() {
  http::UrlSigner signer(test_key);
  Site site(signer);
  test::Server &server = site.server;
  std::string video = server.base() + signer.sign("videos/" + media().live_id, now_unix() + 3000);
  auto master = server.request("GET", video + "/master.m3u8");
  assert_status(master, 200);
  assert_string(master->header("Cache-Control"), ==, "public, max-age=1");
  auto playlist = server.request("GET", resolve(video + "/master.m3u8", first_uri(master->body)));
  assert_status(playlist, 200);
  assert_string(playlist->header("Cache-Control"), ==, "public, max-age=1");
  auto mpd = server.request("GET", video + "/manifest.mpd");
  assert_status(mpd, 200);
  assert_string(mpd->header("Cache-Control"), ==, "public, max-age=1");

  /* A finished playlist whose URL expires in 2 minutes is cached 2 minutes
   * at most. */
  std::string soon = server.base() + signer.sign("videos/" + media().vod_id, now_unix() + 120);
  auto bounded = server.request("GET", soon + "/180p/index.m3u8");
  assert_status(bounded, 200);
  g_assert_cmpint(max_age(bounded->header("Cache-Control")), <=, 120);
  g_assert_cmpint(max_age(bounded->header("Cache-Control")), >=, 100);
}

void test_refusals() {
  http::UrlSigner signer(test_key);
  Site site(signer);
  test::Server &server = site.server;
  Media &m = media();
  gint64 expires = now_unix() + 3000;
  std::string token = signer.sign("videos/" + m.vod_id, expires);
  std::string good = token + "/master.m3u8";
  assert_status(server.request("GET", good), 200);

  assert_refused(*server.request("GET", "/media/videos/" + m.vod_id + "/master.m3u8"), 403, "no signature");
  assert_refused(*server.request("GET", "/media/s/" + std::to_string(expires)), 403, "incomplete");

  /* One character of the signature changed. */
  std::string prefix = "/media/s/" + std::to_string(expires) + "/";
  std::string signature = token.substr(prefix.size(), token.find('/', prefix.size()) - prefix.size());
  g_assert_cmpuint(signature.size(), ==, 43);
  std::string forged = signature;
  forged[5] = forged[5] == 'A' ? 'B' : 'A';
  assert_refused(*server.request("GET", prefix + forged + "/videos/" + m.vod_id + "/master.m3u8"), 403,
                 "signature does not match");
  assert_refused(
      *server.request("GET", prefix + signature.substr(0, 42) + "/videos/" + m.vod_id + "/master.m3u8"), 403,
      "signature does not match");
  /* A later expiry with the same signature. */
  assert_refused(*server.request("GET", "/media/s/" + std::to_string(expires + 1) + "/" + signature +
                                            "/videos/" + m.vod_id + "/master.m3u8"),
                 403, "signature does not match");
  /* The same token on another video. */
  assert_status(server.request("GET", signer.sign("videos/" + m.other_id, expires) + "/master.m3u8"), 200);
  assert_refused(*server.request("GET", prefix + signature + "/videos/" + m.other_id + "/master.m3u8"), 403,
                 "signature does not match");
  /* Signed with another key. */
  http::UrlSigner stranger(std::string(32, 'x'));
  assert_refused(*server.request("GET", stranger.sign("videos/" + m.vod_id, expires) + "/master.m3u8"), 403,
                 "signature does not match");
  /* Genuine but expired. */
  assert_refused(*server.request("GET", signer.sign("videos/" + m.vod_id, now_unix() - 10) + "/master.m3u8"),
                 403, "expired");
  assert_refused(
      *server.request("GET", "/media/s/12ab/" + signature + "/videos/" + m.vod_id + "/master.m3u8"), 403,
      "expiry");
  assert_refused(*server.request("GET", "/media/s/-5/" + signature + "/videos/" + m.vod_id + "/master.m3u8"),
                 403, "expiry");
  assert_refused(*server.request("GET", "/media/s/99999999999999999999999/" + signature + "/videos/" +
                                            m.vod_id + "/m.m3u8"),
                 403, "expiry");

  /* Unknown files, types, and what is not a file. */
  assert_refused(*server.request("GET", token + "/nothing.m3u8"), 404, "no such file");
  assert_refused(*server.request("GET", token + "/180p/index.m3u8.tmp"), 404, "not a media file");
  assert_refused(*server.request("GET", token + "/180p"), 404, "not a media file");
  assert_refused(*server.request("GET", token + "/.hidden.m3u8"), 404, "no such file");
  assert_refused(*server.request("GET", token + "/"), 404, "no such file");
  assert_refused(*server.request("GET", token), 404, "no such file");

  /* Other methods: 405 before any body is read. */
  auto post = server.request("POST", good, "payload", {}, "application/octet-stream");
  assert_refused(*post, 405, "POST");
  assert_string(post->header("Allow"), ==, "GET, HEAD, OPTIONS");
  assert_refused(*server.request("DELETE", good), 405, "DELETE");
  assert_refused(*server.request("PUT", good, std::string(100000, 'x'), {}, "application/octet-stream"), 405,
                 "PUT");

  /* The Router still answers the other paths. */
  assert_status(server.request("GET", "/ping"), 204);
  auto elsewhere = server.request("GET", "/mediax/videos/" + m.vod_id + "/master.m3u8");
  assert_status(elsewhere, 404);
  assert_string(elsewhere->header("Content-Type"), ==, "application/problem+json");
  g_assert_true(elsewhere->detail().find("no resource") != std::string::npos);
}

void test_traversal() {
  http::UrlSigner signer(test_key);
  Site site(signer);
  test::Server &server = site.server;
  Media &m = media();
  std::string token = signer.sign("videos/" + m.vod_id, now_unix() + 3000);
  std::string answer;
  g_assert_cmpuint(server.raw(token + "/master.m3u8", &answer), ==, 200);

  const std::vector<std::string> attempts = {
      token + "/../../../secret.m3u8",
      token + "/180p/../../../../secret.m3u8",
      token + "/%2e%2e/%2e%2e/%2e%2e/secret.m3u8",
      token + "/%2E%2E/%2E%2E/%2E%2E/secret.m3u8",
      token + "/..%2f..%2f..%2fsecret.m3u8",
      token + "/%2e%2e%2f%2e%2e%2f%2e%2e%2fsecret.m3u8",
      token + "/..\\..\\..\\secret.m3u8",
      token + "/%00/master.m3u8",
      token + "/master.m3u8%00.mp4",
      token + "//etc/passwd.m3u8",
      token + "/%2fetc%2fpasswd.m3u8",
      /* Symbolic links that lead out of the root. */
      token + "/leak.m3u8",
      token + "/outside/secret.m3u8",
      token + "/outside/secret.mp4",
      /* A token for one video does not reach another's files by dots. */
      token + "/../" + m.other_id + "/master.m3u8",
      "/media/../media/videos/" + m.vod_id + "/master.m3u8",
  };
  /* libsoup removes dot segments (also encoded ones) before a handler sees
   * the path, so those land on a path whose token is gone (403) or on a file
   * of the same video; it refuses encoded slashes and NUL itself (400). What
   * gets through is refused by the MediaServer (400, 404). */
  for (const std::string &target : attempts) {
    guint status = server.raw(target, &answer);
    if (status != 400 && status != 403 && status != 404)
      g_error("%s: status %u, expected 400, 403 or 404: %s", target.c_str(), status, answer.c_str());
    if (answer.find(m.secret) != std::string::npos) g_error("%s leaked the secret", target.c_str());
    if (answer.find("application/problem+json") != std::string::npos)
      g_assert_true(answer.find("Access-Control-Allow-Origin: *") != std::string::npos);
  }
  g_assert_cmpuint(server.raw(token + "/..\\..\\..\\secret.m3u8", &answer), ==, 400);
  g_assert_cmpuint(server.raw(token + "/%00/master.m3u8", &answer), ==, 400);
  g_assert_cmpuint(server.raw(token + "//etc/passwd.m3u8", &answer), ==, 404);
  g_assert_cmpuint(server.raw(token + "/leak.m3u8", &answer), ==, 404);
  g_assert_cmpuint(server.raw(token + "/outside/secret.m3u8", &answer), ==, 404);
  /* The same token still serves the video's own files. */
  g_assert_cmpuint(server.raw(token + "/master.m3u8", &answer), ==, 200);
}

void test_preflight() {
  http::UrlSigner signer(test_key);
  Site site(signer);
  test::Server &server = site.server;
  std::string url = signer.sign("videos/" + media().vod_id, now_unix() + 3000) + "/180p/init.mp4";
  auto preflight = server.request("OPTIONS", url, {},
                                  {{"Origin", "https://player.example.com"},
                                   {"Access-Control-Request-Method", "GET"},
                                   {"Access-Control-Request-Headers", "range"}});
  assert_status(preflight, 204);
  assert_cors(*preflight);
  assert_string(preflight->header("Access-Control-Allow-Methods"), ==, "GET, HEAD, OPTIONS");
  assert_string(preflight->header("Access-Control-Allow-Headers"), ==, "Range");
  g_assert_cmpint(g_ascii_strtoll(preflight->header("Access-Control-Max-Age").c_str(), nullptr, 10), >, 0);
  g_assert_true(preflight->body.empty());
}

void test_key_file() {
  std::string directory = test::make_dir("keys");
  std::string path = directory + "/state/playback.key";
  GError *error = nullptr;
  std::optional<http::UrlSigner> first = http::UrlSigner::load(path, &error);
  g_assert_no_error(error);
  g_assert_true(first.has_value());
  GStatBuf info;
  g_assert_cmpint(g_stat(path.c_str(), &info), ==, 0);
  g_assert_cmpint(info.st_mode & 0777, ==, 0600);
  g_assert_cmpint(info.st_size, ==, 32);
  std::string key = read_file(path);

  /* A second load (a restart) reuses the key: the same URLs verify. */
  std::optional<http::UrlSigner> second = http::UrlSigner::load(path, &error);
  g_assert_no_error(error);
  g_assert_true(second.has_value());
  assert_string(read_file(path), ==, key);
  gint64 expires = now_unix() + 600;
  assert_string(first->sign("videos/a", expires), ==, second->sign("videos/a", expires));
  /* And it serves: a URL signed before the restart plays after it. */
  Site site(*second);
  test::Server &server = site.server;
  assert_status(server.request("GET", first->sign("videos/" + media().vod_id, expires) + "/master.m3u8"),
                200);

  /* Another file, another key. */
  std::optional<http::UrlSigner> other = http::UrlSigner::load(directory + "/other.key", &error);
  g_assert_no_error(error);
  g_assert_true(first->sign("videos/a", expires) != other->sign("videos/a", expires));

  /* A short key is refused, not padded or replaced. */
  write_file(directory + "/short.key", "0123456789");
  g_assert_false(http::UrlSigner::load(directory + "/short.key", &error).has_value());
  g_assert_nonnull(error);
  g_assert_nonnull(strstr(error->message, "short.key"));
  g_assert_nonnull(strstr(error->message, "10 bytes"));
  g_clear_error(&error);
  assert_string(read_file(directory + "/short.key"), ==, "0123456789");
  /* Unreadable: a directory in its place. */
  g_assert_cmpint(g_mkdir((directory + "/dir.key").c_str(), 0700), ==, 0);
  g_assert_false(http::UrlSigner::load(directory + "/dir.key", &error).has_value());
  g_assert_nonnull(error);
  g_clear_error(&error);
}

void test_signature_format() {
  /* sig = unpadded base64url of HMAC-SHA256(key, "{exp}/{scope}"), computed
   * here through GLib's hex HMAC as a second path. */
  http::UrlSigner signer(test_key);
  std::string url = signer.sign("videos/abc", 1700000000);
  gchar *digest =
      g_compute_hmac_for_string(G_CHECKSUM_SHA256, reinterpret_cast<const guchar *>(test_key.data()),
                                test_key.size(), "1700000000/videos/abc", -1);
  /* Hex to bytes to unpadded base64url. */
  guint8 raw[32];
  for (int i = 0; i < 32; i++)
    raw[i] = guint8(g_ascii_xdigit_value(digest[2 * i]) * 16 + g_ascii_xdigit_value(digest[2 * i + 1]));
  g_free(digest);
  gchar *base64 = g_base64_encode(raw, sizeof raw);
  std::string expected = replace_all(replace_all(replace_all(base64, "+", "-"), "/", "_"), "=", "");
  g_free(base64);
  assert_string(url, ==, "/media/s/1700000000/" + expected + "/videos/abc");
  g_assert_true(signer.verify("1700000000", expected, "videos/abc", 1600000000) ==
                http::UrlSigner::Verdict::valid);
  g_assert_true(signer.verify("1700000000", expected, "videos/abc", 1700000000) ==
                http::UrlSigner::Verdict::expired);
  g_assert_true(signer.verify("1700000000", expected, "videos/abd", 1600000000) ==
                http::UrlSigner::Verdict::bad_signature);
  g_assert_true(signer.verify("", expected, "videos/abc", 1600000000) ==
                http::UrlSigner::Verdict::malformed_expiry);
}

}  // namespace

int main(int argc, char **argv) {
  test::init(&argc, &argv);
  g_test_add_func("/media/playback", test_playback);
  g_test_add_func("/media/live-caching", test_live_caching);
  g_test_add_func("/media/refusals", test_refusals);
  g_test_add_func("/media/traversal", test_traversal);
  g_test_add_func("/media/preflight", test_preflight);
  g_test_add_func("/media/key-file", test_key_file);
  g_test_add_func("/media/signature-format", test_signature_format);
  return g_test_run();
}
