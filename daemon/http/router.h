/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "db/database.h"

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
  void problem(const Problem &problem);
  void empty(guint status);
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
          std::map<std::string, std::string> query)
      : message_(message), path_params_(std::move(path_params)), query_(std::move(query)) {}

  SoupServerMessage *message() const { return message_; }
  const std::string &param(const std::string &name) const { return path_params_.at(name); }
  const std::map<std::string, std::string> &query() const { return query_; }

  /* Answers at once. */
  void json(guint status, JsonNode *body, const std::string &location = {});
  void problem(const Problem &problem);
  void empty(guint status);

  /* Pauses the message until the returned Pending answers. */
  std::shared_ptr<Pending> defer();

  /* The body parsed as a JSON object; otherwise answers 400 / 413 / 415 and
   * returns nullptr. The node is owned by the caller. */
  JsonNode *json_body();

 private:
  SoupServerMessage *message_;
  std::map<std::string, std::string> path_params_;
  std::map<std::string, std::string> query_;
};

using Handler = std::function<void(Request &)>;

/* Method + path pattern ("/api/v1/videos/{id}") dispatch on a SoupServer:
 * unknown paths answer 404, known paths with another method 405 with Allow,
 * oversized bodies 413; every error is application/problem+json. */
class Router {
 public:
  void add(const std::string &method, const std::string &pattern, Handler handler);
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
    Handler handler;
  };
  static void on_request(SoupServer *, SoupServerMessage *message, const char *path, GHashTable *query,
                         gpointer self);
  static void on_early(SoupServer *, SoupServerMessage *message, const char *path, GHashTable *query,
                       gpointer self);
  void dispatch(SoupServerMessage *message, const char *path, GHashTable *query);

  std::vector<Route> routes_;
  Observer observer_;
};

/* Sets a problem+json response on a message (not paused). */
void set_problem(SoupServerMessage *message, const Problem &problem);
/* Sets a JSON response; `body` is adopted. */
void set_json(SoupServerMessage *message, guint status, JsonNode *body);

/* The HTTP answer to a failed query: 503 + Retry-After when the database is
 * unavailable, 409 for unique violations, 422 for constraint and data errors
 * (naming the field through `field_of_constraint`), 500 otherwise (a bug). */
Problem problem_from_db_error(const db::Error &error);

}  // namespace onair::http
