/* onair — the REST API (videos, comments, /healthz) over HTTP against a real
 * PostgreSQL: every route, pagination walks, filters, every class of error,
 * and a database outage (503 + Retry-After, nothing acknowledged lost).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "harness.h"
#include "http/api.h"
#include "http/signing.h"
#include "http_client.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include <linux/tcp.h> /* tcp_info with tcpi_data_segs_in (glibc's is older) */
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <vector>

using namespace onair;

namespace {

using test::Server;

struct Fixture : test::ServerFixture {
  std::string create_video(const std::string &body) {
    auto response = server->request("POST", "/api/v1/videos", body);
    assert_status(response, 201);
    return response->string("id");
  }
};

void test_videos_crud() {
  Fixture f;
  auto created = f.server->request(
      "POST", "/api/v1/videos",
      R"({"title": "Launch", "description": "d", "tags": ["news", "space"], "visibility": "public", "kind": "live"})");
  assert_status(created, 201);
  std::string id = created->string("id");
  g_assert_true(g_uuid_string_is_valid(id.c_str()));
  assert_string(created->header("Location"), ==, f.server->base() + "/api/v1/videos/" + id);
  assert_string(created->string("status"), ==, "pending");
  assert_string(created->string("visibility"), ==, "public");
  JsonObject *playback = json_object_get_object_member(created->object(), "playback");
  /* Signed: {base}/media/s/{exp}/{sig}/videos/{id}/..., valid for the TTL
   * (rounded up to the minute). */
  for (const char *member : {"hls", "dash"}) {
    std::string url = json_object_get_string_member(playback, member);
    std::string prefix = f.server->base() + "/media/s/";
    g_assert_true(url.rfind(prefix, 0) == 0);
    gchar **parts = g_strsplit(url.c_str() + prefix.size(), "/", -1);
    g_assert_cmpuint(g_strv_length(parts), ==, 5);
    gint64 expires = g_ascii_strtoll(parts[0], nullptr, 10);
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;
    g_assert_cmpint(expires, >=, now + 3600 - 5);
    g_assert_cmpint(expires, <=, now + 3600 + 60);
    g_assert_true(f.server->signer().verify(parts[0], parts[1], "videos/" + id, now) ==
                  http::UrlSigner::Verdict::valid);
    assert_string(parts[2], ==, "videos");
    assert_string(parts[3], ==, id);
    assert_string(parts[4], ==, strcmp(member, "hls") == 0 ? "master.m3u8" : "manifest.mpd");
    g_strfreev(parts);
  }

  auto got = f.server->request("GET", "/api/v1/videos/" + id);
  assert_status(got, 200);
  assert_string(got->string("title"), ==, "Launch");
  g_assert_cmpuint(json_array_get_length(json_object_get_array_member(got->object(), "tags")), ==, 2);

  auto updated = f.server->request("PATCH", "/api/v1/videos/" + id, R"({"title": "Landing", "tags": []})");
  assert_status(updated, 200);
  assert_string(updated->string("title"), ==, "Landing");
  assert_string(updated->string("description"), ==, "d");
  g_assert_cmpuint(json_array_get_length(json_object_get_array_member(updated->object(), "tags")), ==, 0);

  assert_status(f.server->request("DELETE", "/api/v1/videos/" + id), 204);
  assert_status(f.server->request("GET", "/api/v1/videos/" + id), 404);
  assert_status(f.server->request("DELETE", "/api/v1/videos/" + id), 404);
  assert_status(f.server->request("PATCH", "/api/v1/videos/" + id, R"({"title": "x"})"), 404);

  auto health = f.server->request("GET", "/healthz");
  assert_status(health, 200);
}

/* Walks every page of a list; checks no duplicates, returns the ids in order. */
std::vector<std::string> walk(Server &server, std::string path, int *pages) {
  std::vector<std::string> ids;
  std::set<std::string> seen;
  *pages = 0;
  while (true) {
    auto page = server.request("GET", path);
    assert_status(page, 200);
    (*pages)++;
    JsonArray *items = json_object_get_array_member(page->object(), "items");
    for (guint i = 0; i < json_array_get_length(items); i++) {
      std::string id = json_object_get_string_member(json_array_get_object_element(items, i), "id");
      g_assert_true(seen.insert(id).second);
      ids.push_back(id);
    }
    std::string next = page->string("next");
    if (next.empty()) {
      g_assert_true(JSON_NODE_HOLDS_NULL(json_object_get_member(page->object(), "next_cursor")));
      break;
    }
    path = next;
    g_assert_cmpint(*pages, <, 1000);
  }
  return ids;
}

void test_videos_list() {
  Fixture f;
  std::vector<std::string> all;
  for (int i = 0; i < 23; i++) {
    std::string body = std::string(R"({"title": "v)") + std::to_string(i) + R"(", "visibility": ")" +
                       (i % 2 ? "public" : "private") + R"(", "tags": [")" + (i % 3 ? "a" : "b") + R"("]})";
    all.push_back(f.create_video(body));
  }
  test::Peer peer(f.database.uri());
  /* Equal created_at for several rows: the id breaks ties. */
  peer.exec("UPDATE videos SET created_at = '2026-01-01T00:00:00Z' WHERE title IN ('v3', 'v4', 'v5', 'v6')");
  peer.exec("UPDATE videos SET status = 'ready' WHERE title = 'v7'");
  int pages = 0;
  std::vector<std::string> ids = walk(*f.server, "/api/v1/videos?limit=5", &pages);
  g_assert_cmpuint(ids.size(), ==, 23);
  g_assert_cmpint(pages, ==, 5);
  std::vector<std::string> expected =
      peer.column("SELECT id::text FROM videos ORDER BY created_at DESC, id DESC");
  g_assert_true(ids == expected);

  g_assert_cmpuint(walk(*f.server, "/api/v1/videos?visibility=public&limit=3", &pages).size(), ==, 11);
  g_assert_cmpuint(walk(*f.server, "/api/v1/videos?tag=b&limit=2", &pages).size(), ==, 8);
  g_assert_cmpuint(walk(*f.server, "/api/v1/videos?tag=b&visibility=private", &pages).size(), ==, 4);
  g_assert_cmpuint(walk(*f.server, "/api/v1/videos?status=ready", &pages).size(), ==, 1);
  g_assert_cmpuint(walk(*f.server, "/api/v1/videos?kind=live", &pages).size(), ==, 0);
  g_assert_cmpuint(walk(*f.server, "/api/v1/videos?kind=vod", &pages).size(), ==, 23);
  std::string channel = *peer.value(
      "INSERT INTO channels (name, pipeline, stream_key) VALUES ('c', 'p', 'abcdefghijklmnopq') RETURNING "
      "id");
  peer.exec("UPDATE videos SET channel_id = '" + channel + "' WHERE title IN ('v1', 'v2')");
  g_assert_cmpuint(walk(*f.server, "/api/v1/videos?channel_id=" + channel, &pages).size(), ==, 2);

  auto bad = f.server->request("GET", "/api/v1/videos?status=bogus&limit=0&colour=red&after=xyz");
  assert_status(bad, 400);
  std::set<std::string> fields;
  JsonArray *errors = json_object_get_array_member(bad->object(), "errors");
  for (guint i = 0; i < json_array_get_length(errors); i++)
    fields.insert(json_object_get_string_member(json_array_get_object_element(errors, i), "field"));
  g_assert_true(fields == (std::set<std::string>{"status", "limit", "colour", "after"}));
  assert_status(f.server->request("GET", "/api/v1/videos?channel_id=nope"), 400);
}

