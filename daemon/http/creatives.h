/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "http/router.h"

#include <functional>
#include <string>
#include <vector>

namespace onair::http {

/* Ad creatives as a client names them: a file under the media root (a
 * relative path) or an http(s) URI. Each is resolved to a URI and probed
 * with GstDiscoverer, asynchronously on the calling thread's main context
 * (its thread-default one), `timeout_s` at most each; `done` gets the
 * fields at fault (`creatives[i]`: missing, outside the root, not media, not
 * decodable, timed out) or, when none is, the URIs to play. */
using CreativesDone = std::function<void(std::vector<FieldError> errors, std::vector<std::string> uris)>;
void check_creatives(const std::string &media_root, const std::vector<std::string> &creatives, int timeout_s,
                     CreativesDone done);

}  // namespace onair::http
