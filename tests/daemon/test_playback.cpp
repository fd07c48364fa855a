/* onair — seek and frames of packaged videos over HTTP against a real
 * PostgreSQL and real abrsink output (generated here with videotestsrc,
 * abrladder and abrsink): segment lookup, the rendition of each device
 * class, JPEG frames decoded back, the render limit and the frame cache, and
 * the errors (400, 404, 409, 422).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "harness.h"
#include "http/api.h"
#include "http/playback.h"
#include "http_client.h"
#include "playback/frame_renderer.h"
#include "playback/hls_index.h"

#include <glib/gstdio.h>
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

using namespace onair;

namespace {

/* The fixture: 10 s of a moving ball at 640x360, 30 fps, packaged as VOD
 * (five 2-second segments) in 360p and 144p. */
constexpr int fixture_frames = 300;
constexpr const char *fixture_renditions =
    R"([{"name": "360p", "width": 640, "height": 360, "bandwidth": 800000, "codecs": "avc1.64001e"},)"
    R"( {"name": "144p", "width": 256, "height": 144, "bandwidth": 200000, "codecs": "avc1.64000c"}])";

std::string media_root;

/* Runs a gst-launch description to EOS. */
void run_pipeline(const std::string &description) {
  GError *error = nullptr;
  GstElement *pipeline = gst_parse_launch(description.c_str(), &error);
  if (!pipeline) g_error("%s: %s", description.c_str(), error->message);
  g_assert_cmpint(gst_element_set_state(pipeline, GST_STATE_PLAYING), !=, GST_STATE_CHANGE_FAILURE);
  GstBus *bus = gst_element_get_bus(pipeline);
  GstMessage *message =
      gst_bus_timed_pop_filtered(bus, 120 * GST_SECOND, GstMessageType(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  g_assert_nonnull(message);
  if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR) {
    gst_message_parse_error(message, &error, nullptr);
    g_error("%s: %s", description.c_str(), error->message);
  }
  gst_message_unref(message);
  gst_object_unref(bus);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);
}

/* <media_root>/fixture: made once per test binary. */
const std::string &fixture_dir() {
  static std::string dir;
  if (dir.empty()) {
    dir = media_root + "/fixture";
    run_pipeline("videotestsrc num-buffers=" + std::to_string(fixture_frames) +
                 " pattern=ball ! video/x-raw,width=640,height=360,framerate=30/1 ! "
                 "abrladder ladder=\"360p:800,144p:200\" ! abrsink location=\"" +
                 dir + "\" mode=vod");
  }
  return dir;
}

/* A decoded JPEG: its size and its grey levels. */
struct Picture {
  int width = 0;
  int height = 0;
  std::vector<guint8> grey;
};

Picture decode_jpeg(const std::string &jpeg) {
  GError *error = nullptr;
  GstElement *pipeline = gst_parse_launch(
      "appsrc name=source caps=image/jpeg ! jpegdec ! videoconvert ! video/x-raw,format=GRAY8 ! "
      "appsink name=sink sync=false",
      &error);
  g_assert_no_error(error);
  GstElement *source = gst_bin_get_by_name(GST_BIN(pipeline), "source");
  GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  gst_app_src_push_buffer(GST_APP_SRC(source), gst_buffer_new_memdup(jpeg.data(), jpeg.size()));
  gst_app_src_end_of_stream(GST_APP_SRC(source));
  GstSample *sample = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 30 * GST_SECOND);
  g_assert_nonnull(sample);
  Picture picture;
  GstStructure *structure = gst_caps_get_structure(gst_sample_get_caps(sample), 0);
  gst_structure_get_int(structure, "width", &picture.width);
  gst_structure_get_int(structure, "height", &picture.height);
  GstMapInfo map;
  GstBuffer *buffer = gst_sample_get_buffer(sample);
  g_assert_true(gst_buffer_map(buffer, &map, GST_MAP_READ));
  /* GRAY8 rows are padded to 4 bytes. */
  int stride = (picture.width + 3) & ~3;
  for (int y = 0; y < picture.height; y++)
    picture.grey.insert(picture.grey.end(), map.data + y * stride, map.data + y * stride + picture.width);
  gst_buffer_unmap(buffer, &map);
  gst_sample_unref(sample);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(source);
  gst_object_unref(sink);
  gst_object_unref(pipeline);
  return picture;
}

