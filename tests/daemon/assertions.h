/* onair — a string assertion for the daemon tests.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include <string>

/* Like g_assert_cmpstr, but the operands are copied into std::strings first:
 * g_assert_cmpstr keeps bare pointers, which dangle when an operand is a
 * temporary's c_str(). */
#define assert_string(a, cmp, b)                                                                  \
  do {                                                                                            \
    const std::string onair_left_(a), onair_right_(b);                                            \
    if (!(onair_left_ cmp onair_right_))                                                          \
      g_assertion_message_cmpstr(G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC, #a " " #cmp " " #b, \
                                 onair_left_.c_str(), #cmp, onair_right_.c_str());                \
  } while (0)
