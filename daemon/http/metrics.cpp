/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "http/metrics.h"

#include <charconv>
#include <cmath>
#include <cstring>

namespace onair::http {

namespace metrics {

std::string escape_label_value(const std::string &value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string format_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  /* to_chars: shortest round trip, and never the locale's decimal comma
   * (onaird calls setlocale). */
  char buffer[64];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, end);
}

namespace {

/* HELP text escapes backslash and newline only. */
std::string escape_help(const std::string &help) {
  std::string out;
  for (char c : help) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

}  // namespace

Family::Family(std::string name, std::string help, const char *type, std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), type_(type), label_names_(std::move(label_names)) {}

void Family::render(std::string &out) const {
  out += "# HELP " + name_ + " " + escape_help(help_) + "\n";
  out += "# TYPE " + name_ + " " + type_ + "\n";
  render_samples(out);
}

void Family::line(std::string &out, const char *suffix, const LabelValues &labels, double value,
                  const char *extra_name, const std::string &extra_value) const {
  out += name_;
  out += suffix;
  if (!label_names_.empty() || extra_name) {
    out += '{';
    for (size_t i = 0; i < label_names_.size(); i++) {
      if (i) out += ',';
      out += label_names_[i] + "=\"" + escape_label_value(labels[i]) + "\"";
    }
    if (extra_name) {
      if (!label_names_.empty()) out += ',';
      out += std::string(extra_name) + "=\"" + escape_label_value(extra_value) + "\"";
    }
    out += '}';
  }
  out += ' ';
  out += format_value(value);
  out += '\n';
}

bool Family::check(const LabelValues &labels) const {
  if (labels.size() == label_names_.size()) return true;
  g_critical("metric %s: %zu label values for %zu labels", name_.c_str(), labels.size(), label_names_.size());
  return false;
}

void Counter::add(const LabelValues &labels, double amount) {
  if (check(labels)) values_[labels] += amount;
}

double Counter::value(const LabelValues &labels) const {
  auto found = values_.find(labels);
  return found == values_.end() ? 0 : found->second;
}

void Counter::render_samples(std::string &out) const {
  /* An unlabelled counter is 0 before anything happened, not absent. */
  if (values_.empty() && label_names_.empty()) line(out, "", {}, 0);
  for (const auto &[labels, value] : values_) line(out, "", labels, value);
}

Histogram::Histogram(std::string name, std::string help, std::vector<std::string> label_names,
                     std::vector<double> bounds)
    : Family(std::move(name), std::move(help), "histogram", std::move(label_names)),
      bounds_(std::move(bounds)) {}

void Histogram::observe(const LabelValues &labels, double value) {
  if (!check(labels)) return;
  Series &series = series_[labels];
  if (series.buckets.empty()) series.buckets.assign(bounds_.size(), 0);
  for (size_t i = 0; i < bounds_.size(); i++) {
    if (value <= bounds_[i]) {
      series.buckets[i]++;
      break;
    }
  }
  series.sum += value;
  series.count++;
}

uint64_t Histogram::count(const LabelValues &labels) const {
  auto found = series_.find(labels);
  return found == series_.end() ? 0 : found->second.count;
}

void Histogram::render_samples(std::string &out) const {
  for (const auto &[labels, series] : series_) {
    uint64_t cumulative = 0;
    for (size_t i = 0; i < bounds_.size(); i++) {
      cumulative += series.buckets[i];
      line(out, "_bucket", labels, double(cumulative), "le", format_value(bounds_[i]));
    }
    line(out, "_bucket", labels, double(series.count), "le", "+Inf");
    line(out, "_sum", labels, series.sum);
    line(out, "_count", labels, double(series.count));
  }
}

void Collected::render_samples(std::string &out) const {
  for (const Sample &sample : collect_())
    if (check(sample.labels)) line(out, "", sample.labels, sample.value);
}

template <typename T>
T &Registry::add(std::unique_ptr<T> family) {
  for (const auto &existing : families_)
    if (existing->name() == family->name()) g_critical("metric %s registered twice", family->name().c_str());
  T &added = *family;
  families_.push_back(std::move(family));
  return added;
}

Counter &Registry::counter(std::string name, std::string help, std::vector<std::string> label_names) {
  return add(std::make_unique<Counter>(std::move(name), std::move(help), std::move(label_names)));
}

Histogram &Registry::histogram(std::string name, std::string help, std::vector<std::string> label_names,
                               std::vector<double> bounds) {
  return add(std::make_unique<Histogram>(std::move(name), std::move(help), std::move(label_names),
                                         std::move(bounds)));
}

void Registry::collected(std::string name, std::string help, const char *type,
                         std::vector<std::string> label_names, std::function<std::vector<Sample>()> collect) {
  add(std::make_unique<Collected>(std::move(name), std::move(help), type, std::move(label_names),
                                  std::move(collect)));
}

void Registry::gauge(std::string name, std::string help, std::function<double()> read) {
  collected(std::move(name), std::move(help), "gauge", {}, [read = std::move(read)] {
    return std::vector<Sample>{{{}, read()}};
  });
}

std::string Registry::render() const {
  std::string out;
  for (const auto &family : families_) family->render(out);
  return out;
}

}  // namespace metrics

namespace {

/* Prometheus client defaults, good for request latencies. */
const std::vector<double> http_bounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
/* Queries are mostly faster than requests: finer at the low end. */
const std::vector<double> db_bounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                       0.1,    0.25,  0.5,    1,     2.5,  5,     10};
const char *const channel_state_names[] = {"stopped", "starting", "live", "degraded", "failed"};

}  // namespace

