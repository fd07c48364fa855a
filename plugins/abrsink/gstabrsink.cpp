/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:element-abrsink
 * @title: abrsink
 *
 * Packages the renditions of an ABR ladder as HLS and MPEG-DASH from one set
 * of CMAF segments: each rendition (a `video_%u` or `audio_%u` request pad) is
 * muxed by mp4mux into an initialization segment and fragmented MP4 media
 * segments cut on the rendition's keyframes; abrsink writes the per-rendition
 * media playlists, the multivariant playlist (`master.m3u8`, with BANDWIDTH and
 * AVERAGE-BANDWIDTH measured from the segments, RESOLUTION, CODECS and
 * FRAME-RATE) and the DASH MPD (`manifest.mpd`).
 *
 * Inputs are whole frames: as abrladder, an encoder or a parser gives them,
 * or straight from a demuxer (flvdemux, qtdemux), without a parser between:
 * the caps of packetized H.264/H.265 without `alignment` are taken as whole
 * access units, H.264's frame size (and, when missing, its pixel aspect
 * ratio and frame rate) comes from the SPS in its codec_data, and a frame
 * without a duration lasts as long as the step to the next.
 *
 * In live mode every segment has a muxer of its own, fed straight from the
 * upstream thread: a segment is written the moment the frame that starts
 * the next one arrives (a video keyframe; for audio, the video's cut), not
 * one frame later as a muxer left running would. Segments are muxed
 * as fragments (CMAF chunks) of about half a second, each muxed and written
 * to the segment's file (`partial_N.m4s.tmp`) as soon as it is complete, so
 * that when a segment ends only its last fragment is left to mux and write
 * before the file is renamed into place and listed. Audio is held back until
 * the reference video (the first video rendition) has reached it, so that
 * audio segments end on the audio frame the video's cut falls in (at most
 * one audio frame, ~21 ms, before it), however far ahead of the video the
 * audio arrives.
 *
 * In live mode the playlists hold a sliding window of
 * #GstAbrSink:playlist-length segments with EXT-X-PROGRAM-DATE-TIME, and old
 * segments are deleted; in VOD mode every segment is kept and the playlists
 * end with EXT-X-ENDLIST. Every file is written atomically (temporary file,
 * then rename), so a web server never serves half a file. A live
 * multivariant playlist is written again when its renditions or their codecs,
 * sizes or rates change, when a measured peak exceeds its BANDWIDTH, or when
 * a bandwidth moves by more than a tenth (players read it once), and at the
 * end of the stream with the figures measured.
 *
 * Messages: `abrsink-segment` (element message) for every segment written;
 * one STREAM_START once every input has started; its end of stream. The
 * state changes, latency and stream starts of the elements inside (a muxer
 * per live segment and rendition; in VOD a queue, muxer and appsink per
 * rendition) are not posted.
 *
 * Output layout: `LOCATION/master.m3u8`, `LOCATION/manifest.mpd`,
 * `LOCATION/<rendition>/index.m3u8`, `init.mp4` and `seg_NNNNN.m4s`, where
 * `<rendition>` is the name the ladder gives in its caps (e.g. `720p`) or
 * `audio`.
 *
 * Markers (a discontinuity, a date range, the start or end of an ad break)
 * are attached to the next segment of every rendition with the
 * #GstAbrSink::add-marker action signal. The events `onair-discontinuity` and
 * `onair-splice` (from adsplice) start a segment at the first keyframe at or
 * after them, marked with EXT-X-DISCONTINUITY, or with EXT-X-CUE-OUT (then
 * EXT-X-CUE-OUT-CONT on the segments inside the break) / EXT-X-CUE-IN and an
 * EXT-X-DATERANGE carrying SCTE35-OUT / SCTE35-IN; audio renditions are cut
 * and marked at the same video boundary (live: on the audio frame it falls
 * in; VOD: at the first 200 ms audio fragment boundary at or after it). In
 * live mode the MPD lists the ad breaks in an SCTE-35 EventStream.
 *
 * Timed metadata (the event `onair-timed-metadata`, e.g. from reactions)
 * cuts nothing: in live mode each one becomes an EXT-X-DATERANGE in the
 * reference video's media playlist (ID, CLASS, START-DATE the date of its
 * running time, DURATION, and its payload percent-encoded in its X-
 * attribute, e.g. `X-REACTIONS="{%22👍%22:12}"`), written with the next
 * segment and leaving the window with it, an Event of an EventStream of
 * its scheme in the MPD (presentationTime in ms, the payload as text), and
 * an ID3 tag (one TXXX frame: its CLASS as the description, the payload as
 * the text) in an `emsg` box (version 1, scheme
 * `https://aomedia.org/emsg/ID3`, presentation_time on the track's
 * timeline) in front of the first segment of every video rendition that
 * reaches its time: the CMAF form of the ID3 timed metadata players read
 * from TS segments, which hls.js turns into metadata cues.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -e videotestsrc is-live=true ! abrladder ladder="720p:2800,360p:800" ! \
 *     abrsink location=/var/www/live playlist-length=6
 * ]|
 * An RTMP publish packaged as it comes (no transcoding):
 * |[
 * gst-launch-1.0 -e rtmpserversrc stream-key=secret eos-on-disconnect=true ! flvdemux name=d \
 *     d.video ! abrsink name=s location=/var/www/live mode=live d.audio ! s.
 * ]|
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstabrsink.h"

#include <gst/app/gstappsink.h>
#include <gst/pbutils/pbutils.h>
#include <gst/video/video.h>
#include <glib/gstdio.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "binchildren.h"
#include "codedcaps.h"
#include "emsg.h"
#include "fmp4.h"
#include "mpd.h"
#include "playlist.h"
#include "spliceevent.h"
#include "timedmetadata.h"

typedef enum {
  GST_ABR_SINK_MODE_LIVE,
  GST_ABR_SINK_MODE_VOD,
} GstAbrSinkMode;

#define DEFAULT_LOCATION "."
#define DEFAULT_MODE GST_ABR_SINK_MODE_LIVE
#define DEFAULT_PLAYLIST_LENGTH 6
#define DEFAULT_SEGMENT_DURATION 0.0
#define DEFAULT_HLS TRUE
#define DEFAULT_DASH TRUE
#define DEFAULT_MASTER_NAME "master.m3u8"
#define DEFAULT_MPD_NAME "manifest.mpd"

/* Every track's timeline starts this far after running time 0, so that a
 * first decode time before the first presentation time (B-frames) stays
 * positive. DASH removes it again with presentationTimeOffset. */
#define TIMELINE_ORIGIN_SECONDS 10
/* VOD: audio has no keyframes to cut on; mp4mux makes fragments of this
 * length, grouped into segments as long as the video's, so this bounds how
 * far an audio segment ends from its video segment's end. */
#define AUDIO_FRAGMENT_MS 200
/* Live: a segment is muxed as fragments (CMAF chunks) of about this
 * length, each given to the muxer as soon as it is complete (mux_push), so
 * that when the segment ends only its last fragment is left to mux. Not a
 * whole number of frames at the usual rates (24 to 60 fps), so that where
 * the muxer ends a fragment is clear (see mux_push). */
#define LIVE_FRAGMENT_MS 490
#define FALLBACK_SEGMENT_SECONDS 2.0

#define GST_TYPE_ABR_SINK_MODE (gst_abr_sink_mode_get_type())
static GType gst_abr_sink_mode_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_ABR_SINK_MODE_LIVE, "Live: sliding window, old segments deleted", "live"},
      {GST_ABR_SINK_MODE_VOD, "Video on demand: every segment kept, ENDLIST", "vod"},
      {0, NULL, NULL},
  };
  if (g_once_init_enter(&type)) g_once_init_leave(&type, g_enum_register_static("GstAbrSinkMode", values));
  return type;
}

namespace {

struct Settings {
  std::string location = DEFAULT_LOCATION;
  GstAbrSinkMode mode = DEFAULT_MODE;
  guint playlist_length = DEFAULT_PLAYLIST_LENGTH;
  double segment_duration = DEFAULT_SEGMENT_DURATION;
  bool hls = DEFAULT_HLS;
  bool dash = DEFAULT_DASH;
  std::string master_name = DEFAULT_MASTER_NAME;
  std::string mpd_name = DEFAULT_MPD_NAME;
};

struct Stream;

/* Live: a segment's file in the making. A muxer's fragments are appended
 * to it as they come out, so that when the segment ends only its last
 * fragment is left to write before the file is renamed into place; a
 * whole segment written at its end would add the time of writing it
 * (about half a millisecond for two megabytes here) to every segment's
 * latency. A file that cannot be written is given up quietly: the segment
 * is then written whole from memory, which reports why it cannot be. */
class PartialFile {
 public:
  PartialFile() = default;
  ~PartialFile() { discard(); }
  PartialFile(const PartialFile &) = delete;
  PartialFile &operator=(const PartialFile &) = delete;
  PartialFile(PartialFile &&other) noexcept { *this = std::move(other); }
  PartialFile &operator=(PartialFile &&other) noexcept {
    if (this != &other) {
      discard();
      fd_ = other.fd_;
      path_ = std::move(other.path_);
      bytes_ = other.bytes_;
      failed_ = other.failed_;
      other.fd_ = -1;
      other.path_.clear();
      other.bytes_ = 0;
    }
    return *this;
  }

  /* Appends `size` bytes, creating `path` first when nothing was written. */
  void append(const std::string &path, const uint8_t *data, size_t size) {
    if (failed_) return;
    if (fd_ < 0) {
      fd_ = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd_ < 0) {
        failed_ = true;
        return;
      }
      path_ = path;
    }
    while (size > 0) {
      ssize_t n = write(fd_, data, size);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        discard();
        failed_ = true;
        return;
      }
      data += n;
      size -= size_t(n);
      bytes_ += size_t(n);
    }
  }
  /* Renames the file to `path` when it holds exactly `bytes` bytes (the
   * whole segment); false (the file deleted) when it does not, or when
   * closing or renaming fails. */
  bool finish(const std::string &path, size_t bytes) {
    if (fd_ < 0 || bytes_ != bytes) {
      discard();
      return false;
    }
    int fd = fd_;
    fd_ = -1;
    bool ok = close(fd) == 0 && g_rename(path_.c_str(), path.c_str()) == 0;
    if (!ok) g_unlink(path_.c_str());
    path_.clear();
    return ok;
  }
  /* Closes and deletes the file, if any. */
  void discard() {
    if (fd_ < 0) return;
    close(fd_);
    g_unlink(path_.c_str());
    fd_ = -1;
    path_.clear();
  }

 private:
  int fd_ = -1;
  std::string path_;
  size_t bytes_ = 0;
  bool failed_ = false;
};

/* Live mode: one muxer (mp4mux, its output read by a pad of ours, not an
 * element: no sink to start, stop and post about per segment) per segment.
 * A segment is cut by
 * ending its muxer (EOS) the moment the buffer that starts the next segment
 * arrives; a muxer that ran on would hold its last frame until the frame
 * after the cut, one frame interval later (mp4mux learns a sample's
 * duration from the next one). */
struct Generation {
  Stream *stream = nullptr;
  uint64_t number = 0;
  GstElement *mux = nullptr;  /* owned reference */
  GstPad *output = nullptr;   /* owned reference: linked to the muxer's source pad */
  GstPad *mux_sink = nullptr; /* owned reference */
  onair::Fmp4Splitter splitter;
  GstClockTimeDiff first_dts = 0; /* running time of its first buffer */
  /* which coding of the track it muxes (Stream::caps_version), and its
   * initialization segment when that is not the first coding's */
  uint64_t caps_version = 0;
  std::string map_uri;
  /* queued before its segment: a discontinuity after an input switch, the
   * edge of an ad break (CUE-OUT/CUE-IN, DATERANGE) */
  std::vector<onair::Marker> markers;
  /* its fragments, its segment once the muxer has ended (written to
   * `partial` as they come) */
  std::vector<uint8_t> data;
  std::vector<std::pair<size_t, uint64_t>> fragments;
  PartialFile partial;
  uint64_t start = 0, duration = 0;
  bool valid = false;
  bool done = false;  /* the muxer's EOS came out */
  bool final = false; /* ended by the stream's own EOS */
  /* Its segment is complete when its fragments hold every sample it was
   * given, once it is cut (`expected_samples` known): that is before its
   * end of stream comes out of the muxer, which takes a while longer. */
  uint64_t samples = 0;          /* in its fragments so far */
  int64_t expected_samples = -1; /* given to it; -1: not cut yet */
  bool written = false;          /* its segment is */
  bool complete() const { return done || (expected_samples > 0 && samples == uint64_t(expected_samples)); }

  Generation() = default;
  Generation(const Generation &) = delete;
  Generation &operator=(const Generation &) = delete;
  ~Generation() {
    if (mux_sink) gst_object_unref(mux_sink);
    if (mux) gst_object_unref(mux);
    if (output) gst_object_unref(output);
  }
};

struct Stream {
  GstAbrSink *sink = nullptr;
  GstPad *pad = nullptr; /* our request pad: a ghost pad (VOD), a pad of ours (live) */
  bool is_audio = false;
  bool live = false;                            /* muxer generations instead of one muxer behind a queue */
  std::unique_ptr<onair::BinChildren> children; /* VOD: queue, mux, appsink */
  /* its last stream-start, not yet in one posted by the sink (under state_lock) */
  bool stream_start_pending = false;
  bool have_group_id = false;
  guint group_id = 0;
  uint32_t timescale = 0; /* of the muxed track */

  /* live: the streaming thread's side (under the pad's stream lock) */
  GstPad *proxy = nullptr;   /* internal source pad, linked to the current muxer */
  GstSegment segment;        /* the input segment, for running times */
  GstBuffer *held = nullptr; /* video: waits for the next buffer to learn its duration */
  /* the current muxer's buffers not given to it yet: a segment's frames go
   * to its muxer a fragment at a time, and the rest when the segment is cut
   * (or before an event), so that the muxer's thread wakes a few times per
   * segment, not once per frame */
  GstBufferList *to_mux = nullptr;
  /* the length of the muxer's fragment being filled, as mp4mux counts it
   * (mux_push) */
  GstClockTime fragment_filled = 0;
  bool fragment_started = false;        /* by the last buffer */
  uint64_t pushed_samples = 0;          /* given to the current muxer */
  bool samples_counted = true;          /* all of them (no flush since it started) */
  GstFlowReturn mux_flow = GST_FLOW_OK; /* of the last flush, returned upstream with the next buffer */
  GstClockTime last_duration = GST_CLOCK_TIME_NONE;
  GstClockTime last_ts = GST_CLOCK_TIME_NONE; /* of the last buffer (fill_duration) */
  bool generation_open = false;
  bool ended = false;                     /* its end of stream went to the muxer: no more cuts */
  GstClockTimeDiff generation_start = 0;  /* running time of its first buffer */
  GstClockTimeDiff pushed_end = 0;        /* running time where the pushed media ends */
  GstClockTimeDiff cut_at = -1;           /* audio: a video cut still to follow */
  std::vector<onair::Marker> cut_markers; /* audio: the markers of that cut (an ad break's edge) */
  /* audio: buffers (with their running times) and the serialized events
   * between them not given to the muxer yet, held while the reference video
   * has not reached them, so that a cut the video makes there is followed
   * on the right audio frame */
  std::deque<std::pair<GstMiniObject *, GstClockTimeDiff>> backlog;
  GstFlowReturn backlog_flow = GST_FLOW_OK; /* of a push made from the video's thread */
  /* live: the muxers, oldest first; the last is current (under state_lock) */
  std::deque<std::unique_ptr<Generation>> generations;
  uint64_t next_generation = 0;
  /* the next muxer, made ahead of its cut (prepare_generation; streaming
   * thread) */
  std::unique_ptr<Generation> spare;
  bool spare_failed = false;
  /* audio: being released by the video's thread at the video's cut, where
   * no muxer is made ahead (follow_video) */
  bool at_cut = false;
  /* a new coding of the track (a publisher's new resolution), for the
   * muxer after the cut it asked for, and how many there were */
  GstEvent *pending_caps = nullptr;
  uint64_t caps_version = 0;

  Stream() { gst_segment_init(&segment, GST_FORMAT_TIME); }
  Stream(const Stream &) = delete;
  Stream &operator=(const Stream &) = delete;
  ~Stream() {
    if (held) gst_buffer_unref(held);
    if (to_mux) gst_buffer_list_unref(to_mux);
    for (auto &entry : backlog) gst_mini_object_unref(entry.first);
    if (pending_caps) gst_event_unref(pending_caps);
    if (proxy) gst_object_unref(proxy);
  }

  /* from caps */
  std::string requested_name; /* "rendition" caps field */
  std::string name;           /* directory, unique in the output */
  std::string codecs;
  int width = 0, height = 0, fps_n = 0, fps_d = 1;
  int rate = 0, channels = 0;
  guint declared_bitrate = 0; /* "bitrate" caps field, bits/s */
  GstClockTimeDiff first_dts = 0;
  GstClockTime reorder_delay = 0; /* first PTS - first DTS */
  bool have_first_dts = false;
  /* Where a segment must start, at the first keyframe at or after `at`
   * (media seconds), with `markers`: an input switch (onair-discontinuity)
   * or the edge of an ad break (onair-splice). Seen as an event, a cut is
   * armed until the next buffer gives its time (VOD). Live, the cuts queued
   * here are made by live_chain at the next keyframe (video) or buffer
   * (audio); `armed` and `at` are not used there. */
  struct Cut {
    bool armed = true;
    double at = -1;
    std::vector<onair::Marker> markers;
    /* onair-splice: for the MPD's EventStream */
    bool is_splice = false;
    /* the reference video's cut that audio follows with its markers (a
     * splice's, or a new coding's) */
    bool audio_follows = false;
    onair::SpliceEvent splice;
  };
  std::deque<Cut> cuts;

