/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

#include <deque>
#include <functional>
#include <memory>
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
  GstClockTime started = GST_CLOCK_TIME_NONE; /* running time it (re)appeared on screen */
  guint passes = 0;                           /* crawl: passes completed (left the frame) */
  guint placed = 0;                           /* crawl: passes put on the tape */
  /* running time it was taken off the screen (removed, cleared, pre-empted):
   * it fades out from there over its fade time */
  GstClockTime removed = GST_CLOCK_TIME_NONE;

  /* When it leaves the screen by itself, if known (for the fade out). */
  GstClockTime planned_end() const;
  /* Crawl: every pass it is to make is on the tape. */
  bool all_placed() const { return duration == 0 && loops > 0 && placed >= loops; }
};

/* An item going on screen or leaving the queue, for the bus. */
struct FlashEvent {
  bool started;
  guint64 id;
  FlashLayer layer;
  GstClockTime running_time;
  const char *reason; /* ended: "done", "expired", "preempted", "cleared", "removed" */
};

/* The fade time of an item: its own, or the element's default. */
inline GstClockTime flash_fade(const FlashItem &item, GstClockTime default_fade) {
  return GST_CLOCK_TIME_IS_VALID(item.fade) ? item.fade : default_fade;
}

/* The queue of a lower-third or fullscreen layer: the item on screen and
 * the ones waiting, highest priority first and in arrival order within a
 * priority. A higher-priority arrival pre-empts the item on screen, which
 * goes back to the head of its priority and plays again, from its
 * beginning, when its turn comes (unless it expires meanwhile). An item
 * taken off the screen (removed, cleared, pre-empted) leaves the queue at
 * once but stays drawn, fading out over its fade time (`leaving()`). Every
 * decision is taken at a frame's running time, so the same input gives the
 * same output. */
class FlashQueue {
 public:
  void push(FlashItem item);
  /* Takes the item out (on screen or waiting); false if it is not here. */
  bool remove(guint64 id, GstClockTime now, std::vector<FlashEvent> *events);
  void clear(GstClockTime now, std::vector<FlashEvent> *events);
  /* Moves the queue to the frame at running time `now`. */
  void advance(GstClockTime now, GstClockTime default_fade, std::vector<FlashEvent> *events);
  /* Puts the item on screen back in the queue (element stopped, flush): it
   * starts again on the next frame; what was fading out is gone. */
  void rewind();

  const std::optional<FlashItem> &current() const { return current_; }
  const std::deque<FlashItem> &waiting() const { return waiting_; }
  /* Items fading out after they were taken off the screen. */
  const std::vector<FlashItem> &leaving() const { return leaving_; }
  /* Running time since which the layer has shown something without a break. */
  GstClockTime active_since() const { return active_since_; }

 private:
  void insert(FlashItem item, bool head_of_priority);
  void end_current(GstClockTime now, const char *reason, std::vector<FlashEvent> *events);

  std::optional<FlashItem> current_;
  std::deque<FlashItem> waiting_;
  std::vector<FlashItem> leaving_;
  GstClockTime active_since_ = GST_CLOCK_TIME_NONE;
};

/* The crawl: a continuous tape that moves from right to left at a constant
 * speed. Queued items follow each other on it, one pass after the other,
 * separated by the separator, so the ticker is never empty while items are
 * queued. When the tail of the tape (the end of the last pass and its
 * separator) reaches the right edge of the frame, the next pass is put on
 * it: the head of the queue (highest priority first, items of a priority
 * taking turns), which then goes behind the items of its priority until it
 * has made its `loops` passes (or for ever, or until its duration is up).
 * An item waiting with a higher priority than every item on the tape
 * pre-empts them: they fade out where they are (reason "preempted"; they
 * wait again, ahead of their priority) and the breaking item enters from the
 * right edge at once. Positions are in pixels of tape: a pass whose left
 * edge is at `start` is at x = frame width + start - offset(). */
class CrawlTape {
 public:
  /* What the tape is laid out with, given every frame. */
  struct Geometry {
    int frame_width = 0;
    int separator_width = 0;
    gdouble speed = 1; /* px per second of running time */
    GstClockTime default_fade = 0;
    std::function<int(guint64 id, const std::string &text)> text_width;
  };
  /* One pass of an item on the tape. */
  struct Segment {
    guint64 id = 0;
    std::shared_ptr<const std::string> text;
    gdouble start = 0;                          /* tape position of its left edge */
    int width = 0;                              /* of its text, px */
    bool separator_after = false;               /* the next pass follows it at once */
    bool entered = false;                       /* it has reached the frame */
    GstClockTime fade = GST_CLOCK_TIME_NONE;    /* its item's fade option */
    GstClockTime removed = GST_CLOCK_TIME_NONE; /* fading out since */
  };

  void push(FlashItem item);
  bool remove(guint64 id, GstClockTime now, std::vector<FlashEvent> *events);
  void clear(GstClockTime now, std::vector<FlashEvent> *events);
  void advance(GstClockTime now, const Geometry &geometry, std::vector<FlashEvent> *events);
  /* Empties the tape; its items start again from the right edge. */
  void rewind();
  /* The frame size or the style changed: the passes on the tape are measured
   * again and closed up behind the first one, which stays where it is. */
  void relayout(const Geometry &geometry);

  /* Queue in playing order: highest priority first, then whose turn it is. */
  const std::deque<FlashItem> &items() const { return items_; }
  const std::vector<Segment> &segments() const { return segments_; }
  gdouble offset() const { return offset_; }
  /* Running time since which the tape has shown something without a break. */
  GstClockTime active_since() const { return active_since_; }
  /* Anything to show, other than passes fading out. */
  bool live() const;

 private:
  std::deque<FlashItem>::iterator find(guint64 id);
  void requeue(std::deque<FlashItem>::iterator it, bool head_of_priority);
  void take_off(guint64 id, GstClockTime now);
  Segment *last_live(); /* the last pass on the tape not fading out */
  bool on_tape(guint64 id) const;

  std::deque<FlashItem> items_;
  std::vector<Segment> segments_; /* in tape order */
  GstClockTime base_time_ = GST_CLOCK_TIME_NONE;
  gdouble base_offset_ = 0, speed_ = 0, offset_ = 0;
  gdouble tail_ = 0;      /* where the next pass may start */
  bool has_tail_ = false; /* a pass is on the tape that the next one follows */
  int frame_width_ = 0, separator_width_ = 0;
  GstClockTime active_since_ = GST_CLOCK_TIME_NONE;
};

}  // namespace onair