void test_comments() {
  Fixture f;
  std::string video = f.create_video(R"({"title": "Talk"})");
  std::string path = "/api/v1/videos/" + video + "/comments";
  for (int i = 0; i < 17; i++) {
    std::string body = R"({"author": "a)" + std::to_string(i) + R"(", "body": "hello )" + std::to_string(i) +
                       "\"" +
                       (i % 4 == 3 ? "" : ", \"media_time_ms\": " + std::to_string((i * 7919) % 1000)) + "}";
    auto created = f.server->request("POST", path, body);
    assert_status(created, 201);
    assert_string(created->string("video_id"), ==, video);
  }
  test::Peer peer(f.database.uri());
  int pages = 0;
  std::vector<std::string> newest = walk(*f.server, path + "?limit=4", &pages);
  g_assert_cmpuint(newest.size(), ==, 17);
  g_assert_true(newest == peer.column("SELECT id::text FROM comments ORDER BY created_at DESC, id DESC"));
  std::vector<std::string> by_time = walk(*f.server, path + "?order=media_time&limit=5", &pages);
  g_assert_cmpuint(by_time.size(), ==, 13);
  g_assert_true(by_time == peer.column("SELECT id::text FROM comments WHERE media_time_ms IS NOT NULL "
                                       "ORDER BY media_time_ms, id"));

  /* A newest-order cursor is refused by the media-time order. */
  auto first = f.server->request("GET", path + "?limit=2");
  std::string cursor = first->string("next_cursor");
  auto mixed = f.server->request("GET", path + "?order=media_time&after=" + cursor);
  assert_status(mixed, 400);
  assert_string(mixed->error_field(), ==, "after");

  auto empty =
      f.server->request("GET", "/api/v1/videos/" + f.create_video(R"({"title": "x"})") + "/comments");
  assert_status(empty, 200);
  g_assert_cmpuint(json_array_get_length(json_object_get_array_member(empty->object(), "items")), ==, 0);

  std::string unknown = "/api/v1/videos/01890000-0000-7000-8000-000000000000/comments";
  assert_status(f.server->request("GET", unknown), 404);
  assert_status(f.server->request("POST", unknown, R"({"author": "a", "body": "b"})"), 404);
  assert_status(f.server->request("GET", "/api/v1/videos/123/comments"), 400);

  auto missing = f.server->request("POST", path, R"({"body": "b"})");
  assert_status(missing, 422);
  assert_string(missing->error_field(), ==, "author");
  auto long_body =
      f.server->request("POST", path, R"({"author": "a", "body": ")" + std::string(2001, 'x') + "\"}");
  assert_status(long_body, 422);
  assert_string(long_body->error_field(), ==, "body");
  auto negative = f.server->request("POST", path, R"({"author": "a", "body": "b", "media_time_ms": -1})");
  assert_status(negative, 422);
  assert_string(negative->error_field(), ==, "media_time_ms");
  g_assert_cmpint(peer.integer("SELECT count(*) FROM comments"), ==, 17);
}