  onair::Fmp4Splitter splitter;
  std::unique_ptr<onair::MediaPlaylist> playlist;
  std::deque<onair::MpdSegment> timeline;
  std::deque<std::string> expired; /* left the window, deleted later */
  std::vector<uint8_t> pending;
  /* live: `pending` written already, by the muxer that made it */
  PartialFile pending_partial;
  /* Where each fragment of `pending` starts: byte offset and decode time. */
  std::vector<std::pair<size_t, uint64_t>> pending_fragments;
  double audio_cut_boundary = -1; /* audio: the video boundary it last cut at */
  uint64_t pending_start = 0;
  uint64_t pending_duration = 0;
  bool pending_valid = false;
  bool have_init = false;
  bool eos = false;
  bool eos_deferred = false;          /* VOD audio: ended, waits for the video's end (on_eos) */
  uint64_t end_time = 0;              /* timescale units */
  double nominal_segment_seconds = 0; /* video: the longest of the last few segments */
  std::deque<double> recent_segment_seconds;
  /* live, under state_lock: the initialization segment of the segment
   * being closed (empty: the first coding's), and the newest coding one was
   * written for */
  std::string pending_map_uri;
  uint64_t init_version = 0;
  uint64_t next_id3 = 1; /* live video: serial of the next ID3 event its segments carry */
  /* live, under state_lock: the size of the last segment written and the
   * memory it was in, for a later muxer's splitter (start_with) */
  size_t last_segment_bytes = 0;
  std::vector<uint8_t> spare_buffer;
  /* the memory of a segment's last fragment, for the next muxer's second */
  std::vector<uint8_t> fragment_spare;
};

/* Timed metadata as an ID3 tag, carried in an emsg box by every video
 * rendition (in front of its first segment that reaches its time). */
struct Id3Event {
  uint64_t serial = 0; /* from 1, in order; the emsg's id */
  GstClockTime running_time = 0;
  GstClockTime duration = GST_CLOCK_TIME_NONE;
  std::vector<uint8_t> tag;
};

}  // namespace

/* A text file written outside state_lock (defer_text): its writes, from
 * whichever threads, one at a time, and the newest version rendered is the
 * one left in place. */
struct TextFileIo {
  std::mutex lock;
  uint64_t rendered = 0; /* versions rendered (state_lock) */
  uint64_t written = 0;  /* the newest in place (lock) */
};
struct DeferredText {
  TextFileIo *io;
  std::string path;
  std::string text;
  uint64_t version;
};

struct GstAbrSinkPrivate {
  std::mutex settings_lock;
  Settings settings;

  /* Writer state, shared by the streaming threads of all renditions. */
  std::mutex state_lock;
  Settings active; /* settings copied at READY->PAUSED */
  std::vector<std::unique_ptr<Stream>> streams;
  guint next_video = 0, next_audio = 0;
  int64_t availability_start_ms = -1; /* UTC of presentation time 0 */
  /* Last contents written per text file: unchanged ones are not rewritten. */
  std::unordered_map<std::string, std::string> written_text;
  /* live: the multivariant playlist as last written (write_master) */
  std::string master_layout;
  std::vector<onair::VariantStream> master_variants;
  /* Where the reference video rendition (the first) ended its recent
   * segments, in media seconds: audio is cut at the same places. */
  std::deque<double> video_boundaries;
  /* Markers of the cuts the reference video made at one of its boundaries
   * (media seconds): audio has no events of its own and takes them at its
   * cut there. */
  std::deque<std::pair<double, std::vector<onair::Marker>>> boundary_markers;
  /* Ad breaks for the MPD's EventStream, in the order they started. */
  std::deque<onair::MpdEvent> ad_events;
  guint next_ad_event = 1;
  /* Timed metadata (onair-timed-metadata) seen by the reference video, for
   * the DATERANGEs of its next segment, and for the MPD's EventStreams. */
  std::vector<onair::TimedMetadata> pending_metadata;
  std::deque<onair::MpdMetadataEvent> metadata_events;
  guint next_metadata_event = 1;
  std::deque<Id3Event> id3_events; /* not yet carried by every video rendition */
  uint64_t next_id3_serial = 1;
  std::deque<std::string> id3_recent; /* ids of the last events recorded */
  int64_t wall_at_running_zero_ms = -1;
  bool finished = false;
  /* Messages are posted after state_lock is released: a bus sync handler
   * may call back into the element (add-marker). */
  std::vector<GstMessage *> unposted;
  /* Segments out of the live window, deleted after state_lock is released
   * too (before the messages): a deletion (ext4 frees the file's blocks)
   * does not hold up the other renditions' segments. */
  std::vector<std::string> expired_files;
  /* Live media playlists and MPD, written after state_lock is released as
   * well (defer_text): each rendition's muxer threads write their own at
   * once, not one after the other. */
  std::map<std::string, TextFileIo> text_files; /* by path; state_lock */
  std::vector<DeferredText> deferred_texts;
  /* Ended muxers, shut down and removed from a thread of their own. */
  std::vector<std::unique_ptr<Generation>> retired;
  /* live: the running time up to which the reference video has decided its
   * cuts (its last buffer's), and whether it has ended: audio is held
   * back to it */
  GstClockTimeDiff video_reached = G_MININT64;
  bool video_ended = false;
};

struct _GstAbrSink {
  GstBin parent;
  GstAbrSinkPrivate *priv;
};

GST_DEBUG_CATEGORY_STATIC(gst_abr_sink_debug);
#define GST_CAT_DEFAULT gst_abr_sink_debug

enum {
  PROP_0,
  PROP_LOCATION,
  PROP_MODE,
  PROP_PLAYLIST_LENGTH,
  PROP_SEGMENT_DURATION,
  PROP_HLS,
  PROP_DASH,
  PROP_MASTER_NAME,
  PROP_MPD_NAME,
};

enum {
  SIGNAL_ADD_MARKER,
  LAST_SIGNAL,
};

static guint signals[LAST_SIGNAL];

static GstStaticPadTemplate video_template =
    GST_STATIC_PAD_TEMPLATE("video_%u", GST_PAD_SINK, GST_PAD_REQUEST,
                            GST_STATIC_CAPS("video/x-h264, stream-format = (string) { avc, avc3 }, "
                                            "alignment = (string) au; "
                                            "video/x-h265, stream-format = (string) { hvc1, hev1 }, "
                                            "alignment = (string) au"));

static GstStaticPadTemplate audio_template =
    GST_STATIC_PAD_TEMPLATE("audio_%u", GST_PAD_SINK, GST_PAD_REQUEST,
                            GST_STATIC_CAPS("audio/mpeg, mpegversion = (int) 4, "
                                            "stream-format = (string) raw"));

#define gst_abr_sink_parent_class parent_class
G_DEFINE_TYPE(GstAbrSink, gst_abr_sink, GST_TYPE_BIN);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE(abrsink, "abrsink", GST_RANK_NONE, GST_TYPE_ABR_SINK,
                                      GST_DEBUG_CATEGORY_INIT(gst_abr_sink_debug, "onair-abrsink", 0,
                                                              "onair HLS/DASH packager"));

static void gst_abr_sink_finalize(GObject *object);
static void gst_abr_sink_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec);
static void gst_abr_sink_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec);
static GstStateChangeReturn gst_abr_sink_change_state(GstElement *element, GstStateChange transition);
static GstPad *gst_abr_sink_request_new_pad(GstElement *element, GstPadTemplate *templ, const gchar *name,
                                            const GstCaps *caps);
static void gst_abr_sink_release_pad(GstElement *element, GstPad *pad);
static void gst_abr_sink_handle_message(GstBin *bin, GstMessage *message);
static gboolean gst_abr_sink_add_marker(GstAbrSink *self, const gchar *kind, const gchar *id,
                                        gdouble duration, const GstStructure *attributes);

static void gst_abr_sink_class_init(GstAbrSinkClass *klass) {
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);

  gobject_class->finalize = gst_abr_sink_finalize;
  gobject_class->set_property = gst_abr_sink_set_property;
  gobject_class->get_property = gst_abr_sink_get_property;

  g_object_class_install_property(
      gobject_class, PROP_LOCATION,
      g_param_spec_string(
          "location", "Location",
          "Output directory (created if missing; temporary files an earlier run left there are deleted at "
          "the start)",
          DEFAULT_LOCATION,
          (GParamFlags)(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY)));
  g_object_class_install_property(
      gobject_class, PROP_MODE,
      g_param_spec_enum("mode", "Mode",
                        "live: sliding window and program date-time; vod: every segment, "
                        "ENDLIST",
                        GST_TYPE_ABR_SINK_MODE, DEFAULT_MODE,
                        (GParamFlags)(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY)));
  g_object_class_install_property(
      gobject_class, PROP_PLAYLIST_LENGTH,
      g_param_spec_uint("playlist-length", "Playlist length",
                        "Segments in a live playlist's window (0: keep all)", 0, 10000,
                        DEFAULT_PLAYLIST_LENGTH,
                        (GParamFlags)(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY)));
  g_object_class_install_property(
      gobject_class, PROP_SEGMENT_DURATION,
      g_param_spec_double(
          "segment-duration", "Segment duration",
          "Shortest segment in seconds: segments are cut at the first "
          "keyframe past it (0: one segment per keyframe interval)",
          0.0, 60.0, DEFAULT_SEGMENT_DURATION,
          (GParamFlags)(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY)));
  g_object_class_install_property(
      gobject_class, PROP_HLS,
      g_param_spec_boolean(
          "hls", "HLS", "Write HLS playlists", DEFAULT_HLS,
          (GParamFlags)(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY)));
  g_object_class_install_property(
      gobject_class, PROP_DASH,
      g_param_spec_boolean(
          "dash", "DASH", "Write a DASH MPD", DEFAULT_DASH,
          (GParamFlags)(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY)));
  g_object_class_install_property(
      gobject_class, PROP_MASTER_NAME,
      g_param_spec_string(
          "master-name", "Multivariant playlist name", "File name of the multivariant playlist",
          DEFAULT_MASTER_NAME,
          (GParamFlags)(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY)));
  g_object_class_install_property(
      gobject_class, PROP_MPD_NAME,
      g_param_spec_string(
          "mpd-name", "MPD name", "File name of the DASH MPD", DEFAULT_MPD_NAME,
          (GParamFlags)(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY)));

  /**
   * GstAbrSink::add-marker:
   * @sink: the abrsink
   * @kind: "discontinuity", "daterange", "cue-out" or "cue-in"
   * @id: the date range's ID (daterange), or NULL
   * @duration: planned duration in seconds (cue-out, daterange), or -1
   * @attributes: (nullable): further DATERANGE attributes: each field's name
   *   and string value are written as they are (quote strings yourself)
   *
   * Attaches a marker to the next segment of every rendition.
   *
   * Returns: %FALSE for an unknown @kind
   */
  signals[SIGNAL_ADD_MARKER] = g_signal_new_class_handler(
      "add-marker", G_TYPE_FROM_CLASS(klass), (GSignalFlags)(G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK(gst_abr_sink_add_marker), NULL, NULL, NULL, G_TYPE_BOOLEAN, 4, G_TYPE_STRING, G_TYPE_STRING,
      G_TYPE_DOUBLE, GST_TYPE_STRUCTURE);

  element_class->change_state = GST_DEBUG_FUNCPTR(gst_abr_sink_change_state);
  GST_BIN_CLASS(klass)->handle_message = GST_DEBUG_FUNCPTR(gst_abr_sink_handle_message);
  element_class->request_new_pad = GST_DEBUG_FUNCPTR(gst_abr_sink_request_new_pad);
  element_class->release_pad = GST_DEBUG_FUNCPTR(gst_abr_sink_release_pad);

  gst_element_class_add_static_pad_template(element_class, &video_template);
  gst_element_class_add_static_pad_template(element_class, &audio_template);
  gst_element_class_set_static_metadata(
      element_class, "ABR HLS/DASH sink", "Sink/Muxer/Bin",
      "Packages ABR renditions as CMAF segments with HLS playlists and a DASH MPD", "onair developers");

  gst_type_mark_as_plugin_api(GST_TYPE_ABR_SINK_MODE, (GstPluginAPIFlags)0);
}

static void gst_abr_sink_init(GstAbrSink *self) {
  self->priv = new GstAbrSinkPrivate();
  GST_OBJECT_FLAG_SET(self, GST_ELEMENT_FLAG_SINK);
}

static void gst_abr_sink_finalize(GObject *object) {
  GstAbrSink *self = GST_ABR_SINK(object);
  for (GstMessage *message : self->priv->unposted) gst_message_unref(message);
  for (const std::string &path : self->priv->expired_files) g_unlink(path.c_str());
  delete self->priv;
  G_OBJECT_CLASS(parent_class)->finalize(object);
}

