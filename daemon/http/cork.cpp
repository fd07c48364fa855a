/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "http/cork.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace onair::http {

namespace {

void set_cork(SoupServerMessage *message, int on) {
  GSocket *socket = soup_server_message_get_socket(message);
  if (!socket) return;
  GSocketFamily family = g_socket_get_family(socket);
  if (family != G_SOCKET_FAMILY_IPV4 && family != G_SOCKET_FAMILY_IPV6) return;
  /* Fails only on a socket already closed, which has nothing left to send. */
  setsockopt(g_socket_get_fd(socket), IPPROTO_TCP, TCP_CORK, &on, sizeof on);
}

void on_request_read(SoupServer *, SoupServerMessage *message, gpointer) {
  set_cork(message, 1);
}

void on_request_done(SoupServer *, SoupServerMessage *message, gpointer) {
  set_cork(message, 0);
}

}  // namespace

void cork_answers(SoupServer *server) {
  g_signal_connect(server, "request-read", G_CALLBACK(on_request_read), nullptr);
  g_signal_connect(server, "request-finished", G_CALLBACK(on_request_done), nullptr);
  g_signal_connect(server, "request-aborted", G_CALLBACK(on_request_done), nullptr);
}

void uncork(SoupServerMessage *message) {
  set_cork(message, 0);
}

}  // namespace onair::http
