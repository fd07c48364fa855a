/* onair — GET /metrics: the Prometheus text format (0.0.4) line by line,
 * request counters by route pattern, durations of deferred answers, the
 * database's and the events' figures, the channel states; and the registry's
 * escaping and number formatting.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "harness.h"
#include "http/metrics.h"
#include "http_client.h"

#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <string>

using namespace onair;

namespace {

using Fixture = test::ServerFixture;

bool valid_name(const std::string &name) {
  if (name.empty() || !(g_ascii_isalpha(name[0]) || name[0] == '_' || name[0] == ':')) return false;
  for (char c : name)
    if (!(g_ascii_isalnum(c) || c == '_' || c == ':')) return false;
  return true;
}

/* A scrape, checked line by line as Prometheus reads it: HELP and TYPE
 * before a family's samples, names and label names well-formed, label values
 * properly escaped, values numbers. Samples are keyed by their text before
 * the value, e.g. `onair_db_available` or `x_total{a="b"}` (labels as sent). */
struct Scrape {
  std::map<std::string, double> samples;
  std::map<std::string, std::string> types;

  explicit Scrape(const std::string &text) {
    g_assert_false(text.empty());
    g_assert_true(text.back() == '\n');
    std::set<std::string> helped;
    size_t start = 0, end;
    while ((end = text.find('\n', start)) != std::string::npos) {
      std::string line = text.substr(start, end - start);
      start = end + 1;
      g_assert_false(line.empty());
      if (line[0] == '#') {
        gchar **parts = g_strsplit(line.c_str(), " ", 4);
        g_assert_cmpuint(g_strv_length(parts), >=, 3);
        std::string kind = parts[1], name = parts[2];
        g_assert_true(valid_name(name));
        if (kind == "HELP") {
          helped.insert(name);
        } else {
          assert_string(kind, ==, "TYPE");
          g_assert_cmpuint(g_strv_length(parts), ==, 4);
          std::string type = parts[3];
          g_assert_true(type == "counter" || type == "gauge" || type == "histogram");
          g_assert_true(types.emplace(name, type).second);
          g_assert_true(helped.count(name));
        }
        g_strfreev(parts);
        continue;
      }
      size_t name_end = line.find_first_of("{ ");
      g_assert_true(name_end != std::string::npos);
      std::string name = line.substr(0, name_end);
      g_assert_true(valid_name(name));
      /* The family: histograms' series carry a suffix. */
      std::string family = name;
      for (const char *suffix : {"_bucket", "_sum", "_count"})
        if (!types.count(family) && g_str_has_suffix(name.c_str(), suffix))
          family = name.substr(0, name.size() - strlen(suffix));
      if (!types.count(family)) g_error("a sample without TYPE: %s", line.c_str());
      if (family != name) assert_string(types[family], ==, "histogram");
      size_t position = name_end;
      if (line[position] == '{') {
        position++;
        while (line[position] != '}') {
          size_t equals = line.find('=', position);
          g_assert_true(equals != std::string::npos);
          g_assert_true(valid_name(line.substr(position, equals - position)));
          g_assert_cmpint(line[equals + 1], ==, '"');
          position = equals + 2;
          while (line[position] != '"') {
            g_assert_cmpint(line[position], !=, '\0');
            if (line[position] == '\\') {
              g_assert_true(strchr("\\\"n", line[position + 1]));
              position++;
            }
            position++;
          }
          position++;
          if (line[position] == ',') position++;
        }
        position++;
      }
      g_assert_cmpint(line[position], ==, ' ');
      std::string key = line.substr(0, position);
      std::string value = line.substr(position + 1);
      char *value_end = nullptr;
      double number = value == "+Inf" ? INFINITY : g_ascii_strtod(value.c_str(), &value_end);
      if (value != "+Inf" && (value.empty() || *value_end)) g_error("not a number: %s", line.c_str());
      g_assert_true(samples.emplace(key, number).second);
    }
    g_assert_cmpuint(start, ==, text.size());
  }

  double at(const std::string &key) const {
    auto found = samples.find(key);
    if (found == samples.end()) g_error("no sample %s", key.c_str());
    return found->second;
  }
  bool has(const std::string &key) const { return samples.count(key); }
};

