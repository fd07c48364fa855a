/* onair — every element: state cycles and documented properties/signals
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* C++ and project headers before gstcheck.h, whose fail() macro breaks <iostream> */

#include <gst/check/gstcheck.h>

#include "publishers.h" /* free_port() */

static const char *elements[] = {
    "abrladder", "abrsink",   "rtmpserversrc", "liveinput", "adsplice",
#ifdef ONAIR_HAVE_GRAPHICS
    "newsflash", "reactions",
#endif
};

GST_START_TEST(test_state_cycles) {
  for (const char *name : elements) {
    GstElement *element = gst_element_factory_make(name, NULL);
    fail_unless(element != NULL, "%s is not registered", name);
    GstElement *pipeline = gst_pipeline_new(NULL);
    gst_bin_add(GST_BIN(pipeline), element);
    if (g_str_equal(name, "abrsink")) {
      gchar *dir = g_dir_make_tmp("states-XXXXXX", NULL);
      g_object_set(element, "location", dir, NULL);
      g_free(dir);
    }
    if (g_str_equal(name, "rtmpserversrc"))
      g_object_set(element, "address", "127.0.0.1", "port", (guint)free_port(), NULL);
    const GstState states[] = {GST_STATE_READY, GST_STATE_PAUSED, GST_STATE_PLAYING, GST_STATE_PAUSED,
                               GST_STATE_READY, GST_STATE_NULL,   GST_STATE_PLAYING, GST_STATE_NULL};
    for (int round = 0; round < 3; round++) {
      for (GstState state : states) {
        GstStateChangeReturn ret = gst_element_set_state(pipeline, state);
        fail_if(ret == GST_STATE_CHANGE_FAILURE, "%s failed to reach %s", name,
                gst_element_state_get_name(state));
        if (ret == GST_STATE_CHANGE_ASYNC) gst_element_get_state(pipeline, NULL, NULL, GST_CLOCK_TIME_NONE);
      }
    }
    gst_object_unref(pipeline);
  }
}
GST_END_TEST;

GST_START_TEST(test_everything_documented) {
  for (const char *name : elements) {
    GstElementFactory *factory = gst_element_factory_find(name);
    fail_unless(factory != NULL);
    fail_unless(gst_element_factory_get_metadata(factory, GST_ELEMENT_METADATA_DESCRIPTION) != NULL);
    GstElement *element = gst_element_factory_create(factory, NULL);
    guint n = 0;
    GParamSpec **specs = g_object_class_list_properties(G_OBJECT_GET_CLASS(element), &n);
    for (guint i = 0; i < n; i++) {
      if (specs[i]->owner_type != G_OBJECT_TYPE(element)) continue;
      const gchar *blurb = g_param_spec_get_blurb(specs[i]);
      fail_unless(blurb && strlen(blurb) > 10, "%s::%s has no description", name, specs[i]->name);
      fail_unless(specs[i]->flags & G_PARAM_STATIC_STRINGS);
    }
    g_free(specs);
    gst_object_unref(element);
    gst_object_unref(factory);
  }
}
GST_END_TEST;

static Suite *states_suite(void) {
  Suite *s = suite_create("states");
  TCase *tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_state_cycles);
  tcase_add_test(tc, test_everything_documented);
  return s;
}

GST_CHECK_MAIN(states);
