/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "flashqueue.h"

#include <algorithm>

namespace onair {

static const char *const LAYER_NAMES[FLASH_LAYER_COUNT] = {"crawl", "lower-third", "fullscreen"};

const char *flash_layer_name(FlashLayer layer) {
  return LAYER_NAMES[static_cast<int>(layer)];
}

std::optional<FlashLayer> flash_layer_from_name(const char *name) {
  if (!name) return std::nullopt;
  for (int i = 0; i < FLASH_LAYER_COUNT; i++)
    if (g_str_equal(name, LAYER_NAMES[i])) return static_cast<FlashLayer>(i);
  return std::nullopt;
}

GstClockTime FlashItem::planned_end() const {
  GstClockTime end = GST_CLOCK_TIME_NONE;
  if (duration > 0 && GST_CLOCK_TIME_IS_VALID(started)) end = started + duration;
  if (GST_CLOCK_TIME_IS_VALID(expires) && (!GST_CLOCK_TIME_IS_VALID(end) || expires < end)) end = expires;
  return end;
}

void FlashQueue::insert(FlashItem item, bool head_of_priority) {
  /* behind every item of a higher priority, and behind the equal ones too
   * unless it comes back from a pre-emption */
  auto at = std::find_if(waiting_.begin(), waiting_.end(), [&](const FlashItem &other) {
    return head_of_priority ? other.priority <= item.priority : other.priority < item.priority;
  });
  waiting_.insert(at, std::move(item));
}

void FlashQueue::push(FlashItem item) {
  insert(std::move(item), false);
}

void FlashQueue::end_current(GstClockTime now, const char *reason, std::vector<FlashEvent> *events) {
  events->push_back({false, current_->id, current_->layer, now, reason});
  current_.reset();
}

bool FlashQueue::remove(guint64 id, GstClockTime now, std::vector<FlashEvent> *events) {
  if (current_ && current_->id == id) {
    end_current(now, "removed", events);
    return true;
  }
  auto it = std::find_if(waiting_.begin(), waiting_.end(), [&](const FlashItem &i) { return i.id == id; });
  if (it == waiting_.end()) return false;
  events->push_back({false, it->id, it->layer, now, "removed"});
  waiting_.erase(it);
  return true;
}

void FlashQueue::clear(GstClockTime now, std::vector<FlashEvent> *events) {
  if (current_) end_current(now, "cleared", events);
  for (const FlashItem &item : waiting_) events->push_back({false, item.id, item.layer, now, "cleared"});
  waiting_.clear();
}

void FlashQueue::rewind() {
  if (!current_) return;
  FlashItem item = std::move(*current_);
  current_.reset();
  item.started = item.pass_started = GST_CLOCK_TIME_NONE;
  insert(std::move(item), true);
  active_since_ = GST_CLOCK_TIME_NONE;
}

void FlashQueue::advance(GstClockTime now, const PassDuration &pass_duration,
                         std::vector<FlashEvent> *events) {
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    if (GST_CLOCK_TIME_IS_VALID(it->expires) && it->expires <= now) {
      events->push_back({false, it->id, it->layer, now, "expired"});
      it = waiting_.erase(it);
    } else {
      ++it;
    }
  }

  if (current_ && now < current_->started) now = current_->started; /* time went back (a seek) */

  if (current_ && GST_CLOCK_TIME_IS_VALID(current_->expires) && current_->expires <= now) {
    end_current(now, "expired", events);
  } else if (current_ && current_->duration > 0 && now >= current_->started + current_->duration) {
    end_current(now, "done", events);
  } else if (current_ && current_->layer == FlashLayer::Crawl) {
    GstClockTime pass = std::max<GstClockTime>(pass_duration(*current_), 1);
    guint64 passes = (now - current_->pass_started) / pass;
    if (passes > 0) {
      /* a crawl with a duration runs passes until its time is up */
      if (current_->duration == 0 && current_->loops > 0 && current_->passes + passes >= current_->loops) {
        current_->passes = current_->loops;
        end_current(now, "done", events);
      } else {
        current_->passes += passes;
        current_->pass_started += passes * pass;
        /* between passes the ticker moves on to the next item of the same
         * priority; this one comes back after it */
        if (!waiting_.empty() && waiting_.front().priority >= current_->priority) {
          FlashItem item = std::move(*current_);
          current_.reset();
          item.started = item.pass_started = GST_CLOCK_TIME_NONE;
          insert(std::move(item), false);
        }
      }
    }
  }

  if (current_ && !waiting_.empty() && waiting_.front().priority > current_->priority) {
    FlashItem item = std::move(*current_);
    events->push_back({false, item.id, item.layer, now, "preempted"});
    current_.reset();
    item.started = item.pass_started = GST_CLOCK_TIME_NONE;
    insert(std::move(item), true);
  }

  if (!current_ && !waiting_.empty()) {
    current_ = std::move(waiting_.front());
    waiting_.pop_front();
    current_->started = current_->pass_started = now;
    events->push_back({true, current_->id, current_->layer, now, nullptr});
  }

  if (!current_)
    active_since_ = GST_CLOCK_TIME_NONE;
  else if (!GST_CLOCK_TIME_IS_VALID(active_since_))
    active_since_ = now;
}

}  // namespace onair
