/* onair — SharedReads: concurrent identical GETs answered by one query, and
 * never by a query submitted before the request came (so a comment committed
 * by anyone before a GET is in its answer); a page's body reused only for
 * identical rows.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "harness.h"
#include "http/shared_reads.h"
#include "http_client.h"

#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace onair {
namespace {

/* Requests in flight at once on one session (a SoupSession allows 2 per host
 * by default). */
struct Client {
  struct Answer {
    SoupMessage *message = nullptr;
    guint status = 0;
    std::string body;
    bool done = false;
  };

  SoupSession *session = soup_session_new_with_options("max-conns-per-host", 64, "max-conns", 64, nullptr);
  std::string token;
  ~Client() { g_object_unref(session); }

  std::shared_ptr<Answer> get(const std::string &uri) {
    auto answer = std::make_shared<Answer>();
    answer->message = soup_message_new("GET", uri.c_str());
    soup_message_headers_replace(soup_message_get_request_headers(answer->message), "Authorization",
                                 ("Bearer " + token).c_str());
    auto *held = new std::shared_ptr<Answer>(answer);
    soup_session_send_and_read_async(
        session, answer->message, G_PRIORITY_DEFAULT, nullptr,
        [](GObject *source, GAsyncResult *result, gpointer data) {
          auto *held = static_cast<std::shared_ptr<Answer> *>(data);
          Answer &answer = **held;
          GBytes *bytes = soup_session_send_and_read_finish(SOUP_SESSION(source), result, nullptr);
          answer.status = soup_message_get_status(answer.message);
          if (bytes) {
            gsize size = 0;
            const char *text = static_cast<const char *>(g_bytes_get_data(bytes, &size));
            answer.body.assign(text ? text : "", size);
            g_bytes_unref(bytes);
          }
          g_object_unref(answer.message);
          answer.done = true;
          delete held;
        },
        held);
    return answer;
  }
};

bool all_done(const std::vector<std::shared_ptr<Client::Answer>> &answers) {
  for (const auto &answer : answers)
    if (!answer->done) return false;
  return true;
}

/* The rule itself, with a read the test completes by hand: requests that come
 * while a read runs are not answered by it but by the next one. */
void test_rounds() {
  test::ServerFixture f;
  struct Controlled {
    http::SharedReads reads;
    std::vector<std::function<void(http::SharedReads::Answer)>> fetches;
  } controlled;
  auto body_of = [](const char *text) {
    return [text](http::Pending &pending) {
      GBytes *bytes = g_bytes_new_static(text, strlen(text));
      pending.bytes(200, "text/plain", bytes);
      g_bytes_unref(bytes);
    };
  };
  f.server = std::make_unique<test::Server>(
      *f.pool, [&](http::Api &api, const std::string &, const store::MediaLinks &) {
        api.router().add("GET", "/test/shared", [&](http::Request &request) {
          controlled.reads.read("key", request.defer(), [&](auto done) {
            controlled.fetches.push_back(done);
            return db::Ticket();
          });
        });
      });
  Client client;
  client.token = f.server->token;
  std::string uri = f.server->base() + "/test/shared";

  auto first = client.get(uri);
  test::run_until([&] { return controlled.fetches.size() == 1; }, 60, "the first read");
  std::vector<std::shared_ptr<Client::Answer>> later;
  for (int i = 0; i < 5; i++) later.push_back(client.get(uri));
  test::run_until([&] { return controlled.reads.waiting() == 5; }, 60, "five requests waiting");
  /* They wait for a read submitted after they came, not the running one. */
  g_assert_cmpuint(controlled.fetches.size(), ==, 1);

  controlled.fetches[0](body_of("first"));
  test::run_until([&] { return first->done; }, 60, "the first answer");
  assert_string(first->body, ==, "first");
  g_assert_cmpuint(controlled.fetches.size(), ==, 2);
  for (const auto &answer : later) g_assert_false(answer->done);

  controlled.fetches[1](body_of("second"));
  test::run_until([&] { return all_done(later); }, 60, "the later answers");
  for (const auto &answer : later) {
    g_assert_cmpuint(answer->status, ==, 200);
    assert_string(answer->body, ==, "second");
  }
  g_assert_cmpuint(controlled.reads.queries(), ==, 2);
  g_assert_cmpuint(controlled.reads.requests(), ==, 6);
  g_assert_cmpuint(controlled.reads.running(), ==, 0);
}

