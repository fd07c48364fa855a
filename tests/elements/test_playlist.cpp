/* onair — HLS media/multivariant playlists and the DASH MPD writer
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* C++ and project headers before gstcheck.h, whose fail() macro breaks <iostream> */
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include "mpd.h"
#include "playlist.h"
#include <libxml/xpathInternals.h>
#include <gst/check/gstcheck.h>

using namespace onair;

static int count_lines(const std::string &text, const std::string &prefix) {
  int n = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    if (text.compare(pos, prefix.size(), prefix) == 0) n++;
    pos = end + 1;
  }
  return n;
}

static MediaSegment segment(double duration, uint64_t bytes, int64_t pdt = -1) {
  MediaSegment s;
  s.duration = duration;
  s.bytes = bytes;
  s.program_date_time_ms = pdt;
  return s;
}

GST_START_TEST(test_live_window_slides) {
  MediaPlaylist playlist("init.mp4", PlaylistMode::Live, 3);
  std::vector<std::string> removed;
  for (int i = 0; i < 5; i++) {
    MediaSegment s = segment(2.0, 250000, 1763700000000 + i * 2000);
    s.uri = "seg_" + std::to_string(i) + ".m4s";
    for (auto &old : playlist.append(s)) removed.push_back(old.uri);
  }
  fail_unless_equals_int(removed.size(), 2);
  fail_unless_equals_string(removed[0].c_str(), "seg_0.m4s");
  std::string text = playlist.render();
  fail_unless(text.find("#EXT-X-MEDIA-SEQUENCE:2\n") != std::string::npos, "%s", text.c_str());
  fail_unless(text.find("#EXT-X-TARGETDURATION:2\n") != std::string::npos);
  fail_unless(text.find("#EXT-X-MAP:URI=\"init.mp4\"") != std::string::npos);
  fail_unless_equals_int(count_lines(text, "#EXTINF:2.00000,"), 3);
  fail_unless_equals_int(count_lines(text, "#EXT-X-PROGRAM-DATE-TIME:"), 3);
  fail_unless(text.find("#EXT-X-PROGRAM-DATE-TIME:2025-11-21T04:40:04.000Z") != std::string::npos, "%s",
              text.c_str());
  fail_unless(text.find("ENDLIST") == std::string::npos);
  fail_unless(text.find("PLAYLIST-TYPE") == std::string::npos);
  /* 250000 bytes in 2 s */
  fail_unless_equals_int(playlist.peak_bitrate(), 1000000);
  playlist.end();
  fail_unless(playlist.render().find("#EXT-X-ENDLIST\n") != std::string::npos);
}
GST_END_TEST;

/* A track whose coding changes mid-stream (a publisher's new resolution):
 * the segments after it name their own initialization segment, written
 * after the discontinuity before the first of them; once the window has
 * slid past the change, the header's EXT-X-MAP is the new one. */
GST_START_TEST(test_initialization_changes_mid_stream) {
  MediaPlaylist playlist("init.mp4", PlaylistMode::Live, 3);
  for (int i = 0; i < 4; i++) {
    MediaSegment s = segment(2.0, 1000);
    s.uri = "seg_" + std::to_string(i) + ".m4s";
    if (i >= 2) s.map_uri = "init_1.mp4";
    if (i == 2) {
      /* (two reasons for it, one tag) */
      Marker discontinuity;
      playlist.queue_marker(discontinuity);
      playlist.queue_marker(discontinuity);
    }
    playlist.append(s);
  }
  std::string text = playlist.render();
  const char *expected =
      "#EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:2.00000,\nseg_1.m4s\n"
      "#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"init_1.mp4\"\n#EXTINF:2.00000,\nseg_2.m4s\n"
      "#EXTINF:2.00000,\nseg_3.m4s\n";
  fail_unless(text.find(expected) != std::string::npos, "%s", text.c_str());
  fail_unless_equals_int(count_lines(text, "#EXT-X-MAP:"), 2);
  fail_unless_equals_int(count_lines(text, "#EXT-X-DISCONTINUITY"), 2); /* and its SEQUENCE */

  MediaSegment s = segment(2.0, 1000);
  s.uri = "seg_4.m4s";
  s.map_uri = "init_1.mp4";
  playlist.append(s);
  text = playlist.render();
  fail_unless_equals_int(count_lines(text, "#EXT-X-MAP:"), 1);
  fail_unless(text.find("#EXT-X-MAP:URI=\"init_1.mp4\"") != std::string::npos, "%s", text.c_str());
}
GST_END_TEST;

