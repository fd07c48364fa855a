/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "db/database.h"
#include "http/router.h"

#include <libsoup/soup.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace onair::http {

/* A small Prometheus registry, rendered in the text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/). Debian 12
 * ships no C++ client library; this covers what onaird needs: counters,
 * histograms with fixed buckets, and gauges (or counters kept elsewhere) read
 * by a callback at scrape time. Everything runs on the main context. */
namespace metrics {

/* Label values, in the order of the family's label names. */
using LabelValues = std::vector<std::string>;

struct Sample {
  LabelValues labels;
  double value = 0;
};

class Family {
 public:
  Family(std::string name, std::string help, const char *type, std::vector<std::string> label_names);
  virtual ~Family() = default;
  /* Appends HELP, TYPE and every sample. */
  void render(std::string &out) const;
  const std::string &name() const { return name_; }

 protected:
  virtual void render_samples(std::string &out) const = 0;
  /* One sample line; `extra` is one more label (a histogram's "le"). */
  void line(std::string &out, const char *suffix, const LabelValues &labels, double value,
            const char *extra_name = nullptr, const std::string &extra_value = {}) const;
  bool check(const LabelValues &labels) const;

  std::string name_;
  std::string help_;
  const char *type_;
  std::vector<std::string> label_names_;
};

class Counter : public Family {
 public:
  Counter(std::string name, std::string help, std::vector<std::string> label_names)
      : Family(std::move(name), std::move(help), "counter", std::move(label_names)) {}
  void add(const LabelValues &labels, double amount = 1);
  double value(const LabelValues &labels) const;

 private:
  void render_samples(std::string &out) const override;
  std::map<LabelValues, double> values_;
};

class Histogram : public Family {
 public:
  /* `bounds`: the upper bounds of the buckets, ascending; +Inf is implied. */
  Histogram(std::string name, std::string help, std::vector<std::string> label_names,
            std::vector<double> bounds);
  void observe(const LabelValues &labels, double value);
  uint64_t count(const LabelValues &labels) const;

 private:
  struct Series {
    std::vector<uint64_t> buckets; /* not cumulative; summed when rendered */
    double sum = 0;
    uint64_t count = 0;
  };
  void render_samples(std::string &out) const override;
  std::vector<double> bounds_;
  std::map<LabelValues, Series> series_;
};

/* Samples read from elsewhere when scraped. */
class Collected : public Family {
 public:
  Collected(std::string name, std::string help, const char *type, std::vector<std::string> label_names,
            std::function<std::vector<Sample>()> collect)
      : Family(std::move(name), std::move(help), type, std::move(label_names)),
        collect_(std::move(collect)) {}

 private:
  void render_samples(std::string &out) const override;
  std::function<std::vector<Sample>()> collect_;
};

class Registry {
 public:
  Counter &counter(std::string name, std::string help, std::vector<std::string> label_names = {});
  Histogram &histogram(std::string name, std::string help, std::vector<std::string> label_names,
                       std::vector<double> bounds);
  /* A gauge, or with type "counter" a counter kept elsewhere, read by
   * `collect` at every scrape. */
  void collected(std::string name, std::string help, const char *type, std::vector<std::string> label_names,
                 std::function<std::vector<Sample>()> collect);
  /* One unlabelled gauge. */
  void gauge(std::string name, std::string help, std::function<double()> read);
  std::string render() const;

 private:
  template <typename T>
  T &add(std::unique_ptr<T> family);
  std::vector<std::unique_ptr<Family>> families_;
};

/* Escapes a label value (backslash, double quote, newline). */
std::string escape_label_value(const std::string &value);
/* A sample value: shortest round-trip decimal, +Inf, -Inf, NaN. */
std::string format_value(double value);

}  // namespace metrics

/* The channel supervisor's count of channels per state. */
using ChannelStates = std::function<std::map<std::string, int>()>;

/* onaird's metrics, served at GET /metrics:
 * - onair_http_requests_total{method,route,status} and
 *   onair_http_request_duration_seconds{route} (from dispatch until the answer
 *   is written; event streams are counted but not timed), route being the
 *   pattern or "unmatched", status 499 when the client left before the answer;
 * - onair_db_query_duration_seconds, onair_db_queries_total{result},
 *   onair_db_available, onair_db_pool_connections{state};
 * - onair_channels{state}; per running channel (main.cpp) onair_channel_frames_total,
 *   onair_channel_dropped_frames_total, onair_reactions_frames_total,
 *   onair_reactions_processing_seconds_total; onair_events_clients, onair_events_published_total;
 * - process_start_time_seconds. */
class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics &) = delete;
  Metrics &operator=(const Metrics &) = delete;

  metrics::Registry &registry() { return registry_; }

  /* The Router's observer: counts `message` under `route` once it is finished. */
  void watch_request(SoupServerMessage *message, const std::string &route);
  /* Observes the pool's jobs and reads its state at scrape time (until this
   * is destroyed). */
  void watch_database(db::Database &database);
  /* Registered by the channel supervisor; until then every state shows 0. */
  void set_channel_states(ChannelStates states) { channel_states_ = std::move(states); }

  /* GET /metrics */
  void serve(Request &request);

 private:
  struct Watch;
  /* Emission hooks on every SoupServerMessage's "finished" and
   * "wrote-headers", added once, rather than two handlers connected (two
   * closures made and freed) for every request. */
  static gboolean on_finished(GSignalInvocationHint *, guint, const GValue *values, gpointer self);
  static gboolean on_wrote_headers(GSignalInvocationHint *, guint, const GValue *values, gpointer self);
  static void forget(gpointer watch);
  Watch *watch_of(const GValue *values) const;

  metrics::Registry registry_;
  metrics::Counter &http_requests_;
  metrics::Histogram &http_duration_;
  metrics::Counter &db_queries_;
  metrics::Histogram &db_duration_;
  db::Database *database_ = nullptr;
  ChannelStates channel_states_;
  std::set<Watch *> watches_;
  guint finished_signal_ = 0;
  guint wrote_headers_signal_ = 0;
  gulong finished_hook_ = 0;
  gulong wrote_headers_hook_ = 0;
};

}  // namespace onair::http
