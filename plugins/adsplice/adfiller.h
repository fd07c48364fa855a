/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/audio/audio.h>
#include <gst/gst.h>

#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace onair {

/* The pictures and sound of one ad break in adsplice's mode=replace: its
 * creatives (files or URIs) decoded one after the other, each in a private
 * pipeline that converts, scales (with borders), resamples and retimes it to
 * the program's own caps, so that a creative frame can take a program
 * frame's place as it is. adsplice pulls a frame for every program frame in
 * the break and samples for every program audio buffer; the decoders run
 * ahead by a few frames only (bounded appsinks). The next creative is
 * started while the current one plays, so that it is ready when its turn
 * comes. A creative that fails is reported through `warn` and skipped. */
class AdFiller {
 public:
  using Warn = std::function<void(const std::string &)>;

  /* `audio_caps` may be NULL: the program has no audio through adsplice.
   * `slate_location`: the image shown when no creative is (an empty string:
   * black). */
  AdFiller(std::vector<std::string> creatives, const std::string &slate_location, GstCaps *video_caps,
           GstCaps *audio_caps, Warn warn);
  ~AdFiller();
  AdFiller(const AdFiller &) = delete;
  AdFiller &operator=(const AdFiller &) = delete;

  /* True once the first picture of the break is ready (the first
   * creative's first frame, or the slate when there is no creative left):
   * a break may start without a frozen or missing first picture. */
  bool ready();
  /* The next picture of the break (a reference): a creative's frame, the
   * slate once all creatives are over, or NULL when the next creative is not
   * decoded yet (the caller repeats its last picture). */
  GstBuffer *next_video();
  /* The slate picture (a reference), NULL if not made yet. */
  GstBuffer *slate_picture();
  /* Writes `bytes` of program-format audio at `dest` from the creative being
   * shown; what it does not have is silence. */
  void fill_audio(guint8 *dest, gsize bytes);
  /* The creatives shown so far, in order. */
  std::vector<std::string> played();
  const GstCaps *video_caps() const { return video_caps_; }

 private:
  struct Creative;
  enum class Pull { Frame, Later, Over }; /* a frame, none decoded yet, the creative is over */
  std::shared_ptr<Creative> start(size_t index);
  Pull pull(Creative &creative, GstBuffer **frame); /* its next frame; with lock_ */
  void check_bus(Creative &creative);
  void advance(); /* drop the current creative and start the ones after */
  void start_slate(const std::string &location);
  GstBuffer *slate(GstClockTime timeout); /* with lock_ */

  std::vector<std::string> creatives_;
  GstCaps *video_caps_;
  GstCaps *audio_caps_;
  GstAudioInfo audio_info_;
  Warn warn_;

  std::mutex lock_;
  std::deque<std::shared_ptr<Creative>> running_; /* front: shown now; then the next one */
  size_t next_index_ = 0;                         /* of the next creative to start */
  std::vector<std::string> played_;
  GstElement *slate_pipeline_ = nullptr; /* renders the slate picture once */
  GstBuffer *slate_ = nullptr;
};

}  // namespace onair
