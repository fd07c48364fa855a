/* onair — server-sent events (GET /api/v1/events) over HTTP against a real
 * PostgreSQL: comments and published events reach the clients whose filters
 * they pass, Last-Event-ID replays (and says `reset` when it cannot), bad
 * filters answer 400, heartbeats flow, and clients that leave or read too
 * slowly are let go.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "harness.h"
#include "http_client.h"

#include <gio/gio.h>

#include <cstring>
#include <string>

using namespace onair;
using test::EventStream;

namespace {

struct Fixture : test::ServerFixture {
  http::EventHub &hub() { return server->api().events(); }
  std::string url(const std::string &query = {}) { return server->base() + "/api/v1/events" + query; }
  std::string create_video() {
    auto response = server->request("POST", "/api/v1/videos", R"({"title": "Talk"})");
    assert_status(response, 201);
    return response->string("id");
  }
  /* publish() with a JSON object given as text. */
  std::string publish(const std::string &type, const std::string &json) {
    JsonNode *data = json_from_string(json.c_str(), nullptr);
    g_assert_nonnull(data);
    return hub().publish(type, data);
  }
};

std::string member(const std::string &json, const char *name) {
  JsonNode *node = json_from_string(json.c_str(), nullptr);
  g_assert_nonnull(node);
  JsonNode *value = json_object_get_member(json_node_get_object(node), name);
  std::string out = value && JSON_NODE_HOLDS_VALUE(value) ? json_node_get_string(value) : "";
  json_node_unref(node);
  return out;
}

void test_stream_headers_and_comment() {
  Fixture f;
  std::string video = f.create_video();
  EventStream stream(f.url(), f.server->token);
  g_assert_cmpuint(stream.status(), ==, 200);
  assert_string(stream.header("Content-Type"), ==, "text/event-stream");
  assert_string(stream.header("Cache-Control"), ==, "no-store");
  assert_string(stream.header("X-Accel-Buffering"), ==, "no");
  assert_string(stream.header("Access-Control-Allow-Origin"), ==, "*");
  test::run_until([&] { return !stream.retry().empty(); }, 60, "the retry hint");
  assert_string(stream.retry(), ==, "3000");
  g_assert_cmpuint(f.hub().clients(), ==, 1);

  auto created = f.server->request("POST", "/api/v1/videos/" + video + "/comments",
                                   R"({"author": "ann", "body": "first!\nsecond line", "media_time_ms": 5})");
  assert_status(created, 201);
  stream.wait_events(1, "comment.created");
  const EventStream::Event &event = stream.events()[0];
  assert_string(event.type, ==, "comment.created");
  /* The data is the 201's body, on one line. */
  assert_string(event.data, ==, created->body);
  assert_string(member(event.data, "id"), ==, created->string("id"));
  assert_string(member(event.data, "video_id"), ==, video);
  assert_string(member(event.data, "body"), ==, "first!\nsecond line");
  g_assert_false(event.id.empty());

  /* A refused comment publishes nothing. */
  assert_status(f.server->request("POST", "/api/v1/videos/" + video + "/comments", R"({"author": ""})"), 422);
  std::string id = f.publish("marker", "{}");
  stream.wait_events(2);
  assert_string(stream.events()[1].id, ==, id);
  g_assert_cmpuint(f.hub().published(), ==, 2);
}

void test_publish_and_two_clients() {
  Fixture f;
  EventStream first(f.url(), f.server->token), second(f.url(), f.server->token);
  g_assert_cmpuint(f.hub().clients(), ==, 2);
  std::string a =
      f.publish("channel.state", R"({"id": "c1", "state": "live", "previous": "starting", "error": null})");
  std::string b =
      f.publish("channel.state", R"({"id": "c1", "state": "failed", "previous": "live", "error": "x"})");
  g_assert_cmpuint(std::stoull(b), ==, std::stoull(a) + 1);
  for (EventStream *stream : {&first, &second}) {
    stream->wait_events(2);
    assert_string(stream->events()[0].id, ==, a);
    assert_string(stream->events()[0].type, ==, "channel.state");
    assert_string(member(stream->events()[0].data, "state"), ==, "live");
    assert_string(stream->events()[1].id, ==, b);
    assert_string(member(stream->events()[1].data, "error"), ==, "x");
  }
  /* Nothing given as data: an empty object. */
  f.hub().publish("ping", nullptr);
  first.wait_events(3);
  assert_string(first.events()[2].data, ==, "{}");
}