void test_errors() {
  Fixture f;
  auto malformed = f.server->request("POST", "/api/v1/videos", "{\"title\": ");
  assert_status(malformed, 400);
  g_assert_true(g_str_has_prefix(malformed->content_type.c_str(), "application/problem+json"));
  g_assert_cmpint(json_object_get_int_member(malformed->object(), "status"), ==, 400);
  assert_status(f.server->request("POST", "/api/v1/videos", "[1, 2]"), 400);

  auto wrong_type = f.server->request("POST", "/api/v1/videos", R"({"title": 5})");
  assert_status(wrong_type, 422);
  assert_string(wrong_type->error_field(), ==, "title");
  auto unknown = f.server->request("POST", "/api/v1/videos", R"({"title": "t", "status": "ready"})");
  assert_status(unknown, 422);
  assert_string(unknown->error_field(), ==, "status");
  auto too_long =
      f.server->request("POST", "/api/v1/videos", R"({"title": ")" + std::string(201, 'x') + "\"}");
  assert_status(too_long, 422);
  assert_string(too_long->error_field(), ==, "title");
  /* 200 characters of 2 bytes each: within the limit, counted in characters. */
  std::string accents;
  for (int i = 0; i < 200; i++) accents += "é";
  assert_status(f.server->request("POST", "/api/v1/videos", R"({"title": ")" + accents + "\"}"), 201);
  auto bad_tag = f.server->request("POST", "/api/v1/videos", R"({"title": "t", "tags": ["ok", ""]})");
  assert_status(bad_tag, 422);
  assert_string(bad_tag->error_field(), ==, "tags[1]");
  auto bad_enum = f.server->request("POST", "/api/v1/videos", R"({"title": "t", "visibility": "secret"})");
  assert_status(bad_enum, 422);
  assert_string(bad_enum->error_field(), ==, "visibility");
  auto fk = f.server->request("POST", "/api/v1/videos",
                              R"({"title": "t", "channel_id": "01890000-0000-7000-8000-000000000000"})");
  assert_status(fk, 422);
  assert_string(fk->error_field(), ==, "channel_id");
  assert_status(
      f.server->request("POST", "/api/v1/videos", "title=x", {}, "application/x-www-form-urlencoded"), 415);

  std::string huge = R"({"title": "t", "description": ")" + std::string(70 * 1024, 'x') + "\"}";
  auto oversized = f.server->request("POST", "/api/v1/videos", huge);
  assert_status(oversized, 413);

  assert_status(f.server->request("GET", "/api/v1/videos/not-a-uuid"), 400);
  assert_status(f.server->request("GET", "/api/v1/videos/01890000-0000-7000-8000-000000000000"), 404);
  assert_status(f.server->request("GET", "/api/v1/nothing"), 404);
  auto not_allowed = f.server->request("PUT", "/api/v1/videos");
  assert_status(not_allowed, 405);
  assert_string(not_allowed->header("Allow"), ==, "GET, POST");

  std::string id = f.create_video(R"({"title": "t"})");
  auto nothing = f.server->request("PATCH", "/api/v1/videos/" + id, "{}");
  assert_status(nothing, 422);
  auto null_title = f.server->request("PATCH", "/api/v1/videos/" + id, R"({"title": null})");
  assert_status(null_title, 422);
  assert_string(null_title->error_field(), ==, "title");
  auto kind = f.server->request("PATCH", "/api/v1/videos/" + id, R"({"kind": "live"})");
  assert_status(kind, 422);
  assert_string(kind->error_field(), ==, "kind");
}

