/* onair — ladder text parsing and rendition sizes
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* C++ and project headers before gstcheck.h, whose fail() macro breaks <iostream> */
#include "ladderspec.h"
#include <gst/check/gstcheck.h>

using onair::parse_ladder;
using onair::rung_dimensions;

GST_START_TEST(test_parse_sorts_and_names) {
  std::string error;
  auto rungs = parse_ladder("144p:200, 1080p:5000,720p:2800,480p:1400:h264,2160p:12000:h265", &error);
  fail_unless(rungs.has_value(), "%s", error.c_str());
  fail_unless_equals_int(rungs->size(), 5);
  const char *names[] = {"2160p", "1080p", "720p", "480p", "144p"};
  for (size_t i = 0; i < 5; i++) fail_unless_equals_string((*rungs)[i].name.c_str(), names[i]);
  fail_unless((*rungs)[0].codec == onair::VideoCodec::H265);
  fail_unless_equals_int((*rungs)[1].kbps, 5000);
  std::string text = onair::format_ladder(*rungs);
  fail_unless_equals_string(text.c_str(), "2160p:12000:h265,1080p:5000,720p:2800,480p:1400,144p:200");
}
GST_END_TEST;

GST_START_TEST(test_same_size_rungs_get_distinct_names) {
  std::string error;
  auto rungs = parse_ladder("720p:2800,720p:1800", &error);
  fail_unless(rungs.has_value());
  fail_unless_equals_string((*rungs)[0].name.c_str(), "720p-2800k");
  fail_unless_equals_string((*rungs)[1].name.c_str(), "720p-1800k");
  fail_if(parse_ladder("720p:2800,720p:2800", &error).has_value());
  fail_unless(error.find("appears twice") != std::string::npos, "%s", error.c_str());
}
GST_END_TEST;

static void check_error(const char *text, const char *expected) {
  std::string error;
  fail_if(parse_ladder(text, &error).has_value(), "'%s' parsed", text);
  fail_unless(error.find(expected) != std::string::npos, "error for '%s' was '%s', expected '%s'", text,
              error.c_str(), expected);
}

GST_START_TEST(test_errors_name_the_rung) {
  check_error("1080p:5000,720x:2800", "bad rung 2 '720x:2800'");
  check_error("1080p:5000,720p:abc", "bad rung 2 '720p:abc': bitrate");
  check_error("721p:500", "even");
  check_error("720p:2800:vp9", "unknown codec 'vp9'");
  check_error("720p", "bad rung 1 '720p'");
  check_error("720p:0", "bitrate");
  check_error("", "empty");
  check_error("720p:2800,,480p:1400", "bad rung 2 ''");
  check_error("99999p:100", "size");
}
GST_END_TEST;

GST_START_TEST(test_dimensions_follow_aspect) {
  std::string error;
  auto rungs = *parse_ladder("1080p:5000,720p:2800,480p:1400,144p:200", &error);
  /* landscape 16:9 */
  auto d = rung_dimensions(rungs[1], 1920, 1080);
  fail_unless(d && d->width == 1280 && d->height == 720);
  d = rung_dimensions(rungs[2], 1920, 1080);
  fail_unless(d && d->width == 854 && d->height == 480, "480p is %dx%d", d->width, d->height);
  d = rung_dimensions(rungs[3], 1920, 1080);
  fail_unless(d && d->width == 256 && d->height == 144);
  /* portrait keeps its orientation: the rung is the short side */
  d = rung_dimensions(rungs[1], 1080, 1920);
  fail_unless(d && d->width == 720 && d->height == 1280, "portrait 720p is %dx%d", d->width, d->height);
  /* 4:3 */
  d = rung_dimensions(rungs[2], 640, 480);
  fail_unless(d && d->width == 640 && d->height == 480);
  /* no upscaling */
  fail_if(rung_dimensions(rungs[0], 1280, 720).has_value());
  fail_if(rung_dimensions(rungs[0], 720, 1280).has_value());
  fail_unless(rung_dimensions(rungs[0], 1920, 1080).has_value());
}
GST_END_TEST;

static Suite *ladderspec_suite(void) {
  Suite *s = suite_create("ladderspec");
  TCase *tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_parse_sorts_and_names);
  tcase_add_test(tc, test_same_size_rungs_get_distinct_names);
  tcase_add_test(tc, test_errors_name_the_rung);
  tcase_add_test(tc, test_dimensions_follow_aspect);
  return s;
}

GST_CHECK_MAIN(ladderspec);
