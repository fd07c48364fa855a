/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "db/database.h"
#include "http/router.h"

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace onair::http {

/* Identical reads answered by one query ("single flight"): requests with the
 * same key that arrive while that key's query runs wait for the next query,
 * which then answers all of them at once, with one body built once and
 * shared by reference.
 *
 * Never stale, and so nothing to invalidate: a request is only answered by a
 * query submitted after it arrived, so it sees every write committed before
 * it arrived, whether by this daemon, another daemon on the same database or
 * any other writer. What it saves is load: N concurrent identical GETs (a
 * popular video's newest comments) cost about one query per round trip
 * instead of N, and one JSON serialization instead of N. A lone request
 * waits for nothing more than its own query.
 *
 * A client that leaves does not cancel the shared query: the others still
 * want its answer. Everything runs on the main-loop thread. */
class SharedReads {
 public:
  /* Answers one waiting request (called once per request of the round). */
  using Answer = std::function<void(Pending &)>;
  /* Runs the read and calls `done` once with how to answer. */
  using Fetch = std::function<db::Ticket(std::function<void(Answer)> done)>;

  SharedReads() = default;
  ~SharedReads();
  SharedReads(const SharedReads &) = delete;
  SharedReads &operator=(const SharedReads &) = delete;

  /* `pending` is answered by the next query of `key` not yet submitted;
   * `fetch` runs it (any caller's fetch for a key must read the same). */
  void read(const std::string &key, std::shared_ptr<Pending> pending, Fetch fetch);
  /* The same when a query of `key` is running already (true: `pending` is
   * taken); false: call read(). Saves making a Fetch that would not run. */
  bool join(const std::string &key, const std::shared_ptr<Pending> &pending);

  /* Keys with a query running (tests). */
  size_t running() const { return groups_.size(); }
  /* Requests waiting for a query not yet submitted (tests). */
  size_t waiting() const {
    size_t count = 0;
    for (const auto &[key, group] : groups_) count += group.waiting.size();
    return count;
  }
  /* Queries submitted and requests answered so far (tests, metrics). */
  uint64_t queries() const { return queries_; }
  uint64_t requests() const { return requests_; }

 private:
  struct Group {
    /* Arrived after the running query was submitted: for the next one. */
    std::vector<std::shared_ptr<Pending>> waiting;
    Fetch fetch;
    db::Ticket ticket;
  };
  void start(const std::string &key, Group &group);
  void finish(const std::string &key, std::vector<std::shared_ptr<Pending>> answered, const Answer &answer);

  std::unordered_map<std::string, Group> groups_;
  uint64_t queries_ = 0;
  uint64_t requests_ = 0;
  std::shared_ptr<char> alive_ = std::make_shared<char>();
};

}  // namespace onair::http