static void gst_abr_sink_set_property(GObject *object, guint prop_id, const GValue *value,
                                      GParamSpec *pspec) {
  GstAbrSink *self = GST_ABR_SINK(object);
  std::lock_guard<std::mutex> lock(self->priv->settings_lock);
  Settings &s = self->priv->settings;
  switch (prop_id) {
    case PROP_LOCATION:
      s.location = g_value_get_string(value) ? g_value_get_string(value) : ".";
      break;
    case PROP_MODE:
      s.mode = (GstAbrSinkMode)g_value_get_enum(value);
      break;
    case PROP_PLAYLIST_LENGTH:
      s.playlist_length = g_value_get_uint(value);
      break;
    case PROP_SEGMENT_DURATION:
      s.segment_duration = g_value_get_double(value);
      break;
    case PROP_HLS:
      s.hls = g_value_get_boolean(value);
      break;
    case PROP_DASH:
      s.dash = g_value_get_boolean(value);
      break;
    case PROP_MASTER_NAME:
      s.master_name = g_value_get_string(value) ? g_value_get_string(value) : DEFAULT_MASTER_NAME;
      break;
    case PROP_MPD_NAME:
      s.mpd_name = g_value_get_string(value) ? g_value_get_string(value) : DEFAULT_MPD_NAME;
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
}

static void gst_abr_sink_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec) {
  GstAbrSink *self = GST_ABR_SINK(object);
  std::lock_guard<std::mutex> lock(self->priv->settings_lock);
  const Settings &s = self->priv->settings;
  switch (prop_id) {
    case PROP_LOCATION:
      g_value_set_string(value, s.location.c_str());
      break;
    case PROP_MODE:
      g_value_set_enum(value, s.mode);
      break;
    case PROP_PLAYLIST_LENGTH:
      g_value_set_uint(value, s.playlist_length);
      break;
    case PROP_SEGMENT_DURATION:
      g_value_set_double(value, s.segment_duration);
      break;
    case PROP_HLS:
      g_value_set_boolean(value, s.hls);
      break;
    case PROP_DASH:
      g_value_set_boolean(value, s.dash);
      break;
    case PROP_MASTER_NAME:
      g_value_set_string(value, s.master_name.c_str());
      break;
    case PROP_MPD_NAME:
      g_value_set_string(value, s.mpd_name.c_str());
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
}

/* ---- writing files ---------------------------------------------------- */

/* Queues an error or warning for the bus: called with state_lock held, so
 * it is posted later with the other messages (see take_messages). */
static void queue_problem(GstAbrSink *self, bool fatal, GQuark domain, gint code, const std::string &text,
                          const std::string &debug = "") {
  GError *error = g_error_new_literal(domain, code, text.c_str());
  GstMessage *message =
      fatal ? gst_message_new_error(GST_OBJECT(self), error, debug.empty() ? NULL : debug.c_str())
            : gst_message_new_warning(GST_OBJECT(self), error, debug.empty() ? NULL : debug.c_str());
  GST_WARNING_OBJECT(self, "%s %s", text.c_str(), debug.c_str());
  g_error_free(error);
  self->priv->unposted.push_back(message);
}

/* Puts `size` bytes in place at `path`: written to a temporary file and
 * renamed over the old one, so that readers (an HTTP server, a CDN) see the
 * old file or the new one, never a part. `durable` syncs it to disk first
 * (the final VOD output); live files are rewritten every few seconds and
 * are not worth an fsync each. NULL, or what went wrong. */
static GError *replace_file(const std::string &path, const void *data, size_t size, bool durable) {
  GError *error = NULL;
  if (durable) {
    g_file_set_contents_full(path.c_str(), (const gchar *)data, (gssize)size, G_FILE_SET_CONTENTS_CONSISTENT,
                             0644, &error);
    return error;
  }
  std::string temporary = path + ".tmp";
  if (g_file_set_contents_full(temporary.c_str(), (const gchar *)data, (gssize)size, G_FILE_SET_CONTENTS_NONE,
                               0644, &error) &&
      g_rename(temporary.c_str(), path.c_str()) != 0) {
    int code = errno;
    g_unlink(temporary.c_str());
    g_set_error(&error, G_FILE_ERROR, g_file_error_from_errno(code), "%s", g_strerror(code));
  }
  return error;
}

static bool write_file(GstAbrSink *self, const std::string &path, const void *data, size_t size,
                       bool durable = false) {
  if (GError *error = replace_file(path, data, size, durable)) {
    queue_problem(self, true, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_WRITE,
                  "Could not write \"" + path + "\": " + error->message);
    g_error_free(error);
    return false;
  }
  return true;
}

/* Text files (playlists, manifests): not rewritten when unchanged. */
static bool write_text(GstAbrSink *self, const std::string &path, const std::string &text) {
  GstAbrSinkPrivate *priv = self->priv;
  auto known = priv->written_text.find(path);
  if (known != priv->written_text.end() && known->second == text) return true;
  bool durable = priv->active.mode == GST_ABR_SINK_MODE_VOD;
  if (!write_file(self, path, text.data(), text.size(), durable)) return false;
  priv->written_text[path] = text;
  return true;
}

static std::string segment_uri(guint64 number) {
  gchar *name = g_strdup_printf("seg_%05" G_GUINT64_FORMAT ".m4s", number);
  std::string uri = name;
  g_free(name);
  return uri;
}

/* Whether `text` is `prefix`, one or more digits, then `suffix`. */
static bool numbered(const std::string &text, const std::string &prefix, const std::string &suffix) {
  if (text.size() <= prefix.size() + suffix.size() || text.compare(0, prefix.size(), prefix) != 0 ||
      text.compare(text.size() - suffix.size(), suffix.size(), suffix) != 0)
    return false;
  for (size_t i = prefix.size(); i < text.size() - suffix.size(); i++)
    if (!g_ascii_isdigit(text[i])) return false;
  return true;
}

/* Whether `name` is a temporary file of ours: `FILE.tmp` while FILE is
 * replaced, `PLAYLIST.replaced-N.tmp` while a live playlist is (see
 * write_deferred), `partial_N.m4s.tmp` while a live segment is made. Only
 * a process that died meanwhile leaves one behind. */
static bool is_leftover(const std::string &name, const Settings &settings) {
  if (!g_str_has_suffix(name.c_str(), ".tmp")) return false;
  std::string file = name.substr(0, name.size() - 4);
  if (numbered(file, "partial_", ".m4s") || numbered(file, "seg_", ".m4s") || numbered(file, "init_", ".mp4"))
    return true;
  for (const std::string &ours :
       {std::string("index.m3u8"), std::string("init.mp4"), settings.master_name, settings.mpd_name})
    if (file == ours || numbered(file, ours + ".replaced-", "")) return true;
  return false;
}

/* Deletes the temporary files a process that died while writing to
 * `settings.location` left there and in its renditions' directories (those
 * with an initialization segment: not another output's below it). */
static void remove_leftovers(GstAbrSink *self, const Settings &settings) {
  std::vector<std::string> dirs{settings.location};
  if (GDir *top = g_dir_open(settings.location.c_str(), 0, NULL)) {
    while (const gchar *name = g_dir_read_name(top)) {
      std::string path = settings.location + "/" + name;
      if (g_file_test((path + "/init.mp4").c_str(), G_FILE_TEST_IS_REGULAR)) dirs.push_back(path);
    }
    g_dir_close(top);
  }
  for (const std::string &dir : dirs) {
    GDir *listing = g_dir_open(dir.c_str(), 0, NULL);
    if (!listing) continue;
    while (const gchar *name = g_dir_read_name(listing)) {
      if (!is_leftover(name, settings)) continue;
      std::string path = dir + "/" + name;
      if (g_unlink(path.c_str()) == 0)
        GST_INFO_OBJECT(self, "deleted %s, left by an earlier run", path.c_str());
      else
        GST_WARNING_OBJECT(self, "could not delete %s, left by an earlier run: %s", path.c_str(),
                           g_strerror(errno));
    }
    g_dir_close(listing);
  }
}

static double seconds(const Stream &stream, uint64_t ticks) {
  uint32_t timescale = stream.timescale;
  return timescale ? (double)ticks / timescale : 0.0;
}

static bool all_streams_started(GstAbrSinkPrivate *priv) {
  if (priv->streams.empty()) return false;
  for (auto &s : priv->streams)
    if (!s->playlist || s->playlist->segments().empty()) return false;
  return true;
}

/* The multivariant playlist without its bandwidths. */
static std::string master_layout(std::vector<onair::VariantStream> variants,
                                 const std::vector<onair::AudioRendition> &audio) {
  for (auto &v : variants) v.bandwidth = v.average_bandwidth = 0;
  return onair::render_multivariant_playlist(variants, audio);
}

/* Live: whether the bandwidths measured now call for the multivariant
 * playlist to be written again. Players read it once, at the start, so it is
 * not rewritten for every segment's change of the average (a file created
 * and renamed per segment and rendition): only when a peak grows past the
 * BANDWIDTH written, or a figure moves by more than a tenth. */
static bool bandwidths_moved(const std::vector<onair::VariantStream> &written,
                             const std::vector<onair::VariantStream> &now) {
  if (written.size() != now.size()) return true;
  auto moved = [](uint64_t before, uint64_t after) {
    return (before == 0) != (after == 0) || after * 10 > before * 11 || after * 10 < before * 9;
  };
  for (size_t i = 0; i < now.size(); i++)
    if (now[i].bandwidth > written[i].bandwidth || moved(written[i].bandwidth, now[i].bandwidth) ||
        moved(written[i].average_bandwidth, now[i].average_bandwidth))
      return true;
  return false;
}

static void defer_text(GstAbrSink *self, const std::string &path, std::string text);
static void write_listing(GstAbrSink *self, const std::string &path, std::string text);

/* final: the stream ended (the figures are written as measured, however
 * little they moved) */
static void write_master(GstAbrSink *self, bool final = false) {
  GstAbrSinkPrivate *priv = self->priv;
  std::vector<onair::VariantStream> variants;
  std::vector<onair::AudioRendition> audio;
  uint64_t audio_peak = 0, audio_average = 0;
  std::string audio_codecs;

  for (auto &s : priv->streams) {
    if (!s->is_audio) continue;
    onair::AudioRendition rendition;
    rendition.group = "audio";
    rendition.name = s->name;
    rendition.uri = s->name + "/index.m3u8";
    rendition.channels = s->channels;
    rendition.is_default = audio.empty();
    audio.push_back(rendition);
    uint64_t peak = std::max<uint64_t>(s->playlist->peak_bitrate(), s->declared_bitrate);
    if (peak > audio_peak) {
      audio_peak = peak;
      audio_average = s->playlist->average_bitrate();
      audio_codecs = s->codecs;
    }
  }

  for (auto &s : priv->streams) {
    if (s->is_audio) continue;
    onair::VariantStream variant;
    variant.uri = s->name + "/index.m3u8";
    /* BANDWIDTH is the peak segment bitrate (RFC 8216 4.3.4.2): measured,
     * or the declared target until segments exist. */
    uint64_t peak = s->playlist->peak_bitrate();
    if (!peak) peak = s->declared_bitrate;
    variant.bandwidth = peak + audio_peak;
    uint64_t average = s->playlist->average_bitrate();
    variant.average_bandwidth = average ? average + audio_average : 0;
    variant.width = s->width;
    variant.height = s->height;
    variant.frame_rate = s->fps_d ? (double)s->fps_n / s->fps_d : 0;
    variant.codecs = s->codecs;
    if (!audio.empty()) {
      if (!audio_codecs.empty()) variant.codecs += "," + audio_codecs;
      variant.audio_group = "audio";
    }
    variants.push_back(variant);
  }
  std::sort(
      variants.begin(), variants.end(),
      [](const onair::VariantStream &a, const onair::VariantStream &b) { return a.bandwidth > b.bandwidth; });
  bool live = priv->active.mode == GST_ABR_SINK_MODE_LIVE;
  std::string layout;
  if (live) {
    layout = master_layout(variants, audio);
    if (!final && layout == priv->master_layout && !bandwidths_moved(priv->master_variants, variants)) return;
  }
  /* live: after the lock, as the media playlists, and after them; the first
   * versions of those were written at once, so it never lists a playlist
   * that is not there */
  write_listing(self, priv->active.location + "/" + priv->active.master_name,
                onair::render_multivariant_playlist(variants, audio));
  if (!live) return;
  priv->master_layout = std::move(layout);
  priv->master_variants = std::move(variants);
}

/* A playlist or the MPD: live, written once state_lock is released
 * (defer_text); VOD, at once and durably (write_text). */
static void write_listing(GstAbrSink *self, const std::string &path, std::string text) {
  if (self->priv->active.mode == GST_ABR_SINK_MODE_LIVE)
    defer_text(self, path, std::move(text));
  else
    write_text(self, path, text);
}

static void write_mpd(GstAbrSink *self, bool final) {
  GstAbrSinkPrivate *priv = self->priv;
  onair::MpdDocument doc;
  bool live = priv->active.mode == GST_ABR_SINK_MODE_LIVE;
  doc.dynamic = live && !final;
  doc.availability_start_ms = priv->availability_start_ms;
  doc.publish_ms = g_get_real_time() / 1000;

  double window = 0, end = 0;
  for (auto &s : priv->streams) {
    onair::MpdRepresentation rep;
    rep.id = s->name;
    rep.is_audio = s->is_audio;
    rep.codecs = s->codecs;
    uint64_t average = s->playlist->average_bitrate();
    rep.bandwidth = std::max<uint64_t>(average ? average : s->declared_bitrate, 1);
    rep.width = s->width;
    rep.height = s->height;
    rep.frame_rate_n = s->fps_n;
    rep.frame_rate_d = s->fps_d;
    rep.sample_rate = s->rate;
    rep.channels = s->channels;
    rep.timescale = s->timescale;
    rep.presentation_time_offset = (uint64_t)TIMELINE_ORIGIN_SECONDS * rep.timescale;
    rep.initialization = s->name + "/init.mp4";
    rep.media = s->name + "/seg_$Number%05d$.m4s";
    rep.segments.assign(s->timeline.begin(), s->timeline.end());
    /* S@t is a presentation time: a segment's first frame shows after its
     * decode time by the reorder delay (B-frames) */
    uint64_t delay = gst_util_uint64_scale_round(s->reorder_delay, rep.timescale, GST_SECOND);
    for (auto &segment : rep.segments) segment.start += delay;
    if (!rep.segments.empty()) {
      const onair::MpdSegment &last = rep.segments.back();
      double stream_window = seconds(*s, last.start + last.duration - rep.segments.front().start);
      window = std::max(window, stream_window);
      end = std::max(end, seconds(*s, last.start + last.duration) - TIMELINE_ORIGIN_SECONDS);
    }
    doc.max_segment = std::max(doc.max_segment, s->playlist->longest_segment());
    doc.representations.push_back(std::move(rep));
  }
  doc.time_shift_buffer = window;
  doc.duration = end;
  /* breaks that end inside the window (or have no known end) */
  double window_start = end - window;
  for (const onair::MpdEvent &event : priv->ad_events)
    if (event.duration < 0 || event.presentation_time + event.duration >= window_start || !doc.dynamic)
      doc.scte35_events.push_back(event);
  /* timed metadata leaves with the window */
  while (doc.dynamic && !priv->metadata_events.empty() &&
         priv->metadata_events.front().presentation_time + priv->metadata_events.front().duration <
             window_start)
    priv->metadata_events.pop_front();
  doc.metadata_events.assign(priv->metadata_events.begin(), priv->metadata_events.end());
  write_listing(self, priv->active.location + "/" + priv->active.mpd_name, onair::render_mpd(doc));
}

static void post_segment_message(GstAbrSink *self, const Stream &stream, const std::string &location,
                                 guint64 sequence, double duration, guint64 bytes) {
  GstStructure *s =
      gst_structure_new("abrsink-segment", "rendition", G_TYPE_STRING, stream.name.c_str(), "location",
                        G_TYPE_STRING, location.c_str(), "sequence", G_TYPE_UINT64, sequence, "duration",
                        G_TYPE_DOUBLE, duration, "bytes", G_TYPE_UINT64, bytes, NULL);
  self->priv->unposted.push_back(gst_message_new_element(GST_OBJECT(self), s));
}

/* What waits for state_lock to be released: live media playlists and MPD
 * to write, expired segments to delete, messages to post. */
struct Outbox {
  std::vector<GstMessage *> messages;
  std::vector<std::string> deletions;
  std::vector<DeferredText> texts;
};

/* Takes what waits (Outbox); call with state_lock held, post it without. */
static Outbox take_messages(GstAbrSinkPrivate *priv) {
  return Outbox{std::move(priv->unposted), std::move(priv->expired_files), std::move(priv->deferred_texts)};
}

/* Writes `deferred` unless a newer version is in place; NULL, or what went
 * wrong. `kept`: where the version it replaces was linked to, to be deleted
 * by the caller once the texts are out. Renaming over a file frees the one
 * replaced, which on ext4 takes 0.2-0.4 ms (twice what making and writing
 * the new one takes): with a second link to it, the rename only drops a
 * name, and the freeing waits until the playlists are in place. */
static GError *write_deferred(const DeferredText &deferred, std::vector<std::string> *kept = nullptr) {
  std::lock_guard<std::mutex> lock(deferred.io->lock);
  if (deferred.version <= deferred.io->written) return NULL;
  deferred.io->written = deferred.version;
  if (kept && deferred.version > 1) {
    /* its own name per version: an older one may still wait for deletion */
    std::string old = deferred.path + ".replaced-" + std::to_string(deferred.version) + ".tmp";
    if (link(deferred.path.c_str(), old.c_str()) == 0) kept->push_back(std::move(old));
  }
  return replace_file(deferred.path, deferred.text.data(), deferred.text.size(), false);
}

/* `text` for `path`, written when state_lock is released (post_messages);
 * the first version at once, so that a file listing it (the multivariant
 * playlist) never comes before it. Called with state_lock held. */
static void defer_text(GstAbrSink *self, const std::string &path, std::string text) {
  GstAbrSinkPrivate *priv = self->priv;
  TextFileIo &io = priv->text_files[path];
  DeferredText deferred{&io, path, std::move(text), ++io.rendered};
  if (deferred.version > 1) {
    priv->deferred_texts.push_back(std::move(deferred));
    return;
  }
  if (GError *error = write_deferred(deferred)) {
    queue_problem(self, true, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_WRITE,
                  "Could not write \"" + path + "\": " + error->message);
    g_error_free(error);
  }
}

/* Writes the texts (unless a newer version is in place already), deletes
 * the files, then posts the messages: a segment message (or the end of
 * stream) comes once the playlist lists the segment and the window is as
 * it says. */
static void post_messages(GstAbrSink *self, Outbox outbox) {
  std::vector<std::string> kept;
  for (const DeferredText &deferred : outbox.texts) {
    if (GError *error = write_deferred(deferred, &kept)) {
      GST_ELEMENT_ERROR(self, RESOURCE, WRITE,
                        ("Could not write \"%s\": %s", deferred.path.c_str(), error->message), (NULL));
      g_error_free(error);
    }
  }
  for (const std::string &path : kept) g_unlink(path.c_str());
  for (const std::string &path : outbox.deletions) g_unlink(path.c_str());
  for (GstMessage *message : outbox.messages) gst_element_post_message(GST_ELEMENT(self), message);
}

/* Closes the pending segment of `stream`: writes it, updates its playlist,
 * the multivariant playlist and the MPD. Called with state_lock held. */
static void close_segment(GstAbrSink *self, Stream &stream, size_t fragments);

/* The video rendition whose segment boundaries audio follows: the first. */
static Stream *reference_video(GstAbrSinkPrivate *priv) {
  for (auto &s : priv->streams)
    if (!s->is_audio) return s.get();
  return nullptr;
}

static void record_ad_event(GstAbrSinkPrivate *priv, const onair::SpliceEvent &splice);

/* EXT-X-DATERANGE:ID=..,CLASS=..,START-DATE=<date of its running time>,
 * DURATION=..,X-...=<payload percent-encoded> */
static onair::Marker metadata_marker(GstAbrSinkPrivate *priv, const onair::TimedMetadata &metadata) {
  onair::Marker marker;
  marker.kind = onair::Marker::Kind::DateRange;
  marker.id = metadata.id;
  marker.start_ms = priv->wall_at_running_zero_ms + (int64_t)(metadata.running_time / GST_MSECOND);
  if (!metadata.hls_class.empty())
    marker.attributes.emplace_back("CLASS", onair::hls_quoted_percent_encoded(metadata.hls_class));
  if (GST_CLOCK_TIME_IS_VALID(metadata.duration)) {
    char text[32];
    g_ascii_formatd(text, sizeof text, "%.3f", (double)metadata.duration / GST_SECOND);
    marker.attributes.emplace_back("DURATION", text);
  }
  if (!metadata.hls_attribute.empty())
    marker.attributes.emplace_back(metadata.hls_attribute,
                                   onair::hls_quoted_percent_encoded(metadata.payload));
  return marker;
}

/* Live, reference video: an onair-timed-metadata event waits for the
 * segment being written (close_segment) and goes into the MPD. Called with
 * state_lock held. */
static void record_metadata(GstAbrSinkPrivate *priv, onair::TimedMetadata metadata) {
  if (!metadata.dash_scheme.empty()) {
    onair::MpdMetadataEvent event;
    event.scheme = metadata.dash_scheme;
    event.id = priv->next_metadata_event++;
    event.presentation_time = (double)metadata.running_time / GST_SECOND;
    event.duration = GST_CLOCK_TIME_IS_VALID(metadata.duration) ? (double)metadata.duration / GST_SECOND : 0;
    event.payload = metadata.payload;
    priv->metadata_events.push_back(std::move(event));
    /* bounded even if the MPD is not written */
    if (priv->metadata_events.size() > 4096) priv->metadata_events.pop_front();
  }
  priv->pending_metadata.push_back(std::move(metadata));
  if (priv->pending_metadata.size() > 4096) priv->pending_metadata.erase(priv->pending_metadata.begin());
}

/* Live, any video rendition: an onair-timed-metadata event becomes an ID3
 * event the first time a rendition sees it (each sees it, in the same
 * order), so that a rendition that ends before the reference video sees
 * its last events still carries them. Called with state_lock held. */
static void record_id3(GstAbrSinkPrivate *priv, const onair::TimedMetadata &metadata) {
  if (std::find(priv->id3_recent.begin(), priv->id3_recent.end(), metadata.id) != priv->id3_recent.end())
    return;
  priv->id3_recent.push_back(metadata.id);
  if (priv->id3_recent.size() > 256) priv->id3_recent.pop_front();
  Id3Event id3;
  id3.serial = priv->next_id3_serial++;
  id3.running_time = metadata.running_time;
  id3.duration = metadata.duration;
  id3.tag = onair::id3_user_text_tag(metadata.hls_class.empty() ? metadata.id : metadata.hls_class,
                                     metadata.payload);
  priv->id3_events.push_back(std::move(id3));
  /* bounded even if a rendition stalls */
  if (priv->id3_events.size() > 4096) priv->id3_events.pop_front();
}

/* Live video: the emsg boxes (ID3 timed metadata) that go in front of a
 * segment of `stream` covering [start, end) (timescale units, decode time):
 * every event this rendition has not carried yet that starts before the
 * segment's last frame is shown, except stale ones (ended a segment's
 * length before it starts: a rendition that stalled does not bring them all
 * at once). Returns them and, in `*next`, the rendition's next event once
 * the segment is written (commit_emsg). Called with state_lock held. */
static std::vector<uint8_t> emsg_boxes(GstAbrSinkPrivate *priv, const Stream &stream, uint64_t start,
                                       uint64_t end, uint64_t *next) {
  std::vector<uint8_t> boxes;
  *next = stream.next_id3;
  if (stream.is_audio || stream.timescale == 0) return boxes;
  /* on the track's timeline, in its ticks: presentation = decode + reorder delay */
  auto ticks = [&](GstClockTime running) {
    return gst_util_uint64_scale_round(running + TIMELINE_ORIGIN_SECONDS * GST_SECOND, stream.timescale,
                                       GST_SECOND);
  };
  uint64_t delay = gst_util_uint64_scale_round(stream.reorder_delay, stream.timescale, GST_SECOND);
  uint64_t shown_end = end + delay, shown_start = start + delay;
  uint64_t stale_before = shown_start > (end - start) ? shown_start - (end - start) : 0;
  for (const Id3Event &event : priv->id3_events) {
    if (event.serial < *next) continue;
    uint64_t at = ticks(event.running_time);
    if (at >= shown_end) break;
    *next = event.serial + 1;
    uint64_t length = GST_CLOCK_TIME_IS_VALID(event.duration)
                          ? gst_util_uint64_scale_round(event.duration, stream.timescale, GST_SECOND)
                          : 0;
    if (at + length < stale_before) continue;
    onair::EventMessage message;
    message.scheme_id_uri = onair::EMSG_ID3_SCHEME;
    message.timescale = stream.timescale;
    message.presentation_time = at;
    message.duration = GST_CLOCK_TIME_IS_VALID(event.duration) ? (uint32_t)length : 0xFFFFFFFFu;
    message.id = (uint32_t)event.serial;
    message.message_data = event.tag;
    std::vector<uint8_t> box = onair::render_emsg(message);
    boxes.insert(boxes.end(), box.begin(), box.end());
  }
  return boxes;
}

/* The segment was written: the rendition has carried the events before
 * `next`; events every video rendition carried are forgotten. */
static void commit_emsg(GstAbrSinkPrivate *priv, Stream &stream, uint64_t next) {
  stream.next_id3 = next;
  uint64_t carried = UINT64_MAX;
  for (auto &s : priv->streams)
    if (!s->is_audio) carried = std::min(carried, s->next_id3);
  while (!priv->id3_events.empty() && priv->id3_events.front().serial < carried) priv->id3_events.pop_front();
}

/* Closes the whole pending segment. */
static void close_segment(GstAbrSink *self, Stream &stream) {
  close_segment(self, stream, stream.pending_fragments.size());
}

/* Writes the first `fragments` fragments of the pending data as a segment;
 * the rest stays pending. */
static void close_segment(GstAbrSink *self, Stream &stream, size_t fragments) {
  GstAbrSinkPrivate *priv = self->priv;
  const Settings &settings = priv->active;
  if (!stream.pending_valid || stream.pending.empty() || fragments == 0) return;
  size_t bytes = fragments < stream.pending_fragments.size() ? stream.pending_fragments[fragments].first
                                                             : stream.pending.size();
  uint64_t duration = fragments < stream.pending_fragments.size()
                          ? stream.pending_fragments[fragments].second - stream.pending_start
                          : stream.pending_duration;

  bool live = settings.mode == GST_ABR_SINK_MODE_LIVE;
  std::string dir = settings.location + "/" + stream.name;
  onair::MediaSegment segment;
  segment.duration = seconds(stream, duration);
  segment.bytes = bytes;
  segment.map_uri = stream.pending_map_uri;

  if (live) {
    if (priv->wall_at_running_zero_ms < 0) {
      GstClockTime now = gst_element_get_current_running_time(GST_ELEMENT(self));
      int64_t wall_ms = g_get_real_time() / 1000;
      priv->wall_at_running_zero_ms =
          GST_CLOCK_TIME_IS_VALID(now) ? wall_ms - (int64_t)(now / GST_MSECOND) : wall_ms;
    }
    if (priv->availability_start_ms < 0) {
      /* Presentation time 0 is running time 0; a segment becomes available
       * when written, so shift by how late this first one is. */
      double end_running = seconds(stream, stream.pending_start + duration) - TIMELINE_ORIGIN_SECONDS;
      int64_t ideal = priv->wall_at_running_zero_ms + (int64_t)(end_running * 1000);
      int64_t lateness = std::max<int64_t>(0, g_get_real_time() / 1000 - ideal);
      priv->availability_start_ms = priv->wall_at_running_zero_ms + lateness;
    }
    double start_running = seconds(stream, stream.pending_start) - TIMELINE_ORIGIN_SECONDS;
    segment.program_date_time_ms =
        priv->wall_at_running_zero_ms + (int64_t)std::llround(start_running * 1000);
  }

  guint64 sequence = stream.playlist->next_sequence();
  segment.uri = segment_uri(sequence);
  std::string path = dir + "/" + segment.uri;
  uint64_t next_id3 = stream.next_id3;
  std::vector<uint8_t> events;
  if (live)
    events = emsg_boxes(priv, stream, stream.pending_start, stream.pending_start + duration, &next_id3);
  if (!events.empty()) {
    /* emsg boxes in front: the file in the making is not the segment */
    stream.pending_partial.discard();
    events.insert(events.end(), stream.pending.begin(), stream.pending.begin() + bytes);
    if (!write_file(self, path, events.data(), events.size())) return;
    segment.bytes = events.size();
  } else if (!stream.pending_partial.finish(path, bytes)) {
    /* not written as it came (VOD; a file in the making that failed, or
     * that does not hold exactly the segment) */
    if (!write_file(self, path, stream.pending.data(), bytes)) return;
  }
  if (live) commit_emsg(priv, stream, next_id3);

  stream.timeline.push_back(onair::MpdSegment{sequence, stream.pending_start, duration});
  if (&stream == reference_video(priv)) {
    priv->video_boundaries.push_back(seconds(stream, stream.pending_start + duration));
    if (priv->video_boundaries.size() > 64) priv->video_boundaries.pop_front();
  }
  stream.recent_segment_seconds.push_back(segment.duration);
  if (stream.recent_segment_seconds.size() > 3) stream.recent_segment_seconds.pop_front();
  stream.nominal_segment_seconds =
      *std::max_element(stream.recent_segment_seconds.begin(), stream.recent_segment_seconds.end());
  double segment_seconds = segment.duration;
  size_t segment_bytes = segment.bytes;
  stream.last_segment_bytes = bytes;
  if (live && &stream == reference_video(priv)) {
    /* the timed metadata seen so far: DATERANGEs dated from their running
     * time, written with this segment and leaving the playlist with it */
    for (const onair::TimedMetadata &metadata : priv->pending_metadata)
      stream.playlist->queue_marker(metadata_marker(priv, metadata));
    priv->pending_metadata.clear();
  }
  auto removed = stream.playlist->append(std::move(segment));
  /* deleted once the new segment is listed: not in its way */
  std::vector<std::string> deleted;
  for (auto &old : removed) {
    stream.timeline.pop_front();
    /* Keep a window's worth of expired segments for players that loaded an
     * older playlist (RFC 8216 6.2.2). */
    stream.expired.push_back(dir + "/" + old.uri);
    while (stream.expired.size() > std::max(settings.playlist_length, 2u)) {
      deleted.push_back(std::move(stream.expired.front()));
      stream.expired.pop_front();
    }
  }
  if (fragments < stream.pending_fragments.size()) {
    stream.pending.erase(stream.pending.begin(), stream.pending.begin() + bytes);
    stream.pending_fragments.erase(stream.pending_fragments.begin(),
                                   stream.pending_fragments.begin() + fragments);
    for (auto &f : stream.pending_fragments) f.first -= bytes;
    stream.pending_start += duration;
    stream.pending_duration -= duration;
  } else {
    stream.pending.clear();
    stream.pending_fragments.clear();
    stream.pending_valid = false;
    stream.pending_duration = 0;
  }

  if (settings.hls && (live || !stream.playlist->ended()))
    write_listing(self, dir + "/index.m3u8", stream.playlist->render());
  if (all_streams_started(priv)) {
    if (settings.hls) write_master(self);
    if (settings.dash && live) write_mpd(self, false);
  }
  for (std::string &old : deleted) priv->expired_files.push_back(std::move(old));
  post_segment_message(self, stream, path, sequence, segment_seconds, segment_bytes);
}

static void ensure_playlist(GstAbrSinkPrivate *priv, Stream &stream) {
  if (stream.playlist) return;
  onair::PlaylistMode mode =
      priv->active.mode == GST_ABR_SINK_MODE_LIVE ? onair::PlaylistMode::Live : onair::PlaylistMode::Vod;
  stream.playlist = std::make_unique<onair::MediaPlaylist>("init.mp4", mode, priv->active.playlist_length);
}

/* The init segment comes before any fragment, in every run: the stream's
 * directory name and playlist are settled here. */
static void on_init_segment(Stream *stream, std::vector<uint8_t> init) {
  GstAbrSink *self = stream->sink;
  GstAbrSinkPrivate *priv = self->priv;
  if (stream->name.empty())
    stream->name = !stream->requested_name.empty() ? stream->requested_name : GST_PAD_NAME(stream->pad);
  ensure_playlist(priv, *stream);
  std::string dir = priv->active.location + "/" + stream->name;
  if (g_mkdir_with_parents(dir.c_str(), 0755) != 0) {
    queue_problem(self, true, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_WRITE,
                  "Could not create directory \"" + dir + "\": " + g_strerror(errno));
    return;
  }
  write_file(self, dir + "/init.mp4", init.data(), init.size());
  stream->have_init = true;
}

static double segment_target(GstAbrSinkPrivate *priv, const Stream &stream) {
  if (priv->active.segment_duration > 0) return priv->active.segment_duration;
  if (!stream.is_audio) return 0; /* one segment per keyframe interval */
  /* audio follows the video's segment length */
  for (auto &s : priv->streams)
    if (!s->is_audio && s->nominal_segment_seconds > 0) return s->nominal_segment_seconds;
  return FALLBACK_SEGMENT_SECONDS;
}

/* Audio is cut between its fragments, at the first boundary at or after each
 * end of the reference video rendition's segments (every segment-duration
 * when there is no video), so audio and video segments cover the same time
 * (to within a fragment, AUDIO_FRAGMENT_MS). */
static void cut_audio(GstAbrSink *self, Stream &stream) {
  GstAbrSinkPrivate *priv = self->priv;
  while (stream.pending_valid && !stream.pending_fragments.empty()) {
    double start = seconds(stream, stream.pending_start);
    double end = seconds(stream, stream.pending_start + stream.pending_duration);
    double target = segment_target(priv, stream);
    double boundary = -1;
    if (reference_video(priv)) {
      /* the next boundary not used yet */
      for (double b : priv->video_boundaries)
        if (b > start + 0.05 && b > stream.audio_cut_boundary + 0.001) {
          boundary = b;
          break;
        }
      if (boundary < 0) {
        /* the video is not there yet (its encoder runs behind); a video that
         * stopped does not hold the audio back for long */
        if (end - start < 3 * std::max(target, 1.0)) return;
        boundary = start + target;
      }
    } else {
      boundary = start + target;
    }
    /* the first fragment boundary at or after it: an audio segment always
     * covers its video segment, so both can be listed together */
    const double slack = 0.01;
    if (end < boundary - slack) return; /* not there yet */
    size_t best = stream.pending_fragments.size();
    for (size_t k = 1; k < stream.pending_fragments.size(); k++)
      if (seconds(stream, stream.pending_fragments[k].second) >= boundary - slack) {
        best = k;
        break;
      }
    stream.audio_cut_boundary = boundary;
    close_segment(self, stream, best);
    /* an ad break's edge the video was cut at: the next audio segment is
     * marked too */
    for (const auto &[at, markers] : priv->boundary_markers)
      if (std::fabs(at - boundary) < 0.002)
        for (const onair::Marker &marker : markers) stream.playlist->queue_marker(marker);
  }
}

static void on_fragment(Stream *stream, onair::Fmp4Fragment fragment) {
  GstAbrSink *self = stream->sink;
  GstAbrSinkPrivate *priv = self->priv;

  GST_LOG_OBJECT(self, "%s: fragment at %.3f s, %.3f s long, sync %d, next cut at %.3f", stream->name.c_str(),
                 seconds(*stream, fragment.decode_time), seconds(*stream, fragment.duration),
                 fragment.starts_with_sync, stream->cuts.empty() ? -1.0 : stream->cuts.front().at);
  /* An input switch or an ad break's edge: cut at the first keyframe at or
   * after it, whatever the segment's length, and mark the new segment. */
  while (!stream->cuts.empty() && !stream->cuts.front().armed && fragment.starts_with_sync &&
         seconds(*stream, fragment.decode_time) >= stream->cuts.front().at - 0.005) {
    Stream::Cut cut = std::move(stream->cuts.front());
    stream->cuts.pop_front();
    if (stream->pending_valid) close_segment(self, *stream);
    ensure_playlist(priv, *stream);
    for (const onair::Marker &marker : cut.markers) stream->playlist->queue_marker(marker);
    if (cut.is_splice && stream == reference_video(priv)) {
      /* Audio gets no splice events: it takes the markers at its cut at
       * this boundary, now if it cut there already (a video segment is
       * closed as soon as it is complete, before the next one shows the
       * splice), else when it does (cut_audio). */
      double boundary = seconds(*stream, fragment.decode_time);
      for (auto &s : priv->streams)
        if (s->is_audio && s->playlist && std::fabs(s->audio_cut_boundary - boundary) < 0.002)
          for (const onair::Marker &marker : cut.markers) s->playlist->queue_marker(marker);
      priv->boundary_markers.emplace_back(boundary, cut.markers);
      if (priv->boundary_markers.size() > 64) priv->boundary_markers.pop_front();
      record_ad_event(priv, cut.splice);
    }
  }
  if (!stream->pending_valid) {
    if (!fragment.starts_with_sync)
      GST_WARNING_OBJECT(self, "%s: segment does not start with a keyframe", stream->name.c_str());
    stream->pending_valid = true;
    stream->pending_start = fragment.decode_time;
    stream->pending_duration = 0;
  }
  stream->pending_fragments.emplace_back(stream->pending.size(), fragment.decode_time);
  stream->pending.insert(stream->pending.end(), fragment.data.begin(), fragment.data.end());
  stream->pending_duration = fragment.decode_time + fragment.duration - stream->pending_start;
  stream->end_time = fragment.decode_time + fragment.duration;

  /* Segments are closed as soon as they are complete, not when the next
   * fragment arrives: a video fragment is a whole keyframe interval (the
   * muxer emits it when the next keyframe comes), so a segment is written
   * one frame after its last frame. */
  if (stream->is_audio) {
    cut_audio(self, *stream);
    return;
  }
  double target = segment_target(priv, *stream);
  /* a little slack for timestamp rounding */
  if (seconds(*stream, stream->pending_duration) >= target * 0.97) {
    close_segment(self, *stream);
    if (stream == reference_video(priv))
      for (auto &s : priv->streams)
        if (s->is_audio) cut_audio(self, *s);
  }
}

static void finish_output(GstAbrSink *self) {
  GstAbrSinkPrivate *priv = self->priv;
  const Settings &settings = priv->active;
  if (priv->finished || priv->streams.empty()) return;
  for (auto &s : priv->streams)
    if (!s->eos) return;
  priv->finished = true;
  for (auto &s : priv->streams) {
    if (!s->playlist) continue;
    s->playlist->end();
    if (settings.hls)
      write_listing(self, settings.location + "/" + s->name + "/index.m3u8", s->playlist->render());
  }
  if (!all_streams_started(priv)) {
    queue_problem(self, false, GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED,
                  "The stream ended before every rendition had a segment");
  } else {
    if (settings.hls) write_master(self, true);
    if (settings.dash) write_mpd(self, true);
  }
  /* Live: the sink's end of stream, after its last files and messages
   * (VOD: its appsinks', through the bin) */
  if (settings.mode == GST_ABR_SINK_MODE_LIVE)
    priv->unposted.push_back(gst_message_new_eos(GST_OBJECT(self)));
}

/* A muxer's output into its splitter (on the muxer's thread). */
static GstFlowReturn feed_buffer(GstAbrSink *self, GstBuffer *buffer, onair::Fmp4Splitter &splitter,
                                 const std::string &name) {
  GstMapInfo map;
  GstFlowReturn ret = GST_FLOW_OK;
  Outbox messages;
  if (gst_buffer_map(buffer, &map, GST_MAP_READ)) {
    std::lock_guard<std::mutex> lock(self->priv->state_lock);
    if (!splitter.push(map.data, map.size)) {
      queue_problem(self, true, GST_STREAM_ERROR, GST_STREAM_ERROR_DEMUX, "Cannot segment " + name,
                    splitter.error());
      ret = GST_FLOW_ERROR;
    }
    messages = take_messages(self->priv);
    gst_buffer_unmap(buffer, &map);
  }
  post_messages(self, std::move(messages));
  return ret;
}

static GstFlowReturn feed_splitter(GstAbrSink *self, GstAppSink *appsink, onair::Fmp4Splitter &splitter,
                                   const std::string &name) {
  GstSample *sample = gst_app_sink_pull_sample(appsink);
  if (!sample) return GST_FLOW_EOS;
  GstFlowReturn ret = feed_buffer(self, gst_sample_get_buffer(sample), splitter, name);
  gst_sample_unref(sample);
  return ret;
}

static GstFlowReturn on_new_sample(GstAppSink *appsink, gpointer user_data) {
  Stream *stream = static_cast<Stream *>(user_data);
  return feed_splitter(stream->sink, appsink, stream->splitter, stream->name);
}

/* VOD: a stream's last segment, audio cut at the video's cuts first. */
static void end_vod_stream(GstAbrSink *self, Stream &stream) {
  if (stream.is_audio) cut_audio(self, stream);
  close_segment(self, stream);
  stream.eos = true;
  stream.eos_deferred = false;
}

static void on_eos(GstAppSink *appsink, gpointer user_data) {
  Stream *stream = static_cast<Stream *>(user_data);
  GstAbrSink *self = stream->sink;
  GstAbrSinkPrivate *priv = self->priv;
  Outbox messages;
  {
    std::lock_guard<std::mutex> lock(priv->state_lock);
    Stream *video = reference_video(priv);
    if (stream->is_audio && video && !video->eos) {
      /* the video's last cuts are not known yet (it is muxed behind the
       * audio): the audio left is cut at them once the video has ended,
       * rather than all go into one segment */
      stream->eos_deferred = true;
    } else {
      end_vod_stream(self, *stream);
      if (stream == video)
        for (auto &s : priv->streams)
          if (s->eos_deferred) end_vod_stream(self, *s);
    }
    finish_output(self);
    messages = take_messages(priv);
  }
  post_messages(self, std::move(messages));
}

/* An ad break's edge in the playlists: EXT-X-DISCONTINUITY when ads replace
 * the program, CUE-OUT (with its planned duration) or CUE-IN, and a DATERANGE with the splice_info_section
 * (RFC 8216 4.4.5.1.1), whose two tags share the break's ID (and START-DATE). */
static std::vector<onair::Marker> splice_markers(GstAbrSinkPrivate *priv, const onair::SpliceEvent &splice) {
  std::vector<onair::Marker> markers;
  if (splice.discontinuity)
    markers.push_back(onair::Marker{}); /* EXT-X-DISCONTINUITY: ads replace the program */
  onair::Marker cue;
  cue.kind = splice.out ? onair::Marker::Kind::CueOut : onair::Marker::Kind::CueIn;
  cue.duration = splice.out ? splice.duration : -1;
  markers.push_back(cue);
  /* EXT-X-DATERANGE needs EXT-X-PROGRAM-DATE-TIME, written in live mode */
  if (priv->active.mode != GST_ABR_SINK_MODE_LIVE) return markers;
  onair::Marker range;
  range.kind = onair::Marker::Kind::DateRange;
  range.id = splice.break_id;
  if (splice.out) {
    range.duration = splice.duration;
    if (!splice.section.empty())
      range.attributes.emplace_back("SCTE35-OUT", onair::hex_attribute(splice.section));
  } else {
    if (splice.duration >= 0) {
      char text[G_ASCII_DTOSTR_BUF_SIZE];
      g_ascii_formatd(text, sizeof text, "%.3f", splice.duration);
      range.attributes.emplace_back("DURATION", text);
    }
    if (!splice.section.empty())
      range.attributes.emplace_back("SCTE35-IN", onair::hex_attribute(splice.section));
  }
  markers.push_back(range);
  return markers;
}

/* The break in the MPD: an Event at its start, its duration made exact at
 * its end. */
static void record_ad_event(GstAbrSinkPrivate *priv, const onair::SpliceEvent &splice) {
  if (!GST_CLOCK_TIME_IS_VALID(splice.running_time)) return;
  double at = (double)splice.running_time / GST_SECOND;
  if (splice.out) {
    onair::MpdEvent event;
    event.id = priv->next_ad_event++;
    event.name = splice.break_id;
    event.presentation_time = at;
    event.duration = splice.duration;
    event.section = splice.section;
    priv->ad_events.push_back(std::move(event));
    if (priv->ad_events.size() > 32) priv->ad_events.pop_front();
    return;
  }
  for (onair::MpdEvent &event : priv->ad_events)
    if (event.name == splice.break_id) event.duration = std::max(0.0, at - event.presentation_time);
}

/* An onair-discontinuity or onair-splice event: queues the cut it asks
 * for. Called with state_lock held. */
static bool queue_cut(GstAbrSinkPrivate *priv, Stream &stream, GstEvent *event) {
  if (GST_EVENT_TYPE(event) != GST_EVENT_CUSTOM_DOWNSTREAM) return false;
  Stream::Cut cut;
  if (gst_event_has_name(event, "onair-discontinuity")) {
    onair::Marker marker;
    marker.kind = onair::Marker::Kind::Discontinuity;
    cut.markers.push_back(marker);
  } else {
    onair::SpliceEvent splice;
    if (!onair::parse_splice_event(event, &splice)) return false;
    cut.markers = splice_markers(priv, splice);
    cut.is_splice = true;
    cut.splice = std::move(splice);
  }
  stream.cuts.push_back(std::move(cut));
  return true;
}

/* Every frame lasts as long as the one before when upstream does not say
 * (flvdemux does not; a parser would): the last one of a segment (live
 * audio) or of the stream (VOD) needs a duration, which mp4mux takes from
 * its buffer. `ts` is the buffer's DTS, else its PTS. */
static GstBuffer *fill_duration(Stream *stream, GstBuffer *buffer, GstClockTime ts) {
  if (GST_BUFFER_DURATION_IS_VALID(buffer)) {
    stream->last_duration = GST_BUFFER_DURATION(buffer);
  } else {
    if (GST_CLOCK_TIME_IS_VALID(stream->last_ts) && GST_CLOCK_TIME_IS_VALID(ts) && ts > stream->last_ts)
      stream->last_duration = ts - stream->last_ts;
    if (GST_CLOCK_TIME_IS_VALID(stream->last_duration)) {
      buffer = gst_buffer_make_writable(buffer);
      GST_BUFFER_DURATION(buffer) = stream->last_duration;
    }
  }
  stream->last_ts = ts;
  return buffer;
}

/* Caps arriving at the muxer: rendition name, size, codec string. */
static GstPadProbeReturn mux_input_probe(GstPad *pad, GstPadProbeInfo *info, gpointer user_data) {
  Stream *stream = static_cast<Stream *>(user_data);
  GstAbrSink *self = stream->sink;
  GstAbrSinkPrivate *priv = self->priv;

  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);
    buffer = fill_duration(stream, buffer,
                           GST_BUFFER_DTS_IS_VALID(buffer) ? GST_BUFFER_DTS(buffer) : GST_BUFFER_PTS(buffer));
    GST_PAD_PROBE_INFO_DATA(info) = buffer;
    std::lock_guard<std::mutex> lock(priv->state_lock);
    bool cut_armed = !stream->cuts.empty() && stream->cuts.back().armed;
    if (stream->have_first_dts && !cut_armed) return GST_PAD_PROBE_OK;
    GstClockTime ts = GST_BUFFER_DTS_IS_VALID(buffer) ? GST_BUFFER_DTS(buffer) : GST_BUFFER_PTS(buffer);
    GstEvent *segment_event = gst_pad_get_sticky_event(pad, GST_EVENT_SEGMENT, 0);
    if (!segment_event || !GST_CLOCK_TIME_IS_VALID(ts)) {
      if (segment_event) gst_event_unref(segment_event);
      return GST_PAD_PROBE_OK;
    }
    const GstSegment *segment;
    gst_event_parse_segment(segment_event, &segment);
    guint64 running;
    int sign = gst_segment_to_running_time_full(segment, GST_FORMAT_TIME, ts, &running);
    gst_event_unref(segment_event);
    GstClockTimeDiff signed_running = sign >= 0 ? (GstClockTimeDiff)running : -(GstClockTimeDiff)running;
    for (Stream::Cut &cut : stream->cuts) {
      if (!cut.armed) continue;
      /* the media timeline is running time + the origin (see the rebase) */
      cut.at = (double)signed_running / GST_SECOND + TIMELINE_ORIGIN_SECONDS;
      cut.armed = false;
      GST_DEBUG_OBJECT(self, "%s: cut at %.3f s", stream->name.c_str(), cut.at);
    }
    if (stream->have_first_dts) return GST_PAD_PROBE_OK;
    stream->first_dts = signed_running;
    if (GST_BUFFER_PTS_IS_VALID(buffer) && GST_BUFFER_DTS_IS_VALID(buffer) &&
        GST_BUFFER_PTS(buffer) > GST_BUFFER_DTS(buffer))
      stream->reorder_delay = GST_BUFFER_PTS(buffer) - GST_BUFFER_DTS(buffer);
    stream->have_first_dts = true;
    return GST_PAD_PROBE_OK;
  }

  GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
  if (!stream->live &&
      (GST_EVENT_TYPE(event) == GST_EVENT_FLUSH_STOP || GST_EVENT_TYPE(event) == GST_EVENT_STREAM_START)) {
    /* no step from a buffer before these to the next */
    stream->last_ts = GST_CLOCK_TIME_NONE;
    stream->last_duration = GST_CLOCK_TIME_NONE;
  }
  if (!stream->live && GST_EVENT_TYPE(event) == GST_EVENT_CUSTOM_DOWNSTREAM) {
    /* VOD: seen here, behind the queue, in order with the buffers around
     * it (live: in live_event) */
    std::lock_guard<std::mutex> lock(priv->state_lock);
    if (queue_cut(priv, *stream, event)) return GST_PAD_PROBE_OK;
  }
  if (GST_EVENT_TYPE(event) != GST_EVENT_CAPS) return GST_PAD_PROBE_OK;
  GstCaps *caps;
  gst_event_parse_caps(event, &caps);
  GstStructure *s = gst_caps_get_structure(caps, 0);

  std::lock_guard<std::mutex> lock(priv->state_lock);
  gchar *codecs = gst_codec_utils_caps_get_mime_codec(caps);
  if (codecs) {
    stream->codecs = codecs;
    g_free(codecs);
  }
  if (stream->is_audio) {
    gst_structure_get_int(s, "rate", &stream->rate);
    gst_structure_get_int(s, "channels", &stream->channels);
    if (stream->codecs.empty()) stream->codecs = "mp4a.40.2";
  } else {
    gst_structure_get_int(s, "width", &stream->width);
    gst_structure_get_int(s, "height", &stream->height);
    gst_structure_get_fraction(s, "framerate", &stream->fps_n, &stream->fps_d);
  }
  return GST_PAD_PROBE_OK;
}