void test_replay() {
  Fixture f;
  std::vector<std::string> ids;
  for (int i = 0; i < 5; i++) ids.push_back(f.publish("n", R"({"i": ")" + std::to_string(i) + "\"}"));

  /* The header: everything after it, no reset. */
  EventStream header(f.url(), f.server->token, ids[1]);
  header.wait_events(3);
  test::run_for(200);
  g_assert_cmpuint(header.events().size(), ==, 3);
  assert_string(header.events()[0].id, ==, ids[2]);
  assert_string(header.events()[2].id, ==, ids[4]);

  /* The query parameter, the same; the header wins over it. */
  EventStream query(f.url("?last_event_id=" + ids[3]), f.server->token);
  query.wait_events(1);
  assert_string(query.events()[0].id, ==, ids[4]);
  EventStream both(f.url("?last_event_id=" + ids[0]), f.server->token, ids[3]);
  both.wait_events(1);
  test::run_for(200);
  g_assert_cmpuint(both.events().size(), ==, 1);

  /* Up to date: nothing replayed; new events still come. */
  EventStream current(f.url(), f.server->token, ids[4]);
  std::string next = f.publish("n", "{}");
  current.wait_events(1);
  assert_string(current.events()[0].id, ==, next);

  /* Older than the buffer (1024 events): reset, then what is buffered. */
  for (int i = 0; i < 1100; i++) f.publish("bulk", "{}");
  EventStream old(f.url(), f.server->token, ids[0]);
  old.wait_events(1025);
  assert_string(old.events()[0].type, ==, "reset");
  assert_string(member(old.events()[0].data, "last_event_id"), ==, ids[0]);
  assert_string(old.events()[1].type, ==, "bulk");
  /* The reset's id resumes right before the first buffered event. */
  g_assert_cmpuint(std::stoull(old.events()[0].id) + 1, ==, std::stoull(old.events()[1].id));
  test::run_for(200);
  g_assert_cmpuint(old.events().size(), ==, 1025);

  /* An id this daemon never gave (a later one): reset, nothing replayed. */
  EventStream future(f.url(), f.server->token, "99999999999999999");
  future.wait_events(1);
  assert_string(future.events()[0].type, ==, "reset");
  test::run_for(200);
  g_assert_cmpuint(future.events().size(), ==, 1);
}

void test_filters() {
  Fixture f;
  std::string video = f.create_video();
  std::string other = f.create_video();
  EventStream channels(f.url("?types=channel"), f.server->token);
  EventStream comments(f.url("?types=comment.created"), f.server->token);
  EventStream both(f.url("?types=comment.created,channel.state"), f.server->token);
  EventStream one_video(f.url("?video_id=" + video), f.server->token);
  EventStream combined(f.url("?types=comment&video_id=" + other), f.server->token);
  /* A viewer hears comments, not channel states (operators only). */
  EventStream viewer(f.url(), f.server->make_token(store::Role::viewer));
  g_assert_cmpuint(f.hub().clients(), ==, 6);

  f.publish("channel.state", R"({"id": "c", "state": "live"})");
  f.publish("channelx", "{}");
  assert_status(
      f.server->request("POST", "/api/v1/videos/" + video + "/comments", R"({"author": "a", "body": "b"})"),
      201);
  assert_status(f.server->request("POST", "/api/v1/videos/" + other + "/comments",
                                  R"({"author": "a", "body": "other-body"})"),
                201);
  std::string last = f.publish("end", R"({"video_id": ")" + video + "\"}");

  /* The last event passes only one_video's filter; by then every stream has
   * been sent all it will get. */
  one_video.wait_events(2);
  assert_string(one_video.events()[1].id, ==, last);
  test::run_for(300);
  auto types = [](const EventStream &stream) {
    std::string out;
    for (const auto &event : stream.events())
      out += event.type + (event.data.find("other-body") != std::string::npos ? "/c " : " ");
    return out;
  };
  assert_string(types(channels), ==, "channel.state ");
  assert_string(types(comments), ==, "comment.created comment.created/c ");
  assert_string(types(both), ==, "channel.state comment.created comment.created/c ");
  assert_string(types(one_video), ==, "comment.created end ");
  assert_string(types(combined), ==, "comment.created/c ");
  assert_string(types(viewer), ==, "channelx comment.created comment.created/c end ");
}