/* PostgreSQL stopped: writes answer 503 with Retry-After, /healthz 503; once
 * it is back, every comment that was answered 201 is in the database. */
void test_outage() {
  std::string state = test::make_dir("http-outage");
  auto options = test::cluster_options(state);
  options.database = "onair";
  db::EmbeddedPostgres postgres(options);
  GError *error = nullptr;
  if (!postgres.start(&error)) g_error("%s", error->message);
  test::migrate_schema(postgres.uri());
  auto pool = test::open_pool(postgres.uri());
  test::wait_all_connected(*pool);
  auto server = std::make_unique<Server>(*pool);
  std::string video = server->request("POST", "/api/v1/videos", R"({"title": "o"})")->string("id");
  std::string path = "/api/v1/videos/" + video + "/comments";
  std::vector<std::string> acknowledged;
  auto post = [&](int i) {
    auto response =
        server->request("POST", path, R"({"author": "a", "body": "c)" + std::to_string(i) + "\"}");
    if (response->status == 201)
      acknowledged.push_back(response->string("id"));
    else {
      assert_status(response, 503);
      assert_string(response->header("Retry-After"), ==, "1");
    }
    return response->status;
  };
  for (int i = 0; i < 10; i++) g_assert_cmpuint(post(i), ==, 201);

  if (!postgres.stop(&error)) g_error("%s", error->message);
  int unavailable = 0;
  for (int i = 10; i < 20; i++) unavailable += post(i) == 503;
  g_assert_cmpint(unavailable, ==, 10);
  auto health = server->request("GET", "/healthz");
  assert_status(health, 503);
  assert_string(health->header("Retry-After"), ==, "1");
  auto write = server->request("POST", "/api/v1/videos", R"({"title": "during"})");
  assert_status(write, 503);
  assert_string(write->header("Retry-After"), ==, "1");

  if (!postgres.start(&error)) g_error("%s", error->message);
  test::run_until([&] { return server->request("GET", "/healthz")->status == 200; }, 120, "healthz back");
  for (int i = 20; i < 30; i++) post(i);
  g_assert_cmpuint(acknowledged.size(), >=, 20);

  test::Peer peer(postgres.uri());
  std::vector<std::string> stored = peer.column("SELECT id::text FROM comments");
  std::set<std::string> in_db(stored.begin(), stored.end());
  for (const std::string &id : acknowledged) g_assert_true(in_db.count(id));
  server.reset();
  pool->close();
  test::run_for(10);
}

/* Tokens and roles: who may call what, 401 against 403, revocation taking
 * effect at once, expiry, the secret shown once and stored hashed. */
