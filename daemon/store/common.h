/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "db/result.h"

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace onair::store {

/* Base64url (RFC 4648 §5) without padding: what goes into URLs and tokens. */
std::string base64url(const void *data, size_t size);

/* `size` bytes from the kernel's CSPRNG (getrandom); false with errno set
 * when there are none. */
bool random_bytes(void *out, size_t size);

/* The request field a failed statement points at, from the constraint (or
 * column) named by the server; empty when unknown. */
std::string field_of(const db::Error &error);

/* A keyset position, opaque to clients: base64url of "kind|key|id". `kind`
 * tells which order it belongs to ("t": created_at, "m": media time). */
struct Cursor {
  std::string kind;
  std::string key;
  std::string id;

  std::string encode() const;
  /* nullopt when malformed (not ours, or for another kind). */
  static std::optional<Cursor> decode(const std::string &text, const std::string &kind);
};

/* One page of a list: the rows and the cursor of the next page, if any. */
template <typename Item>
struct Page {
  std::vector<Item> items;
  std::optional<std::string> next_cursor;
  bool operator==(const Page &) const = default;
};

}  // namespace onair::store
