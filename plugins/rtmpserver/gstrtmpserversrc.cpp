/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:element-rtmpserversrc
 * @title: rtmpserversrc
 *
 * The server side of RTMP: listens for publishers (OBS, ffmpeg, hardware
 * encoders, rtmp2sink) and outputs what is published on
 * `rtmp://HOST:PORT/APPLICATION/STREAM-KEY` as one live FLV stream
 * (`video/x-flv`) for flvdemux.
 *
 * Several rtmpserversrc elements in one process that name the same
 * #GstRtmpServerSrc:address and #GstRtmpServerSrc:port share one listening
 * socket: the first one to start opens it, the last one to stop closes it.
 * Each publish is routed to the element whose #GstRtmpServerSrc:application
 * and #GstRtmpServerSrc:stream-key match (an element without a stream key
 * takes any key of its application that no other element claims).
 *
 * Threads: a shared listener has one thread blocked in accept(), and every
 * connection gets a thread of its own that runs the handshake and the
 * protocol and feeds a bounded queue that the element's streaming thread
 * reads. A slow downstream therefore slows only its own publisher (TCP
 * back-pressure), and a stalled or hostile client holds only its own thread.
 *
 * A publish is accepted only when the #GstRtmpServerSrc::authorize signal
 * allows it (emitted from the connection's thread) and no other publisher is
 * live on that key; otherwise the client gets `NetStream.Publish.BadName`
 * and is disconnected before any media is read.
 *
 * When a publisher leaves (it unpublishes, disconnects, times out after
 * #GstRtmpServerSrc:timeout seconds without data, or sends something that is
 * not RTMP), the element posts an element message `rtmpserversrc-publish`
 * with `state` "stopped" and waits for the next publisher: the FLV stream
 * continues, its timestamps keep increasing across the gap, the first buffer
 * of the new publish carries the DISCONT flag and the new publisher's
 * sequence headers follow. With #GstRtmpServerSrc:eos-on-disconnect the
 * element ends the stream (EOS) instead. Every publish start posts the same
 * message with `state` "started". Both carry `reason`, `stream-key`,
 * `application` and `address` (the publisher's IP address and port).
 *
 * Timestamps are the publisher's: the first audio or video frame of a
 * publish is stamped with the running time at which it arrived and every
 * later message with that plus the publisher's own time difference, so the
 * output lasts exactly as long as what was published. (Metadata and codec
 * headers, sent before the publisher's encoder delivers its first frame, do
 * not set that origin.) A publisher that falls more than a second behind
 * (its network stalled, then it sent its backlog) has its timeline moved
 * forward to the running time, and the buffer carries the DISCONT flag, so
 * the output never stays late.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 rtmpserversrc port=1935 application=live stream-key=secret ! \
 *     flvdemux name=d d.video ! queue ! h264parse ! avdec_h264 ! autovideosink
 * ]| then publish with
 * `ffmpeg -re -i input.mp4 -c copy -f flv rtmp://localhost:1935/live/secret`.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstrtmpserversrc.h"

#include <gio/gio.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "bytes.h"
#include "rtmpamf0.h"
#include "rtmpchunk.h"
#include "rtmphandshake.h"
#include "rtmpmessages.h"

using namespace onair::rtmp;

GST_DEBUG_CATEGORY_STATIC(gst_rtmp_server_src_debug);
#define GST_CAT_DEFAULT gst_rtmp_server_src_debug

#define DEFAULT_ADDRESS "0.0.0.0"
#define DEFAULT_PORT 1935
#define DEFAULT_APPLICATION "live"
#define DEFAULT_STREAM_KEY NULL
#define DEFAULT_TIMEOUT 10
#define DEFAULT_EOS_ON_DISCONNECT FALSE

/* A message stamped this much earlier than the running time at which it
 * arrives moves its publisher's timeline forward. */
#define LATE_REANCHOR_MS 1000

/* Reported as the source's minimum latency: how late a message may arrive
 * after the running time its publisher's clock gives it (network jitter,
 * encoders that send in bursts). */
#define DEFAULT_LATENCY 300 /* ms */
/* The queue between a connection and the streaming thread. */
#define MAX_QUEUED_BUFFERS 2000
#define MAX_QUEUED_BYTES (32 * 1024 * 1024)
/* A connection must publish within this time of connecting. */
#define PUBLISH_DEADLINE_SECONDS 10
/* After refusing a publish, wait this long for the client to hang up, so
 * that it reads the refusal rather than a reset connection. */
#define REFUSAL_LINGER_SECONDS 2
#define SEND_TIMEOUT_SECONDS 5
#define MAX_CONNECTIONS_PER_LISTENER 64
#define POLL_INTERVAL_US (100 * 1000)

namespace {

struct ConnectionLoop;

struct Settings {
  std::string address = DEFAULT_ADDRESS;
  guint port = DEFAULT_PORT;
  std::string application = DEFAULT_APPLICATION;
  std::optional<std::string> stream_key; /* nullopt: any key */
  guint timeout = DEFAULT_TIMEOUT;
  bool eos_on_disconnect = DEFAULT_EOS_ON_DISCONNECT;
  guint latency = DEFAULT_LATENCY; /* ms */
};

/* What one element offers on a listener; shared by the element, the
 * listener's routing table and the connection publishing to it. All fields
 * under `lock`. */
struct Endpoint {
  std::mutex lock;
  std::condition_variable changed;

  GstElement *element = nullptr; /* set while started; not a reference */
  Settings settings;             /* copied at start */
  bool started = false;
  bool flushing = false;
  uint64_t publisher = 0; /* id of the connection publishing, 0: none */

  /* The publisher's connection while the element's streaming thread reads
   * it (set by the connection's thread, which waits for it to be given
   * back: the publish ended, or the element stops). */
  ConnectionLoop *reading = nullptr;
  std::condition_variable given_back; /* `reading` cleared */

  std::deque<GstBuffer *> queue; /* nullptr: EOS */
  size_t queued_bytes = 0;
  bool ended = false; /* EOS queued: no further publish */

  /* FLV output state */
  bool header_written = false;
  bool discont_next = false;
  int64_t last_tag_ms = -1;

  /* statistics */
  std::string publisher_address;
  std::string publisher_key;
  uint64_t bytes_received = 0; /* current or last publish */
  uint64_t messages = 0;
  uint64_t publishes = 0;
  gint64 publish_started_us = 0;
  gint64 publish_ended_us = 0;

  void clear_queue() {
    for (GstBuffer *buffer : queue)
      if (buffer) gst_buffer_unref(buffer);
    queue.clear();
    queued_bytes = 0;
  }
};

class Listener;

/* One client connection and its thread. */
struct Connection {
  uint64_t id = 0;
  Listener *listener = nullptr;
  GSocket *socket = nullptr;
  std::string address;
  std::thread thread;
  std::atomic<bool> done{false};

  ~Connection() {
    if (thread.joinable()) thread.join();
    if (socket) g_object_unref(socket);
  }
};

/* A listening socket shared by every element naming the same address and
 * port, with its accept thread and its connections. */
class Listener {
 public:
  static std::shared_ptr<Listener> acquire(const std::string &address, guint port, GError **error);
  static void release(std::shared_ptr<Listener> *listener);

  ~Listener();

  /* False when another element already serves that application and key. */
  bool add(const std::shared_ptr<Endpoint> &endpoint);
  void remove(const std::shared_ptr<Endpoint> &endpoint);
  std::shared_ptr<Endpoint> route(const std::string &application, const std::string &key);

  GCancellable *cancellable() const { return cancellable_; }

 private:
  Listener() = default;
  void accept_loop();
  void reap_connections(bool all);

  std::string name_;
  GSocketListener *socket_listener_ = nullptr;
  GCancellable *cancellable_ = nullptr;
  GPollFD cancellable_fd_{};
  std::thread accept_thread_;
  std::mutex lock_;
  std::vector<std::shared_ptr<Endpoint>> endpoints_;
  std::list<std::unique_ptr<Connection>> connections_;
};

std::mutex registry_lock;
std::map<std::string, std::weak_ptr<Listener>> registry;
std::atomic<uint64_t> next_connection_id{1};

}  // namespace

struct GstRtmpServerSrcPrivate {
  std::mutex settings_lock;
  Settings settings;

  std::shared_ptr<Endpoint> endpoint = std::make_shared<Endpoint>();
  std::shared_ptr<Listener> listener; /* while started */
  /* interrupts the streaming thread's wait on a publisher's socket (unlock) */
  GCancellable *cancellable = g_cancellable_new();
  /* kept, so that each wait does not make and close its file descriptor */
  GPollFD cancellable_fd;

  GstRtmpServerSrcPrivate() { g_cancellable_make_pollfd(cancellable, &cancellable_fd); }
  ~GstRtmpServerSrcPrivate() {
    g_cancellable_release_fd(cancellable);
    g_object_unref(cancellable);
  }
};

struct _GstRtmpServerSrc {
  GstPushSrc parent;
  GstRtmpServerSrcPrivate *priv;
};

enum {
  PROP_0,
  PROP_ADDRESS,
  PROP_PORT,
  PROP_APPLICATION,
  PROP_STREAM_KEY,
  PROP_TIMEOUT,
  PROP_EOS_ON_DISCONNECT,
  PROP_LATENCY,
  PROP_STATS,
};

enum {
  SIGNAL_AUTHORIZE,
  LAST_SIGNAL,
};

static guint signals[LAST_SIGNAL];

static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS("video/x-flv"));