/* A stream-start on an input: once every input has had one since the last,
 * the sink posts its STREAM_START message (with their group id when they
 * share one), as a bin of sinks would. Those of the elements inside are
 * kept inside (gst_abr_sink_handle_message): in VOD its appsinks' would be
 * the bin's, and in live mode a muxer starts with every segment. */
static void input_stream_start(Stream *stream, GstEvent *event) {
  GstAbrSink *self = stream->sink;
  GstAbrSinkPrivate *priv = self->priv;
  GstMessage *message = nullptr;
  {
    std::lock_guard<std::mutex> lock(priv->state_lock);
    stream->stream_start_pending = true;
    stream->have_group_id = gst_event_parse_group_id(event, &stream->group_id);
    bool all = true, same_group = true;
    for (auto &s : priv->streams) {
      all = all && s->stream_start_pending;
      same_group = same_group && s->have_group_id && s->group_id == stream->group_id;
    }
    if (!all) return;
    for (auto &s : priv->streams) s->stream_start_pending = false;
    message = gst_message_new_stream_start(GST_OBJECT(self));
    gst_message_set_seqnum(message, gst_event_get_seqnum(event));
    if (same_group) gst_message_set_group_id(message, stream->group_id);
  }
  GST_DEBUG_OBJECT(self, "every input started: posting stream-start");
  gst_element_post_message(GST_ELEMENT(self), message);
}

