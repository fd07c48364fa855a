/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "db/database.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace onair::store {

/* What a token may do; each role includes the ones before it. */
enum class Role { viewer = 1, operator_ = 2, admin = 3 };

const char *role_name(Role role);
std::optional<Role> role_from_name(std::string_view name);

/* A token as listed: never its secret. */
struct Token {
  std::string id;
  std::string name;
  Role role = Role::viewer;
  std::string created_at;
  std::string expires_at; /* empty: never */
  std::string last_used_at;
};

/* A token found by its secret's hash, for authentication. */
struct TokenGrant {
  std::string id;
  Role role = Role::viewer;
  /* Microseconds since the epoch; 0: never. */
  int64_t expires_us = 0;
};

/* A new secret: "onair_" + 43 base64url characters (32 random bytes from the
 * kernel's CSPRNG). */
std::string make_token_secret();
/* SHA-256 of the secret: what the database keeps. */
std::vector<uint8_t> token_hash(const std::string &secret);

/* API tokens: the prepared statements. Callbacks run on the database's context. */
class TokenStore {
 public:
  using CreateDone = std::function<void(const db::Error &, std::optional<Token>)>;
  using GrantDone = std::function<void(const db::Error &, std::optional<TokenGrant>)>;
  using ListDone = std::function<void(const db::Error &, std::vector<Token>)>;
  using RevokeDone = std::function<void(const db::Error &, bool found)>;
  using CountDone = std::function<void(const db::Error &, int64_t)>;

  explicit TokenStore(db::Database &database) : database_(database) {}

  /* Stores the hash of `secret`; `expires_at` RFC 3339 or empty. */
  db::Ticket create(const std::string &name, Role role, const std::string &secret,
                    const std::string &expires_at, CreateDone done);
  /* A usable token (not revoked, not expired) with this secret; nullopt if none. */
  db::Ticket find(const std::string &secret, GrantDone done);
  /* Usable tokens, newest first. */
  db::Ticket list(int limit, ListDone done);
  db::Ticket revoke(const std::string &id, RevokeDone done);
  /* last_used_at = now(), if it is older than a minute (fire and forget). */
  void touch(const std::string &id);
  /* Usable admin tokens. */
  db::Ticket count_admins(CountDone done);

 private:
  db::Database &database_;
};

}  // namespace onair::store