/* Mean absolute difference of two pictures of one size, 0..255. */
double difference(const Picture &a, const Picture &b) {
  g_assert_cmpuint(a.grey.size(), ==, b.grey.size());
  double sum = 0;
  for (size_t i = 0; i < a.grey.size(); i++) sum += std::abs(int(a.grey[i]) - int(b.grey[i]));
  return sum / double(a.grey.size());
}

#define assert_problem(response, expected, field)                                      \
  do {                                                                                 \
    assert_status(response, expected);                                                 \
    assert_string((response)->content_type, ==, "application/problem+json");           \
    if (std::string(field) != "") assert_string((response)->error_field(), ==, field); \
  } while (0)

struct Fixture {
  test::TestDatabase database;
  std::unique_ptr<db::Database> pool;
  std::unique_ptr<test::Peer> peer;
  std::string cache_dir;
  std::unique_ptr<http::PlaybackApi> playback;
  std::unique_ptr<test::Server> server;
  explicit Fixture(const char *name) {
    test::migrate_schema(database.uri());
    pool = test::open_pool(database.uri());
    peer = std::make_unique<test::Peer>(database.uri());
    cache_dir = test::make_dir(std::string("cache-") + name);
    /* The REST API with the playback routes, asked anonymously. */
    server = std::make_unique<test::Server>(
        *pool, [&](http::Api &api, const std::string &base, const store::MediaLinks &links) {
          http::PlaybackOptions options;
          options.media_root = media_root;
          options.frame_cache_dir = cache_dir;
          playback = std::make_unique<http::PlaybackApi>(*pool, base, links, options);
          playback->add_routes(api.router());
        });
    server->token.clear();
    server->timeout = 120;
  }
  ~Fixture() {
    server.reset();
    playback.reset();
    pool->close();
    test::run_for(10);
    pool.reset();
  }
  /* A video row; its media is at media_root/videos/<id> when `media` names a
   * folder to link there. */
  std::string video(const std::string &status, const std::string &renditions, const std::string &media) {
    std::string id = *peer->value(
        "INSERT INTO videos (title, kind, status, renditions, duration_ms) VALUES ('t', 'vod', $1, "
        "$2::jsonb, "
        "10000) RETURNING id::text",
        {status, renditions});
    if (!media.empty()) {
      std::string dir = media_root + "/videos";
      g_mkdir_with_parents(dir.c_str(), 0755);
      g_assert_cmpint(symlink(media.c_str(), (dir + "/" + id).c_str()), ==, 0);
      peer->exec("UPDATE videos SET media_path = 'videos/" + id + "' WHERE id = '" + id + "'");
    }
    return id;
  }
};

JsonObject *member(JsonObject *object, const char *name) {
  JsonObject *out = json_object_get_object_member(object, name);
  g_assert_nonnull(out);
  return out;
}

void test_parse() {
  std::string error;
  auto index = playback::parse_media_playlist(
      "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:7\n"
      "#EXT-X-MAP:URI=\"init.mp4\"\n#EXT-X-PROGRAM-DATE-TIME:2026-11-21T05:03:49.123Z\n"
      "#EXTINF:1.96667,\nseg_00007.m4s\n#EXT-X-DISCONTINUITY\n#EXT-X-CUE-OUT:30.000\n"
      "#EXTINF:2.03333,\r\nseg_00008.m4s\r\n#EXTINF:0.5,\nseg_00009.m4s\n",
      &error);
  g_assert_true(index.has_value());
  assert_string(index->init_uri, ==, "init.mp4");
  g_assert_false(index->ended);
  g_assert_cmpuint(index->segments.size(), ==, 3);
  g_assert_cmpuint(index->segments[0].index, ==, 7);
  g_assert_cmpint(index->segments[1].start_ms, ==, 1967);
  g_assert_true(index->segments[1].discontinuity);
  assert_string(index->segments[1].uri, ==, "seg_00008.m4s");
  g_assert_cmpint(index->segments[2].start_ms, ==, 4000);
  g_assert_cmpint(index->duration_ms(), ==, 4500);
  g_assert_cmpuint(index->find(1966)->index, ==, 7);
  g_assert_cmpuint(index->find(1967)->index, ==, 8);
  g_assert_null(index->find(4500));
  g_assert_false(playback::parse_media_playlist("#EXTM3U\nseg.m4s\n", &error).has_value());
  g_assert_false(playback::parse_media_playlist("<html>", &error).has_value());
  g_assert_cmpfloat(playback::variant_frame_rate("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,CODECS=\"a,b\","
                                                 "FRAME-RATE=29.970\n360p/index.m3u8\n",
                                                 "360p/index.m3u8"),
                    ==, 29.97);
}