/* Events as they come in: stream starts, and in the caps the ladder's
 * rendition name and target bitrate. */
static GstPadProbeReturn input_probe(GstPad *pad, GstPadProbeInfo *info, gpointer user_data) {
  Stream *stream = static_cast<Stream *>(user_data);
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
  if (GST_EVENT_TYPE(event) == GST_EVENT_STREAM_START) input_stream_start(stream, event);
  if (GST_EVENT_TYPE(event) != GST_EVENT_CAPS) return GST_PAD_PROBE_OK;
  GstCaps *caps;
  gst_event_parse_caps(event, &caps);
  GstStructure *s = gst_caps_get_structure(caps, 0);
  GstAbrSinkPrivate *priv = stream->sink->priv;

  std::lock_guard<std::mutex> lock(priv->state_lock);
  guint bitrate;
  if (gst_structure_get_uint(s, "bitrate", &bitrate)) stream->declared_bitrate = bitrate;
  const gchar *name = gst_structure_get_string(s, "rendition");
  if (name && stream->name.empty() && !stream->have_init) {
    /* a name usable as one path component, unique in this output */
    std::string clean;
    for (const gchar *c = name; *c; c++) clean += (g_ascii_isalnum(*c) || *c == '-' || *c == '_') ? *c : '_';
    std::string unique = clean;
    for (int n = 2;; n++) {
      bool taken = false;
      for (auto &other : priv->streams)
        if (other.get() != stream && (other->name == unique || other->requested_name == unique)) taken = true;
      if (!taken) break;
      unique = clean + "-" + std::to_string(n);
    }
    stream->requested_name = unique;
  }
  return GST_PAD_PROBE_OK;
}

static void set_decode_offset_from_init(Stream *stream, std::vector<uint8_t> init) {
  /* now the timescale is known: the muxer's zero is the first DTS */
  uint32_t timescale = stream->splitter.timescale();
  stream->timescale = timescale;
  double origin = (double)stream->first_dts / GST_SECOND + TIMELINE_ORIGIN_SECONDS;
  stream->splitter.set_decode_time_offset((int64_t)std::llround(origin * timescale));
  on_init_segment(stream, std::move(init));
}

/* ---- live: one muxer per segment ----------------------------------------- */

/* The muxer's output, called with state_lock held. Only the first muxer's
 * initialization segment is written, and the first of each later coding of
 * the track (live_new_coding, start_generation): the others describe the
 * same track and differ only in their creation time. */
static void generation_init(Generation *g, std::vector<uint8_t> init) {
  Stream *stream = g->stream;
  GstAbrSink *self = stream->sink;
  uint32_t timescale = g->splitter.timescale();
  stream->timescale = timescale;
  double origin = (double)g->first_dts / GST_SECOND + TIMELINE_ORIGIN_SECONDS;
  g->splitter.set_decode_time_offset((int64_t)std::llround(origin * timescale));
  if (!stream->have_init) {
    on_init_segment(stream, std::move(init));
  } else if (g->caps_version > 0) {
    /* a later coding's: a file of its own, named by the playlist before the
     * first segment of that coding */
    g->map_uri = "init_" + std::to_string(g->caps_version) + ".mp4";
    if (g->caps_version > stream->init_version) {
      stream->init_version = g->caps_version;
      write_file(self, self->priv->active.location + "/" + stream->name + "/" + g->map_uri, init.data(),
                 init.size());
    }
  }
}

static void write_ended_generations(GstAbrSink *self, Stream &stream);

static void generation_fragment(Generation *g, onair::Fmp4Fragment fragment) {
  if (g->written) {
    GST_WARNING_OBJECT(g->stream->sink, "%s: muxer %" G_GUINT64_FORMAT " made more than it was given",
                       GST_PAD_NAME(g->stream->pad), g->number);
    return;
  }
  if (!g->valid) {
    g->valid = true;
    g->start = fragment.decode_time;
  }
  size_t offset = g->data.size();
  g->fragments.emplace_back(offset, fragment.decode_time);
  g->duration = fragment.decode_time + fragment.duration - g->start;
  g->samples += fragment.samples;
  Stream *stream = g->stream;
  bool complete = g->complete();
  /* Memory used before, so that its pages are in place (new memory is
   * faulted in again): the first fragment's holds the whole segment (the
   * splitter started with room for it); the next fragments come in the
   * memory of the one before, and the last one's waits for the next muxer. */
  if (g->data.empty()) {
    g->data = std::move(fragment.data);
    if (!complete) g->splitter.start_with(std::move(stream->fragment_spare));
  } else {
    g->data.insert(g->data.end(), fragment.data.begin(), fragment.data.end());
    if (complete)
      stream->fragment_spare = std::move(fragment.data);
    else
      g->splitter.start_with(std::move(fragment.data));
  }
  if (!stream->name.empty())
    g->partial.append(stream->sink->priv->active.location + "/" + stream->name + "/partial_" +
                          std::to_string(g->number) + ".m4s.tmp",
                      g->data.data() + offset, g->data.size() - offset);
  if (complete) write_ended_generations(stream->sink, *stream);
}

/* Writes the segments of the muxers that have ended, in order: a later
 * muxer's segment waits for the earlier ones. Called with state_lock held. */
static void write_ended_generations(GstAbrSink *self, Stream &stream) {
  GstAbrSinkPrivate *priv = self->priv;
  for (auto &entry : stream.generations) {
    Generation *g = entry.get();
    if (!g->complete()) break;
    if (g->written) continue;
    g->written = true;
    if (g->valid && !g->data.empty()) {
      if (!g->markers.empty()) {
        ensure_playlist(priv, stream);
        for (const onair::Marker &marker : g->markers) stream.playlist->queue_marker(marker);
      }
      GST_DEBUG_OBJECT(self,
                       "%s: segment of muxer %" G_GUINT64_FORMAT ": %zu fragments from %" G_GUINT64_FORMAT
                       ", %" G_GUINT64_FORMAT " ticks at %u/s%s",
                       stream.name.c_str(), g->number, g->fragments.size(), g->start, g->duration,
                       stream.timescale, g->done ? "" : ", complete before its end of stream");
      std::vector<uint8_t> written = std::move(stream.pending);
      stream.pending = std::move(g->data);
      stream.pending_partial = std::move(g->partial);
      stream.pending_fragments = std::move(g->fragments);
      stream.pending_start = g->start;
      stream.pending_duration = g->duration;
      stream.pending_valid = true;
      stream.end_time = g->start + g->duration;
      stream.pending_map_uri = g->map_uri;
      close_segment(self, stream);
      /* the previous segment's memory, for the next muxer but one (the
       * next has started already) */
      if (written.capacity() > stream.spare_buffer.capacity()) stream.spare_buffer = std::move(written);
    }
  }
  /* muxers retire once their end of stream is out */
  while (!stream.generations.empty() && stream.generations.front()->done) {
    std::unique_ptr<Generation> g = std::move(stream.generations.front());
    stream.generations.pop_front();
    if (g->final) {
      stream.eos = true;
      finish_output(self);
    }
    priv->retired.push_back(std::move(g));
  }
}

static void shut_down_retired(GstElement *element, gpointer) {
  GstAbrSink *self = GST_ABR_SINK(element);
  std::vector<std::unique_ptr<Generation>> retired;
  {
    std::lock_guard<std::mutex> lock(self->priv->state_lock);
    retired = std::move(self->priv->retired);
  }
  for (auto &g : retired) {
    GST_DEBUG_OBJECT(self, "%s: muxer %" G_GUINT64_FORMAT " (%s) shut down", GST_PAD_NAME(g->stream->pad),
                     g->number, GST_ELEMENT_NAME(g->mux));
    /* locked first: a state change of the bin going on meanwhile (live
     * data flows while a pipeline is still going to PLAYING) must not set
     * them back to PLAYING */
    gst_element_set_locked_state(g->mux, TRUE);
    gst_element_set_state(g->mux, GST_STATE_NULL);
    GstPad *mux_src = gst_pad_get_peer(g->output);
    if (mux_src) {
      gst_pad_unlink(mux_src, g->output);
      gst_object_unref(mux_src);
    }
    gst_pad_set_active(g->output, FALSE);
    gst_bin_remove(GST_BIN(self), g->mux);
  }
}

/* What a muxer asks of its input (our proxy pad). Its latency: none, and not
 * live. The muxers are aggregators: one that gets no answer asks again
 * before every buffer it takes (GstAggregator 1.22), a walk up the pipeline
 * each time on the cut's path; and a live answer would make it wait on the
 * clock, which it need not do here: it has one input, given whole fragments
 * (mux_flush). */
static gboolean proxy_query(GstPad *pad, GstObject *parent, GstQuery *query) {
  if (GST_QUERY_TYPE(query) == GST_QUERY_LATENCY) {
    gst_query_set_latency(query, FALSE, 0, GST_CLOCK_TIME_NONE);
    return TRUE;
  }
  return gst_pad_query_default(pad, parent, query);
}