GST_START_TEST(test_live_window_keeps_three_target_durations) {
  /* a one-segment window of 2 s segments still keeps 6 s in the playlist */
  MediaPlaylist playlist("init.mp4", PlaylistMode::Live, 1);
  size_t removed = 0;
  for (int i = 0; i < 6; i++) removed += playlist.append(segment(2.0, 1000)).size();
  fail_unless_equals_int(playlist.segments().size(), 3);
  fail_unless_equals_int(removed, 3);
}
GST_END_TEST;

GST_START_TEST(test_vod_keeps_everything) {
  MediaPlaylist playlist("init.mp4", PlaylistMode::Vod, 3);
  for (int i = 0; i < 10; i++) {
    MediaSegment s = segment(i == 9 ? 0.5 : 2.0, 1000 + i);
    s.uri = "s" + std::to_string(i);
    fail_unless(playlist.append(s).empty());
  }
  std::string text = playlist.render();
  fail_unless(text.find("#EXT-X-PLAYLIST-TYPE:EVENT") != std::string::npos);
  playlist.end();
  text = playlist.render();
  fail_unless(text.find("#EXT-X-PLAYLIST-TYPE:VOD") != std::string::npos);
  fail_unless(text.find("#EXT-X-MEDIA-SEQUENCE:0\n") != std::string::npos);
  fail_unless_equals_int(count_lines(text, "#EXTINF:"), 10);
  fail_unless(text.rfind("#EXT-X-ENDLIST\n") == text.size() - strlen("#EXT-X-ENDLIST\n"));
}
GST_END_TEST;

GST_START_TEST(test_markers_attach_to_next_segment) {
  MediaPlaylist playlist("init.mp4", PlaylistMode::Live, 4);
  playlist.append(segment(2, 10));
  Marker discontinuity;
  discontinuity.kind = Marker::Kind::Discontinuity;
  playlist.queue_marker(discontinuity);
  Marker out;
  out.kind = Marker::Kind::CueOut;
  out.duration = 30;
  playlist.queue_marker(out);
  Marker range;
  range.kind = Marker::Kind::DateRange;
  range.id = "break-1";
  range.duration = 30;
  range.attributes.push_back({"SCTE35-OUT", "0xFC30"});
  playlist.queue_marker(range);
  playlist.append(segment(2, 10, 1000));
  playlist.append(segment(2, 10, 3000));
  Marker in;
  in.kind = Marker::Kind::CueIn;
  playlist.queue_marker(in);
  playlist.append(segment(2, 10, 5000));

  std::string text = playlist.render();
  fail_unless_equals_int(count_lines(text, "#EXT-X-DISCONTINUITY\n"), 1);
  fail_unless(text.find("#EXT-X-CUE-OUT:DURATION=30.000\n") != std::string::npos, "%s", text.c_str());
  fail_unless(text.find("#EXT-X-CUE-OUT-CONT:ElapsedTime=2.000,Duration=30.000\n") != std::string::npos, "%s",
              text.c_str());
  fail_unless(text.find("#EXT-X-DATERANGE:ID=\"break-1\",START-DATE=\"1970-01-01T00:00:01.000Z\","
                        "PLANNED-DURATION=30.000,SCTE35-OUT=0xFC30\n") != std::string::npos,
              "%s", text.c_str());
  fail_unless(text.find("#EXT-X-CUE-IN\n") != std::string::npos);
  /* the discontinuity comes before the segment it marks */
  fail_unless(text.find("#EXT-X-DISCONTINUITY") <
              text.find("#EXT-X-PROGRAM-DATE-TIME:1970-01-01T00:00:01.000Z"));

  /* the marked segment first in the window still carries its tag */
  playlist.append(segment(2, 10, 7000));
  text = playlist.render();
  fail_unless(text.find("#EXT-X-DISCONTINUITY-SEQUENCE:0\n") != std::string::npos, "%s", text.c_str());
  fail_unless_equals_int(count_lines(text, "#EXT-X-DISCONTINUITY\n"), 1);

  /* once the marked segments leave the window the sequence counts the
   * discontinuity and the window still knows it is inside the break */
  playlist.append(segment(2, 10, 9000));
  text = playlist.render();
  fail_unless(text.find("#EXT-X-DISCONTINUITY-SEQUENCE:1\n") != std::string::npos, "%s", text.c_str());
  fail_unless_equals_int(count_lines(text, "#EXT-X-DISCONTINUITY\n"), 0);
}
GST_END_TEST;