/* One request being timed, freed with its message (qdata). */
struct Metrics::Watch {
  Metrics *metrics;
  std::string method;
  std::string route;
  gint64 start;
  /* As sent: libsoup sets 500 on a message whose connection broke later. */
  guint status = 0;
};

Metrics::Metrics()
    : http_requests_(registry_.counter("onair_http_requests_total",
                                       "HTTP requests answered, by route pattern.",
                                       {"method", "route", "status"})),
      http_duration_(registry_.histogram(
          "onair_http_request_duration_seconds",
          "From dispatch until the answer was written (event streams excluded).", {"route"}, http_bounds)),
      db_queries_(registry_.counter("onair_db_queries_total", "Database jobs (queries, transactions) ended.",
                                    {"result"})),
      db_duration_(registry_.histogram("onair_db_query_duration_seconds",
                                       "Database jobs from submission to result, queueing included.", {},
                                       db_bounds)) {
  /* Both results show from the start, so that rate() sees the first error. */
  db_queries_.add({"ok"}, 0);
  db_queries_.add({"error"}, 0);
  registry_.collected("onair_db_available", "1 when a database connection is up.", "gauge", {}, [this] {
    return std::vector<metrics::Sample>{{{}, database_ && database_->available() ? 1.0 : 0.0}};
  });
  registry_.collected("onair_db_pool_connections", "Pool connections by state.", "gauge", {"state"}, [this] {
    db::DatabaseStats stats = database_ ? database_->stats() : db::DatabaseStats{};
    return std::vector<metrics::Sample>{{{"idle"}, double(stats.connected - stats.busy)},
                                        {{"busy"}, double(stats.busy)},
                                        {{"down"}, double(stats.connections - stats.connected)}};
  });
  registry_.collected(
      "onair_db_queue_length", "Database jobs waiting for a connection.", "gauge", {}, [this] {
        return std::vector<metrics::Sample>{{{}, database_ ? double(database_->stats().queued) : 0.0}};
      });
  registry_.collected("onair_channels", "Channels by state.", "gauge", {"state"}, [this] {
    std::map<std::string, int> counts = channel_states_ ? channel_states_() : std::map<std::string, int>{};
    std::vector<metrics::Sample> samples;
    for (const char *state : channel_state_names) {
      auto found = counts.find(state);
      samples.push_back({{state}, double(found == counts.end() ? 0 : found->second)});
    }
    /* A state this list does not know yet still shows. */
    for (const auto &[state, count] : counts) {
      bool known = false;
      for (const char *name : channel_state_names) known = known || state == name;
      if (!known) samples.push_back({{state}, double(count)});
    }
    return samples;
  });
  gpointer message_class = g_type_class_ref(SOUP_TYPE_SERVER_MESSAGE);
  finished_signal_ = g_signal_lookup("finished", SOUP_TYPE_SERVER_MESSAGE);
  wrote_headers_signal_ = g_signal_lookup("wrote-headers", SOUP_TYPE_SERVER_MESSAGE);
  finished_hook_ = g_signal_add_emission_hook(finished_signal_, 0, on_finished, this, nullptr);
  wrote_headers_hook_ = g_signal_add_emission_hook(wrote_headers_signal_, 0, on_wrote_headers, this, nullptr);
  g_type_class_unref(message_class);
  double start = double(g_get_real_time()) / G_USEC_PER_SEC;
  registry_.gauge("process_start_time_seconds", "Start time of the process since the Unix epoch in seconds.",
                  [start] { return start; });
}