/* The muxer's output (on its thread). */
static GstFlowReturn generation_chain(GstPad *pad, GstObject *, GstBuffer *buffer) {
  Generation *g = static_cast<Generation *>(gst_pad_get_element_private(pad));
  GstFlowReturn ret = feed_buffer(g->stream->sink, buffer, g->splitter, g->stream->name);
  gst_buffer_unref(buffer);
  return ret;
}

/* Its caps, segment and stream start: nothing to do (the splitter reads the
 * init segment); its end of stream stops at generation_eos. */
static gboolean generation_output_event(GstPad *, GstObject *, GstEvent *event) {
  gst_event_unref(event);
  return TRUE;
}

/* The muxer asks what its output may be: anything (MP4). */
static gboolean generation_output_query(GstPad *, GstObject *, GstQuery *query) {
  switch (GST_QUERY_TYPE(query)) {
    case GST_QUERY_CAPS: {
      GstCaps *filter;
      gst_query_parse_caps(query, &filter);
      GstCaps *caps = filter ? gst_caps_ref(filter) : gst_caps_new_any();
      gst_query_set_caps_result(query, caps);
      gst_caps_unref(caps);
      return TRUE;
    }
    case GST_QUERY_ACCEPT_CAPS:
      gst_query_set_accept_caps_result(query, TRUE);
      return TRUE;
    default:
      return FALSE;
  }
}

/* The muxer's end of stream, after its last output (on its own thread). It
 * goes no further: the sink posts its own end of stream once every input's
 * last muxer has ended (finish_output). */
static GstPadProbeReturn generation_eos(GstPad *, GstPadProbeInfo *info, gpointer user_data) {
  if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) != GST_EVENT_EOS) return GST_PAD_PROBE_OK;
  Generation *g = static_cast<Generation *>(user_data);
  GstAbrSink *self = g->stream->sink;
  Outbox messages;
  bool retire, final;
  {
    std::lock_guard<std::mutex> lock(self->priv->state_lock);
    final = g->final;
    g->done = true;
    write_ended_generations(self, *g->stream); /* may retire g */
    retire = !self->priv->retired.empty();
    messages = take_messages(self->priv);
  }
  post_messages(self, std::move(messages));
  /* not from this thread: it is the muxer's own */
  if (retire) gst_element_call_async(GST_ELEMENT(self), shut_down_retired, NULL, NULL);
  GST_DEBUG_OBJECT(self, "%s: muxer %" G_GUINT64_FORMAT " ended%s", GST_PAD_NAME(g->stream->pad), g->number,
                   final ? ", end of stream" : "");
  return GST_PAD_PROBE_DROP;
}

/* A buffer for the current muxer, given to it with the rest of its
 * fragment (mux_flush). Pad stream lock held. */
static GstFlowReturn mux_flush(Stream *stream);
static void prepare_generation(GstAbrSink *self, Stream *stream);
static void mux_push(Stream *stream, GstBuffer *buffer) {
  if (!stream->to_mux) stream->to_mux = gst_buffer_list_new_sized(128);
  gst_buffer_list_add(stream->to_mux, buffer);
  stream->pushed_samples++;
  if (!GST_BUFFER_DURATION_IS_VALID(buffer)) return;
  /* mp4mux (fragment-duration) starts a new fragment with a buffer that
   * would take the one being filled past its length; it handles each buffer
   * when the next one comes (to learn its duration), so it writes out the
   * fragment when it gets the second buffer of the next: the fragment's
   * frames go to it then, rather than wait for the next fragment's or the
   * segment's end */
  bool flush = stream->fragment_started;
  stream->fragment_started = false;
  GstClockTime duration = GST_BUFFER_DURATION(buffer);
  /* (it starts one at every keyframe too: a segment of several) */
  bool keyframe = !stream->is_audio && !GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT);
  if (!(keyframe && stream->fragment_filled > 0) &&
      stream->fragment_filled + duration <= LIVE_FRAGMENT_MS * GST_MSECOND) {
    stream->fragment_filled += duration;
  } else {
    stream->fragment_filled = duration;
    stream->fragment_started = true;
  }
  if (flush && stream->mux_flow == GST_FLOW_OK) stream->mux_flow = mux_flush(stream);
  if (flush) prepare_generation(stream->sink, stream);
}

/* Gives the current muxer the buffers kept for it. Pad stream lock held. */
static GstFlowReturn mux_flush(Stream *stream) {
  if (!stream->to_mux) return GST_FLOW_OK;
  GstBufferList *list = stream->to_mux;
  stream->to_mux = nullptr;
  if (!gst_pad_is_linked(stream->proxy)) {
    gst_buffer_list_unref(list);
    return GST_FLOW_OK;
  }
  return gst_pad_push_list(stream->proxy, list);
}

/* Forgets the buffers kept for the muxer and the flow of its last flush
 * (a flush, the stream starting over). */
static void mux_drop(Stream *stream) {
  if (stream->to_mux) gst_buffer_list_unref(stream->to_mux);
  stream->to_mux = nullptr;
  stream->mux_flow = GST_FLOW_OK;
  /* the current muxer's samples are not all counted any more: its segment
   * is complete at its end of stream */
  stream->samples_counted = false;
  stream->fragment_filled = 0;
  stream->fragment_started = false;
}

/* The muxers' latency is room in their input queue for the buffers
 * mux_flush gives at once, not a delay: nothing downstream of a muxer asks
 * for it (its output is a pad of ours), so it is reported nowhere. */
#define MUX_QUEUE_ROOM (3600 * GST_SECOND)

/* A muxer for a segment of `stream`, in the bin and running, its output
 * linked to us, its input not linked yet. Called from the streaming thread
 * (pad stream lock held), without state_lock. nullptr (an error posted)
 * when it cannot be made. */
static std::unique_ptr<Generation> make_generation(GstAbrSink *self, Stream *stream) {
  auto g = std::make_unique<Generation>();
  g->stream = stream;
  GstElement *mux = gst_element_factory_make("mp4mux", NULL);
  if (!mux) {
    GST_ELEMENT_ERROR(self, CORE, MISSING_PLUGIN, ("mp4mux is missing"), ("install gst-plugins-good"));
    return nullptr;
  }
  g->mux = GST_ELEMENT(gst_object_ref_sink(mux));
  g_object_set(mux, "fragment-duration", LIVE_FRAGMENT_MS, "streamable", TRUE, "latency", MUX_QUEUE_ROOM,
               NULL);
  g->output = GST_PAD(gst_object_ref_sink(gst_pad_new(NULL, GST_PAD_SINK)));
  gst_pad_set_chain_function(g->output, GST_DEBUG_FUNCPTR(generation_chain));
  gst_pad_set_event_function(g->output, GST_DEBUG_FUNCPTR(generation_output_event));
  gst_pad_set_query_function(g->output, GST_DEBUG_FUNCPTR(generation_output_query));
  gst_pad_set_element_private(g->output, g.get());
  gst_pad_set_active(g->output, TRUE);
  GstPad *mux_src = gst_element_get_static_pad(mux, "src");
  gst_pad_add_probe(mux_src, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, generation_eos, g.get(), NULL);
  gst_object_unref(mux_src);
  Generation *raw = g.get();
  g->splitter.on_init = [raw](std::vector<uint8_t> init) { generation_init(raw, std::move(init)); };
  g->splitter.on_fragment = [raw](onair::Fmp4Fragment f) { generation_fragment(raw, std::move(f)); };
  /* room for a segment like the last, so that the muxer's output is not
   * copied again each time the buffer grows: the memory of a segment
   * written earlier, when there is one */
  std::vector<uint8_t> buffer;
  size_t last_bytes;
  {
    std::lock_guard<std::mutex> lock(self->priv->state_lock);
    buffer = std::move(stream->spare_buffer);
    last_bytes = stream->last_segment_bytes;
  }
  g->splitter.start_with(std::move(buffer));
  g->splitter.reserve(last_bytes + last_bytes / 4);

  /* linked once in the bin (adding an element unlinks its pads) */
  gst_bin_add(GST_BIN(self), mux);
  mux_src = gst_element_get_static_pad(mux, "src");
  bool output_linked = gst_pad_link(mux_src, g->output) == GST_PAD_LINK_OK;
  gst_object_unref(mux_src);
  g->mux_sink = gst_element_request_pad_simple(mux, stream->is_audio ? "audio_%u" : "video_%u");
  if (!g->mux_sink || !output_linked) {
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, (NULL),
                      ("could not link a muxer for %s", GST_PAD_NAME(stream->pad)));
    gst_bin_remove(GST_BIN(self), mux);
    return nullptr;
  }
  gst_element_sync_state_with_parent(mux);
  return g;
}

/* Live: the next muxer is made while a segment is under way (at a fragment's
 * end), not at its cut: making one and starting it takes 0.1-0.5 ms, which
 * at the cut would hold back the next segment's start and compete for the
 * cores with the muxers writing out the segments just cut. Pad stream lock
 * held. */
static void prepare_generation(GstAbrSink *self, Stream *stream) {
  if (stream->spare || stream->ended || stream->at_cut || stream->spare_failed) return;
  stream->spare = make_generation(self, stream);
  /* reported once (posted); start_generation tries again, and fails the flow */
  stream->spare_failed = !stream->spare;
}

/* Starts a muxer for the next segment (the one prepared, or a new one) and
 * links the stream to it. Called from the streaming thread (pad stream lock
 * held), without state_lock. */
static bool start_generation(GstAbrSink *self, Stream *stream, std::vector<onair::Marker> markers = {}) {
  std::unique_ptr<Generation> g = std::move(stream->spare);
  if (!g) g = make_generation(self, stream);
  if (!g) return false;
  g->markers = std::move(markers);
  if (stream->pending_caps) {
    /* the new coding, for this muxer (sent on linking, with the other
     * sticky events): its initialization segment is a new one */
    gst_pad_store_sticky_event(stream->proxy, stream->pending_caps);
    gst_event_unref(stream->pending_caps);
    stream->pending_caps = nullptr;
    stream->caps_version++;
  }
  if (gst_pad_link(stream->proxy, g->mux_sink) != GST_PAD_LINK_OK) {
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, (NULL),
                      ("could not link a muxer for %s", GST_PAD_NAME(stream->pad)));
    {
      std::lock_guard<std::mutex> lock(self->priv->state_lock);
      self->priv->retired.push_back(std::move(g));
    }
    shut_down_retired(GST_ELEMENT(self), NULL);
    return false;
  }
  std::lock_guard<std::mutex> lock(self->priv->state_lock);
  g->number = stream->next_generation++;
  g->caps_version = stream->caps_version;
  stream->pushed_samples = 0;
  stream->fragment_filled = 0;
  stream->fragment_started = false;
  stream->samples_counted = true;
  GST_DEBUG_OBJECT(self, "%s: muxer %" G_GUINT64_FORMAT " (%s) started", GST_PAD_NAME(stream->pad), g->number,
                   GST_ELEMENT_NAME(g->mux));
  stream->generations.push_back(std::move(g));
  stream->generation_open = false;
  return true;
}

/* Ends the current muxer: its segment is written when its output is out.
 * `markers`: how many the next segment has (logged). Pad stream lock held,
 * not state_lock. */
static void end_generation(GstAbrSink *self, Stream *stream, size_t markers) {
  GST_DEBUG_OBJECT(
      self, "%s: segment cut after %" GST_STIME_FORMAT " (pushed to %" GST_STIME_FORMAT "), %zu markers",
      GST_PAD_NAME(stream->pad), GST_STIME_ARGS(stream->generation_start), GST_STIME_ARGS(stream->pushed_end),
      markers);
  /* a failed flush of a fragment before this one is not forgotten */
  GstFlowReturn flow = mux_flush(stream);
  if (stream->mux_flow == GST_FLOW_OK) stream->mux_flow = flow;
  if (stream->mux_flow != GST_FLOW_OK)
    GST_DEBUG_OBJECT(self, "%s: muxer took its segment with %s", GST_PAD_NAME(stream->pad),
                     gst_flow_get_name(stream->mux_flow));
  /* its segment is complete once its output holds them all (mp4mux holds
   * the last until its end of stream, sent below, which writes the segment
   * in any case) */
  {
    std::lock_guard<std::mutex> lock(self->priv->state_lock);
    if (!stream->generations.empty() && stream->samples_counted && stream->mux_flow == GST_FLOW_OK)
      stream->generations.back()->expected_samples = int64_t(stream->pushed_samples);
  }
  GstPad *old = gst_pad_get_peer(stream->proxy);
  if (old) {
    gst_pad_unlink(stream->proxy, old);
    gst_pad_send_event(old, gst_event_new_eos());
    gst_object_unref(old);
  }
}

/* Ends the current muxer (its segment is written when its output is out)
 * and starts the next. Pad stream lock held, not state_lock. */
static bool cut_generation(GstAbrSink *self, Stream *stream, std::vector<onair::Marker> markers = {}) {
  end_generation(self, stream, markers.size());
  return start_generation(self, stream, std::move(markers));
}

static GstClockTimeDiff running_time(const GstSegment &segment, GstClockTime ts) {
  guint64 running;
  int sign = gst_segment_to_running_time_full(&segment, GST_FORMAT_TIME, ts, &running);
  if (sign == 0) return 0;
  return sign > 0 ? (GstClockTimeDiff)running : -(GstClockTimeDiff)running;
}

/* `ts` (running time) starts the current muxer's segment. */
static void open_generation(GstAbrSink *self, Stream *stream, GstBuffer *buffer, GstClockTimeDiff dts) {
  std::lock_guard<std::mutex> lock(self->priv->state_lock);
  stream->generations.back()->first_dts = dts;
  stream->generation_start = dts;
  stream->generation_open = true;
  if (!stream->have_first_dts) {
    stream->first_dts = dts;
    if (GST_BUFFER_PTS_IS_VALID(buffer) && GST_BUFFER_DTS_IS_VALID(buffer) &&
        GST_BUFFER_PTS(buffer) > GST_BUFFER_DTS(buffer))
      stream->reorder_delay = GST_BUFFER_PTS(buffer) - GST_BUFFER_DTS(buffer);
    stream->have_first_dts = true;
  }
}

/* Markers for the segment the current muxer is writing (it started where
 * they belong). Called with state_lock held. */
static void mark_current_segment(Stream &stream, const std::vector<onair::Marker> &markers) {
  if (stream.generations.empty()) return;
  auto &current = stream.generations.back()->markers;
  current.insert(current.end(), markers.begin(), markers.end());
}

/* The live cuts queued by events (queue_cut), made now: their markers for
 * the segment that starts here. The reference video's (`followed` given)
 * that audio follows, an ad break's edge or a new coding, have their
 * markers returned apart too, for audio; an ad break's edge is recorded for
 * the MPD. Called with state_lock held. */
static std::vector<onair::Marker> take_cuts(GstAbrSinkPrivate *priv, Stream &stream,
                                            std::vector<onair::Marker> *followed) {
  std::vector<onair::Marker> markers;
  for (Stream::Cut &cut : stream.cuts) {
    markers.insert(markers.end(), cut.markers.begin(), cut.markers.end());
    if (!followed) continue;
    if (cut.is_splice || cut.audio_follows)
      followed->insert(followed->end(), cut.markers.begin(), cut.markers.end());
    if (cut.is_splice) record_ad_event(priv, cut.splice);
  }
  stream.cuts.clear();
  return markers;
}

/* Audio is held back at most this far behind its newest buffer when the
 * video does not come (it stalled, or is far behind). */
static const GstClockTimeDiff AUDIO_HOLD_MAX = GST_SECOND;

static GstFlowReturn live_buffer(GstAbrSink *self, Stream *stream, GstBuffer *buffer, GstClockTimeDiff dts);
static gboolean live_event_apply(GstAbrSink *self, Stream *stream, GstEvent *event);

/* Gives an audio stream's held buffers to its muxer, those the reference
 * video has reached (all of them with `all`, or without a live video to
 * follow): those that end there, or with `by_start` those that start
 * before it. Pad stream lock held. */
static GstFlowReturn release_audio(GstAbrSink *self, Stream *a, bool all, bool by_start = false) {
  GstAbrSinkPrivate *priv = self->priv;
  GstClockTimeDiff reached;
  bool hold;
  {
    std::lock_guard<std::mutex> lock(priv->state_lock);
    Stream *reference = reference_video(priv);
    hold = !all && reference && reference->live && !priv->video_ended;
    reached = priv->video_reached;
  }
  GstFlowReturn ret = GST_FLOW_OK;
  while (!a->backlog.empty()) {
    auto [object, dts] = a->backlog.front();
    if (GST_IS_EVENT(object)) {
      a->backlog.pop_front();
      live_event_apply(self, a, GST_EVENT(object));
      continue;
    }
    GstBuffer *buffer = GST_BUFFER(object);
    GstClockTimeDiff frame =
        GST_BUFFER_DURATION_IS_VALID(buffer) ? (GstClockTimeDiff)GST_BUFFER_DURATION(buffer) : 0;
    bool stalled = a->backlog.back().second - dts > AUDIO_HOLD_MAX;
    /* a later video cut (after `reached`) could not take this frame */
    if (hold && !stalled && (by_start ? dts >= reached : dts + frame > reached)) break;
    a->backlog.pop_front();
    ret = live_buffer(self, a, buffer, dts);
    if (ret != GST_FLOW_OK) break;
  }
  if (ret != GST_FLOW_OK) a->backlog_flow = ret;
  return ret;
}

/* The reference video decided its cuts up to `at` (running time), and cut
 * there when `cut`: audio cuts there too, at once when what it has pushed
 * already reaches to within a frame of it (an audio segment then ends at
 * most one audio frame, ~21 ms, before its video segment, and is written as
 * soon as the video's), else before its first buffer that reaches that far.
 * Audio held back for it (release_audio) goes on up to `at`. `markers` (an
 * ad break's edge: audio gets no onair-splice events of its own; a new
 * coding of the video) go with the audio segment that starts there. */
