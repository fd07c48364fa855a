/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "db/database.h"
#include "store/tokens.h"

#include <glib.h>

#include <functional>
#include <optional>
#include <string>
#include <unordered_map>

namespace onair::http {

/* Who may call a route: anyone, or a token of at least this role. */
enum class Access { anyone = 0, viewer = 1, operator_ = 2, admin = 3 };

/* The outcome of checking a bearer token. */
struct AuthResult {
  enum class Kind { granted, unknown, unavailable } kind = Kind::unknown;
  store::TokenGrant grant;
};

/* Bearer tokens → roles, through the database with a short-lived cache: a
 * request with a known token costs no query, and revocation through this
 * daemon takes effect at once (through another daemon sharing the database,
 * within `ttl`). Unknown secrets are cached too, so a client replaying a bad
 * token cannot turn every request into a query. */
class Authenticator {
 public:
  using Done = std::function<void(const AuthResult &)>;

  explicit Authenticator(db::Database &database) : database_(database), tokens_(database) {}

  /* Calls `done` at once on a cache hit, else when the database answers. */
  void authenticate(const std::string &secret, Done done);
  /* Forgets a revoked token. */
  void forget(const std::string &token_id);
  store::TokenStore &tokens() { return tokens_; }

  /* Cache lifetimes in microseconds (tests shorten them). */
  gint64 ttl_us = 10 * G_USEC_PER_SEC;
  gint64 negative_ttl_us = 2 * G_USEC_PER_SEC;

 private:
  struct Entry {
    std::optional<store::TokenGrant> grant;
    gint64 fetched_us = 0;
    gint64 touched_us = 0;
  };
  static constexpr size_t max_entries = 10000;

  db::Database &database_;
  store::TokenStore tokens_;
  /* By the hex SHA-256 of the secret, never the secret itself. */
  std::unordered_map<std::string, Entry> cache_;
};

}  // namespace onair::http
