/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "store/tokens.h"

#include "store/common.h"

#include <glib.h>

#include <cerrno>
#include <cstring>

namespace onair::store {

namespace {

using db::Param;
using db::Statement;

#define TOKEN_COLUMNS "id, name, role, created_at, expires_at, last_used_at"
#define TOKEN_USABLE "revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())"

constexpr Statement insert_token{"tokens_insert",
                                 "INSERT INTO api_tokens (name, role, token_hash, expires_at) "
                                 "VALUES ($1, $2, $3::bytea, $4::timestamptz) RETURNING " TOKEN_COLUMNS};
constexpr Statement find_token{"tokens_find",
                               "SELECT id, role, expires_at FROM api_tokens "
                               "WHERE token_hash = $1::bytea AND " TOKEN_USABLE};
constexpr Statement list_tokens{"tokens_list", "SELECT " TOKEN_COLUMNS " FROM api_tokens WHERE " TOKEN_USABLE
                                               " ORDER BY created_at DESC, id DESC LIMIT $1::int"};
constexpr Statement revoke_token{
    "tokens_revoke", "UPDATE api_tokens SET revoked_at = now() WHERE id = $1::uuid AND revoked_at IS NULL"};
constexpr Statement touch_token{"tokens_touch",
                                "UPDATE api_tokens SET last_used_at = now() WHERE id = $1::uuid "
                                "AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')"};
constexpr Statement count_admin_tokens{
    "tokens_count_admins", "SELECT count(*) AS n FROM api_tokens WHERE role = 'admin' AND " TOKEN_USABLE};

Token from_row(const db::Result &result, int row) {
  Token token;
  token.id = result.text(row, "id");
  token.name = result.text(row, "name");
  token.role = role_from_name(result.text(row, "role")).value_or(Role::viewer);
  token.created_at = result.timestamp_rfc3339(row, "created_at");
  token.expires_at = result.timestamp_rfc3339(row, "expires_at");
  token.last_used_at = result.timestamp_rfc3339(row, "last_used_at");
  return token;
}

Param hash_param(const std::string &secret) {
  std::vector<uint8_t> hash = token_hash(secret);
  return Param::bytes(hash.data(), hash.size());
}

}  // namespace

const char *role_name(Role role) {
  switch (role) {
    case Role::viewer:
      return "viewer";
    case Role::operator_:
      return "operator";
    case Role::admin:
      return "admin";
  }
  return "viewer";
}

std::optional<Role> role_from_name(std::string_view name) {
  if (name == "viewer") return Role::viewer;
  if (name == "operator") return Role::operator_;
  if (name == "admin") return Role::admin;
  return std::nullopt;
}

std::string make_token_secret() {
  uint8_t bytes[32];
  /* Fails only without getrandom() (Linux < 3.17), where onaird cannot work safely. */
  if (!random_bytes(bytes, sizeof bytes)) g_error("getrandom: %s", g_strerror(errno));
  return "onair_" + base64url(bytes, sizeof bytes);
}

std::vector<uint8_t> token_hash(const std::string &secret) {
  std::vector<uint8_t> digest(32);
  gsize length = digest.size();
  GChecksum *checksum = g_checksum_new(G_CHECKSUM_SHA256);
  g_checksum_update(checksum, reinterpret_cast<const guchar *>(secret.data()), secret.size());
  g_checksum_get_digest(checksum, digest.data(), &length);
  g_checksum_free(checksum);
  return digest;
}

db::Ticket TokenStore::create(const std::string &name, Role role, const std::string &secret,
                              const std::string &expires_at, CreateDone done) {
  return database_.query(
      insert_token,
      {name, role_name(role), hash_param(secret), expires_at.empty() ? Param(nullptr) : Param(expires_at)},
      [done](const db::Result &result) {
        if (!result.ok()) return done(result.error(), std::nullopt);
        done({}, from_row(result, 0));
      });
}

db::Ticket TokenStore::find(const std::string &secret, GrantDone done) {
  return database_.query(find_token, {hash_param(secret)}, [done](const db::Result &result) {
    if (!result.ok()) return done(result.error(), std::nullopt);
    if (result.rows() == 0) return done({}, std::nullopt);
    TokenGrant grant;
    grant.id = result.text(0, "id");
    grant.role = role_from_name(result.text(0, "role")).value_or(Role::viewer);
    grant.expires_us = result.timestamp_us(0, "expires_at", 0);
    done({}, grant);
  });
}

db::Ticket TokenStore::list(int limit, ListDone done) {
  return database_.query(list_tokens, {std::to_string(limit)}, [done](const db::Result &result) {
    std::vector<Token> tokens;
    if (!result.ok()) return done(result.error(), tokens);
    for (int row = 0; row < result.rows(); row++) tokens.push_back(from_row(result, row));
    done({}, tokens);
  });
}

db::Ticket TokenStore::revoke(const std::string &id, RevokeDone done) {
  return database_.query(revoke_token, {id}, [done](const db::Result &result) {
    if (!result.ok()) return done(result.error(), false);
    done({}, result.affected_rows() > 0);
  });
}

void TokenStore::touch(const std::string &id) {
  database_.query(touch_token, {id}, [](const db::Result &) {});
}

db::Ticket TokenStore::count_admins(CountDone done) {
  return database_.query(count_admin_tokens, {}, [done](const db::Result &result) {
    if (!result.ok()) return done(result.error(), 0);
    done({}, result.int64(0, "n"));
  });
}

}  // namespace onair::store