static void follow_video(GstAbrSink *self, GstClockTimeDiff at, bool cut,
                         const std::vector<onair::Marker> &markers) {
  std::vector<Stream *> audio;
  {
    std::lock_guard<std::mutex> lock(self->priv->state_lock);
    self->priv->video_reached = at;
    for (auto &s : self->priv->streams)
      if (s->is_audio && s->live) audio.push_back(s.get());
  }
  for (Stream *a : audio) {
    /* without a cut to follow, audio busy in its own thread releases what
     * it may itself, with its next buffer */
    if (cut || at == G_MAXINT64)
      GST_PAD_STREAM_LOCK(a->pad);
    else if (!GST_PAD_STREAM_TRYLOCK(a->pad))
      continue;
    /* the audio released below prepares no muxer (prepare_generation) */
    a->at_cut = cut;
    if (cut) {
      GST_LOG_OBJECT(self, "video cut at %" GST_STIME_FORMAT "%s: %s pushed to %" GST_STIME_FORMAT,
                     GST_STIME_ARGS(at), markers.empty() ? "" : " (marked)", GST_PAD_NAME(a->pad),
                     GST_STIME_ARGS(a->pushed_end));
      GstClockTime frame = GST_CLOCK_TIME_IS_VALID(a->last_duration) ? a->last_duration : 0;
      /* a marked cut is made however short the segment before it: only
       * audio already cut there (to within a frame) takes the markers as
       * they are */
      GstClockTimeDiff shortest = markers.empty() ? 100 * GST_MSECOND : (GstClockTimeDiff)frame;
      /* An unmarked cut (a segment's length reached) takes the audio frame
       * it falls in into the segment it ends: the audio segment then ends
       * at or just after the video's decode time there, which with
       * B-frames is closer to where the video segment ends on screen, and
       * it is complete at once. A marked cut (an ad break's edge) starts the
       * audio at the frame it falls in. */
      if (markers.empty() && !a->backlog.empty()) release_audio(self, a, false, true);
      /* The audio segment being written starts at the cut already (to
       * within `shortest`), or, when the audio was cut an instant ago (the
       * video's cut a few frames before this one) and no buffer came since,
       * the next buffer is the one the cut falls in: that segment takes the
       * markers. Else the audio cuts, now or when it gets there. */
      bool open = a->generation_open && !a->ended;
      bool starts_there =
          open ? a->generation_start >= at - shortest : at < a->pushed_end + (GstClockTimeDiff)frame;
      if (a->ended || (!open && markers.empty())) {
        /* nothing to cut */
      } else if (starts_there) {
        if (!markers.empty()) {
          std::lock_guard<std::mutex> lock(self->priv->state_lock);
          mark_current_segment(*a, markers);
        }
      } else if (open && a->pushed_end + (GstClockTimeDiff)frame >= at) {
        cut_generation(self, a, markers);
      } else {
        /* a later cut replaces one not made yet, keeping its markers */
        if (a->cut_at < 0) a->cut_markers.clear();
        a->cut_markers.insert(a->cut_markers.end(), markers.begin(), markers.end());
        a->cut_at = at;
      }
    }
    if (!a->backlog.empty()) release_audio(self, a, false);
    a->at_cut = false;
    GST_PAD_STREAM_UNLOCK(a->pad);
  }
}

static GstFlowReturn live_chain(GstPad *pad, GstObject *parent, GstBuffer *buffer) {
  GstAbrSink *self = GST_ABR_SINK(parent);
  Stream *stream = static_cast<Stream *>(gst_pad_get_element_private(pad));
  GstClockTime ts = GST_BUFFER_DTS_IS_VALID(buffer) ? GST_BUFFER_DTS(buffer) : GST_BUFFER_PTS(buffer);
  if (!GST_CLOCK_TIME_IS_VALID(ts)) {
    GST_WARNING_OBJECT(self, "%s: dropping a buffer without timestamps", GST_PAD_NAME(pad));
    gst_buffer_unref(buffer);
    return GST_FLOW_OK;
  }
  GstClockTimeDiff dts = running_time(stream->segment, ts);
  if (!stream->is_audio) return live_buffer(self, stream, buffer, dts);
  if (dts < 0) {
    /* before the segment: mp4mux would drop it, and the segment's start
     * would be off by it */
    gst_buffer_unref(buffer);
    return GST_FLOW_OK;
  }
  buffer = fill_duration(stream, buffer, ts);
  if (stream->backlog_flow != GST_FLOW_OK) {
    GstFlowReturn ret = stream->backlog_flow;
    stream->backlog_flow = GST_FLOW_OK;
    gst_buffer_unref(buffer);
    return ret;
  }
  stream->backlog.emplace_back(GST_MINI_OBJECT(buffer), dts);
  return release_audio(self, stream, false);
}

/* One buffer into the current muxer, after the cut it starts (if any).
 * Pad stream lock held. */
static GstFlowReturn live_buffer(GstAbrSink *self, Stream *stream, GstBuffer *buffer, GstClockTimeDiff dts) {
  GstAbrSinkPrivate *priv = self->priv;
  GstClockTime ts = GST_BUFFER_DTS_IS_VALID(buffer) ? GST_BUFFER_DTS(buffer) : GST_BUFFER_PTS(buffer);
  if (stream->mux_flow != GST_FLOW_OK) {
    GstFlowReturn flow = stream->mux_flow;
    stream->mux_flow = GST_FLOW_OK;
    gst_buffer_unref(buffer);
    return flow;
  }

  /* armed: an input switch or an ad break's edge asks for a cut here (the
   * next keyframe, for video) */
  bool armed, reference, has_video;
  double target;
  {
    std::lock_guard<std::mutex> lock(priv->state_lock);
    armed = !stream->cuts.empty();
    target = segment_target(priv, *stream);
    reference = reference_video(priv) == stream;
    has_video = reference_video(priv) != nullptr;
  }

  bool cut = false;
  std::vector<onair::Marker> markers;  /* of the segment this buffer starts */
  std::vector<onair::Marker> followed; /* reference video: the markers audio follows */
  if (!stream->is_audio) {
    /* the held buffer's duration is known now */
    if (stream->held) {
      GstBuffer *held = stream->held;
      GstClockTime held_ts = GST_BUFFER_DTS_IS_VALID(held) ? GST_BUFFER_DTS(held) : GST_BUFFER_PTS(held);
      if (ts > held_ts) stream->last_duration = ts - held_ts;
      if (GST_CLOCK_TIME_IS_VALID(stream->last_duration)) {
        held = gst_buffer_make_writable(held);
        GST_BUFFER_DURATION(held) = stream->last_duration;
      }
      stream->held = nullptr;
      mux_push(stream, held);
    }
    bool keyframe = !GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT);
    if (keyframe && stream->generation_open) {
      double length = (double)(dts - stream->generation_start) / GST_SECOND;
      /* a little slack for timestamp rounding */
      cut = armed || target <= 0 || length >= target * 0.97;
    }
  } else {
    GstClockTimeDiff frame =
        GST_BUFFER_DURATION_IS_VALID(buffer) ? (GstClockTimeDiff)GST_BUFFER_DURATION(buffer) : 0;
    if (stream->generation_open) {
      double length = (double)(dts - stream->generation_start) / GST_SECOND;
      if (armed && length < 0.25) {
        /* the video's cut came first (switches reach audio and video
         * apart): the segment just started is the one after the switch */
        std::lock_guard<std::mutex> lock(priv->state_lock);
        mark_current_segment(*stream, take_cuts(priv, *stream, nullptr));
        armed = false;
      } else if (armed)
        cut = true;
      else if (stream->cut_at >= 0)
        cut = dts + frame >= stream->cut_at; /* it came late */
      else                                   /* no video to follow, or it stopped: cut by length */
        cut = has_video ? length >= 3 * std::max(target, 1.0) : length >= target * 0.97;
    }
    stream->pushed_end = dts + frame;
  }

  if (armed && (cut || !stream->generation_open)) {
    std::lock_guard<std::mutex> lock(priv->state_lock);
    markers = take_cuts(priv, *stream, reference ? &followed : nullptr);
    if (!stream->generation_open) {
      /* The stream's first segment: no discontinuity before it (nothing
       * was written yet), but an ad break starting here is marked. (Not
       * open also right after a cut, followed from the video before this
       * stream's own switch came: that segment is the one after the
       * switch, and keeps the discontinuity every rendition has there.) */
      if (!stream->have_first_dts)
        markers.erase(std::remove_if(markers.begin(), markers.end(),
                                     [](const onair::Marker &m) {
                                       return m.kind == onair::Marker::Kind::Discontinuity;
                                     }),
                      markers.end());
      if (!cut && !stream->generations.empty()) {
        mark_current_segment(*stream, markers);
        markers.clear();
      }
    }
  }
  if (cut && stream->cut_at >= 0) {
    /* the video cut this one follows: its markers start this segment too */
    markers.insert(markers.end(), stream->cut_markers.begin(), stream->cut_markers.end());
    stream->cut_markers.clear();
  }
  if (cut) stream->cut_at = -1;
  bool first = !gst_pad_is_linked(stream->proxy);
  if (cut) {
    end_generation(self, stream, markers.size());
    /* the audio following this video is cut before the video's next muxer
     * is made: its segment goes out with the video's, not after that */
    if (reference) follow_video(self, dts, true, followed);
  }
  if ((cut || first) && !start_generation(self, stream, std::move(markers))) {
    gst_buffer_unref(buffer);
    return GST_FLOW_ERROR;
  }
  if (!stream->generation_open) open_generation(self, stream, buffer, dts);
  if (reference && !cut) follow_video(self, dts, false, followed);

  if (!stream->is_audio) {
    stream->held = buffer;
    return GST_FLOW_OK;
  }
  mux_push(stream, buffer);
  /* the video's cut is reached (to within a frame): the segment is complete
   * without waiting for the next buffer */
  GstClockTimeDiff frame = GST_CLOCK_TIME_IS_VALID(stream->last_duration) ? stream->last_duration : 0;
  if (stream->cut_at >= 0 && stream->pushed_end + frame >= stream->cut_at) {
    stream->cut_at = -1;
    if (!cut_generation(self, stream, std::move(stream->cut_markers))) return GST_FLOW_ERROR;
    stream->cut_markers.clear();
  }
  return GST_FLOW_OK;
}

static void drop_backlog(Stream *stream) {
  for (auto &entry : stream->backlog) gst_mini_object_unref(entry.first);
  stream->backlog.clear();
  stream->backlog_flow = GST_FLOW_OK;
}

static gboolean live_event(GstPad *pad, GstObject *parent, GstEvent *event) {
  GstAbrSink *self = GST_ABR_SINK(parent);
  Stream *stream = static_cast<Stream *>(gst_pad_get_element_private(pad));
  if (GST_EVENT_TYPE(event) == GST_EVENT_SEGMENT) {
    /* the running times of the buffers after it, as they come */
    const GstSegment *segment;
    gst_event_parse_segment(event, &segment);
    gst_segment_copy_into(segment, &stream->segment);
  }
  if (stream->is_audio) {
    if (GST_EVENT_TYPE(event) == GST_EVENT_FLUSH_STOP) {
      drop_backlog(stream);
    } else if (GST_EVENT_TYPE(event) == GST_EVENT_EOS) {
      release_audio(self, stream, true);
    } else if ((gst_event_type_get_flags(GST_EVENT_TYPE(event)) & GST_EVENT_TYPE_SERIALIZED) &&
               !stream->backlog.empty()) {
      /* in order with the audio held back */
      stream->backlog.emplace_back(GST_MINI_OBJECT(event), stream->backlog.back().second);
      return TRUE;
    }
  } else if (GST_EVENT_TYPE(event) == GST_EVENT_FLUSH_STOP || GST_EVENT_TYPE(event) == GST_EVENT_EOS) {
    bool released = false;
    {
      std::lock_guard<std::mutex> lock(self->priv->state_lock);
      if (reference_video(self->priv) == stream) {
        self->priv->video_ended = GST_EVENT_TYPE(event) == GST_EVENT_EOS;
        if (!self->priv->video_ended) self->priv->video_reached = G_MININT64;
        released = self->priv->video_ended;
      }
    }
    /* nothing more to wait for: the audio held back goes on */
    if (released) follow_video(self, G_MAXINT64, false, {});
  }
  return live_event_apply(self, stream, event);
}

/* Whether two caps code a track alike: one initialization segment serves
 * both (the fields that go into it, or change its timescale). */
static bool same_coding(GstCaps *a, GstCaps *b) {
  const GstStructure *x = gst_caps_get_structure(a, 0), *y = gst_caps_get_structure(b, 0);
  if (!gst_structure_has_name(y, gst_structure_get_name(x))) return false;
  for (const char *field :
       {"codec_data", "stream-format", "width", "height", "framerate", "rate", "channels"}) {
    const GValue *u = gst_structure_get_value(x, field), *v = gst_structure_get_value(y, field);
    if (!u != !v || (u && gst_value_compare(u, v) != GST_VALUE_EQUAL)) return false;
  }
  return true;
}

/* Caps that code the track anew mid-stream (a publisher that changed its
 * resolution or frame rate sends a new sequence header): the segment ends
 * there (video: at the next keyframe, which starts the new coding) with a
 * discontinuity, audio following the reference video's, and the next
 * muxer takes the caps (start_generation), with an initialization segment
 * of its own that the playlist names from there on. False: the current
 * muxer takes them. Pad stream lock held. */
static bool live_new_coding(GstAbrSink *self, Stream *stream, GstEvent *event) {
  GstCaps *current = gst_pad_get_current_caps(stream->proxy);
  if (!current) return false;
  GstCaps *caps;
  gst_event_parse_caps(event, &caps);
  bool same = same_coding(current, caps);
  gst_caps_unref(current);
  if (same) return false;
  GST_INFO_OBJECT(self, "%s: new coding %" GST_PTR_FORMAT ", a cut is due", GST_PAD_NAME(stream->pad), caps);
  /* more of it before the cut (flvdemux may tell the new size apart): the
   * same cut takes the newest */
  bool cut_queued = stream->pending_caps != nullptr;
  if (cut_queued) gst_event_unref(stream->pending_caps);
  stream->pending_caps = event;
  if (cut_queued) return true;
  Outbox messages;
  {
    std::lock_guard<std::mutex> lock(self->priv->state_lock);
    Stream::Cut cut;
    cut.markers.emplace_back(); /* a discontinuity */
    cut.audio_follows = reference_video(self->priv) == stream;
    stream->cuts.push_back(std::move(cut));
    if (self->priv->active.dash && stream->caps_version == 0)
      queue_problem(self, false, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT,
                    "The MPD keeps the first initialization segment of " + stream->name +
                        ": its coding changed mid-stream (HLS names the new one)");
    messages = take_messages(self->priv);
  }
  post_messages(self, std::move(messages));
  return true;
}

/* A live input event, in order with the buffers. Pad stream lock held. */
static gboolean live_event_apply(GstAbrSink *self, Stream *stream, GstEvent *event) {
  GstPad *pad = stream->pad;
  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_CAPS:
      if (gst_pad_is_linked(stream->proxy) && !stream->ended && live_new_coding(self, stream, event))
        return TRUE;
      break;
    case GST_EVENT_FLUSH_STOP:
      /* (a new coding waiting for its cut stays: upstream does not send its
       * caps again after a flush) */
      if (stream->held) gst_buffer_unref(stream->held);
      stream->held = nullptr;
      mux_drop(stream);
      stream->ended = false;
      break;
    case GST_EVENT_CUSTOM_DOWNSTREAM: {
      onair::TimedMetadata metadata;
      if (onair::parse_timed_metadata_event(event, &metadata)) {
        /* no cut; the reference video's playlist and the MPD carry it,
         * the muxers never see it */
        {
          std::lock_guard<std::mutex> lock(self->priv->state_lock);
          if (!stream->is_audio && GST_CLOCK_TIME_IS_VALID(metadata.running_time)) {
            record_id3(self->priv, metadata);
            if (reference_video(self->priv) == stream) record_metadata(self->priv, std::move(metadata));
          }
        }
        gst_event_unref(event);
        return TRUE;
      }
      /* an input switch or an ad break's edge: live_chain cuts at the next
       * keyframe (video) or buffer (audio) */
      std::lock_guard<std::mutex> lock(self->priv->state_lock);
      if (queue_cut(self->priv, *stream, event))
        GST_DEBUG_OBJECT(self, "%s: %s, a cut is due", GST_PAD_NAME(pad),
                         gst_structure_get_name(gst_event_get_structure(event)));
      break;
    }
    case GST_EVENT_EOS: {
      GST_DEBUG_OBJECT(self, "%s: end of stream", GST_PAD_NAME(pad));
      stream->ended = true;
      stream->cut_at = -1;
      stream->cut_markers.clear();
      if (stream->held) {
        GstBuffer *held = stream->held;
        stream->held = nullptr;
        if (!GST_BUFFER_DURATION_IS_VALID(held) && GST_CLOCK_TIME_IS_VALID(stream->last_duration)) {
          held = gst_buffer_make_writable(held);
          GST_BUFFER_DURATION(held) = stream->last_duration;
        }
        mux_push(stream, held);
      }
      mux_flush(stream);
      Outbox messages;
      bool have_muxer;
      /* no next segment: the muxer made for it goes (prepared before the
       * end, with audio released from the backlog above) */
      std::unique_ptr<Generation> spare = std::move(stream->spare);
      bool retire = spare != nullptr;
      {
        std::lock_guard<std::mutex> lock(self->priv->state_lock);
        if (spare) self->priv->retired.push_back(std::move(spare));
        have_muxer = !stream->generations.empty();
        if (have_muxer) {
          stream->generations.back()->final = true;
        } else {
          stream->eos = true;
          finish_output(self);
        }
        messages = take_messages(self->priv);
      }
      post_messages(self, std::move(messages));
      if (retire) gst_element_call_async(GST_ELEMENT(self), shut_down_retired, NULL, NULL);
      if (!have_muxer) {
        gst_event_unref(event);
        return TRUE;
      }
      break;
    }
    default:
      break;
  }
  if (!gst_pad_is_linked(stream->proxy)) {
    /* before the first muxer: sticky events wait on the proxy for it, the
     * others have nothing to reach */
    if (gst_event_type_get_flags(GST_EVENT_TYPE(event)) & GST_EVENT_TYPE_STICKY)
      gst_pad_store_sticky_event(stream->proxy, event);
    gst_event_unref(event);
    return TRUE;
  }
  if (gst_event_type_get_flags(GST_EVENT_TYPE(event)) & GST_EVENT_TYPE_SERIALIZED) mux_flush(stream);
  return gst_pad_push_event(stream->proxy, event);
}

/* Caps of H.264 or H.265 straight from a demuxer, completed for the muxers
 * (onair::complete_coded_video_caps) before the pad or anything behind it
 * sees them: no parser is needed between a demuxer and abrsink. */