void test_auth() {
  Fixture f;
  Server &server = *f.server;
  std::string admin = server.token;
  std::string viewer = server.make_token(store::Role::viewer);
  std::string operator_token = server.make_token(store::Role::operator_);

  std::string public_video = f.create_video(R"({"title": "pub", "visibility": "public"})");
  std::string private_video = f.create_video(R"({"title": "priv", "visibility": "private"})");

  /* Anonymous: reads of public videos, nothing else. */
  server.token.clear();
  auto anonymous_write = server.request("POST", "/api/v1/videos", R"({"title": "x"})");
  assert_status(anonymous_write, 401);
  assert_string(anonymous_write->content_type, ==, "application/problem+json");
  g_assert_true(anonymous_write->header("WWW-Authenticate").rfind("Bearer", 0) == 0);
  assert_status(server.request("GET", "/api/v1/videos/" + public_video), 200);
  assert_status(server.request("GET", "/api/v1/videos/" + private_video), 404);
  auto catalogue = server.request("GET", "/api/v1/videos");
  assert_status(catalogue, 200);
  g_assert_cmpuint(json_array_get_length(json_object_get_array_member(catalogue->object(), "items")), ==, 1);
  auto private_list = server.request("GET", "/api/v1/videos?visibility=private");
  assert_status(private_list, 403);
  assert_string(private_list->error_field(), ==, "visibility");
  assert_status(server.request("POST", "/api/v1/videos/" + public_video + "/comments",
                               R"({"author": "a", "body": "b"})"),
                401);
  assert_status(server.request("GET", "/api/v1/tokens"), 401);

  /* A malformed or unknown token is refused even where none is needed. */
  server.token = "not-a-token";
  assert_status(server.request("GET", "/api/v1/videos/" + public_video), 401);
  server.token = store::make_token_secret();
  assert_status(server.request("GET", "/api/v1/videos"), 401);

  /* Viewer: comments, not writes of videos. */
  server.token = viewer;
  assert_status(server.request("POST", "/api/v1/videos/" + public_video + "/comments",
                               R"({"author": "a", "body": "b"})"),
                201);
  auto viewer_write = server.request("POST", "/api/v1/videos", R"({"title": "x"})");
  assert_status(viewer_write, 403);
  g_assert_true(viewer_write->body.find("operator") != std::string::npos);
  assert_status(server.request("GET", "/api/v1/videos/" + private_video), 404);

  /* Operator: videos, private ones included; not tokens. */
  server.token = operator_token;
  assert_status(server.request("GET", "/api/v1/videos/" + private_video), 200);
  assert_status(server.request("PATCH", "/api/v1/videos/" + private_video, R"({"title": "p2"})"), 200);
  assert_status(server.request("GET", "/api/v1/tokens"), 403);

  /* Admin: tokens. The secret is shown once, never listed, and only its hash is stored. */
  server.token = admin;
  auto created = server.request("POST", "/api/v1/tokens", R"({"name": "encoder", "role": "operator"})");
  assert_status(created, 201);
  std::string secret = created->string("token");
  std::string id = created->string("id");
  g_assert_true(secret.rfind("onair_", 0) == 0);
  g_assert_cmpuint(secret.size(), ==, 6 + 43);
  auto listed = server.request("GET", "/api/v1/tokens");
  assert_status(listed, 200);
  g_assert_true(listed->body.find(id) != std::string::npos);
  g_assert_true(listed->body.find(secret) == std::string::npos);
  test::Peer peer(f.database.uri());
  g_assert_cmpint(
      peer.integer("SELECT count(*) FROM api_tokens WHERE token_hash = sha256(convert_to($1, 'UTF8'))",
                   {secret}),
      ==, 1);

  auto bad = server.request("POST", "/api/v1/tokens", R"({"name": "", "role": "root", "extra": 1})");
  assert_status(bad, 422);
  std::set<std::string> fields;
  for (size_t i = 0; i < 3; i++) fields.insert(bad->error_field(i));
  g_assert_true(fields == std::set<std::string>({"name", "role", "extra"}));
  auto past = server.request("POST", "/api/v1/tokens",
                             R"({"name": "old", "role": "viewer", "expires_at": "2001-01-01T00:00:00Z"})");
  assert_status(past, 422);
  assert_string(past->error_field(), ==, "expires_at");
  assert_status(
      server.request("POST", "/api/v1/tokens", R"({"name": "n", "role": "viewer", "expires_at": "soon"})"),
      422);

  /* The new token works; revoked, it stops at once (cached or not). */
  server.token = secret;
  assert_status(server.request("GET", "/api/v1/videos/" + private_video), 200);
  server.token = admin;
  assert_status(server.request("DELETE", "/api/v1/tokens/" + id), 204);
  assert_status(server.request("DELETE", "/api/v1/tokens/" + id), 404);
  assert_status(server.request("DELETE", "/api/v1/tokens/nope"), 400);
  server.token = secret;
  assert_status(server.request("GET", "/api/v1/videos/" + private_video), 401);

  /* An expired token is refused. */
  server.token = server.make_token(store::Role::admin, "2001-01-01T00:00:00Z");
  assert_status(server.request("GET", "/api/v1/tokens"), 401);
  /* One that expires while cached too: its expiry is checked on every use. */
  GDateTime *soon = g_date_time_add_seconds(g_date_time_new_now_utc(), 2);
  gchar *soon_text = g_date_time_format_iso8601(soon);
  server.token = server.make_token(store::Role::admin, soon_text);
  g_free(soon_text);
  g_date_time_unref(soon);
  assert_status(server.request("GET", "/api/v1/tokens"), 200);
  test::run_for(2500);
  assert_status(server.request("GET", "/api/v1/tokens"), 401);
  server.token = admin;
}

