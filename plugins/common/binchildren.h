/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

#include <string>
#include <vector>

namespace onair {

/* The children a bin builds at run time (per input, per request pad), held
 * with their own references: a bin being disposed may drop its children
 * before it releases its request pads. */
class BinChildren {
 public:
  explicit BinChildren(GstBin *bin) : bin_(bin) {}
  ~BinChildren() { forget(); }
  BinChildren(const BinChildren &) = delete;
  BinChildren &operator=(const BinChildren &) = delete;
  BinChildren(BinChildren &&other) noexcept : bin_(other.bin_), elements_(std::move(other.elements_)) {
    other.elements_.clear();
  }

  /* Creates an element of `factory`, adds it to the bin and keeps it. When
   * the factory is not installed, posts an error naming it on the bin,
   * remembers it (missing()) and returns nullptr. */
  GstElement *make(const char *factory);
  /* Adds an element created otherwise (floating or owned) and keeps it. */
  GstElement *adopt(GstElement *element);
  /* Sets every kept element that is still in the bin to NULL, removes it
   * and drops the references. */
  void remove_all();
  /* Drops the references without touching the bin. */
  void forget();

  const std::vector<GstElement *> &elements() const { return elements_; }
  /* The factories make() did not find, comma-separated; empty when none.
   * A bin that builds children in _init, before it has a bus, reports these
   * when it starts: the error make() posted then reached no one. */
  const std::string &missing() const { return missing_; }

 private:
  GstBin *bin_;
  std::vector<GstElement *> elements_;
  std::string missing_;
};

}  // namespace onair