void test_bad_filters() {
  Fixture f;
  struct Case {
    std::string query;
    const char *field;
  };
  const Case cases[] = {{"?types=", "types"},
                        {"?types=comment..created", "types"},
                        {"?types=a,,b", "types"},
                        {"?types=comment.created,", "types"},
                        {"?types=a%20b", "types"},
                        {"?video_id=nope", "video_id"},
                        {"?last_event_id=abc", "last_event_id"},
                        {"?last_event_id=-1", "last_event_id"},
                        {"?colour=red", "colour"}};
  for (const Case &bad : cases) {
    auto response = f.server->request("GET", "/api/v1/events" + bad.query);
    assert_status(response, 400);
    g_assert_true(g_str_has_prefix(response->content_type.c_str(), "application/problem+json"));
    assert_string(response->error_field(), ==, bad.field);
  }
  auto header = f.server->request("GET", "/api/v1/events", {}, {{"Last-Event-ID", "x1"}});
  assert_status(header, 400);
  assert_string(header->error_field(), ==, "Last-Event-ID");
  g_assert_cmpuint(f.hub().clients(), ==, 0);
  assert_status(f.server->request("POST", "/api/v1/events"), 405);
}

void test_heartbeat_and_departures() {
  Fixture f;
  f.hub().set_heartbeat_interval(100);
  auto staying = std::make_unique<EventStream>(f.url(), f.server->token);
  auto leaving = std::make_unique<EventStream>(f.url(), f.server->token);
  test::run_until([&] { return staying->comments() >= 3 && leaving->comments() >= 3; }, 60, "heartbeats");
  g_assert_cmpuint(staying->events().size(), ==, 0);
  g_assert_cmpuint(f.hub().clients(), ==, 2);

  /* A client that goes away is found by a heartbeat and removed. */
  leaving->close();
  test::run_until([&] { return f.hub().clients() == 1; }, 60, "the departed client removed");
  std::string id = f.publish("after", "{}");
  staying->wait_events(1);
  assert_string(staying->events()[0].id, ==, id);
  staying->close();
  test::run_until([&] { return f.hub().clients() == 0; }, 60, "every client removed");
}

/* A client that never reads: once its unsent data passes the cap, it is
 * disconnected, and the others go on. */
void test_slow_client() {
  Fixture f;
  f.hub().set_max_client_bytes(256 * 1024);
  EventStream reader(f.url(), f.server->token);

  GSocketClient *socket_client = g_socket_client_new();
  GError *error = nullptr;
  std::string host_port = f.server->base().substr(strlen("http://"));
  GSocketConnection *connection =
      g_socket_client_connect_to_host(socket_client, host_port.c_str(), 80, nullptr, &error);
  g_assert_no_error(error);
  std::string request = "GET /api/v1/events HTTP/1.1\r\nHost: " + host_port + "\r\nAuthorization: Bearer " +
                        f.server->token + "\r\n\r\n";
  GOutputStream *output = g_io_stream_get_output_stream(G_IO_STREAM(connection));
  g_assert_true(g_output_stream_write_all(output, request.data(), request.size(), nullptr, nullptr, &error));
  g_assert_no_error(error);
  test::run_until([&] { return f.hub().clients() == 2; }, 60, "the slow client connected");

  std::string payload = R"({"blob": ")" + std::string(16 * 1024, 'x') + "\"}";
  int published = 0;
  while (f.hub().dropped() == 0) {
    f.publish("big", payload);
    published++;
    /* The reader keeps up; the other never reads. */
    reader.wait_events(size_t(published));
    if (published > 4000) g_error("the slow client was never dropped");
  }
  g_printerr("# slow client dropped after %d events of 16 KiB\n", published);
  g_assert_cmpuint(f.hub().clients(), ==, 1);
  reader.wait_events(size_t(published), "every event at the reading client");
  g_assert_false(reader.ended());
  /* The slow client's connection was closed: after what the kernel buffered,
   * it reads the end of the stream (never a server that waits for it). */
  GInputStream *input = g_io_stream_get_input_stream(G_IO_STREAM(connection));
  char buffer[65536];
  gssize size;
  size_t total = 0;
  while ((size = g_input_stream_read(input, buffer, sizeof buffer, nullptr, nullptr)) > 0) total += size;
  g_printerr("# the slow client read %zu bytes, then the end\n", total);
  g_assert_cmpuint(total, <, size_t(published) * payload.size());

  g_object_unref(connection);
  g_object_unref(socket_client);
}

}  // namespace

int main(int argc, char **argv) {
  test::init(&argc, &argv);
  g_test_add_func("/events/headers-and-comment", test_stream_headers_and_comment);
  g_test_add_func("/events/publish-two-clients", test_publish_and_two_clients);
  g_test_add_func("/events/replay", test_replay);
  g_test_add_func("/events/filters", test_filters);
  g_test_add_func("/events/bad-filters", test_bad_filters);
  g_test_add_func("/events/heartbeat-departures", test_heartbeat_and_departures);
  g_test_add_func("/events/slow-client", test_slow_client);
  return g_test_run();
}