/* Segments with data that the client's socket received so far
 * (tcp_info.tcpi_data_segs_in, Linux 4.6). */
guint32 data_segments_in(int fd) {
  struct tcp_info info = {};
  socklen_t size = sizeof info;
  g_assert_cmpint(getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &size), ==, 0);
  g_assert_cmpuint(size, >=, offsetof(struct tcp_info, tcpi_data_segs_in) + sizeof info.tcpi_data_segs_in);
  return info.tcpi_data_segs_in;
}

/* Each answer in one TCP segment: libsoup writes an answer's head and body
 * with a send() each, which without TCP_CORK leave as two packets. Answers
 * made at once (404) and after a query (a comment page), two on one
 * keep-alive connection: the second is corked again. */
void test_answer_in_one_segment() {
  Fixture f;
  std::string video = f.create_video(R"({"title": "t"})");
  std::vector<std::string> targets = {"/api/v1/nowhere", "/api/v1/videos/" + video + "/comments"};
  std::vector<guint32> segments;
  std::vector<std::string> answers;
  f.server->connected(
      [&](int fd) {
        for (const std::string &target : targets) {
          guint32 before = data_segments_in(fd);
          std::string request = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                                f.server->token + "\r\n\r\n";
          if (write(fd, request.data(), request.size()) != ssize_t(request.size())) break;
          /* The whole answer: its head, then Content-Length bytes. */
          std::string text;
          size_t end = std::string::npos, length = 0;
          char buffer[4096];
          while (end == std::string::npos || text.size() < end + 4 + length) {
            ssize_t got = read(fd, buffer, sizeof buffer);
            if (got <= 0) break;
            text.append(buffer, size_t(got));
            if (end == std::string::npos && (end = text.find("\r\n\r\n")) != std::string::npos) {
              size_t at = text.find("Content-Length: ");
              length = at < end ? size_t(g_ascii_strtoull(text.c_str() + at + 16, nullptr, 10)) : 0;
            }
          }
          answers.push_back(text);
          segments.push_back(data_segments_in(fd) - before);
        }
      },
      "two answers");
  g_assert_cmpuint(answers.size(), ==, 2);
  g_assert_true(answers[0].rfind("HTTP/1.1 404 ", 0) == 0);
  g_assert_true(answers[1].rfind("HTTP/1.1 200 ", 0) == 0);
  g_assert_true(g_str_has_suffix(answers[1].c_str(), "}"));
  g_assert_cmpuint(segments[0], ==, 1);
  g_assert_cmpuint(segments[1], ==, 1);
}

}  // namespace

int main(int argc, char **argv) {
  test::init(&argc, &argv);
  g_test_add_func("/http/videos/crud", test_videos_crud);
  g_test_add_func("/http/videos/list", test_videos_list);
  g_test_add_func("/http/comments", test_comments);
  g_test_add_func("/http/errors", test_errors);
  g_test_add_func("/http/outage", test_outage);
  g_test_add_func("/http/auth", test_auth);
  g_test_add_func("/http/answer-in-one-segment", test_answer_in_one_segment);
  return g_test_run();
}