void test_seek() {
  Fixture f("seek");
  std::string id = f.video("ready", fixture_renditions, fixture_dir());
  std::string path = "/api/v1/videos/" + id + "/seek";
  struct Case {
    int64_t offset;
    int64_t index;
  };
  for (Case c : {Case{0, 0}, Case{4500, 2}, Case{3999, 1}, Case{9999, 4}}) {
    auto seek = f.server->request("GET", path + "?offset=" + std::to_string(c.offset));
    assert_status(seek, 200);
    JsonObject *object = seek->object();
    assert_string(json_object_get_string_member(object, "video_id"), ==, id);
    g_assert_cmpint(json_object_get_int_member(object, "offset_ms"), ==, c.offset);
    g_assert_cmpint(json_object_get_int_member(object, "time_ms"), ==, c.index * 2000);
    JsonObject *segment = member(object, "segment");
    g_assert_cmpint(json_object_get_int_member(segment, "index"), ==, c.index);
    g_assert_cmpint(json_object_get_int_member(segment, "start_ms"), ==, c.index * 2000);
    g_assert_cmpint(json_object_get_int_member(segment, "duration_ms"), ==, 2000);
    char name[32];
    g_snprintf(name, sizeof name, "seg_%05d.m4s", int(c.index));
    /* Signed: /media/s/EXP/SIG/videos/ID/360p/seg_NNNNN.m4s */
    std::string url = json_object_get_string_member(segment, "url");
    g_assert_true(g_str_has_prefix(url.c_str(), (f.server->base() + "/media/s/").c_str()));
    g_assert_true(g_str_has_suffix(url.c_str(), ("/videos/" + id + "/360p/" + name).c_str()));
    JsonObject *rendition = member(object, "rendition");
    assert_string(json_object_get_string_member(rendition, "name"), ==, "360p");
    g_assert_cmpint(json_object_get_int_member(rendition, "width"), ==, 640);
    g_assert_cmpint(json_object_get_int_member(rendition, "height"), ==, 360);
    g_assert_cmpint(json_object_get_int_member(rendition, "bandwidth"), ==, 800000);
    assert_string(json_object_get_string_member(object, "frame_url"), ==,
                  f.server->base() + "/api/v1/videos/" + id + "/frames?t=" + std::to_string(c.offset) +
                      "&rendition=360p");
    /* The segment named is the one on disk. */
    g_assert_true(g_file_test((fixture_dir() + "/360p/" + name).c_str(), G_FILE_TEST_IS_REGULAR));
  }
  /* The frame URL it gives answers a JPEG. */
  auto seek = f.server->request("GET", path + "?offset=4500&device=mobile");
  assert_status(seek, 200);
  std::string frame_url = json_object_get_string_member(seek->object(), "frame_url");
  auto frame = f.server->request("GET", frame_url.substr(f.server->base().size()));
  assert_status(frame, 200);
  assert_string(frame->content_type, ==, "image/jpeg");

  assert_problem(f.server->request("GET", path + "?offset=10000"), 422, "offset");
  assert_problem(f.server->request("GET", path + "?offset=99999999"), 422, "offset");
  assert_problem(f.server->request("GET", path + "?offset=1000&device=phone"), 422, "device");
  assert_problem(f.server->request("GET", path), 400, "offset");
  assert_problem(f.server->request("GET", path + "?offset=-1"), 400, "offset");
  assert_problem(f.server->request("GET", path + "?offset=abc"), 400, "offset");
  assert_problem(f.server->request("GET", path + "?offset=1&colour=red"), 400, "colour");
  assert_problem(
      f.server->request("GET", "/api/v1/videos/01890000-0000-7000-8000-000000000000/seek?offset=0"), 404, "");
  assert_problem(f.server->request("GET", "/api/v1/videos/nope/seek?offset=0"), 400, "id");
  std::string pending = f.video("pending", "[]", "");
  assert_problem(f.server->request("GET", "/api/v1/videos/" + pending + "/seek?offset=0"), 409, "");
  /* Ready in the table but nothing on disk. */
  std::string empty_dir = test::make_dir("empty-media");
  std::string missing = f.video("ready", fixture_renditions, empty_dir);
  assert_problem(f.server->request("GET", "/api/v1/videos/" + missing + "/seek?offset=0"), 409, "");
}

/* A video still being written (no EXT-X-ENDLIST): past the end is the live
 * edge, the last segment. */