#define gst_rtmp_server_src_parent_class parent_class
G_DEFINE_TYPE(GstRtmpServerSrc, gst_rtmp_server_src, GST_TYPE_PUSH_SRC);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE(rtmpserversrc, "rtmpserversrc", GST_RANK_NONE, GST_TYPE_RTMP_SERVER_SRC,
                                      GST_DEBUG_CATEGORY_INIT(gst_rtmp_server_src_debug,
                                                              "onair-rtmpserversrc", 0, "onair RTMP server"));

static void gst_rtmp_server_src_finalize(GObject *object);
static void gst_rtmp_server_src_set_property(GObject *object, guint prop_id, const GValue *value,
                                             GParamSpec *pspec);
static void gst_rtmp_server_src_get_property(GObject *object, guint prop_id, GValue *value,
                                             GParamSpec *pspec);
static gboolean gst_rtmp_server_src_start(GstBaseSrc *src);
static gboolean gst_rtmp_server_src_stop(GstBaseSrc *src);
static gboolean gst_rtmp_server_src_unlock(GstBaseSrc *src);
static gboolean gst_rtmp_server_src_unlock_stop(GstBaseSrc *src);
static gboolean gst_rtmp_server_src_query(GstBaseSrc *src, GstQuery *query);
static GstFlowReturn gst_rtmp_server_src_create(GstPushSrc *src, GstBuffer **buffer);

/* The first handler returning FALSE refuses the publish. */
static gboolean authorize_accumulator(GSignalInvocationHint *, GValue *return_accumulator,
                                      const GValue *handler_return, gpointer) {
  gboolean allowed = g_value_get_boolean(handler_return);
  g_value_set_boolean(return_accumulator, allowed);
  return allowed;
}

static gboolean gst_rtmp_server_src_authorize_default(GstRtmpServerSrc *, const gchar *, const gchar *) {
  return TRUE;
}

