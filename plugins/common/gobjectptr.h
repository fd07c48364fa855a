/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib-object.h>

#include <utility>

namespace onair {

/* Owning reference to a GObject (or GstObject) with explicit ownership at the
 * point of construction: adopt() takes over a reference the caller owns (and
 * sinks a floating one), ref() takes a new reference. */
template <typename T>
class ObjectPtr {
 public:
  ObjectPtr() = default;
  ObjectPtr(std::nullptr_t) {}
  ~ObjectPtr() { reset(); }

  static ObjectPtr adopt(T *object) {
    ObjectPtr result;
    if (object && g_object_is_floating(object))
      g_object_ref_sink(object);
    result.object_ = object;
    return result;
  }
  static ObjectPtr ref(T *object) {
    ObjectPtr result;
    if (object)
      result.object_ = static_cast<T *>(g_object_ref_sink(object));
    return result;
  }

  ObjectPtr(const ObjectPtr &other) : object_(other.object_) {
    if (object_)
      g_object_ref(object_);
  }
  ObjectPtr(ObjectPtr &&other) noexcept : object_(std::exchange(other.object_, nullptr)) {}
  ObjectPtr &operator=(ObjectPtr other) noexcept {
    std::swap(object_, other.object_);
    return *this;
  }

  void reset() {
    if (object_)
      g_object_unref(std::exchange(object_, nullptr));
  }
  T *get() const { return object_; }
  T *release() { return std::exchange(object_, nullptr); }
  explicit operator bool() const { return object_ != nullptr; }

 private:
  T *object_ = nullptr;
};

}  // namespace onair