Metrics::~Metrics() {
  g_signal_remove_emission_hook(finished_signal_, finished_hook_);
  g_signal_remove_emission_hook(wrote_headers_signal_, wrote_headers_hook_);
  if (database_) database_->set_observer({});
  /* Requests still in flight: their "finished" must not call into a freed
   * Metrics. The Watch itself goes with the message (forget()). */
  for (Watch *watch : watches_) watch->metrics = nullptr;
}

namespace {

GQuark watch_quark() {
  static GQuark quark = g_quark_from_static_string("onair-metrics-watch");
  return quark;
}

}  // namespace

void Metrics::watch_request(SoupServerMessage *message, const std::string &route) {
  auto *watch = new Watch{this, soup_server_message_get_method(message), route, g_get_monotonic_time()};
  watches_.insert(watch);
  g_object_set_qdata_full(G_OBJECT(message), watch_quark(), watch, forget);
}

Metrics::Watch *Metrics::watch_of(const GValue *values) const {
  /* The hooks see every server message of the process: only this one's. */
  auto *watch =
      static_cast<Watch *>(g_object_get_qdata(G_OBJECT(g_value_get_object(&values[0])), watch_quark()));
  return watch && watch->metrics == this ? watch : nullptr;
}

gboolean Metrics::on_wrote_headers(GSignalInvocationHint *, guint, const GValue *values, gpointer self) {
  if (Watch *watch = static_cast<Metrics *>(self)->watch_of(values))
    watch->status = soup_server_message_get_status(SOUP_SERVER_MESSAGE(g_value_get_object(&values[0])));
  return TRUE;
}

void Metrics::forget(gpointer data) {
  auto *watch = static_cast<Watch *>(data);
  if (watch->metrics) watch->metrics->watches_.erase(watch);
  delete watch;
}

gboolean Metrics::on_finished(GSignalInvocationHint *, guint, const GValue *values, gpointer data) {
  Metrics &self = *static_cast<Metrics *>(data);
  Watch *watch = self.watch_of(values);
  if (!watch) return TRUE;
  auto *message = SOUP_SERVER_MESSAGE(g_value_get_object(&values[0]));
  /* No answer was sent: the client left first ("client closed request", as
   * nginx logs it). */
  guint status = watch->status ? watch->status : 499;
  self.http_requests_.add({watch->method, watch->route, std::to_string(status)});
  const char *type =
      soup_message_headers_get_content_type(soup_server_message_get_response_headers(message), nullptr);
  /* A stream's duration is how long the client stayed, not a latency. */
  if (!type || strcmp(type, "text/event-stream") != 0)
    self.http_duration_.observe({watch->route},
                                double(g_get_monotonic_time() - watch->start) / G_USEC_PER_SEC);
  /* "finished" is emitted once per message; the watch goes with the message. */
  watch->metrics = nullptr;
  self.watches_.erase(watch);
  return TRUE;
}

void Metrics::watch_database(db::Database &database) {
  database_ = &database;
  database.set_observer([this](const db::JobReport &report) {
    db_queries_.add({report.ok ? "ok" : "error"});
    db_duration_.observe({}, report.seconds);
  });
}

void Metrics::serve(Request &request) {
  std::string text = registry_.render();
  soup_server_message_set_status(request.message(), 200, nullptr);
  soup_message_headers_replace(soup_server_message_get_response_headers(request.message()), "Cache-Control",
                               "no-store");
  soup_server_message_set_response(request.message(), "text/plain; version=0.0.4; charset=utf-8",
                                   SOUP_MEMORY_COPY, text.data(), text.size());
}

}  // namespace onair::http