static void gst_rtmp_server_src_class_init(GstRtmpServerSrcClass *klass) {
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
  GstBaseSrcClass *base_src_class = GST_BASE_SRC_CLASS(klass);
  GstPushSrcClass *push_src_class = GST_PUSH_SRC_CLASS(klass);

  gobject_class->finalize = gst_rtmp_server_src_finalize;
  gobject_class->set_property = gst_rtmp_server_src_set_property;
  gobject_class->get_property = gst_rtmp_server_src_get_property;

  const GParamFlags flags =
      (GParamFlags)(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);

  /**
   * GstRtmpServerSrc:address:
   *
   * The local address to listen on; "0.0.0.0" (or "::") for every interface.
   */
  g_object_class_install_property(
      gobject_class, PROP_ADDRESS,
      g_param_spec_string("address", "Address",
                          "Local IP address to listen on (0.0.0.0 or :: for all interfaces)", DEFAULT_ADDRESS,
                          flags));
  /**
   * GstRtmpServerSrc:port:
   *
   * The TCP port to listen on; elements naming the same address and port
   * share one listener.
   */
  g_object_class_install_property(
      gobject_class, PROP_PORT,
      g_param_spec_uint("port", "Port",
                        "TCP port to listen on; elements with the same address and port share it", 1, 65535,
                        DEFAULT_PORT, flags));
  /**
   * GstRtmpServerSrc:application:
   *
   * The application part of the publish URL (`rtmp://host/APPLICATION/key`).
   */
  g_object_class_install_property(
      gobject_class, PROP_APPLICATION,
      g_param_spec_string("application", "Application",
                          "Application name publishers connect to (rtmp://host/APPLICATION/key)",
                          DEFAULT_APPLICATION, flags));
  /**
   * GstRtmpServerSrc:stream-key:
   *
   * The stream key (stream name, without any `?query`) a publisher must use;
   * NULL accepts any key that no other element on the listener claims,
   * subject to #GstRtmpServerSrc::authorize.
   */
  g_object_class_install_property(
      gobject_class, PROP_STREAM_KEY,
      g_param_spec_string("stream-key", "Stream key",
                          "Stream key a publisher must use (NULL: any key, subject to the "
                          "authorize signal)",
                          DEFAULT_STREAM_KEY, flags));
  /**
   * GstRtmpServerSrc:timeout:
   *
   * A publisher that sends nothing for this many seconds is disconnected.
   */
  g_object_class_install_property(
      gobject_class, PROP_TIMEOUT,
      g_param_spec_uint("timeout", "Timeout", "Seconds without data after which a publisher is disconnected",
                        1, 3600, DEFAULT_TIMEOUT, flags));
  /**
   * GstRtmpServerSrc:eos-on-disconnect:
   *
   * End the stream (EOS) when the publisher leaves, instead of waiting for
   * the next one. Useful with gst-launch-1.0 and for recording one publish.
   */
  g_object_class_install_property(
      gobject_class, PROP_EOS_ON_DISCONNECT,
      g_param_spec_boolean("eos-on-disconnect", "EOS on disconnect",
                           "Send EOS when the publisher leaves instead of waiting for the next one",
                           DEFAULT_EOS_ON_DISCONNECT, flags));
  /**
   * GstRtmpServerSrc:latency:
   *
   * The source's latency in milliseconds, as reported to the pipeline: how
   * late a message may arrive after the running time its publisher's
   * clock gives it (network jitter, encoders that send in bursts). Sinks
   * that synchronise wait this long; raise it for publishers on poor links.
   */
  g_object_class_install_property(
      gobject_class, PROP_LATENCY,
      g_param_spec_uint("latency", "Latency", "Latency reported to the pipeline, in milliseconds", 0, 60000,
                        DEFAULT_LATENCY, (GParamFlags)(flags | GST_PARAM_MUTABLE_PLAYING)));
  /**
   * GstRtmpServerSrc:stats:
   *
   * A "rtmpserversrc-stats" structure: `publishing` (boolean), `stream-key`
   * and `address` of the current or last publisher, `bytes-received` and
   * `messages` (audio, video and data) of that publish, `bitrate` (its
   * average, bits per second) and `publishes` (how many were accepted).
   */
  g_object_class_install_property(
      gobject_class, PROP_STATS,
      g_param_spec_boxed("stats", "Statistics",
                         "Publisher statistics: publishing, stream-key, address, bytes-received, "
                         "messages, bitrate, publishes",
                         GST_TYPE_STRUCTURE, (GParamFlags)(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

  /**
   * GstRtmpServerSrc::authorize:
   * @src: the rtmpserversrc
   * @stream_key: the stream key the client publishes to, with any `?query`
   * @address: the client's IP address and port
   *
   * Emitted from the connection's thread when a client asks to publish to
   * this element, before any media is accepted. The first handler returning
   * %FALSE refuses the publish: the client gets NetStream.Publish.BadName.
   *
   * Returns: %TRUE to accept the publish
   */
  signals[SIGNAL_AUTHORIZE] =
      g_signal_new_class_handler("authorize", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST,
                                 G_CALLBACK(gst_rtmp_server_src_authorize_default), authorize_accumulator,
                                 NULL, NULL, G_TYPE_BOOLEAN, 2, G_TYPE_STRING, G_TYPE_STRING);

  base_src_class->start = GST_DEBUG_FUNCPTR(gst_rtmp_server_src_start);
  base_src_class->stop = GST_DEBUG_FUNCPTR(gst_rtmp_server_src_stop);
  base_src_class->unlock = GST_DEBUG_FUNCPTR(gst_rtmp_server_src_unlock);
  base_src_class->unlock_stop = GST_DEBUG_FUNCPTR(gst_rtmp_server_src_unlock_stop);
  base_src_class->query = GST_DEBUG_FUNCPTR(gst_rtmp_server_src_query);
  push_src_class->create = GST_DEBUG_FUNCPTR(gst_rtmp_server_src_create);

  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_set_static_metadata(element_class, "RTMP server source", "Source/Network",
                                        "Accepts RTMP publishers and outputs their stream as FLV",
                                        "onair developers");
}

static void gst_rtmp_server_src_init(GstRtmpServerSrc *self) {
  self->priv = new GstRtmpServerSrcPrivate();
  gst_base_src_set_live(GST_BASE_SRC(self), TRUE);
  gst_base_src_set_format(GST_BASE_SRC(self), GST_FORMAT_TIME);
  gst_base_src_set_do_timestamp(GST_BASE_SRC(self), FALSE);
}

static void gst_rtmp_server_src_finalize(GObject *object) {
  GstRtmpServerSrc *self = GST_RTMP_SERVER_SRC(object);
  {
    std::lock_guard<std::mutex> lock(self->priv->endpoint->lock);
    self->priv->endpoint->clear_queue();
  }
  delete self->priv;
  G_OBJECT_CLASS(parent_class)->finalize(object);
}

static void gst_rtmp_server_src_set_property(GObject *object, guint prop_id, const GValue *value,
                                             GParamSpec *pspec) {
  GstRtmpServerSrc *self = GST_RTMP_SERVER_SRC(object);
  if (prop_id == PROP_LATENCY) {
    {
      std::lock_guard<std::mutex> lock(self->priv->settings_lock);
      self->priv->settings.latency = g_value_get_uint(value);
    }
    /* the pipeline asks everyone again */
    gst_element_post_message(GST_ELEMENT(self), gst_message_new_latency(GST_OBJECT(self)));
    return;
  }
  std::lock_guard<std::mutex> lock(self->priv->settings_lock);
  Settings &s = self->priv->settings;
  switch (prop_id) {
    case PROP_ADDRESS:
      s.address = g_value_get_string(value) ? g_value_get_string(value) : DEFAULT_ADDRESS;
      break;
    case PROP_PORT:
      s.port = g_value_get_uint(value);
      break;
    case PROP_APPLICATION:
      s.application = g_value_get_string(value) ? g_value_get_string(value) : "";
      break;
    case PROP_STREAM_KEY:
      if (g_value_get_string(value))
        s.stream_key = g_value_get_string(value);
      else
        s.stream_key.reset();
      break;
    case PROP_TIMEOUT:
      s.timeout = g_value_get_uint(value);
      break;
    case PROP_EOS_ON_DISCONNECT:
      s.eos_on_disconnect = g_value_get_boolean(value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
}

static GstStructure *make_stats(Endpoint *endpoint) {
  std::lock_guard<std::mutex> lock(endpoint->lock);
  gint64 end = endpoint->publisher ? g_get_monotonic_time() : endpoint->publish_ended_us;
  double seconds = endpoint->publish_started_us ? double(end - endpoint->publish_started_us) / 1e6 : 0;
  guint64 bitrate = seconds > 0.1 ? guint64(double(endpoint->bytes_received) * 8 / seconds) : 0;
  return gst_structure_new("rtmpserversrc-stats", "publishing", G_TYPE_BOOLEAN, endpoint->publisher != 0,
                           "stream-key", G_TYPE_STRING, endpoint->publisher_key.c_str(), "address",
                           G_TYPE_STRING, endpoint->publisher_address.c_str(), "bytes-received",
                           G_TYPE_UINT64, (guint64)endpoint->bytes_received, "messages", G_TYPE_UINT64,
                           (guint64)endpoint->messages, "bitrate", G_TYPE_UINT64, bitrate, "publishes",
                           G_TYPE_UINT64, (guint64)endpoint->publishes, NULL);
}

static void gst_rtmp_server_src_get_property(GObject *object, guint prop_id, GValue *value,
                                             GParamSpec *pspec) {
  GstRtmpServerSrc *self = GST_RTMP_SERVER_SRC(object);
  if (prop_id == PROP_STATS) {
    g_value_take_boxed(value, make_stats(self->priv->endpoint.get()));
    return;
  }
  std::lock_guard<std::mutex> lock(self->priv->settings_lock);
  const Settings &s = self->priv->settings;
  switch (prop_id) {
    case PROP_ADDRESS:
      g_value_set_string(value, s.address.c_str());
      break;
    case PROP_PORT:
      g_value_set_uint(value, s.port);
      break;
    case PROP_APPLICATION:
      g_value_set_string(value, s.application.c_str());
      break;
    case PROP_STREAM_KEY:
      g_value_set_string(value, s.stream_key ? s.stream_key->c_str() : NULL);
      break;
    case PROP_TIMEOUT:
      g_value_set_uint(value, s.timeout);
      break;
    case PROP_EOS_ON_DISCONNECT:
      g_value_set_boolean(value, s.eos_on_disconnect);
      break;
    case PROP_LATENCY:
      g_value_set_uint(value, s.latency);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
}

/* ---- Listener registry --------------------------------------------------- */

std::shared_ptr<Listener> Listener::acquire(const std::string &address, guint port, GError **error) {
  std::string name = address + ":" + std::to_string(port);
  std::lock_guard<std::mutex> lock(registry_lock);
  if (std::shared_ptr<Listener> existing = registry[name].lock()) return existing;

  GSocketAddress *socket_address = g_inet_socket_address_new_from_string(address.c_str(), port);
  if (!socket_address) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "\"%s\" is not an IP address",
                address.c_str());
    return nullptr;
  }
  std::shared_ptr<Listener> listener(new Listener());
  listener->name_ = name;
  listener->socket_listener_ = g_socket_listener_new();
  listener->cancellable_ = g_cancellable_new();
  /* kept, so that each wait does not make and close its file descriptor */
  g_cancellable_make_pollfd(listener->cancellable_, &listener->cancellable_fd_);
  gboolean ok = g_socket_listener_add_address(listener->socket_listener_, socket_address,
                                              G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL, NULL, error);
  g_object_unref(socket_address);
  if (!ok) return nullptr; /* the destructor closes what was opened */
  Listener *raw = listener.get();
  listener->accept_thread_ = std::thread([raw] { raw->accept_loop(); });
  registry[name] = listener;
  GST_INFO("listening on %s", name.c_str());
  return listener;
}

/* Drops a reference; the last one closes the listener (under the registry
 * lock, so that a new element cannot find the port still taken). */
void Listener::release(std::shared_ptr<Listener> *listener) {
  std::lock_guard<std::mutex> lock(registry_lock);
  if (!*listener) return;
  std::string name = (*listener)->name_;
  listener->reset();
  auto it = registry.find(name);
  if (it != registry.end() && it->second.expired()) registry.erase(it);
}

Listener::~Listener() {
  if (cancellable_) g_cancellable_cancel(cancellable_);
  if (accept_thread_.joinable()) accept_thread_.join();
  if (socket_listener_) {
    g_socket_listener_close(socket_listener_);
    g_object_unref(socket_listener_);
  }
  reap_connections(true);
  if (cancellable_) {
    g_cancellable_release_fd(cancellable_);
    g_object_unref(cancellable_);
  }
  GST_INFO("closed listener %s", name_.c_str());
}

bool Listener::add(const std::shared_ptr<Endpoint> &endpoint) {
  std::lock_guard<std::mutex> lock(lock_);
  for (const std::shared_ptr<Endpoint> &other : endpoints_)
    if (other->settings.application == endpoint->settings.application &&
        other->settings.stream_key == endpoint->settings.stream_key)
      return false;
  endpoints_.push_back(endpoint);
  return true;
}

void Listener::remove(const std::shared_ptr<Endpoint> &endpoint) {
  std::lock_guard<std::mutex> lock(lock_);
  std::erase(endpoints_, endpoint);
}

/* An element naming the key wins over one accepting any key. (Settings of
 * a registered endpoint do not change until it is removed.) */
std::shared_ptr<Endpoint> Listener::route(const std::string &application, const std::string &key) {
  std::lock_guard<std::mutex> lock(lock_);
  std::shared_ptr<Endpoint> any;
  for (const std::shared_ptr<Endpoint> &endpoint : endpoints_) {
    if (endpoint->settings.application != application) continue;
    if (!endpoint->settings.stream_key) {
      if (!any) any = endpoint;
    } else if (*endpoint->settings.stream_key == key) {
      return endpoint;
    }
  }
  return any;
}

static void run_connection(Connection *connection);

void Listener::reap_connections(bool all) {
  std::list<std::unique_ptr<Connection>> finished;
  {
    std::lock_guard<std::mutex> lock(lock_);
    for (auto it = connections_.begin(); it != connections_.end();) {
      if (all || (*it)->done) {
        finished.push_back(std::move(*it));
        it = connections_.erase(it);
      } else {
        ++it;
      }
    }
  }
  finished.clear(); /* joins their threads */
}

static std::string describe_remote(GSocket *socket) {
  GSocketAddress *address = g_socket_get_remote_address(socket, NULL);
  if (!address) return "unknown";
  std::string out = "unknown";
  if (G_IS_INET_SOCKET_ADDRESS(address)) {
    gchar *ip = g_inet_address_to_string(g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(address)));
    out = std::string(ip) + ":" +
          std::to_string(g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(address)));
    g_free(ip);
  }
  g_object_unref(address);
  return out;
}

void Listener::accept_loop() {
  while (!g_cancellable_is_cancelled(cancellable_)) {
    GError *error = NULL;
    GSocket *socket = g_socket_listener_accept_socket(socket_listener_, NULL, cancellable_, &error);
    if (!socket) {
      if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        GST_WARNING("accept on %s: %s", name_.c_str(), error->message);
        g_usleep(POLL_INTERVAL_US);
      }
      g_error_free(error);
      continue;
    }
    reap_connections(false);
    auto connection = std::make_unique<Connection>();
    connection->id = next_connection_id++;
    connection->listener = this;
    connection->socket = socket;
    connection->address = describe_remote(socket);
    std::lock_guard<std::mutex> lock(lock_);
    if (connections_.size() >= MAX_CONNECTIONS_PER_LISTENER) {
      GST_WARNING("%s: refusing %s, %d connections already", name_.c_str(), connection->address.c_str(),
                  MAX_CONNECTIONS_PER_LISTENER);
      g_socket_close(socket, NULL);
      continue;
    }
    GST_DEBUG("%s: connection %" G_GUINT64_FORMAT " from %s", name_.c_str(), connection->id,
              connection->address.c_str());
    Connection *raw = connection.get();
    connections_.push_back(std::move(connection));
    raw->thread = std::thread([raw] { run_connection(raw); });
  }
}

/* ---- One connection ------------------------------------------------------- */

namespace {

/* The state of one client's session, owned by its thread. */
struct Session {
  Connection *connection;
  ChunkWriter writer;
  std::vector<uint8_t> out;
  std::string application;
  std::string key;
  std::shared_ptr<Endpoint> endpoint; /* set once the publish is accepted */
  bool refused = false;
  bool unpublished = false;
  /* timestamps */
  bool have_first = false;
  int64_t first_ms = 0, base_ms = 0, last_extended = 0;
  uint32_t last_raw = 0;
  bool have_raw = false;
  bool has_audio = false, has_video = false, know_tracks = false;
  /* read by the element's streaming thread, the queue's consumer: tags are
   * queued without waiting for room */
  bool in_streaming_thread = false;
};

}  // namespace

static bool send_pending(Session *session) {
  size_t sent = 0;
  while (sent < session->out.size()) {
    GError *error = NULL;
    gssize n =
        g_socket_send(session->connection->socket, (const gchar *)session->out.data() + sent,
                      session->out.size() - sent, session->connection->listener->cancellable(), &error);
    if (n <= 0) {
      GST_DEBUG("connection %" G_GUINT64_FORMAT ": send: %s", session->connection->id,
                error ? error->message : "nothing sent");
      g_clear_error(&error);
      session->out.clear();
      return false;
    }
    sent += size_t(n);
  }
  session->out.clear();
  return true;
}

static void reply(Session *session, const Message &message) {
  session->writer.write(message, &session->out);
}

static void post_publish_message(GstElement *element, const char *state, const std::string &reason,
                                 const Session &session) {
  GstStructure *s = gst_structure_new(
      "rtmpserversrc-publish", "state", G_TYPE_STRING, state, "reason", G_TYPE_STRING, reason.c_str(),
      "stream-key", G_TYPE_STRING, session.key.c_str(), "application", G_TYPE_STRING,
      session.application.c_str(), "address", G_TYPE_STRING, session.connection->address.c_str(), NULL);
  gst_element_post_message(element, gst_message_new_element(GST_OBJECT(element), s));
}

/* A reference to the endpoint's element while it is started, else NULL. */
static GstElement *element_of(Endpoint *endpoint) {
  std::lock_guard<std::mutex> lock(endpoint->lock);
  return endpoint->started && endpoint->element ? GST_ELEMENT(gst_object_ref(endpoint->element)) : NULL;
}

static void refuse(Session *session, uint32_t stream_id, const std::string &stream_name,
                   const std::string &why) {
  GST_INFO("connection %" G_GUINT64_FORMAT " from %s: publish to %s/%s refused: %s", session->connection->id,
           session->connection->address.c_str(), session->application.c_str(), stream_name.c_str(),
           why.c_str());
  reply(session, make_publish_bad_name(stream_id, stream_name, why));
  session->refused = true;
}

static void handle_publish(Session *session, const Message &m, const Amf0Command &command) {
  PublishRequest request;
  std::string error;
  if (!parse_publish(command, &request, &error)) {
    refuse(session, m.stream_id, "", "malformed publish: " + error);
    return;
  }
  session->key = request.key.name;
  if (session->endpoint) {
    refuse(session, m.stream_id, request.stream_name, "this connection already publishes");
    return;
  }
  std::shared_ptr<Endpoint> endpoint =
      session->connection->listener->route(session->application, session->key);
  GstElement *element = endpoint ? element_of(endpoint.get()) : NULL;
  if (!element) {
    refuse(session, m.stream_id, request.stream_name, "unknown application or stream key");
    return;
  }
  gboolean allowed = TRUE;
  g_signal_emit(element, signals[SIGNAL_AUTHORIZE], 0, request.stream_name.c_str(),
                session->connection->address.c_str(), &allowed);
  std::string why;
  if (!allowed) {
    why = "not authorized";
  } else {
    std::lock_guard<std::mutex> lock(endpoint->lock);
    if (!endpoint->started)
      why = "not accepting publishers";
    else if (endpoint->ended)
      why = "the stream has ended";
    else if (endpoint->publisher)
      why = "already being published";
    else {
      endpoint->publisher = session->connection->id;
      endpoint->publisher_address = session->connection->address;
      endpoint->publisher_key = session->key;
      endpoint->bytes_received = 0;
      endpoint->messages = 0;
      endpoint->publishes++;
      endpoint->publish_started_us = g_get_monotonic_time();
      if (endpoint->header_written) endpoint->discont_next = true;
    }
  }
  if (!why.empty()) {
    refuse(session, m.stream_id, request.stream_name, why);
    gst_object_unref(element);
    return;
  }
  session->endpoint = endpoint;
  reply(session, make_stream_begin(m.stream_id));
  reply(session, make_publish_start(m.stream_id, request.stream_name));
  GST_INFO_OBJECT(element, "%s publishes %s/%s", session->connection->address.c_str(),
                  session->application.c_str(), session->key.c_str());
  post_publish_message(element, "started", "publish", *session);
  gst_object_unref(element);
}

static GstBuffer *make_flv_header(bool audio, bool video) {
  static const uint8_t header[13] = {'F', 'L', 'V', 1, 0, 0, 0, 0, 9, 0, 0, 0, 0};
  GstBuffer *buffer = gst_buffer_new_allocate(NULL, sizeof header, NULL);
  gst_buffer_fill(buffer, 0, header, sizeof header);
  uint8_t flags = uint8_t((audio ? 0x04 : 0) | (video ? 0x01 : 0));
  gst_buffer_fill(buffer, 4, &flags, 1);
  GST_BUFFER_FLAG_SET(buffer, GST_BUFFER_FLAG_HEADER);
  return buffer;
}

static GstBuffer *make_flv_tag(uint8_t type, int64_t timestamp_ms, std::span<const uint8_t> payload) {
  size_t size = 11 + payload.size() + 4;
  GstBuffer *buffer = gst_buffer_new_allocate(NULL, size, NULL);
  GstMapInfo map;
  gst_buffer_map(buffer, &map, GST_MAP_WRITE);
  uint8_t *p = map.data;
  uint32_t length = uint32_t(payload.size());
  uint32_t ts = uint32_t(timestamp_ms);
  p[0] = type;
  onair::put_u24(p + 1, length);
  /* the timestamp's low 24 bits, then its high 8 ("TimestampExtended") */
  onair::put_u24(p + 4, ts);
  p[7] = uint8_t(ts >> 24);
  onair::put_u24(p + 8, 0); /* stream id */
  if (!payload.empty()) memcpy(p + 11, payload.data(), payload.size());
  uint32_t previous = uint32_t(11 + payload.size());
  onair::put_u32(p + 11 + payload.size(), previous);
  gst_buffer_unmap(buffer, &map);
  GST_BUFFER_PTS(buffer) = GST_BUFFER_DTS(buffer) = timestamp_ms * GST_MSECOND;
  return buffer;
}

/* Running time now on the element's clock, in ms, or -1 without a clock. */
/* Audio or video carrying media, as opposed to a codec configuration
 * (AVC/HEVC/AAC sequence header) or an end-of-sequence marker. */
static bool is_coded_media(uint8_t type, std::span<const uint8_t> payload) {
  if (payload.size() < 2) return false;
  if (type == 9) {
    if (payload[0] & 0x80) return (payload[0] & 0x0f) != 0 && (payload[0] & 0x0f) != 2; /* enhanced RTMP */
    uint8_t codec = payload[0] & 0x0f;
    if (codec == 7 || codec == 12) return payload[1] == 1;
    return true;
  }
  if (type == 8) return (payload[0] >> 4) != 10 || payload[1] == 1;
  return false;
}

static int64_t running_time_ms(GstElement *element) {
  GstClock *clock = gst_element_get_clock(element);
  if (!clock) return -1;
  GstClockTime now = gst_clock_get_time(clock);
  GstClockTime base = gst_element_get_base_time(element);
  gst_object_unref(clock);
  return now > base ? int64_t((now - base) / GST_MSECOND) : 0;
}

/* Queues one FLV tag for the element; waits while the queue is full.
 * Returns false when the session must end (element stopped, listener
 * closing). */
static bool queue_tag(Session *session, uint8_t type, uint32_t timestamp, std::span<const uint8_t> payload) {
  Endpoint *endpoint = session->endpoint.get();
  /* 32-bit publisher timestamps extended by their signed difference, which
   * also carries them over the 2^32 ms wrap */
  int64_t extended = timestamp;
  if (session->have_raw) extended = session->last_extended + int32_t(timestamp - session->last_raw);
  session->have_raw = true;
  session->last_raw = timestamp;
  session->last_extended = extended;

  GstElement *element = element_of(endpoint);
  int64_t now = element ? running_time_ms(element) : -1;
  if (element) gst_object_unref(element);
  int64_t tag_ms;
  bool late_jump = false;
  if (!session->have_first) {
    std::lock_guard<std::mutex> lock(endpoint->lock);
    int64_t earliest = std::max<int64_t>({now, endpoint->last_tag_ms, 0});
    if (!is_coded_media(type, payload)) {
      /* metadata and sequence headers come at connect time, before the
       * encoder's first frame: they do not set the timeline */
      tag_ms = earliest;
    } else {
      session->base_ms = std::max<int64_t>(earliest, endpoint->last_tag_ms + 1);
      session->first_ms = extended;
      session->have_first = true;
      tag_ms = session->base_ms;
    }
  } else {
    tag_ms = std::max<int64_t>(0, session->base_ms + (extended - session->first_ms));
    if (now >= 0 && now - tag_ms > LATE_REANCHOR_MS) {
      /* The publisher fell behind (its network stalled and it sent its
       * backlog, or its clock runs slow): its timeline moves forward to now,
       * with a discontinuity, rather than staying late for good. */
      GST_INFO("publisher %" G_GINT64_FORMAT " ms late: moving its timeline forward", now - tag_ms);
      session->base_ms += now - tag_ms;
      tag_ms = now;
      late_jump = true;
    }
  }
  GstBuffer *tag = make_flv_tag(type, tag_ms, payload);

  std::unique_lock<std::mutex> lock(endpoint->lock);
  while (!session->in_streaming_thread && endpoint->publisher == session->connection->id &&
         (endpoint->queue.size() >= MAX_QUEUED_BUFFERS || endpoint->queued_bytes >= MAX_QUEUED_BYTES) &&
         !g_cancellable_is_cancelled(session->connection->listener->cancellable()))
    endpoint->changed.wait_for(lock, std::chrono::milliseconds(100));
  if (endpoint->publisher != session->connection->id ||
      g_cancellable_is_cancelled(session->connection->listener->cancellable())) {
    gst_buffer_unref(tag);
    return false;
  }
  if (!endpoint->header_written) {
    bool audio = session->know_tracks ? session->has_audio : true;
    bool video = session->know_tracks ? session->has_video : true;
    GstBuffer *header = make_flv_header(audio || !video, video);
    GST_BUFFER_PTS(header) = GST_BUFFER_DTS(header) = tag_ms * GST_MSECOND;
    endpoint->queue.push_back(header);
    endpoint->queued_bytes += gst_buffer_get_size(header);
    endpoint->header_written = true;
  } else if (endpoint->discont_next || late_jump) {
    GST_BUFFER_FLAG_SET(tag, GST_BUFFER_FLAG_DISCONT);
    endpoint->discont_next = false;
  }
  endpoint->last_tag_ms = std::max(endpoint->last_tag_ms, tag_ms);
  endpoint->messages++;
  endpoint->queued_bytes += gst_buffer_get_size(tag);
  endpoint->queue.push_back(tag);
  /* the streaming thread sleeps only on an empty queue (when it reads the
   * connection itself, it is not asleep) */
  if (!session->in_streaming_thread && endpoint->queue.size() <= 2) endpoint->changed.notify_all();
  return true;
}

/* Returns false when the connection must close. */
static void end_publish(Session *session, const std::string &reason);

static bool handle_message(Session *session, const Message &m, std::string *reason) {
  std::string error;
  switch (m.type) {
    case MessageType::UserControl: {
      UserControl control;
      if (parse_user_control(m, &control, &error))
        if (std::optional<Message> pong = answer_ping(control)) reply(session, *pong);
      return true;
    }
    case MessageType::CommandAmf0:
    case MessageType::CommandAmf3: {
      Amf0Command command;
      if (!parse_command_message(m, &command, &error)) {
        *reason = "malformed command: " + error;
        return false;
      }
      if (command.name == "connect") {
        ConnectRequest connect;
        if (!parse_connect(command, &connect, &error)) {
          *reason = "malformed connect: " + error;
          return false;
        }
        std::string app = connect.app.substr(0, connect.app.find('?'));
        while (!app.empty() && app.back() == '/') app.pop_back();
        session->application = app;
        reply(session, make_window_ack_size(kDefaultWindowAckSize));
        reply(session, make_set_peer_bandwidth(kDefaultWindowAckSize, PeerBandwidthLimit::Dynamic));
        reply(session, make_set_chunk_size(4096));
        reply(session, make_connect_result(command.transaction_id));
      } else if (command.name == "createStream") {
        reply(session, make_create_stream_result(command.transaction_id, 1));
      } else if (command.name == "publish") {
        handle_publish(session, m, command);
      } else if (command.name == "FCUnpublish" || command.name == "deleteStream") {
        /* the publish ends here; the client closes the connection after
         * its last command, so it is read until then */
        if (session->endpoint) {
          reply(session, make_unpublish_success(m.stream_id ? m.stream_id : 1, session->key));
          end_publish(session, "unpublished");
          session->unpublished = true;
        }
      }
      /* releaseStream, FCPublish, _checkbw, ...: nothing to answer that a
       * publisher waits for */
      return true;
    }
    case MessageType::DataAmf0:
    case MessageType::DataAmf3: {
      if (!session->endpoint) return true;
      DataMessage data;
      if (!parse_data_message(m, &data, &error)) {
        GST_DEBUG("connection %" G_GUINT64_FORMAT ": ignoring data message: %s", session->connection->id,
                  error.c_str());
        return true;
      }
      if (const Amf0Value *metadata = data.metadata()) {
        session->know_tracks = true;
        session->has_video = metadata->find("videocodecid") || metadata->find("width");
        session->has_audio = metadata->find("audiocodecid") || metadata->find("audiosamplerate");
      }
      /* a script tag holds the handler name and its values, without the
       * @setDataFrame wrapper */
      std::vector<Amf0Value> values;
      values.push_back(Amf0Value::string(data.handler));
      values.insert(values.end(), data.values.begin(), data.values.end());
      std::vector<uint8_t> body = amf0_encode_all(values);
      if (!queue_tag(session, 18, m.timestamp, body)) {
        *reason = "element stopped";
        return false;
      }
      return true;
    }
    case MessageType::Aggregate: {
      /* several audio/video/data tags in one message (FMLE, Wowza relays) */
      std::vector<Message> parts;
      if (!split_aggregate(m, &parts, &error)) {
        *reason = "malformed aggregate message: " + error;
        return false;
      }
      for (const Message &part : parts)
        if (!handle_message(session, part, reason)) return false;
      return true;
    }
    case MessageType::Audio:
    case MessageType::Video:
      if (!session->endpoint || m.payload.empty()) return true;
      if (!queue_tag(session, uint8_t(m.type), m.timestamp, m.payload)) {
        *reason = "element stopped";
        return false;
      }
      return true;
    default:
      return true;
  }
}

static void end_publish(Session *session, const std::string &reason) {
  Endpoint *endpoint = session->endpoint.get();
  if (!endpoint) return;
  GstElement *element = element_of(endpoint);
  {
    std::lock_guard<std::mutex> lock(endpoint->lock);
    if (endpoint->publisher == session->connection->id) {
      endpoint->publisher = 0;
      endpoint->publish_ended_us = g_get_monotonic_time();
      if (endpoint->started && endpoint->settings.eos_on_disconnect && !endpoint->ended) {
        endpoint->queue.push_back(nullptr);
        endpoint->ended = true;
      }
      endpoint->changed.notify_all();
    }
  }
  if (element) {
    GST_INFO_OBJECT(element, "publisher %s of %s left: %s", session->connection->address.c_str(),
                    session->key.c_str(), reason.c_str());
    post_publish_message(element, "stopped", reason, *session);
    gst_object_unref(element);
  }
  session->endpoint.reset();
}

/* The reading of one connection: handshake, chunk stream, session. Its
 * thread runs it, except while the connection publishes: then the streaming
 * thread of the element it publishes to runs it, so that a message goes from
 * the socket into the pipeline on one thread, without waking another. */
namespace {
struct ConnectionLoop {
  Connection *connection;
  Session session;
  ServerHandshake handshake{uint32_t(g_get_monotonic_time() / 1000)};
  ChunkReader reader;
  std::vector<uint8_t> input = std::vector<uint8_t>(64 * 1024);
  gint64 connected = g_get_monotonic_time();
  gint64 last_data = connected;
  gint64 refused_at = 0;
  std::string reason;
  bool finished = false;

  explicit ConnectionLoop(Connection *c) : connection(c) { session.connection = c; }

  /* Waits up to `wait_us` for data (or for `interrupt`), and handles what
   * comes. Sets `finished` (and `reason`) when the connection must close. */
  void step(GCancellable *interrupt, gint64 wait_us);
  bool publishing_to(const Endpoint &endpoint) const { return endpoint.publisher == connection->id; }
};
}  // namespace

void ConnectionLoop::step(GCancellable *interrupt, gint64 wait_us) {
  GSocket *socket = connection->socket;
  GCancellable *cancellable = connection->listener->cancellable();
  gint64 now = g_get_monotonic_time();
  if (g_cancellable_is_cancelled(cancellable)) reason = "server stopped";
  if (reason.empty()) {
    if (refused_at) {
      if (now - refused_at > REFUSAL_LINGER_SECONDS * G_TIME_SPAN_SECOND) finished = true;
    } else if (session.endpoint) {
      guint timeout;
      bool still_publishing;
      {
        std::lock_guard<std::mutex> lock(session.endpoint->lock);
        timeout = session.endpoint->settings.timeout;
        still_publishing = publishing_to(*session.endpoint);
      }
      if (!still_publishing)
        reason = "element stopped";
      else if (now - last_data > gint64(timeout) * G_TIME_SPAN_SECOND)
        reason = "timeout";
    } else if (now - connected > PUBLISH_DEADLINE_SECONDS * G_TIME_SPAN_SECOND) {
      reason = "no publish in time";
    }
  }
  if (!reason.empty() || finished) {
    finished = true;
    return;
  }

  GError *error = NULL;
  if (!g_socket_condition_timed_wait(socket, G_IO_IN, wait_us, interrupt, &error)) {
    /* timed out, or interrupted (the element's unlock, the server
     * stopping): the checks above run again */
    if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT) &&
        !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      reason = error->message;
    g_error_free(error);
    finished = !reason.empty();
    return;
  }
  /* readable: this does not wait (no cancellable to poll) */
  gssize n = g_socket_receive(socket, (gchar *)input.data(), input.size(), NULL, &error);
  if (n <= 0) {
    reason = n == 0 ? "disconnected" : error->message;
    g_clear_error(&error);
    finished = true;
    return;
  }
  last_data = g_get_monotonic_time();
  if (refused_at) return; /* read and dropped until the client hangs up */

  std::span<const uint8_t> data(input.data(), size_t(n));
  std::vector<uint8_t> after_handshake;
  if (handshake.status() != HandshakeStatus::Done) {
    HandshakeStatus status = handshake.feed(data, &session.out, &after_handshake);
    if (status == HandshakeStatus::Error) {
      reason = "bad handshake: " + handshake.error();
      finished = true;
      return;
    }
    if (!send_pending(&session)) {
      reason = "cannot send";
      finished = true;
      return;
    }
    if (status != HandshakeStatus::Done) return;
    data = after_handshake;
  }
  std::vector<Message> messages;
  bool reader_ok = reader.push(data, &messages);
  if (session.endpoint) {
    std::lock_guard<std::mutex> lock(session.endpoint->lock);
    if (publishing_to(*session.endpoint)) session.endpoint->bytes_received += size_t(n);
  }
  for (const Message &m : messages) {
    if (!handle_message(&session, m, &reason) || session.refused) break;
  }
  uint32_t sequence;
  if (reader.take_acknowledgement(&sequence)) reply(&session, make_acknowledgement(sequence));
  if (!session.out.empty() && !send_pending(&session) && reason.empty()) reason = "cannot send";
  if (session.unpublished) {
    /* the client may still send deleteStream or publish again */
    session.unpublished = false;
    connected = g_get_monotonic_time();
  }
  if (session.refused && reason.empty() && !refused_at) {
    g_socket_shutdown(socket, FALSE, TRUE, NULL);
    refused_at = g_get_monotonic_time();
  }
  if (reason.empty() && !reader_ok) reason = "protocol error: " + reader.error();
  if (!reason.empty()) finished = true;
}