std::string first_id(const std::string &body) {
  JsonNode *root = json_from_string(body.c_str(), nullptr);
  g_assert_nonnull(root);
  JsonArray *items = json_object_get_array_member(json_node_get_object(root), "items");
  std::string id = json_array_get_length(items)
                       ? json_object_get_string_member(json_array_get_object_element(items, 0), "id")
                       : "";
  json_node_unref(root);
  return id;
}

/* The comments route: what this daemon and what another writer committed
 * before a GET are in its answer, alone or among many concurrent GETs. */
void test_comments_fresh() {
  test::ServerFixture f;
  auto video = f.server->request("POST", "/api/v1/videos", R"({"title": "Live"})");
  assert_status(video, 201);
  std::string path = "/api/v1/videos/" + video->string("id") + "/comments?limit=5";
  test::Peer peer(f.database.uri());

  auto posted = f.server->request("POST", path, R"({"author": "a", "body": "through the API"})");
  assert_status(posted, 201);
  auto page = f.server->request("GET", path);
  assert_status(page, 200);
  assert_string(first_id(page->body), ==, posted->string("id"));

  Client client;
  client.token = f.server->token;
  for (int round = 0; round < 3; round++) {
    /* Another writer (another daemon, psql) inserts straight into PostgreSQL. */
    std::string direct = *peer.value(
        "INSERT INTO comments (video_id, author, body) VALUES ($1, 'psql', 'direct') RETURNING id::text",
        {video->string("id")});
    auto alone = f.server->request("GET", path);
    assert_status(alone, 200);
    assert_string(first_id(alone->body), ==, direct);

    std::vector<std::shared_ptr<Client::Answer>> answers;
    for (int i = 0; i < 16; i++) answers.push_back(client.get(f.server->base() + path));
    test::run_until([&] { return all_done(answers); }, 60, "16 concurrent pages");
    for (const auto &answer : answers) {
      g_assert_cmpuint(answer->status, ==, 200);
      assert_string(first_id(answer->body), ==, direct);
      assert_string(answer->body, ==, answers[0]->body);
    }
  }
  /* Rows changed or deleted by another writer: the same key, new rows, a new
   * body (the last body is only reused for identical rows). */
  peer.exec("UPDATE comments SET body = 'edited' WHERE author = 'psql'");
  auto edited = f.server->request("GET", path);
  assert_status(edited, 200);
  g_assert_true(edited->body.find("\"edited\"") != std::string::npos);
  g_assert_true(edited->body.find("\"direct\"") == std::string::npos);
  peer.exec("DELETE FROM comments WHERE author = 'psql'");
  auto deleted = f.server->request("GET", path);
  assert_status(deleted, 200);
  assert_string(first_id(deleted->body), ==, posted->string("id"));

  const http::SharedReads &reads = f.server->api().shared_reads();
  g_assert_cmpuint(reads.requests(), ==, 3 + 3 * 17);
  g_assert_cmpuint(reads.queries(), <=, reads.requests());
  g_test_message("%" G_GUINT64_FORMAT " queries for %" G_GUINT64_FORMAT " pages", reads.queries(),
                 reads.requests());

  /* An unknown video: every waiter gets the 404. */
  std::vector<std::shared_ptr<Client::Answer>> missing;
  for (int i = 0; i < 4; i++)
    missing.push_back(
        client.get(f.server->base() + "/api/v1/videos/01890000-0000-7000-8000-000000000000/comments"));
  test::run_until([&] { return all_done(missing); }, 60, "404s");
  for (const auto &answer : missing) g_assert_cmpuint(answer->status, ==, 404);
}

}  // namespace
}  // namespace onair

int main(int argc, char **argv) {
  onair::test::init(&argc, &argv);
  g_test_add_func("/shared_reads/rounds", onair::test_rounds);
  g_test_add_func("/shared_reads/comments_fresh", onair::test_comments_fresh);
  return g_test_run();
}
