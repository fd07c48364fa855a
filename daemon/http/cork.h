/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <libsoup/soup.h>

namespace onair::http {

/* Each answer leaves in as few TCP segments as it fills. libsoup writes an
 * answer's head and its body with a send() each: on their own, a small
 * answer goes out as two packets, which costs the server, the network stack
 * and the client twice. With these handlers installed, a connection is
 * corked (TCP_CORK) once its request is read and uncorked when the answer is
 * written, so the kernel sends head and body together.
 *
 * Non-TCP connections are left alone. A handler that streams an open-ended
 * answer (server-sent events) calls uncork() before its first chunk, so that
 * each chunk goes out when written. */
void cork_answers(SoupServer *server);
void uncork(SoupServerMessage *message);

}  // namespace onair::http
