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
    current_->removed = now;
    leaving_.push_back(*current_);
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
  if (current_) {
    current_->removed = now;
    leaving_.push_back(*current_);
    end_current(now, "cleared", events);
  }
  for (const FlashItem &item : waiting_) events->push_back({false, item.id, item.layer, now, "cleared"});
  waiting_.clear();
}

void FlashQueue::rewind() {
  leaving_.clear();
  if (!current_) return;
  FlashItem item = std::move(*current_);
  current_.reset();
  item.started = GST_CLOCK_TIME_NONE;
  insert(std::move(item), true);
  active_since_ = GST_CLOCK_TIME_NONE;
}

void FlashQueue::advance(GstClockTime now, GstClockTime default_fade, std::vector<FlashEvent> *events) {
  std::erase_if(leaving_, [&](const FlashItem &item) {
    return GST_CLOCK_DIFF(item.removed, now) >= (GstClockTimeDiff)flash_fade(item, default_fade);
  });
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    if (GST_CLOCK_TIME_IS_VALID(it->expires) && it->expires <= now) {
      events->push_back({false, it->id, it->layer, now, "expired"});
      it = waiting_.erase(it);
    } else {
      ++it;
    }
  }

  if (current_ && now < current_->started) now = current_->started; /* time went back */

  if (current_ && GST_CLOCK_TIME_IS_VALID(current_->expires) && current_->expires <= now)
    end_current(now, "expired", events);
  else if (current_ && current_->duration > 0 && now >= current_->started + current_->duration)
    end_current(now, "done", events);

  if (current_ && !waiting_.empty() && waiting_.front().priority > current_->priority) {
    FlashItem item = std::move(*current_);
    events->push_back({false, item.id, item.layer, now, "preempted"});
    current_.reset();
    /* it fades out under the breaking item, and waits to come back */
    item.removed = now;
    leaving_.push_back(item);
    item.started = item.removed = GST_CLOCK_TIME_NONE;
    insert(std::move(item), true);
  }

  if (!current_ && !waiting_.empty()) {
    current_ = std::move(waiting_.front());
    waiting_.pop_front();
    current_->started = now;
    events->push_back({true, current_->id, current_->layer, now, nullptr});
  }

  if (!current_)
    active_since_ = GST_CLOCK_TIME_NONE;
  else if (!GST_CLOCK_TIME_IS_VALID(active_since_))
    active_since_ = now;
}

/* ---- the crawl tape ---- */

std::deque<FlashItem>::iterator CrawlTape::find(guint64 id) {
  return std::find_if(items_.begin(), items_.end(), [&](const FlashItem &i) { return i.id == id; });
}

void CrawlTape::push(FlashItem item) {
  auto at = std::find_if(items_.begin(), items_.end(),
                         [&](const FlashItem &other) { return other.priority < item.priority; });
  items_.insert(at, std::move(item));
}

void CrawlTape::requeue(std::deque<FlashItem>::iterator it, bool head_of_priority) {
  FlashItem item = std::move(*it);
  items_.erase(it);
  auto at = std::find_if(items_.begin(), items_.end(), [&](const FlashItem &other) {
    return head_of_priority ? other.priority <= item.priority : other.priority < item.priority;
  });
  items_.insert(at, std::move(item));
}

bool CrawlTape::on_tape(guint64 id) const {
  return std::any_of(segments_.begin(), segments_.end(),
                     [&](const Segment &s) { return s.id == id && !GST_CLOCK_TIME_IS_VALID(s.removed); });
}

bool CrawlTape::live() const {
  return !items_.empty();
}

CrawlTape::Segment *CrawlTape::last_live() {
  for (auto it = segments_.rbegin(); it != segments_.rend(); ++it)
    if (!GST_CLOCK_TIME_IS_VALID(it->removed)) return &*it;
  return nullptr;
}

/* Its passes on the tape fade out where they are; those not in the frame yet
 * are simply gone. The next pass follows the last one still live: an item
 * taken off leaves no hole in the tape to come. */
void CrawlTape::take_off(guint64 id, GstClockTime now) {
  std::erase_if(segments_, [&](const Segment &s) { return s.id == id && !s.entered; });
  for (Segment &s : segments_)
    if (s.id == id && !GST_CLOCK_TIME_IS_VALID(s.removed)) s.removed = now;
  Segment *last = last_live();
  if (last) {
    last->separator_after = false;
    tail_ = last->start + last->width + separator_width_;
  }
  has_tail_ = last != nullptr;
}

bool CrawlTape::remove(guint64 id, GstClockTime now, std::vector<FlashEvent> *events) {
  auto it = find(id);
  if (it == items_.end()) return false;
  events->push_back({false, it->id, it->layer, now, "removed"});
  take_off(id, now);
  items_.erase(find(id));
  return true;
}

void CrawlTape::clear(GstClockTime now, std::vector<FlashEvent> *events) {
  for (const FlashItem &item : items_) {
    events->push_back({false, item.id, item.layer, now, "cleared"});
    take_off(item.id, now);
  }
  items_.clear();
}

void CrawlTape::rewind() {
  segments_.clear();
  for (FlashItem &item : items_) {
    item.started = GST_CLOCK_TIME_NONE;
    item.placed = item.passes;
  }
  base_time_ = GST_CLOCK_TIME_NONE;
  has_tail_ = false;
  active_since_ = GST_CLOCK_TIME_NONE;
}

