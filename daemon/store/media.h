/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "db/database.h"

#include <json-glib/json-glib.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace onair::store {

/* What playback needs of a video: where its packaged output is. */
struct VideoMedia {
  std::string id;
  std::string status;
  /* Relative to the media root; nullopt: nothing packaged yet. */
  std::optional<std::string> media_path;
  /* The renditions array as stored. */
  std::shared_ptr<JsonNode> renditions;
  std::optional<int64_t> duration_ms;
};

/* Reads videos' media columns; callbacks run on the database's context. */
class MediaStore {
 public:
  using MediaDone = std::function<void(const db::Error &, std::optional<VideoMedia>)>;

  explicit MediaStore(db::Database &database) : database_(database) {}

  /* nullopt without error: no such video. */
  db::Ticket get(const std::string &id, MediaDone done);

 private:
  db::Database &database_;
};

}  // namespace onair::store
