/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "db/batch.h"
#include "db/database.h"
#include "store/common.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace onair::store {

struct Comment {
  std::string id;
  std::string video_id;
  std::string author;
  std::string body;
  std::optional<int64_t> media_time_ms;
  std::string created_at;
  bool operator==(const Comment &) const = default;
};

struct CommentCreate {
  std::string video_id;
  std::string author;
  std::string body;
  std::optional<int64_t> media_time_ms;
};

enum class CommentOrder { newest, media_time };

struct CommentFilter {
  std::string video_id;
  CommentOrder order = CommentOrder::newest;
  std::optional<Cursor> after;
  int limit = 50;
};

/* Comments. Inserts go through a BatchInserter: concurrent POSTs share one
 * statement and one transaction, and each is answered after its COMMIT. */
class CommentStore {
 public:
  using CommentDone = std::function<void(const db::Error &, std::optional<Comment>)>;
  /* `found` false: no such video. */
  using PageDone = std::function<void(const db::Error &, bool found, Page<Comment>)>;

  explicit CommentStore(db::Database &database);

  /* A comment on a video that does not exist fails with a foreign key
   * violation (SQLSTATE 23503, field video_id). */
  db::Ticket create(const CommentCreate &comment, CommentDone done);
  db::Ticket list(const CommentFilter &filter, PageDone done);

  const char *cursor_kind(CommentOrder order) const { return order == CommentOrder::newest ? "t" : "m"; }

 private:
  db::Database &database_;
  db::BatchInserter inserter_;
};

}  // namespace onair::store