GST_START_TEST(test_multivariant_playlist) {
  VariantStream hd;
  hd.uri = "720p/index.m3u8";
  hd.bandwidth = 3000000;
  hd.average_bandwidth = 2800000;
  hd.width = 1280;
  hd.height = 720;
  hd.frame_rate = 30;
  hd.codecs = "avc1.64001F,mp4a.40.2";
  hd.audio_group = "audio";
  AudioRendition audio;
  audio.group = "audio";
  audio.name = "audio";
  audio.uri = "audio/index.m3u8";
  audio.channels = 2;
  std::string text = render_multivariant_playlist({hd}, {audio});
  fail_unless(
      text.find("#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\",NAME=\"audio\",DEFAULT=YES,AUTOSELECT=YES,"
                "CHANNELS=\"2\",URI=\"audio/index.m3u8\"\n") != std::string::npos,
      "%s", text.c_str());
  fail_unless(
      text.find("#EXT-X-STREAM-INF:BANDWIDTH=3000000,AVERAGE-BANDWIDTH=2800000,RESOLUTION=1280x720,"
                "FRAME-RATE=30.000,CODECS=\"avc1.64001F,mp4a.40.2\",AUDIO=\"audio\"\n720p/index.m3u8\n") !=
          std::string::npos,
      "%s", text.c_str());
}
GST_END_TEST;

/* Returns a string owned by a static buffer: the check macros evaluate
 * their arguments twice, so no temporaries. */
static const char *xpath_string(xmlDocPtr doc, const char *expression) {
  static std::string value;
  xmlXPathContextPtr context = xmlXPathNewContext(doc);
  xmlXPathRegisterNs(context, BAD_CAST "d", BAD_CAST "urn:mpeg:dash:schema:mpd:2011");
  xmlXPathObjectPtr result = xmlXPathEvalExpression(BAD_CAST expression, context);
  value.clear();
  if (result) {
    xmlChar *text = xmlXPathCastToString(result);
    value = reinterpret_cast<char *>(text);
    xmlFree(text);
    xmlXPathFreeObject(result);
  }
  xmlXPathFreeContext(context);
  return value.c_str();
}

