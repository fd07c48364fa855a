/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "http/shared_reads.h"

namespace onair::http {

SharedReads::~SharedReads() {
  alive_.reset();
  /* The requests still waiting are answered 503 by their Pending. */
  for (auto &[key, group] : groups_) group.ticket.cancel();
}

bool SharedReads::join(const std::string &key, const std::shared_ptr<Pending> &pending) {
  auto found = groups_.find(key);
  if (found == groups_.end()) return false;
  /* The running query was submitted before this request came: it may not
   * see what was committed just before; the next one will. */
  found->second.waiting.push_back(pending);
  return true;
}

void SharedReads::read(const std::string &key, std::shared_ptr<Pending> pending, Fetch fetch) {
  if (join(key, pending)) return;
  Group &group = groups_[key];
  group.waiting.push_back(std::move(pending));
  group.fetch = std::move(fetch);
  start(key, group);
}

void SharedReads::start(const std::string &key, Group &group) {
  auto answered = std::make_shared<std::vector<std::shared_ptr<Pending>>>(std::move(group.waiting));
  group.waiting.clear();
  queries_++;
  std::weak_ptr<char> alive = alive_;
  group.ticket = group.fetch([this, alive, key, answered](const Answer &answer) {
    if (alive.expired()) return;
    finish(key, std::move(*answered), answer);
  });
}

void SharedReads::finish(const std::string &key, std::vector<std::shared_ptr<Pending>> answered,
                         const Answer &answer) {
  requests_ += answered.size();
  for (const std::shared_ptr<Pending> &pending : answered) answer(*pending);
  auto found = groups_.find(key);
  if (found == groups_.end()) return;
  if (found->second.waiting.empty())
    groups_.erase(found);
  else
    start(key, found->second);
}

}  // namespace onair::http