Scrape scrape(test::Server &server) {
  auto response = server.request("GET", "/metrics");
  assert_status(response, 200);
  assert_string(response->content_type, ==, "text/plain; version=0.0.4; charset=utf-8");
  return Scrape(response->body);
}

void test_registry_format() {
  http::metrics::Registry registry;
  auto &counter = registry.counter("x_total", "Help with \\ and\nnewline.", {"path"});
  counter.add({"a\"b\\c\nd"}, 2);
  counter.add({"plain"});
  auto &histogram = registry.histogram("x_seconds", "h", {}, {0.005, 1});
  histogram.observe({}, 0.001);
  histogram.observe({}, 0.5);
  histogram.observe({}, 3);
  registry.counter("y_total", "never incremented");
  registry.gauge("z", "g", [] { return 1.5; });
  std::string text = registry.render();
  Scrape parsed(text);
  g_assert_true(text.find("# HELP x_total Help with \\\\ and\\nnewline.\n") != std::string::npos);
  g_assert_cmpfloat(parsed.at("x_total{path=\"a\\\"b\\\\c\\nd\"}"), ==, 2);
  g_assert_cmpfloat(parsed.at("x_total{path=\"plain\"}"), ==, 1);
  /* Buckets are cumulative; le is formatted shortest. */
  g_assert_cmpfloat(parsed.at("x_seconds_bucket{le=\"0.005\"}"), ==, 1);
  g_assert_cmpfloat(parsed.at("x_seconds_bucket{le=\"1\"}"), ==, 2);
  g_assert_cmpfloat(parsed.at("x_seconds_bucket{le=\"+Inf\"}"), ==, 3);
  g_assert_cmpfloat(parsed.at("x_seconds_count"), ==, 3);
  g_assert_cmpfloat(std::abs(parsed.at("x_seconds_sum") - 3.501), <, 1e-9);
  g_assert_cmpfloat(parsed.at("y_total"), ==, 0);
  g_assert_cmpfloat(parsed.at("z"), ==, 1.5);
  assert_string(http::metrics::format_value(0.1), ==, "0.1");
  assert_string(http::metrics::format_value(1e21), ==, "1e+21");
  assert_string(http::metrics::format_value(-INFINITY), ==, "-Inf");
  assert_string(http::metrics::format_value(NAN), ==, "NaN");
}