static void run_connection(Connection *connection) {
  g_socket_set_blocking(connection->socket, TRUE);
  g_socket_set_timeout(connection->socket, SEND_TIMEOUT_SECONDS);
  ConnectionLoop loop(connection);
  while (!loop.finished) {
    loop.step(connection->listener->cancellable(), POLL_INTERVAL_US);
    if (loop.finished || !loop.session.endpoint) continue;
    /* publishing: the element's streaming thread reads from here on, until
     * it gives the connection back */
    std::shared_ptr<Endpoint> endpoint = loop.session.endpoint;
    std::unique_lock<std::mutex> lock(endpoint->lock);
    if (!endpoint->started || !loop.publishing_to(*endpoint)) continue;
    endpoint->reading = &loop;
    endpoint->changed.notify_all();
    while (endpoint->reading == &loop) endpoint->given_back.wait(lock);
  }
  if (!loop.reason.empty())
    GST_DEBUG("connection %" G_GUINT64_FORMAT " from %s closed: %s", connection->id,
              connection->address.c_str(), loop.reason.c_str());
  end_publish(&loop.session, loop.reason.empty() ? "disconnected" : loop.reason);
  g_socket_close(connection->socket, NULL);
  connection->done = true;
}

/* ---- GstBaseSrc ----------------------------------------------------------- */

