/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "db/database.h"
#include "http/auth.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace onair::http {

/* Request bodies larger than this are refused with 413 (before they are read
 * when the client sends Content-Length). */
constexpr gsize max_body_bytes = 64 * 1024;

/* One field at fault, as in the problem's "errors" array. */
struct FieldError {
  std::string field;
  std::string message;
};

/* An application/problem+json answer (RFC 9457). */
struct Problem {
  guint status = 500;
  std::string title;
  std::string detail;
  std::vector<FieldError> errors;
  /* Seconds, for 503. */
  int retry_after = 0;
};

/* A message being answered later: the SoupServerMessage is paused while it
 * lives unanswered, and the database ticket of its query is cancelled when
 * the client goes away. Hold it by shared_ptr in the query's callback. */
class Pending {
 public:
  explicit Pending(SoupServerMessage *message);
  ~Pending();
  Pending(const Pending &) = delete;
  Pending &operator=(const Pending &) = delete;

  /* The query answering this message: cancelled on disconnect. */
  void watch(db::Ticket ticket);

  /* Answer and unpause (once; later calls do nothing). `body` is adopted;
   * nullptr: no body. */
  void json(guint status, JsonNode *body, const std::string &location = {});
  /* A body already serialized (referenced, not copied). */
  void json(guint status, GBytes *body, const std::string &location = {});
  void problem(const Problem &problem);
  void empty(guint status);
  /* A body of any type (an image, a shared JSON page), referenced rather
   * than copied; `headers` are added to the answer. */
  void bytes(guint status, const char *content_type, GBytes *body,
             const std::map<std::string, std::string> &headers = {});
  bool answered() const { return answered_; }

 private:
  static void on_disconnected(SoupServerMessage *message, gpointer self);
  void finish();

  SoupServerMessage *message_;
  gulong disconnected_handler_ = 0;
  db::Ticket ticket_;
  bool answered_ = false;
  bool disconnected_ = false;
};

/* What a handler gets: the message, its {name} path parameters and its query. */
class Request {
 public:
  Request(SoupServerMessage *message, std::map<std::string, std::string> path_params,
          std::map<std::string, std::string> query, std::optional<store::TokenGrant> grant = std::nullopt)
      : message_(message),
        path_params_(std::move(path_params)),
        query_(std::move(query)),
        grant_(std::move(grant)) {}

  SoupServerMessage *message() const { return message_; }
  const std::string &param(const std::string &name) const { return path_params_.at(name); }
  const std::map<std::string, std::string> &path_params() const { return path_params_; }
  const std::map<std::string, std::string> &query() const { return query_; }
  /* The caller's token, when it sent a valid one. */
  const std::optional<store::TokenGrant> &grant() const { return grant_; }
  /* The caller holds a token of at least `role`. */
  bool has_role(store::Role role) const { return grant_ && grant_->role >= role; }

  /* Answers at once. */
  void json(guint status, JsonNode *body, const std::string &location = {});
  void problem(const Problem &problem);
  void empty(guint status);

  /* Pauses the message until the returned Pending answers. */
  std::shared_ptr<Pending> defer();
  bool deferred() const { return deferred_; }

  /* The body parsed as a JSON object; otherwise answers 400 / 413 / 415 and
   * returns nullptr. The node is owned by the caller. */
  JsonNode *json_body();

 private:
  /* Sets the grant once the token is checked. */
  friend class Router;

  SoupServerMessage *message_;
  std::map<std::string, std::string> path_params_;
  std::map<std::string, std::string> query_;
  std::optional<store::TokenGrant> grant_;
  bool deferred_ = false;
};

using Handler = std::function<void(Request &)>;

/* Method + path pattern ("/api/v1/videos/{id}") dispatch on a SoupServer:
 * unknown paths answer 404, known paths with another method 405 with Allow,
 * oversized bodies 413; every error is application/problem+json.
 *
 * Access: a route open to anyone still reads a bearer token when one is
 * sent (a handler may show more to a token holder), and refuses an invalid
 * one (401) rather than silently treating the caller as anonymous. Other
 * routes answer 401 (with WWW-Authenticate) without a valid token and 403
 * when its role is too low. */
class Router {
 public:
  /* Bearer tokens are checked through `authenticator` (which must outlive
   * the router); without one, only routes open to anyone can be called. */
  explicit Router(Authenticator *authenticator = nullptr) : authenticator_(authenticator) {}
  void add(const std::string &method, const std::string &pattern, Handler handler,
           Access access = Access::anyone);
  /* Installs the handlers on `server` (the router must outlive it). */
  void mount(SoupServer *server);
  /* Told of every dispatched message with its route's pattern (the matched
   * path, whatever the method), or "unmatched"; e.g. for metrics. */
  using Observer = std::function<void(SoupServerMessage *message, const std::string &route)>;
  void observe(Observer observer) { observer_ = std::move(observer); }

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    /* For each segment, the name of the {parameter} it is, or "" (literal). */
    std::vector<std::string> parameters;
    Handler handler;
    Access access;
  };
  static void on_request(SoupServer *, SoupServerMessage *message, const char *path, GHashTable *query,
                         gpointer self);
  static void on_early(SoupServer *, SoupServerMessage *message, const char *path, GHashTable *query,
                       gpointer self);
  void dispatch(SoupServerMessage *message, const char *path, GHashTable *query);
  void authorize_and_run(SoupServerMessage *message, const Route &route, Request request);

  Authenticator *authenticator_;
  std::vector<Route> routes_;
  Observer observer_;
};

/* A path id: false (and 400 answered, naming it) when not a UUID. */
bool valid_id(Request &request, const char *name);
/* 404 "<what> not found". */
Problem not_found(const char *what);

/* Sets a problem+json response on a message (not paused). */
void set_problem(SoupServerMessage *message, const Problem &problem);
/* `body` serialized (and adopted). */
GBytes *json_bytes(JsonNode *body);
/* Sets a JSON response; `body` is adopted. */
void set_json(SoupServerMessage *message, guint status, JsonNode *body);

/* The HTTP answer to a failed query: 503 + Retry-After when the database is
 * unavailable, 409 for unique violations, 422 for constraint and data errors
 * (naming the field through `field_of_constraint`), 500 otherwise (a bug). */
Problem problem_from_db_error(const db::Error &error);

}  // namespace onair::http
