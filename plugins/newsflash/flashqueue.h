/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace onair {

/* The three independent graphics layers of newsflash, bottom to top. */
enum class FlashLayer { Crawl = 0, LowerThird = 1, Fullscreen = 2 };
constexpr int FLASH_LAYER_COUNT = 3;

const char *flash_layer_name(FlashLayer layer);
std::optional<FlashLayer> flash_layer_from_name(const char *name);

/* One message of a layer: what to show and for how long. */
struct FlashItem {
  guint64 id = 0;
  FlashLayer layer = FlashLayer::Crawl;
  std::string text;     /* Pango markup */
  std::string subtitle; /* lower third: second line, markup */
  gint priority = 0;
  GstClockTime duration = 0;                  /* 0: until cleared (crawl: loops passes) */
  GstClockTime expires = GST_CLOCK_TIME_NONE; /* running time after which it is dropped */
  guint loops = 1;                            /* crawl passes; 0: forever */
  GstClockTime fade = GST_CLOCK_TIME_NONE;    /* fade in and out; NONE: the element's */
  gdouble dim = -1;                           /* fullscreen: background dim 0..1; < 0: the element's */

  /* progress, owned by the queue */
  GstClockTime started = GST_CLOCK_TIME_NONE;      /* running time it (re)appeared on screen */
  GstClockTime pass_started = GST_CLOCK_TIME_NONE; /* crawl: running time of the current pass */
  guint passes = 0;                                /* crawl: passes completed */

  /* When it leaves the screen by itself, if known (for the fade out). */
  GstClockTime planned_end() const;
};

/* An item going on screen or leaving the queue, for the bus. */
struct FlashEvent {
  bool started;
  guint64 id;
  FlashLayer layer;
  GstClockTime running_time;
  const char *reason; /* ended: "done", "expired", "preempted", "cleared", "removed" */
};

/* The queue of one layer: the item on screen and the ones waiting, highest
 * priority first and in arrival order within a priority. A higher-priority
 * arrival pre-empts the item on screen, which goes back to the head of its
 * priority and plays again, from its beginning, when its turn comes (unless
 * it expires meanwhile). Every decision is taken at a frame's running time,
 * so the same input gives the same output. */
class FlashQueue {
 public:
  /* Crawl: how long one pass of an item takes at the current size and speed. */
  using PassDuration = std::function<GstClockTime(const FlashItem &)>;

  void push(FlashItem item);
  /* Takes the item out (on screen or waiting); false if it is not here. */
  bool remove(guint64 id, GstClockTime now, std::vector<FlashEvent> *events);
  void clear(GstClockTime now, std::vector<FlashEvent> *events);
  /* Moves the queue to the frame at running time `now`. */
  void advance(GstClockTime now, const PassDuration &pass_duration, std::vector<FlashEvent> *events);
  /* Puts the item on screen back in the queue (element stopped): it starts
   * again on the next frame. */
  void rewind();

  const std::optional<FlashItem> &current() const { return current_; }
  const std::deque<FlashItem> &waiting() const { return waiting_; }
  /* Running time since which the layer has shown something without a break. */
  GstClockTime active_since() const { return active_since_; }

 private:
  void insert(FlashItem item, bool head_of_priority);
  void end_current(GstClockTime now, const char *reason, std::vector<FlashEvent> *events);

  std::optional<FlashItem> current_;
  std::deque<FlashItem> waiting_;
  GstClockTime active_since_ = GST_CLOCK_TIME_NONE;
};

}  // namespace onair