void test_seek_live() {
  Fixture f("live");
  std::string dir = test::make_dir("live-media");
  g_mkdir_with_parents((dir + "/360p").c_str(), 0755);
  gchar *text = nullptr;
  g_assert_true(g_file_get_contents((fixture_dir() + "/360p/index.m3u8").c_str(), &text, nullptr, nullptr));
  std::string playlist(text);
  g_free(text);
  size_t end = playlist.find("#EXT-X-ENDLIST");
  g_assert_cmpuint(end, !=, std::string::npos);
  playlist.erase(end);
  g_assert_true(g_file_set_contents((dir + "/360p/index.m3u8").c_str(), playlist.c_str(), -1, nullptr));
  std::string id = f.video("live", fixture_renditions, dir);
  auto edge = f.server->request("GET", "/api/v1/videos/" + id + "/seek?offset=60000");
  assert_status(edge, 200);
  g_assert_cmpint(json_object_get_int_member(member(edge->object(), "segment"), "index"), ==, 4);
  g_assert_cmpint(json_object_get_int_member(edge->object(), "time_ms"), ==, 8000);
}

/* Each device class gets the highest rendition within its cap, else the
 * lowest one. The renditions are folders linked to the fixture's 360p. */
void test_devices() {
  Fixture f("devices");
  std::string dir = test::make_dir("ladder-media");
  const std::vector<std::pair<std::string, int>> ladder = {
      {"2160p", 2160}, {"1080p", 1080}, {"720p", 720}, {"480p", 480}, {"240p", 240}};
  std::string renditions = "[";
  for (const auto &[name, lines] : ladder) {
    g_assert_cmpint(symlink((fixture_dir() + "/360p").c_str(), (dir + "/" + name).c_str()), ==, 0);
    renditions += std::string(renditions.size() > 1 ? ", " : "") + R"({"name": ")" + name +
                  R"(", "width": )" + std::to_string(lines * 16 / 9) + R"(, "height": )" +
                  std::to_string(lines) + R"(, "bandwidth": )" + std::to_string(lines * 1000) + "}";
  }
  renditions += R"(, {"name": "audio", "bandwidth": 128000}])";
  std::string id = f.video("ready", renditions, dir);
  auto chosen = [&](const std::string &video, const char *device) {
    auto seek = f.server->request("GET", "/api/v1/videos/" + video + "/seek?offset=100" +
                                             (device ? std::string("&device=") + device : std::string()));
    assert_status(seek, 200);
    return std::string(json_object_get_string_member(member(seek->object(), "rendition"), "name"));
  };
  assert_string(chosen(id, "mobile"), ==, "480p");
  assert_string(chosen(id, "tablet"), ==, "720p");
  assert_string(chosen(id, "desktop"), ==, "1080p");
  assert_string(chosen(id, "tv"), ==, "2160p");
  assert_string(chosen(id, nullptr), ==, "1080p");

  /* Only big renditions: a phone gets the smallest of them. */
  std::string big = f.video("ready",
                            R"([{"name": "1080p", "width": 1920, "height": 1080, "bandwidth": 5000000},)"
                            R"( {"name": "2160p", "width": 3840, "height": 2160, "bandwidth": 16000000}])",
                            dir);
  assert_string(chosen(big, "mobile"), ==, "1080p");
  assert_string(chosen(big, "tv"), ==, "2160p");
}