static GstPadProbeReturn coded_caps_probe(GstPad *pad, GstPadProbeInfo *info, gpointer) {
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
  if (GST_EVENT_TYPE(event) != GST_EVENT_CAPS) return GST_PAD_PROBE_OK;
  GstCaps *caps;
  gst_event_parse_caps(event, &caps);
  std::string missing;
  GstCaps *completed = onair::complete_coded_video_caps(caps, &missing);
  if (!missing.empty()) {
    GstObject *parent = gst_pad_get_parent(pad);
    if (parent)
      GST_ELEMENT_WARNING(parent, STREAM, FORMAT,
                          ("%s: the video's caps have no %s", GST_PAD_NAME(pad), missing.c_str()),
                          ("put a parser (h264parse, h265parse) before abrsink"));
    gst_clear_object(&parent);
  }
  if (!completed) return GST_PAD_PROBE_OK;
  GST_DEBUG_OBJECT(pad, "caps completed: %" GST_PTR_FORMAT, completed);
  GstEvent *replacement = gst_event_new_caps(completed);
  gst_event_set_seqnum(replacement, gst_event_get_seqnum(event));
  gst_caps_unref(completed);
  gst_event_unref(event);
  GST_PAD_PROBE_INFO_DATA(info) = replacement;
  return GST_PAD_PROBE_OK;
}

/* `query` answered by `answer`, an accept-caps query for such caps (see
 * coded_caps_probe) for the caps as they will be when they come. */
static gboolean query_completed(GstPad *pad, GstObject *parent, GstQuery *query, GstPadQueryFunction answer) {
  if (GST_QUERY_TYPE(query) != GST_QUERY_ACCEPT_CAPS) return answer(pad, parent, query);
  GstCaps *caps;
  gst_query_parse_accept_caps(query, &caps);
  std::string missing;
  GstCaps *completed = onair::complete_coded_video_caps(caps, &missing);
  if (!completed) return answer(pad, parent, query);
  GstQuery *asked = gst_query_new_accept_caps(completed);
  gst_caps_unref(completed);
  gboolean handled = answer(pad, parent, asked);
  gboolean accepted = FALSE;
  gst_query_parse_accept_caps_result(asked, &accepted);
  gst_query_set_accept_caps_result(query, accepted);
  gst_query_unref(asked);
  return handled;
}

static gboolean live_query_answer(GstPad *pad, GstObject *parent, GstQuery *query) {
  Stream *stream = static_cast<Stream *>(gst_pad_get_element_private(pad));
  if (gst_pad_is_linked(stream->proxy) && gst_pad_peer_query(stream->proxy, query)) return TRUE;
  switch (GST_QUERY_TYPE(query)) {
    case GST_QUERY_CAPS: {
      GstCaps *filter, *templ = gst_pad_get_pad_template_caps(pad);
      gst_query_parse_caps(query, &filter);
      GstCaps *result =
          filter ? gst_caps_intersect_full(filter, templ, GST_CAPS_INTERSECT_FIRST) : gst_caps_ref(templ);
      gst_query_set_caps_result(query, result);
      gst_caps_unref(result);
      gst_caps_unref(templ);
      return TRUE;
    }
    case GST_QUERY_ACCEPT_CAPS: {
      GstCaps *caps, *templ = gst_pad_get_pad_template_caps(pad);
      gst_query_parse_accept_caps(query, &caps);
      gst_query_set_accept_caps_result(query, gst_caps_is_subset(caps, templ));
      gst_caps_unref(templ);
      return TRUE;
    }
    default:
      return gst_pad_query_default(pad, parent, query);
  }
}

static gboolean live_query(GstPad *pad, GstObject *parent, GstQuery *query) {
  return query_completed(pad, parent, query, live_query_answer);
}

static gboolean vod_query(GstPad *pad, GstObject *parent, GstQuery *query) {
  /* a ghost pad's own: forwarded to the queue inside */
  return query_completed(pad, parent, query, gst_pad_query_default);
}

/* Shuts every muxer of a live stream down (state changes, pad release). */
static void drop_generations(GstAbrSink *self, Stream *stream) {
  if (stream->held) gst_buffer_unref(stream->held);
  stream->held = nullptr;
  mux_drop(stream);
  stream->generation_open = false;
  stream->ended = false;
  stream->cut_at = -1;
  stream->cut_markers.clear();
  drop_backlog(stream);
  stream->last_duration = GST_CLOCK_TIME_NONE;
  stream->last_ts = GST_CLOCK_TIME_NONE;
  GstPad *peer = stream->proxy ? gst_pad_get_peer(stream->proxy) : NULL;
  if (peer) {
    gst_pad_unlink(stream->proxy, peer);
    gst_object_unref(peer);
  }
  {
    std::lock_guard<std::mutex> lock(self->priv->state_lock);
    for (auto &g : stream->generations) self->priv->retired.push_back(std::move(g));
    stream->generations.clear();
    if (stream->spare) self->priv->retired.push_back(std::move(stream->spare));
  }
  stream->spare_failed = false;
  shut_down_retired(GST_ELEMENT(self), NULL);
}

static GstPad *gst_abr_sink_request_new_pad(GstElement *element, GstPadTemplate *templ, const gchar *req_name,
                                            const GstCaps *caps) {
  GstAbrSink *self = GST_ABR_SINK(element);
  GstAbrSinkPrivate *priv = self->priv;
  bool is_audio = g_str_has_prefix(GST_PAD_TEMPLATE_NAME_TEMPLATE(templ), "audio");

  auto stream = std::make_unique<Stream>();
  stream->sink = self;
  stream->is_audio = is_audio;

  std::string name;
  {
    std::lock_guard<std::mutex> lock(priv->state_lock);
    guint index = is_audio ? priv->next_audio++ : priv->next_video++;
    name = (is_audio ? "audio_" : "video_") + std::to_string(index);
    if (is_audio && index == 0)
      stream->requested_name = "audio";
    else if (is_audio)
      stream->requested_name = "audio" + std::to_string(index);
  }

  /* No parser here: the pad templates ask for framed streams of whole
   * access units, as abrladder, a parser, an encoder or a demuxer gives
   * them (a demuxer's caps are completed by coded_caps_probe), so H.264 and
   * H.265 take the same path and nothing is parsed twice. */
  bool vod;
  {
    std::lock_guard<std::mutex> lock(priv->settings_lock);
    vod = priv->settings.mode == GST_ABR_SINK_MODE_VOD;
  }
  if (!vod) {
    /* Live: a pad of ours feeds one muxer per segment (see Generation),
     * straight from the upstream thread: no queue, no thread of its own. */
    stream->live = true;
    GstPad *pad = gst_pad_new_from_template(templ, name.c_str());
    gst_pad_set_chain_function(pad, GST_DEBUG_FUNCPTR(live_chain));
    gst_pad_set_event_function(pad, GST_DEBUG_FUNCPTR(live_event));
    gst_pad_set_query_function(pad, GST_DEBUG_FUNCPTR(live_query));
    gst_pad_set_element_private(pad, stream.get());
    GST_PAD_SET_PROXY_ALLOCATION(pad);
    if (!is_audio) gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, coded_caps_probe, NULL, NULL);
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, input_probe, stream.get(), NULL);
    std::string proxy_name = name + "_mux";
    stream->proxy = GST_PAD(gst_object_ref_sink(gst_pad_new(proxy_name.c_str(), GST_PAD_SRC)));
    gst_pad_add_probe(stream->proxy, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, mux_input_probe, stream.get(),
                      NULL);
    gst_pad_set_query_function(stream->proxy, GST_DEBUG_FUNCPTR(proxy_query));
    gst_pad_set_active(stream->proxy, TRUE);
    stream->pad = pad;
    {
      std::lock_guard<std::mutex> lock(priv->state_lock);
      priv->streams.push_back(std::move(stream));
    }
    gst_pad_set_active(pad, TRUE);
    gst_element_add_pad(element, pad);
    return pad;
  }
  stream->children = std::make_unique<onair::BinChildren>(GST_BIN(self));
  GstElement *queue = stream->children->make("queue");
  GstElement *mux = stream->children->make("mp4mux");
  GstElement *appsink = stream->children->make("appsink");
  if (!queue || !mux || !appsink) return NULL;

  g_object_set(mux, "fragment-duration", is_audio ? AUDIO_FRAGMENT_MS : G_MAXINT32, "streamable", TRUE, NULL);
  /* VOD: the sinks preroll, so a pipeline goes to PLAYING only once its
   * source has started (with non-prerolling sinks, a short file could end
   * while a decodebin's own preroll was still completing, and GstBin 1.22
   * then lost the end of stream in the race). */
  g_object_set(appsink, "sync", FALSE, "async", TRUE, "max-buffers", 0, "enable-last-sample", FALSE, NULL);
  GstAppSinkCallbacks callbacks = {};
  callbacks.eos = on_eos;
  callbacks.new_sample = on_new_sample;
  gst_app_sink_set_callbacks(GST_APP_SINK(appsink), &callbacks, stream.get(), NULL);
  stream->splitter.on_init = [s = stream.get()](std::vector<uint8_t> init) {
    set_decode_offset_from_init(s, std::move(init));
  };
  stream->splitter.on_fragment = [s = stream.get()](onair::Fmp4Fragment f) { on_fragment(s, std::move(f)); };

  /* name the muxer pad: its caps query accepts both kinds */
  GstPad *mux_sink = gst_element_request_pad_simple(mux, is_audio ? "audio_%u" : "video_%u");
  GstPad *queue_out = gst_element_get_static_pad(queue, "src");
  bool linked = mux_sink && gst_pad_link(queue_out, mux_sink) == GST_PAD_LINK_OK;
  gst_object_unref(queue_out);
  if (mux_sink) gst_object_unref(mux_sink);
  if (!linked || !gst_element_link(mux, appsink)) {
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, (NULL), ("could not link the %s muxing chain", name.c_str()));
    return NULL;
  }

  GstPad *queue_src = gst_element_get_static_pad(queue, "src");
  gst_pad_add_probe(queue_src,
                    (GstPadProbeType)(GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM | GST_PAD_PROBE_TYPE_BUFFER),
                    mux_input_probe, stream.get(), NULL);
  gst_object_unref(queue_src);

  GstPad *target = gst_element_get_static_pad(queue, "sink");
  gst_pad_add_probe(target, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, input_probe, stream.get(), NULL);
  GstPad *pad = gst_ghost_pad_new_from_template(name.c_str(), target, templ);
  gst_object_unref(target);
  if (!is_audio) {
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, coded_caps_probe, NULL, NULL);
    gst_pad_set_query_function(pad, GST_DEBUG_FUNCPTR(vod_query));
  }
  stream->pad = pad;

  for (auto it = stream->children->elements().rbegin(); it != stream->children->elements().rend(); ++it)
    gst_element_sync_state_with_parent(*it);

  {
    std::lock_guard<std::mutex> lock(priv->state_lock);
    priv->streams.push_back(std::move(stream));
  }
  gst_pad_set_active(pad, TRUE);
  gst_element_add_pad(element, pad);
  return pad;
}

static void gst_abr_sink_release_pad(GstElement *element, GstPad *pad) {
  GstAbrSink *self = GST_ABR_SINK(element);
  GstAbrSinkPrivate *priv = self->priv;
  std::unique_ptr<Stream> stream;
  {
    std::lock_guard<std::mutex> lock(priv->state_lock);
    for (auto it = priv->streams.begin(); it != priv->streams.end(); ++it) {
      if ((*it)->pad == pad) {
        stream = std::move(*it);
        priv->streams.erase(it);
        break;
      }
    }
  }
  if (!stream) return;
  /* waits for the streaming thread to leave the pad (it may be making a
   * muxer), and keeps it out */
  gst_pad_set_active(pad, FALSE);
  if (stream->live)
    drop_generations(self, stream.get());
  else
    stream->children->remove_all();
  gst_element_remove_pad(element, pad);
}

static gboolean gst_abr_sink_add_marker(GstAbrSink *self, const gchar *kind, const gchar *id,
                                        gdouble duration, const GstStructure *attributes) {
  onair::Marker marker;
  if (!g_strcmp0(kind, "discontinuity"))
    marker.kind = onair::Marker::Kind::Discontinuity;
  else if (!g_strcmp0(kind, "daterange"))
    marker.kind = onair::Marker::Kind::DateRange;
  else if (!g_strcmp0(kind, "cue-out"))
    marker.kind = onair::Marker::Kind::CueOut;
  else if (!g_strcmp0(kind, "cue-in"))
    marker.kind = onair::Marker::Kind::CueIn;
  else {
    GST_WARNING_OBJECT(self, "unknown marker kind \"%s\"", kind);
    return FALSE;
  }
  marker.id = id ? id : "";
  marker.duration = duration;
  if (marker.kind == onair::Marker::Kind::DateRange && marker.id.empty()) {
    GST_WARNING_OBJECT(self, "a daterange marker needs an id");
    return FALSE;
  }
  if (attributes) {
    for (gint i = 0; i < gst_structure_n_fields(attributes); i++) {
      const gchar *field = gst_structure_nth_field_name(attributes, i);
      const gchar *value = gst_structure_get_string(attributes, field);
      if (value) marker.attributes.emplace_back(field, value);
    }
  }
  std::lock_guard<std::mutex> lock(self->priv->state_lock);
  if (marker.kind == onair::Marker::Kind::DateRange) {
    std::lock_guard<std::mutex> settings_lock(self->priv->settings_lock);
    if (self->priv->settings.mode != GST_ABR_SINK_MODE_LIVE) {
      /* EXT-X-DATERANGE needs EXT-X-PROGRAM-DATE-TIME, written in live mode */
      GST_WARNING_OBJECT(self, "daterange markers need mode=live");
      return FALSE;
    }
  }
  if (self->priv->streams.empty()) {
    GST_WARNING_OBJECT(self, "no rendition to mark yet");
    return FALSE;
  }
  for (auto &s : self->priv->streams) {
    ensure_playlist(self->priv, *s);
    s->playlist->queue_marker(marker);
  }
  return TRUE;
}

/* Messages of the elements inside (live: a muxer per segment; VOD: a queue,
 * a muxer and an appsink per rendition). Their state changes, latency and
 * stream starts stay inside: in live mode a muxer starts and stops with
 * every segment (and each LATENCY message from a sink inside would have
 * gst-launch-1.0, or any application doing as the docs say, query the
 * latency of the whole pipeline again, every channel's branch of it). The
 * sink posts its own STREAM_START (input_stream_start); everything else
 * (errors, warnings, end of stream, async, stream status) goes on. */
static void gst_abr_sink_handle_message(GstBin *bin, GstMessage *message) {
  GstObject *src = GST_MESSAGE_SRC(message);
  bool ours = src && GST_IS_ELEMENT(src) && GST_OBJECT_PARENT(src) == GST_OBJECT(bin);
  switch (GST_MESSAGE_TYPE(message)) {
    case GST_MESSAGE_STATE_CHANGED:
    case GST_MESSAGE_LATENCY:
    case GST_MESSAGE_STREAM_START:
      if (ours) {
        gst_message_unref(message);
        return;
      }
      break;
    default:
      break;
  }
  GST_BIN_CLASS(parent_class)->handle_message(bin, message);
}

static GstStateChangeReturn gst_abr_sink_change_state(GstElement *element, GstStateChange transition) {
  GstAbrSink *self = GST_ABR_SINK(element);
  GstAbrSinkPrivate *priv = self->priv;

  if (transition == GST_STATE_CHANGE_NULL_TO_READY) {
    Settings settings;
    {
      std::lock_guard<std::mutex> lock(priv->settings_lock);
      settings = priv->settings;
    }
    if (g_mkdir_with_parents(settings.location.c_str(), 0755) != 0) {
      GST_ELEMENT_ERROR(
          self, RESOURCE, OPEN_WRITE,
          ("Could not create the output directory \"%s\": %s", settings.location.c_str(), g_strerror(errno)),
          (NULL));
      return GST_STATE_CHANGE_FAILURE;
    }
    std::lock_guard<std::mutex> lock(priv->state_lock);
    priv->active = settings;
  }
  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED) {
    Settings settings;
    {
      std::lock_guard<std::mutex> settings_lock(priv->settings_lock);
      settings = priv->settings;
    }
    remove_leftovers(self, settings);
    std::lock_guard<std::mutex> lock(priv->state_lock);
    priv->active = settings;
    priv->availability_start_ms = -1;
    priv->wall_at_running_zero_ms = -1;
    priv->finished = false;
    priv->written_text.clear();
    /* versions from 1 again: each file's first is written at once */
    priv->text_files.clear();
    priv->master_layout.clear();
    priv->master_variants.clear();
    priv->video_boundaries.clear();
    priv->video_reached = G_MININT64;
    priv->video_ended = false;
    priv->boundary_markers.clear();
    priv->ad_events.clear();
    priv->pending_metadata.clear();
    priv->metadata_events.clear();
    priv->next_metadata_event = 1;
    priv->id3_events.clear();
    priv->next_id3_serial = 1;
    priv->id3_recent.clear();
    for (auto &s : priv->streams) s->stream_start_pending = false;
  }

  GstStateChangeReturn ret = GST_ELEMENT_CLASS(parent_class)->change_state(element, transition);

  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) {
    std::lock_guard<std::mutex> lock(priv->state_lock);
    for (auto &s : priv->streams) {
      s->splitter = onair::Fmp4Splitter();
      s->splitter.on_init = [st = s.get()](std::vector<uint8_t> init) {
        set_decode_offset_from_init(st, std::move(init));
      };
      s->splitter.on_fragment = [st = s.get()](onair::Fmp4Fragment f) { on_fragment(st, std::move(f)); };
      s->playlist.reset();
      s->timeline.clear();
      s->expired.clear();
      s->pending.clear();
      s->pending_partial.discard();
      s->pending_fragments.clear();
      s->audio_cut_boundary = -1;
      s->cuts.clear();
      s->pending_valid = false;
      s->have_init = false;
      s->have_first_dts = false;
      s->eos = false;
      s->eos_deferred = false;
      s->last_ts = GST_CLOCK_TIME_NONE;
      s->last_duration = GST_CLOCK_TIME_NONE;
      s->name.clear();
      s->next_id3 = 1;
      s->pending_map_uri.clear();
      s->init_version = 0;
    }
  }
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) {
    std::vector<Stream *> live;
    {
      std::lock_guard<std::mutex> lock(priv->state_lock);
      for (auto &s : priv->streams)
        if (s->live) live.push_back(s.get());
    }
    for (Stream *s : live) {
      drop_generations(self, s);
      gst_segment_init(&s->segment, GST_FORMAT_TIME);
      if (s->pending_caps) gst_event_unref(s->pending_caps);
      s->pending_caps = nullptr;
      s->caps_version = 0;
    }
  }
  return ret;
}