void test_scrape() {
  Fixture f;
  auto created = f.server->request("POST", "/api/v1/videos", R"({"title": "m"})");
  assert_status(created, 201);
  std::string id = created->string("id");
  for (int i = 0; i < 3; i++) assert_status(f.server->request("GET", "/api/v1/videos/" + id), 200);
  assert_status(f.server->request("GET", "/api/v1/videos/not-a-uuid"), 400);
  assert_status(f.server->request("GET", "/api/v1/nothing/here"), 404);
  assert_status(f.server->request("PUT", "/api/v1/videos"), 405);

  Scrape first = scrape(*f.server);
  const std::string get_video =
      R"(onair_http_requests_total{method="GET",route="/api/v1/videos/{id}",status="200"})";
  g_assert_cmpfloat(first.at(get_video), ==, 3);
  g_assert_cmpfloat(
      first.at(R"(onair_http_requests_total{method="GET",route="/api/v1/videos/{id}",status="400"})"), ==, 1);
  g_assert_cmpfloat(
      first.at(R"(onair_http_requests_total{method="POST",route="/api/v1/videos",status="201"})"), ==, 1);
  g_assert_cmpfloat(first.at(R"(onair_http_requests_total{method="GET",route="unmatched",status="404"})"), ==,
                    1);
  g_assert_cmpfloat(
      first.at(R"(onair_http_requests_total{method="PUT",route="/api/v1/videos",status="405"})"), ==, 1);
  /* Raw paths never become labels. */
  for (const auto &[key, value] : first.samples) {
    g_assert_true(key.find(id) == std::string::npos);
    g_assert_true(key.find("not-a-uuid") == std::string::npos);
  }
  /* Deferred answers (a query ran) are timed until written. */
  g_assert_cmpfloat(first.at(R"(onair_http_request_duration_seconds_count{route="/api/v1/videos/{id}"})"), ==,
                    4);
  g_assert_cmpfloat(
      first.at(R"(onair_http_request_duration_seconds_bucket{route="/api/v1/videos/{id}",le="+Inf"})"), ==,
      4);
  g_assert_cmpfloat(first.at(R"(onair_http_request_duration_seconds_sum{route="/api/v1/videos/{id}"})"), >,
                    0);

  g_assert_cmpfloat(first.at("onair_db_available"), ==, 1);
  g_assert_cmpfloat(first.at(R"(onair_db_queries_total{result="ok"})"), >=, 4);
  g_assert_cmpfloat(first.at(R"(onair_db_queries_total{result="error"})"), ==, 0);
  g_assert_cmpfloat(first.at("onair_db_query_duration_seconds_count"), >=, 4);
  double pool_size = first.at(R"(onair_db_pool_connections{state="idle"})") +
                     first.at(R"(onair_db_pool_connections{state="busy"})") +
                     first.at(R"(onair_db_pool_connections{state="down"})");
  g_assert_cmpfloat(pool_size, ==, 4);
  for (const char *state : {"stopped", "starting", "live", "degraded", "failed"})
    g_assert_cmpfloat(first.at(std::string("onair_channels{state=\"") + state + "\"}"), ==, 0);
  g_assert_cmpfloat(first.at("onair_events_clients"), ==, 0);
  g_assert_cmpfloat(first.at("onair_events_published_total"), ==, 0);
  double started = first.at("process_start_time_seconds");
  g_assert_cmpfloat(std::abs(started - double(g_get_real_time()) / G_USEC_PER_SEC), <, 3600);
  assert_string(first.types.at("onair_http_requests_total"), ==, "counter");
  assert_string(first.types.at("onair_http_request_duration_seconds"), ==, "histogram");
  assert_string(first.types.at("onair_channels"), ==, "gauge");

  /* Counters go up; a failing query counts as an error. */
  assert_status(f.server->request("GET", "/api/v1/videos/" + id), 200);
  assert_status(f.server->request("POST", "/api/v1/videos",
                                  R"({"title": "t", "channel_id": "01890000-0000-7000-8000-000000000000"})"),
                422);
  test::EventStream stream(f.server->base() + "/api/v1/events", f.server->token);
  f.server->api().events().publish("x", nullptr);
  stream.wait_events(1);
  f.server->api().metrics().set_channel_states([] {
    return std::map<std::string, int>{{"live", 2}, {"failed", 1}};
  });

  Scrape second = scrape(*f.server);
  g_assert_cmpfloat(second.at(get_video), ==, 4);
  /* The first scrape itself was counted. */
  g_assert_cmpfloat(second.at(R"(onair_http_requests_total{method="GET",route="/metrics",status="200"})"), ==,
                    1);
  g_assert_cmpfloat(second.at(R"(onair_db_queries_total{result="error"})"), ==, 1);
  g_assert_cmpfloat(second.at(R"(onair_db_queries_total{result="ok"})"), >,
                    first.at(R"(onair_db_queries_total{result="ok"})"));
  g_assert_cmpfloat(second.at("onair_events_clients"), ==, 1);
  g_assert_cmpfloat(second.at("onair_events_published_total"), ==, 1);
  g_assert_cmpfloat(second.at(R"(onair_channels{state="live"})"), ==, 2);
  g_assert_cmpfloat(second.at(R"(onair_channels{state="failed"})"), ==, 1);
  g_assert_cmpfloat(second.at(R"(onair_channels{state="stopped"})"), ==, 0);

  /* The stream, once over, is counted but not timed. */
  f.server->api().events().set_heartbeat_interval(100);
  stream.close();
  test::run_until([&] { return f.server->api().events().clients() == 0; }, 60, "the stream closed");
  test::run_until(
      [&] {
        return scrape(*f.server).has(
            R"(onair_http_requests_total{method="GET",route="/api/v1/events",status="200"})");
      },
      60, "the stream counted");
  g_assert_false(
      scrape(*f.server).has(R"(onair_http_request_duration_seconds_count{route="/api/v1/events"})"));
}

}  // namespace

int main(int argc, char **argv) {
  test::init(&argc, &argv);
  g_test_add_func("/metrics/registry-format", test_registry_format);
  g_test_add_func("/metrics/scrape", test_scrape);
  return g_test_run();
}