static gboolean gst_rtmp_server_src_start(GstBaseSrc *src) {
  GstRtmpServerSrc *self = GST_RTMP_SERVER_SRC(src);
  Settings settings;
  {
    std::lock_guard<std::mutex> lock(self->priv->settings_lock);
    settings = self->priv->settings;
  }
  GError *error = NULL;
  std::shared_ptr<Listener> listener = Listener::acquire(settings.address, settings.port, &error);
  if (!listener) {
    GST_ELEMENT_ERROR(
        self, RESOURCE, OPEN_READ,
        ("Could not listen for RTMP on %s port %u: %s", settings.address.c_str(), settings.port,
         error ? error->message : "unknown error"),
        ("Check that no other program uses the port and that the address is one of this host's."));
    g_clear_error(&error);
    return FALSE;
  }
  std::shared_ptr<Endpoint> &endpoint = self->priv->endpoint;
  {
    std::lock_guard<std::mutex> lock(endpoint->lock);
    endpoint->clear_queue();
    endpoint->settings = settings;
    endpoint->element = GST_ELEMENT(self);
    endpoint->started = true;
    endpoint->flushing = false;
    endpoint->publisher = 0;
    endpoint->reading = nullptr;
    endpoint->ended = false;
    endpoint->header_written = false;
    endpoint->discont_next = false;
    endpoint->last_tag_ms = -1;
  }
  if (!listener->add(endpoint)) {
    GST_ELEMENT_ERROR(
        self, RESOURCE, SETTINGS,
        ("Another rtmpserversrc already receives application \"%s\" stream key \"%s\" on %s "
         "port %u",
         settings.application.c_str(), settings.stream_key ? settings.stream_key->c_str() : "(any)",
         settings.address.c_str(), settings.port),
        ("Give each element on a shared port its own application or stream-key."));
    {
      std::lock_guard<std::mutex> lock(endpoint->lock);
      endpoint->started = false;
      endpoint->element = nullptr;
    }
    Listener::release(&listener);
    return FALSE;
  }
  self->priv->listener = listener;
  return TRUE;
}