void CrawlTape::relayout(const Geometry &geometry) {
  std::stable_sort(segments_.begin(), segments_.end(),
                   [](const Segment &a, const Segment &b) { return a.start < b.start; });
  gdouble shift = frame_width_ > 0 ? frame_width_ - geometry.frame_width : 0;
  Segment *previous = nullptr;
  for (Segment &segment : segments_) {
    segment.width = geometry.text_width(segment.id, *segment.text);
    if (previous && previous->separator_after)
      segment.start = previous->start + previous->width + geometry.separator_width;
    else
      segment.start += shift;
    previous = &segment;
  }
  frame_width_ = geometry.frame_width;
  separator_width_ = geometry.separator_width;
  if (Segment *last = last_live(); last && has_tail_) tail_ = last->start + last->width + separator_width_;
}

void CrawlTape::advance(GstClockTime now, const Geometry &geometry, std::vector<FlashEvent> *events) {
  frame_width_ = geometry.frame_width;
  separator_width_ = geometry.separator_width;
  if (!GST_CLOCK_TIME_IS_VALID(base_time_)) {
    base_time_ = now;
    base_offset_ = offset_ = 0;
    speed_ = geometry.speed;
  }
  if (now < base_time_) now = base_time_; /* time went back */
  gdouble previous_offset = offset_;
  if (geometry.speed != speed_) {
    /* the tape goes on from where it is at the new speed */
    base_offset_ = base_offset_ + speed_ * (gdouble)(now - base_time_) / GST_SECOND;
    base_time_ = now;
    speed_ = geometry.speed;
  }
  offset_ = base_offset_ + speed_ * (gdouble)(now - base_time_) / GST_SECOND;

  /* items whose time is up */
  for (auto it = items_.begin(); it != items_.end();) {
    const char *reason = nullptr;
    if (GST_CLOCK_TIME_IS_VALID(it->expires) && it->expires <= now)
      reason = "expired";
    else if (it->duration > 0 && GST_CLOCK_TIME_IS_VALID(it->started) && now >= it->started + it->duration)
      reason = "done";
    if (!reason) {
      ++it;
      continue;
    }
    events->push_back({false, it->id, it->layer, now, reason});
    take_off(it->id, now);
    it = items_.erase(it);
  }

  /* a higher priority than every item on the tape cuts it */
  auto head = std::find_if(items_.begin(), items_.end(), [](const FlashItem &i) { return !i.all_placed(); });
  std::optional<gint> tape_priority;
  for (const Segment &segment : segments_) {
    if (GST_CLOCK_TIME_IS_VALID(segment.removed)) continue;
    gint priority = find(segment.id)->priority;
    tape_priority = tape_priority ? std::max(*tape_priority, priority) : priority;
  }
  if (head != items_.end() && tape_priority && head->priority > *tape_priority) {
    std::vector<guint64> cut;
    for (const FlashItem &item : items_)
      if (on_tape(item.id)) cut.push_back(item.id);
    for (guint64 id : cut) {
      auto it = find(id);
      if (GST_CLOCK_TIME_IS_VALID(it->started)) events->push_back({false, id, it->layer, now, "preempted"});
      take_off(id, now);
      it->started = GST_CLOCK_TIME_NONE;
      it->placed = it->passes;
      requeue(it, true);
    }
    has_tail_ = false; /* the breaking item enters from the right edge now */
  }

  /* the next passes onto the tape when its tail reaches the right edge */
  bool follows = has_tail_ && tail_ > previous_offset;
  for (int placed = 0; placed < 1000 && (!has_tail_ || offset_ >= tail_); placed++) {
    auto next =
        std::find_if(items_.begin(), items_.end(), [](const FlashItem &i) { return !i.all_placed(); });
    if (next == items_.end()) break;
    Segment segment;
    segment.id = next->id;
    segment.text = std::make_shared<const std::string>(next->text);
    segment.width = std::max(1, geometry.text_width(next->id, next->text));
    segment.fade = next->fade;
    segment.start = follows ? tail_ : offset_;
    if (Segment *last = last_live(); follows && last) last->separator_after = true;
    tail_ = segment.start + segment.width + separator_width_;
    has_tail_ = follows = true;
    /* in tape order, among passes fading out */
    auto at = std::upper_bound(segments_.begin(), segments_.end(), segment.start,
                               [](gdouble start, const Segment &s) { return start < s.start; });
    segments_.insert(at, std::move(segment));
    next->placed++;
    if (!next->all_placed()) requeue(next, false); /* behind the others of its priority */
  }

  /* passes entering and leaving the frame */
  for (Segment &segment : segments_) {
    if (GST_CLOCK_TIME_IS_VALID(segment.removed)) continue;
    auto item = find(segment.id);
    if (!segment.entered && offset_ >= segment.start) {
      segment.entered = true;
      if (!GST_CLOCK_TIME_IS_VALID(item->started)) {
        item->started = now;
        events->push_back({true, item->id, item->layer, now, nullptr});
      }
    }
    if (offset_ >= segment.start + segment.width + frame_width_) item->passes++;
  }
  std::erase_if(segments_, [&](const Segment &segment) {
    if (offset_ >= segment.start + segment.width + frame_width_) return true;
    return GST_CLOCK_TIME_IS_VALID(segment.removed) &&
           GST_CLOCK_DIFF(segment.removed, now) >= (GstClockTimeDiff)(GST_CLOCK_TIME_IS_VALID(segment.fade)
                                                                          ? segment.fade
                                                                          : geometry.default_fade);
  });
  for (auto it = items_.begin(); it != items_.end();) {
    if (it->all_placed() && !on_tape(it->id)) {
      events->push_back({false, it->id, it->layer, now, "done"});
      it = items_.erase(it);
    } else {
      ++it;
    }
  }
  if (!last_live()) has_tail_ = false;

  if (!live())
    active_since_ = GST_CLOCK_TIME_NONE;
  else if (!GST_CLOCK_TIME_IS_VALID(active_since_))
    active_since_ = now;
}

}  // namespace onair