GST_START_TEST(test_mpd_is_valid_xml_with_timeline) {
  MpdDocument document;
  document.dynamic = true;
  document.availability_start_ms = 1763700000000;
  document.publish_ms = 1763700010000;
  document.max_segment = 2;
  document.time_shift_buffer = 6;
  MpdRepresentation video;
  video.id = "720p";
  video.codecs = "avc1.64001F";
  video.bandwidth = 2800000;
  video.width = 1280;
  video.height = 720;
  video.frame_rate_n = 30;
  video.timescale = 3000;
  video.presentation_time_offset = 30000;
  video.initialization = "720p/init.mp4";
  video.media = "720p/seg_$Number%05d$.m4s";
  video.segments = {{4, 30000, 6000}, {5, 36000, 6000}, {6, 42000, 6000}, {7, 48000, 3000}};
  MpdRepresentation audio;
  audio.id = "audio";
  audio.is_audio = true;
  audio.codecs = "mp4a.40.2";
  audio.bandwidth = 128000;
  audio.sample_rate = 48000;
  audio.channels = 2;
  audio.timescale = 48000;
  audio.initialization = "audio/init.mp4";
  audio.media = "audio/seg_$Number%05d$.m4s";
  audio.segments = {{0, 0, 96000}};
  document.representations = {video, audio};

  std::string text = render_mpd(document);
  xmlDocPtr doc = xmlReadMemory(text.data(), int(text.size()), "manifest.mpd", nullptr, XML_PARSE_NONET);
  fail_unless(doc != nullptr, "MPD does not parse:\n%s", text.c_str());
  fail_unless_equals_string(xpath_string(doc, "string(/d:MPD/@type)"), "dynamic");
  fail_unless_equals_string(xpath_string(doc, "string(/d:MPD/@availabilityStartTime)"),
                            "2025-11-21T04:40:00.000Z");
  fail_unless_equals_string(xpath_string(doc, "string(/d:MPD/@timeShiftBufferDepth)"), "PT6.000S");
  fail_unless_equals_string(
      xpath_string(doc, "string(//d:Representation[@id='720p']/d:SegmentTemplate/@startNumber)"), "4");
  fail_unless_equals_string(xpath_string(doc, "string(//d:Representation[@id='720p']//d:S[1]/@r)"), "2");
  fail_unless_equals_string(xpath_string(doc, "string(//d:Representation[@id='720p']//d:S[2]/@t)"), "48000");
  fail_unless_equals_string(xpath_string(doc, "string(count(//d:AdaptationSet))"), "2");
  fail_unless_equals_string(
      xpath_string(doc,
                   "string(//d:AdaptationSet[@contentType='audio']//d:AudioChannelConfiguration/@value)"),
      "2");
  fail_unless_equals_string(xpath_string(doc, "string(/d:MPD/d:UTCTiming/@value)"),
                            "2025-11-21T04:40:10.000Z");
  xmlFreeDoc(doc);
}
GST_END_TEST;

/* An ad break whose start left the live window: the window still says it is
 * inside the break (CUE-OUT-CONT with the elapsed time) until its CUE-IN,
 * and the two DATERANGE tags of the break share their START-DATE. */
/* A video representation with no size known yet: no maxWidth/par (and no
 * division by zero). */
GST_START_TEST(test_mpd_video_without_size) {
  MpdDocument document;
  MpdRepresentation video;
  video.id = "video";
  video.codecs = "avc1.64001F";
  video.bandwidth = 1000000;
  video.timescale = 3000;
  video.initialization = "video/init.mp4";
  video.media = "video/seg_$Number%05d$.m4s";
  video.segments = {{0, 0, 6000}};
  document.representations = {video};
  std::string text = render_mpd(document);
  xmlDocPtr doc = xmlReadMemory(text.data(), int(text.size()), "manifest.mpd", nullptr, XML_PARSE_NONET);
  fail_unless(doc != nullptr, "MPD does not parse:\n%s", text.c_str());
  fail_unless_equals_string(xpath_string(doc, "string(count(//d:AdaptationSet[@par]))"), "0");
  fail_unless_equals_string(xpath_string(doc, "string(count(//d:Representation[@id='video']))"), "1");
  xmlFreeDoc(doc);
}
GST_END_TEST;