static gboolean gst_rtmp_server_src_stop(GstBaseSrc *src) {
  GstRtmpServerSrc *self = GST_RTMP_SERVER_SRC(src);
  std::shared_ptr<Endpoint> &endpoint = self->priv->endpoint;
  if (self->priv->listener) self->priv->listener->remove(endpoint);
  {
    std::lock_guard<std::mutex> lock(endpoint->lock);
    endpoint->started = false;
    endpoint->element = nullptr;
    endpoint->publisher = 0;     /* its connection sees this and closes */
    endpoint->reading = nullptr; /* given back to its thread (the streaming thread has stopped) */
    endpoint->clear_queue();
    endpoint->changed.notify_all();
    endpoint->given_back.notify_all();
  }
  Listener::release(&self->priv->listener);
  return TRUE;
}

static gboolean gst_rtmp_server_src_unlock(GstBaseSrc *src) {
  Endpoint *endpoint = GST_RTMP_SERVER_SRC(src)->priv->endpoint.get();
  std::lock_guard<std::mutex> lock(endpoint->lock);
  endpoint->flushing = true;
  g_cancellable_cancel(GST_RTMP_SERVER_SRC(src)->priv->cancellable);
  endpoint->changed.notify_all();
  return TRUE;
}

static gboolean gst_rtmp_server_src_unlock_stop(GstBaseSrc *src) {
  Endpoint *endpoint = GST_RTMP_SERVER_SRC(src)->priv->endpoint.get();
  std::lock_guard<std::mutex> lock(endpoint->lock);
  endpoint->flushing = false;
  g_cancellable_reset(GST_RTMP_SERVER_SRC(src)->priv->cancellable);
  return TRUE;
}