void test_frames() {
  Fixture f("frames");
  std::string id = f.video("ready", fixture_renditions, fixture_dir());
  std::string path = "/api/v1/videos/" + id + "/frames";

  auto full = f.server->request("GET", path + "?t=500");
  assert_status(full, 200);
  assert_string(full->content_type, ==, "image/jpeg");
  assert_string(full->header("X-Frame-Cache"), ==, "miss");
  assert_string(full->header("Cache-Control"), ==, "public, max-age=86400");
  Picture picture = decode_jpeg(full->body);
  g_assert_cmpint(picture.width, ==, 640);
  g_assert_cmpint(picture.height, ==, 360);

  auto early = f.server->request("GET", path + "?t=500&width=160");
  assert_status(early, 200);
  Picture small = decode_jpeg(early->body);
  g_assert_cmpint(small.width, ==, 160);
  g_assert_cmpint(small.height, ==, 90);
  auto late = f.server->request("GET", path + "?t=8500&width=160");
  assert_status(late, 200);
  Picture other = decode_jpeg(late->body);
  /* The ball has moved: the pictures differ clearly. */
  double moved = difference(small, other);
  g_printerr("# mean difference between t=500 and t=8500: %.2f\n", moved);
  g_assert_cmpfloat(moved, >, 1.0);

  /* t=510 shows the same frame as t=500 (frame 15 lasts until 533 ms): the
   * cache answers it, identical. */
  auto same = f.server->request("GET", path + "?t=510&width=160");
  assert_status(same, 200);
  assert_string(same->header("X-Frame-Cache"), ==, "hit");
  g_assert_true(same->body == early->body);
  /* The next frame is another one. */
  auto next = f.server->request("GET", path + "?t=534&width=160");
  assert_status(next, 200);
  assert_string(next->header("X-Frame-Cache"), ==, "miss");
  g_assert_cmpfloat(difference(small, decode_jpeg(next->body)), >, 0.0);

  auto low = f.server->request("GET", path + "?t=9999&rendition=144p");
  assert_status(low, 200);
  Picture last = decode_jpeg(low->body);
  g_assert_cmpint(last.width, ==, 256);
  g_assert_cmpint(last.height, ==, 144);

  assert_problem(f.server->request("GET", path + "?t=10000"), 422, "t");
  assert_problem(f.server->request("GET", path + "?t=100&rendition=4k"), 422, "rendition");
  assert_problem(f.server->request("GET", path + "?t=100&width=5"), 400, "width");
  assert_problem(f.server->request("GET", path), 400, "t");
  assert_problem(f.server->request("GET", "/api/v1/videos/01890000-0000-7000-8000-000000000000/frames?t=0"),
                 404, "");
  std::string pending = f.video("pending", "[]", "");
  assert_problem(f.server->request("GET", "/api/v1/videos/" + pending + "/frames?t=0"), 409, "");

  /* A video still processing: frames are not cached by clients. */
  std::string processing = f.video("processing", fixture_renditions, fixture_dir());
  auto fresh = f.server->request("GET", "/api/v1/videos/" + processing + "/frames?t=0&width=64");
  assert_status(fresh, 200);
  assert_string(fresh->header("Cache-Control"), ==, "no-cache");
}

/* At most `concurrency` renders at once, the rest queued; the cache keeps
 * within its bound by dropping the least recently used frames. */
void test_renderer_limits() {
  std::string cache = test::make_dir("bounded-cache");
  const uint64_t bound = 2500;
  playback::FrameRenderer renderer(cache, bound, 2);
  int done = 0;
  int ok = 0;
  for (int i = 0; i < 6; i++) {
    playback::FrameRequest request;
    request.media_dir = fixture_dir();
    request.video_id = "limits";
    request.rendition = "360p";
    request.t_ms = 1000 + i * 1500;
    request.width = 128;
    renderer.render(request, [&](const playback::FrameResult &result) {
      done++;
      ok += result.status == playback::FrameResult::Status::ok;
    });
    g_assert_cmpuint(renderer.running(), <=, 2);
  }
  g_assert_cmpuint(renderer.running(), ==, 2);
  g_assert_cmpuint(renderer.queued(), ==, 4);
  unsigned most = 0;
  test::run_until(
      [&] {
        most = std::max(most, renderer.running());
        return done == 6;
      },
      240, "six frames");
  g_assert_cmpint(ok, ==, 6);
  g_assert_cmpuint(most, <=, 2);

  uint64_t total = 0;
  int files = 0;
  GDir *dir = g_dir_open(cache.c_str(), 0, nullptr);
  g_assert_nonnull(dir);
  while (const char *name = g_dir_read_name(dir)) {
    GStatBuf info;
    g_assert_cmpint(g_stat((cache + "/" + name).c_str(), &info), ==, 0);
    total += info.st_size;
    files++;
  }
  g_dir_close(dir);
  g_printerr("# frame cache: %d files, %" G_GUINT64_FORMAT " bytes (bound %" G_GUINT64_FORMAT ")\n", files,
             total, bound);
  g_assert_cmpuint(total, <=, bound);
  g_assert_cmpint(files, >=, 1);
  g_assert_cmpint(files, <, 6);
}

}  // namespace

int main(int argc, char **argv) {
  test::init(&argc, &argv);
  gst_init(nullptr, nullptr);
  media_root = test::make_dir("media");
  g_test_add_func("/playback/parse", test_parse);
  g_test_add_func("/playback/seek", test_seek);
  g_test_add_func("/playback/seek-live", test_seek_live);
  g_test_add_func("/playback/devices", test_devices);
  g_test_add_func("/playback/frames", test_frames);
  g_test_add_func("/playback/renderer-limits", test_renderer_limits);
  return g_test_run();
}