GST_START_TEST(test_break_across_the_window) {
  MediaPlaylist playlist("init.mp4", PlaylistMode::Live, 3);
  playlist.append(segment(2, 10, 1000));
  Marker out;
  out.kind = Marker::Kind::CueOut;
  out.duration = 10;
  playlist.queue_marker(out);
  Marker range;
  range.kind = Marker::Kind::DateRange;
  range.id = "splice-7-1";
  range.duration = 10;
  range.attributes.push_back({"SCTE35-OUT", "0xFC30"});
  playlist.queue_marker(range);
  for (int i = 1; i <= 5; i++) playlist.append(segment(2, 10, 1000 + i * 2000));
  std::string text = playlist.render();
  fail_if(text.find("#EXT-X-CUE-OUT:") != std::string::npos, "%s", text.c_str());
  /* segments 3, 4, 5 in the window: 4, 6, 8 s into the break */
  fail_unless(text.find("#EXT-X-MEDIA-SEQUENCE:3\n") != std::string::npos, "%s", text.c_str());
  fail_unless(text.find("#EXT-X-CUE-OUT-CONT:ElapsedTime=4.000,Duration=10.000\n#EXT-X-PROGRAM-DATE-TIME:"
                        "1970-01-01T00:00:07.000Z\n") != std::string::npos,
              "%s", text.c_str());
  fail_unless(text.find("#EXT-X-CUE-OUT-CONT:ElapsedTime=8.000,Duration=10.000\n") != std::string::npos, "%s",
              text.c_str());

  Marker in;
  in.kind = Marker::Kind::CueIn;
  playlist.queue_marker(in);
  Marker back = range;
  back.duration = -1;
  back.attributes = {{"SCTE35-IN", "0xFC31"}};
  playlist.queue_marker(back);
  playlist.append(segment(2, 10, 13000));
  text = playlist.render();
  fail_unless(
      text.find("#EXT-X-CUE-IN\n#EXT-X-DATERANGE:ID=\"splice-7-1\",START-DATE=\"1970-01-01T00:00:03.000Z\","
                "SCTE35-IN=0xFC31\n#EXT-X-PROGRAM-DATE-TIME:1970-01-01T00:00:13.000Z\n") != std::string::npos,
      "%s", text.c_str());
  /* after the CUE-IN left the window, no CONT any more */
  for (int i = 0; i < 4; i++) playlist.append(segment(2, 10, 15000 + i * 2000));
  text = playlist.render();
  fail_if(text.find("CUE") != std::string::npos, "%s", text.c_str());
}
GST_END_TEST;

GST_START_TEST(test_mpd_scte35_event_stream) {
  MpdDocument document;
  document.dynamic = true;
  MpdRepresentation video;
  video.id = "720p";
  video.width = 1280;
  video.height = 720;
  video.timescale = 90000;
  video.segments = {{0, 0, 180000}};
  document.representations = {video};
  MpdEvent event;
  event.id = 3;
  event.presentation_time = 12.5;
  event.duration = 30;
  event.section = {0xFC, 0x30, 0x11};
  document.scte35_events = {event};
  std::string text = render_mpd(document);
  xmlDocPtr doc = xmlReadMemory(text.data(), int(text.size()), "manifest.mpd", nullptr, XML_PARSE_NONET);
  fail_unless(doc != nullptr, "MPD does not parse:\n%s", text.c_str());
  fail_unless_equals_string(xpath_string(doc, "string(//d:Period/d:EventStream/@schemeIdUri)"),
                            "urn:scte:scte35:2014:xml+bin");
  fail_unless_equals_string(xpath_string(doc, "string(//d:EventStream/d:Event/@presentationTime)"),
                            "1125000");
  fail_unless_equals_string(xpath_string(doc, "string(//d:EventStream/d:Event/@duration)"), "2700000");
  fail_unless_equals_string(xpath_string(doc, "string(//d:EventStream/d:Event/@id)"), "3");
  fail_unless_equals_string(
      xpath_string(doc, "string(//d:Event/*[local-name()='Signal']/*[local-name()='Binary'])"), "/DAR");
  /* the EventStream comes before the AdaptationSets (schema order) */
  fail_unless(text.find("<EventStream") < text.find("<AdaptationSet"), "%s", text.c_str());
  xmlFreeDoc(doc);
}
GST_END_TEST;

static Suite *playlist_suite(void) {
  Suite *s = suite_create("playlist");
  TCase *tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_live_window_slides);
  tcase_add_test(tc, test_initialization_changes_mid_stream);
  tcase_add_test(tc, test_live_window_keeps_three_target_durations);
  tcase_add_test(tc, test_vod_keeps_everything);
  tcase_add_test(tc, test_markers_attach_to_next_segment);
  tcase_add_test(tc, test_multivariant_playlist);
  tcase_add_test(tc, test_mpd_is_valid_xml_with_timeline);
  tcase_add_test(tc, test_mpd_video_without_size);
  tcase_add_test(tc, test_break_across_the_window);
  tcase_add_test(tc, test_mpd_scte35_event_stream);
  return s;
}

GST_CHECK_MAIN(playlist);