static gboolean gst_rtmp_server_src_query(GstBaseSrc *src, GstQuery *query) {
  if (GST_QUERY_TYPE(query) == GST_QUERY_LATENCY) {
    GstRtmpServerSrc *self = GST_RTMP_SERVER_SRC(src);
    guint latency;
    {
      std::lock_guard<std::mutex> lock(self->priv->settings_lock);
      latency = self->priv->settings.latency;
    }
    gst_query_set_latency(query, TRUE, latency * GST_MSECOND, GST_CLOCK_TIME_NONE);
    return TRUE;
  }
  return GST_BASE_SRC_CLASS(parent_class)->query(src, query);
}

static GstFlowReturn gst_rtmp_server_src_create(GstPushSrc *src, GstBuffer **buffer) {
  GstRtmpServerSrcPrivate *priv = GST_RTMP_SERVER_SRC(src)->priv;
  Endpoint *endpoint = priv->endpoint.get();
  std::unique_lock<std::mutex> lock(endpoint->lock);
  while (endpoint->queue.empty() && !endpoint->flushing) {
    ConnectionLoop *loop = endpoint->reading;
    if (!loop) {
      endpoint->changed.wait(lock);
      continue;
    }
    /* the publisher's connection: read here, its messages queued */
    lock.unlock();
    loop->session.in_streaming_thread = true;
    loop->step(priv->cancellable, POLL_INTERVAL_US);
    loop->session.in_streaming_thread = false;
    lock.lock();
    if (endpoint->reading == loop && (loop->finished || !loop->publishing_to(*endpoint))) {
      /* closing, or its publish ended: back to its own thread */
      endpoint->reading = nullptr;
      endpoint->given_back.notify_all();
    }
  }
  if (endpoint->flushing) return GST_FLOW_FLUSHING;
  if (!endpoint->queue.front()) {
    endpoint->queue.pop_front();
    endpoint->changed.notify_all();
    GST_INFO_OBJECT(src, "publisher left, end of stream");
    return GST_FLOW_EOS;
  }
  /* One buffer per call, the next ones taken at once by the next calls (the
   * queue is not empty: no wait). Not a buffer list through
   * gst_base_src_submit_buffer_list(): GstBaseSrc 1.22 unrefs the NULL
   * buffer of such a create() when it comes back to find the element going
   * from PLAYING to PAUSED and then down (a GStreamer-CRITICAL, seen when a
   * pipeline stopped while a publisher sent). */
  bool was_full = endpoint->queue.size() >= MAX_QUEUED_BUFFERS || endpoint->queued_bytes >= MAX_QUEUED_BYTES;
  *buffer = endpoint->queue.front();
  endpoint->queue.pop_front();
  endpoint->queued_bytes -= gst_buffer_get_size(*buffer);
  if (was_full) endpoint->changed.notify_all();
  return GST_FLOW_OK;
}
