/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "channels/supervisor.h"

#include "onairpipeline.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <set>

namespace onair::channels {

namespace {

/* Parameters that the daemon sets for every run; a channel may not. */
const std::set<std::string> daemon_parameters = {"output", "stream-key"};

/* A parameters object as pipeline values: strings as they are, numbers
 * and booleans as text; anything else is an error naming the member. */
pipeline::Values values_of(JsonNode *parameters, std::vector<ParameterError> *errors) {
  pipeline::Values values;
  if (!parameters || !JSON_NODE_HOLDS_OBJECT(parameters)) return values;
  JsonObject *object = json_node_get_object(parameters);
  JsonObjectIter iter;
  const gchar *name;
  JsonNode *node;
  json_object_iter_init(&iter, object);
  while (json_object_iter_next(&iter, &name, &node)) {
    std::string field = std::string("parameters.") + name;
    if (!JSON_NODE_HOLDS_VALUE(node)) {
      if (errors) errors->push_back({field, "must be a string, a number or a boolean"});
      continue;
    }
    switch (json_node_get_value_type(node)) {
      case G_TYPE_STRING:
        values[name] = json_node_get_string(node);
        break;
      case G_TYPE_BOOLEAN:
        values[name] = json_node_get_boolean(node) ? "true" : "false";
        break;
      case G_TYPE_INT64:
        values[name] = std::to_string(json_node_get_int(node));
        break;
      default: {
        gchar buffer[G_ASCII_DTOSTR_BUF_SIZE];
        values[name] = g_ascii_dtostr(buffer, sizeof buffer, json_node_get_double(node));
      }
    }
  }
  return values;
}

/* The channel's reactions element: named "reactions" and made by that
 * factory (a pipeline may still have an identity of that name); a new
 * reference, or nullptr. */
GstElement *reactions_element(GstElement *pipeline) {
  GstElement *element = gst_bin_get_by_name(GST_BIN(pipeline), "reactions");
  if (!element) return nullptr;
  GstElementFactory *factory = gst_element_get_factory(element);
  if (factory && strcmp(GST_OBJECT_NAME(factory), "reactions") == 0) return element;
  gst_object_unref(element);
  return nullptr;
}

/* The pipeline's elements made by `factory`, below every bin. */
std::vector<GstElement *> elements_of(GstElement *pipeline, const char *factory) {
  std::vector<GstElement *> found;
  GstIterator *iter = gst_bin_iterate_recurse(GST_BIN(pipeline));
  GValue item = G_VALUE_INIT;
  bool done = false;
  while (!done) {
    switch (gst_iterator_next(iter, &item)) {
      case GST_ITERATOR_OK: {
        auto *element = GST_ELEMENT(g_value_get_object(&item));
        GstElementFactory *made_by = gst_element_get_factory(element);
        if (made_by && strcmp(GST_OBJECT_NAME(made_by), factory) == 0)
          found.push_back(GST_ELEMENT(gst_object_ref(element)));
        g_value_reset(&item);
        break;
      }
      case GST_ITERATOR_RESYNC:
        for (GstElement *element : found) gst_object_unref(element);
        found.clear();
        gst_iterator_resync(iter);
        break;
      default:
        done = true;
    }
  }
  g_value_unset(&item);
  gst_iterator_free(iter);
  return found;
}

void unref_all(std::vector<GstElement *> &elements) {
  for (GstElement *element : elements) gst_object_unref(element);
  elements.clear();
}

/* The frames entering the ladder, counted by a pad probe on a streaming thread. */
struct Counters {
  std::atomic<uint64_t> frames{0};
};

GstPadProbeReturn count_frame(GstPad *, GstPadProbeInfo *info, gpointer data) {
  auto *counters = static_cast<std::shared_ptr<Counters> *>(data);
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER)
    (*counters)->frames.fetch_add(1, std::memory_order_relaxed);
  else if (GstBufferList *list = GST_PAD_PROBE_INFO_BUFFER_LIST(info))
    (*counters)->frames.fetch_add(gst_buffer_list_length(list), std::memory_order_relaxed);
  return GST_PAD_PROBE_OK;
}

/* A publish check handed from an RTMP connection thread to the main loop. */
struct KeyCheck {
  GMutex lock;
  GCond answered;
  bool done = false;
  bool accepted = false;
  KeyCheck() {
    g_mutex_init(&lock);
    g_cond_init(&answered);
  }
  ~KeyCheck() {
    g_mutex_clear(&lock);
    g_cond_clear(&answered);
  }
  void answer(bool value) {
    g_mutex_lock(&lock);
    accepted = value;
    done = true;
    g_cond_signal(&answered);
    g_mutex_unlock(&lock);
  }
};

}  // namespace

struct Supervisor::Runner {
  store::Channel channel;
  std::string state = "stopped";
  std::string error;
  bool wanted = false;   /* its desired state is running */
  bool stopping = false; /* an EOS was sent to finish the playlists */
  /* A liveinput shows its slate (it starts on it until its input delivers). */
  bool on_slate = false;
  GstElement *pipeline = nullptr;
  guint bus_watch = 0;
  guint restart_timer = 0;
  guint stop_timer = 0;
  gint64 restart_at_us = 0;
  gint64 started_us = 0;
  int failures = 0;
  /* Each run is a new broadcast, written to its own directory. */
  std::optional<std::string> video_id;
  std::set<std::string> renditions;
  std::vector<std::string> reaction_kinds; /* of this run's reactions element */
  std::shared_ptr<Counters> counters = std::make_shared<Counters>();
  uint64_t last_frames = 0;
  gint64 last_stats_us = 0;
  Stats stats;
  /* A run is identified so that late callbacks of an older one are ignored. */
  uint64_t generation = 0;
  /* Cleared when the runner goes; the authorize handlers check it on the main loop. */
  std::shared_ptr<std::atomic<bool>> alive = std::make_shared<std::atomic<bool>>(true);
  /* The news flashes handed to this run's newsflash: element item id <->
   * row id. `flash` is the element (compared, not referenced: it lives as
   * long as the pipeline). */
  GstElement *flash = nullptr;
  std::map<guint64, std::string> flash_rows;
  std::map<std::string, guint64> flash_items;
  /* Reactions waiting for the next hand-over: count per kind, and the kinds
   * of super reactions in order. */
  std::map<std::string, guint> reactions;
  std::vector<std::string> super_reactions;
};

Supervisor::Supervisor(db::Database &database, Settings settings)
    : database_(database),
      settings_(std::move(settings)),
      store_(database),
      ad_breaks_(database),
      news_flashes_(database) {
  stats_timer_ = g_timeout_add_seconds_full(
      G_PRIORITY_DEFAULT, 1,
      [](gpointer self) -> gboolean {
        auto *supervisor = static_cast<Supervisor *>(self);
        for (auto &[id, runner] : supervisor->runners_) supervisor->refresh_stats(*runner);
        return G_SOURCE_CONTINUE;
      },
      this, nullptr);
}

Supervisor::~Supervisor() {
  shutdown();
  g_source_remove(stats_timer_);
  if (reactions_timer_) g_source_remove(reactions_timer_);
}

std::string Supervisor::pipeline_path(const std::string &pipeline) const {
  return settings_.pipelines_dir + "/" + pipeline + ".pipeline";
}

std::vector<ParameterError> Supervisor::validate(const std::string &pipeline, JsonNode *parameters) const {
  std::vector<ParameterError> errors;
  if (pipeline.empty() || pipeline.find('/') != std::string::npos || pipeline[0] == '.') {
    errors.push_back({"pipeline", "must name a pipeline file of the daemon (test-card, live-abr, ...)"});
    return errors;
  }
  pipeline::Loaded loaded = pipeline::load(pipeline_path(pipeline));
  if (!loaded.file) {
    bool missing = !g_file_test(pipeline_path(pipeline).c_str(), G_FILE_TEST_EXISTS);
    errors.push_back({"pipeline", missing ? "no such pipeline file in " + settings_.pipelines_dir
                                          : loaded.errors.front().format()});
    return errors;
  }
  pipeline::Values values = values_of(parameters, &errors);
  for (const std::string &name : daemon_parameters) {
    if (values.count(name)) errors.push_back({"parameters." + name, "is set by the daemon"});
    /* Stand-ins, so that resolve() checks the rest. */
    if (loaded.file->find_parameter(name)) values[name] = name == "output" ? "/" : "key";
  }
  pipeline::Resolved resolved = pipeline::resolve(*loaded.file, values);
  for (const pipeline::Diagnostic &diagnostic : resolved.errors)
    errors.push_back(
        {diagnostic.subject.empty() ? "parameters" : "parameters." + diagnostic.subject, diagnostic.message});
  return errors;
}

std::string Supervisor::publish_url(const store::Channel &channel, const std::string &host) const {
  pipeline::Loaded loaded = pipeline::load(pipeline_path(channel.pipeline));
  if (!loaded.file || !loaded.file->find_parameter("stream-key") || !loaded.file->find_parameter("rtmp-port"))
    return {};
  pipeline::Values values = values_of(channel.parameters.get(), nullptr);
  std::string port = values.count("rtmp-port") ? values["rtmp-port"] : std::to_string(settings_.rtmp_port);
  std::string application = values.count("application") ? values["application"] : "live";
  return "rtmp://" + host + ":" + port + "/" + application + "/" + channel.stream_key;
}

void Supervisor::boot() {
  /* Broadcasts left live by a daemon that did not stop cleanly are over. */
  static constexpr db::Statement end_stale{
      "channels_end_stale_broadcasts",
      "UPDATE videos SET status = 'ended', ended_at = now(), "
      "duration_ms = (extract(epoch FROM now() - started_at) * 1000)::bigint "
      "WHERE kind = 'live' AND status = 'live'"};
  /* ... and no channel runs until this daemon runs it. */
  static constexpr db::Statement reset_states{
      "channels_reset_states", "UPDATE channels SET state = 'stopped' WHERE state <> 'stopped'"};
  /* Ad breaks of runs that are over are closed too. */
  ad_breaks_.close_open("", std::nullopt, [](const db::Error &error, bool) {
    if (error) g_warning("cannot close the ad breaks of past runs: %s", error.describe().c_str());
  });
  /* News flashes shown by past runs wait for the next. */
  news_flashes_.requeue_showing("", [](const db::Error &error, bool) {
    if (error) g_warning("cannot requeue the news flashes of past runs: %s", error.describe().c_str());
  });
  db::Command reset = db::Command::prepared(reset_states, {});
  db::Command ended = db::Command::prepared(end_stale, {});
  database_.transaction({reset, ended}, [this](const db::TransactionResult &) {
    store_.list_to_run([this](const db::Error &error, std::vector<store::Channel> channels) {
      if (error) {
        g_warning("cannot read the channels to run: %s; retrying in 2 s", error.describe().c_str());
        g_timeout_add_seconds_full(
            G_PRIORITY_DEFAULT, 2,
            [](gpointer self) -> gboolean {
              static_cast<Supervisor *>(self)->boot();
              return G_SOURCE_REMOVE;
            },
            this, nullptr);
        return;
      }
      for (const store::Channel &channel : channels) run(channel);
    });
  });
}

void Supervisor::run(const store::Channel &channel) {
  auto &runner = runners_[channel.id];
  if (!runner) runner = std::make_shared<Runner>();
  runner->channel = channel;
  runner->wanted = true;
  if (runner->pipeline || runner->restart_timer) return;
  runner->failures = 0;
  runner->stats.restarts = 0;
  start(runner);
}

void Supervisor::reconfigure(const store::Channel &channel) {
  auto found = runners_.find(channel.id);
  if (found == runners_.end()) return;
  std::shared_ptr<Runner> runner = found->second;
  runner->channel = channel;
  if (!runner->wanted) return;
  teardown(*runner, "ended");
  if (runner->restart_timer) g_source_remove(runner->restart_timer);
  runner->restart_timer = 0;
  runner->failures = 0;
  start(runner);
}

void Supervisor::stop(const std::string &id) {
  auto found = runners_.find(id);
  if (found == runners_.end()) {
    store_.set_state(id, "stopped", {}, [](const db::Error &, bool) {});
    return;
  }
  std::shared_ptr<Runner> runner = found->second;
  runner->wanted = false;
  if (runner->restart_timer) g_source_remove(runner->restart_timer);
  runner->restart_timer = 0;
  runner->restart_at_us = 0;
  if (!runner->pipeline) {
    set_state(*runner, "stopped");
    runners_.erase(id);
    return;
  }
  if (runner->stopping) return;
  /* EOS lets abrsink finish the playlists (ENDLIST, a static MPD); the
   * timer ends the run should the pipeline not drain in time. */
  runner->stopping = true;
  gst_element_send_event(runner->pipeline, gst_event_new_eos());
  struct Stop {
    Supervisor *self;
    std::string id;
    uint64_t generation;
  };
  runner->stop_timer = g_timeout_add_full(
      G_PRIORITY_DEFAULT, settings_.stop_timeout_us / 1000,
      [](gpointer data) -> gboolean {
        auto *stop = static_cast<Stop *>(data);
        auto found = stop->self->runners_.find(stop->id);
        if (found != stop->self->runners_.end() && found->second->generation == stop->generation) {
          std::shared_ptr<Runner> runner = found->second;
          runner->stop_timer = 0;
          stop->self->teardown(*runner, "ended");
          stop->self->set_state(*runner, "stopped");
          stop->self->runners_.erase(stop->id);
        }
        return G_SOURCE_REMOVE;
      },
      new Stop{this, id, runner->generation}, [](gpointer data) { delete static_cast<Stop *>(data); });
}

void Supervisor::shutdown() {
  for (auto &[id, runner] : runners_) {
    if (runner->restart_timer) g_source_remove(runner->restart_timer);
    runner->restart_timer = 0;
    if (runner->pipeline) {
      /* Bounded: a live pipeline drains its last segment quickly. */
      gst_element_send_event(runner->pipeline, gst_event_new_eos());
      GstBus *bus = gst_element_get_bus(runner->pipeline);
      GstMessage *message = gst_bus_timed_pop_filtered(
          bus, 3 * GST_SECOND, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
      if (message) gst_message_unref(message);
      gst_object_unref(bus);
    }
    /* The database is going too: the broadcasts are closed at the next boot. */
    runner->video_id.reset();
    teardown(*runner, "ended");
  }
  runners_.clear();
}

std::optional<Runtime> Supervisor::runtime(const std::string &id) const {
  auto found = runners_.find(id);
  if (found == runners_.end()) return std::nullopt;
  const Runner &runner = *found->second;
  Runtime runtime;
  runtime.state = runner.state;
  runtime.error = runner.error;
  runtime.video_id = runner.video_id;
  runtime.stats = runner.stats;
  runtime.restart_at_us = runner.restart_at_us;
  runtime.reaction_kinds = runner.reaction_kinds;
  return runtime;
}

std::map<std::string, int> Supervisor::count_by_state() const {
  std::map<std::string, int> counts;
  for (const auto &[id, runner] : runners_) counts[runner->state]++;
  return counts;
}

std::map<std::string, Stats> Supervisor::stats_by_channel() const {
  std::map<std::string, Stats> stats;
  for (const auto &[id, runner] : runners_)
    if (runner->pipeline) stats[id] = runner->stats;
  return stats;
}

void Supervisor::set_state(Runner &runner, const std::string &state, const std::string &error) {
  std::string previous = runner.state;
  if (!error.empty()) runner.error = error;
  if (state == previous && error.empty()) return;
  runner.state = state;
  store_.set_state(runner.channel.id, state, error, [](const db::Error &failure, bool) {
    if (failure && !failure.unavailable())
      g_warning("cannot record a channel state: %s", failure.describe().c_str());
  });
  if (on_state) on_state(runner.channel.id, state, previous, runner.error);
}

void Supervisor::start(const std::shared_ptr<Runner> &runner) {
  runner->generation++;
  runner->restart_at_us = 0;
  set_state(*runner, "starting");
  uint64_t generation = runner->generation;
  std::string id = runner->channel.id;
  store_.begin_broadcast(
      id, runner->channel.name, [this, id, generation](const db::Error &error, std::string video_id) {
        auto found = runners_.find(id);
        if (found == runners_.end() || found->second->generation != generation || !found->second->wanted) {
          /* Stopped meanwhile: the broadcast that was just made never ran. */
          if (!error) store_.update_broadcast(video_id, "ended", nullptr, [](const db::Error &, bool) {});
          return;
        }
        std::shared_ptr<Runner> runner = found->second;
        if (error) return fail(runner, "cannot record the broadcast: " + error.describe());
        runner->video_id = video_id;
        launch(runner);
      });
}

void Supervisor::launch(const std::shared_ptr<Runner> &runner) {
  const store::Channel &channel = runner->channel;
  pipeline::Loaded loaded = pipeline::load(pipeline_path(channel.pipeline));
  if (!loaded.file) {
    std::string why = loaded.errors.empty() ? "cannot read " + pipeline_path(channel.pipeline)
                                            : loaded.errors.front().format();
    return fail(runner, why);
  }
  pipeline::Values values = values_of(channel.parameters.get(), nullptr);
  std::string output = settings_.media_root + "/videos/" + *runner->video_id;
  values["output"] = output;
  if (loaded.file->find_parameter("stream-key")) values["stream-key"] = channel.stream_key;
  if (loaded.file->find_parameter("rtmp-port") && !values.count("rtmp-port"))
    values["rtmp-port"] = std::to_string(settings_.rtmp_port);
  if (loaded.file->find_parameter("address") && !values.count("address"))
    values["address"] = settings_.rtmp_address;
  if (loaded.file->find_parameter("channel-name") && !values.count("channel-name"))
    values["channel-name"] = channel.name;
  pipeline::Rendered rendered = pipeline::render(*loaded.file, values);
  if (!rendered.ok()) {
    std::string why;
    for (const pipeline::Diagnostic &diagnostic : rendered.errors)
      why += (why.empty() ? "" : "; ") + diagnostic.format();
    return fail(runner, why);
  }
  if (g_mkdir_with_parents(output.c_str(), 0755) != 0)
    return fail(runner, "cannot make " + output + ": " + g_strerror(errno));

  GError *error = nullptr;
  GstParseContext *context = gst_parse_context_new();
  GstElement *pipeline =
      gst_parse_launch_full(rendered.description.c_str(), context, GST_PARSE_FLAG_FATAL_ERRORS, &error);
  gst_parse_context_free(context);
  if (!pipeline) {
    std::string why =
        std::string("the pipeline does not build: ") + (error ? error->message : "unknown error");
    g_clear_error(&error);
    return fail(runner, why);
  }
  g_clear_error(&error);
  if (!GST_IS_PIPELINE(pipeline)) {
    GstElement *wrapper = gst_pipeline_new(nullptr);
    gst_bin_add(GST_BIN(wrapper), pipeline);
    pipeline = wrapper;
  }
  gst_object_ref_sink(pipeline);
  gst_object_set_name(GST_OBJECT(pipeline), ("channel-" + channel.id).c_str());
  runner->pipeline = pipeline;
  runner->stopping = false;
  runner->renditions.clear();
  runner->stats = Stats{.restarts = runner->stats.restarts};
  runner->counters = std::make_shared<Counters>();
  runner->last_frames = 0;
  runner->last_stats_us = g_get_monotonic_time();
  runner->started_us = g_get_monotonic_time();

  /* Elements made later (liveinput's source is made when it starts). */
  struct Added {
    Supervisor *self;
    std::weak_ptr<Runner> runner;
  };
  g_signal_connect_data(
      pipeline, "deep-element-added", G_CALLBACK(+[](GstBin *, GstBin *, GstElement *element, gpointer data) {
        auto *added = static_cast<Added *>(data);
        GstElementFactory *factory = gst_element_get_factory(element);
        if (!factory || strcmp(GST_OBJECT_NAME(factory), "rtmpserversrc") != 0) return;
        /* Possibly a streaming thread: hand it to the main loop to keep. */
        std::shared_ptr<Runner> runner = added->runner.lock();
        if (runner) added->self->connect_authorize(runner, element);
      }),
      new Added{this, runner}, [](gpointer data, GClosure *) { delete static_cast<Added *>(data); },
      static_cast<GConnectFlags>(0));
  for (GstElement *source : elements_of(pipeline, "rtmpserversrc")) {
    connect_authorize(runner, source);
    gst_object_unref(source);
  }

  std::vector<GstElement *> inputs = elements_of(pipeline, "liveinput");
  runner->on_slate = !inputs.empty();
  unref_all(inputs);

  /* The reactions the API takes for this channel are the ones its element counts. */
  runner->reaction_kinds.clear();
  if (GstElement *reactions = reactions_element(pipeline)) {
    gchar *kinds = nullptr;
    g_object_get(reactions, "kinds", &kinds, nullptr);
    gchar **split = g_strsplit(kinds ? kinds : "", ",", -1);
    for (gchar **kind = split; *kind; kind++) {
      g_strstrip(*kind);
      if (**kind) runner->reaction_kinds.emplace_back(*kind);
    }
    g_strfreev(split);
    g_free(kinds);
    gst_object_unref(reactions);
  }

  std::vector<GstElement *> ladders = elements_of(pipeline, "abrladder");
  if (!ladders.empty()) {
    if (GstPad *sink = gst_element_get_static_pad(ladders.front(), "sink")) {
      gst_pad_add_probe(
          sink, static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
          count_frame, new std::shared_ptr<Counters>(runner->counters),
          [](gpointer data) { delete static_cast<std::shared_ptr<Counters> *>(data); });
      gst_object_unref(sink);
    }
  }
  unref_all(ladders);

  struct Watch {
    Supervisor *self;
    std::weak_ptr<Runner> runner;
    uint64_t generation;
  };
  GstBus *bus = gst_element_get_bus(pipeline);
  runner->bus_watch = gst_bus_add_watch_full(
      bus, G_PRIORITY_DEFAULT,
      [](GstBus *, GstMessage *message, gpointer data) -> gboolean {
        auto *watch = static_cast<Watch *>(data);
        std::shared_ptr<Runner> runner = watch->runner.lock();
        if (runner && runner->generation == watch->generation) watch->self->on_message(runner, message);
        return G_SOURCE_CONTINUE;
      },
      new Watch{this, runner, runner->generation}, [](gpointer data) { delete static_cast<Watch *>(data); });
  gst_object_unref(bus);

  if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    /* The bus usually holds the reason; take it before tearing down. */
    GstBus *errors = gst_element_get_bus(pipeline);
    GstMessage *message = gst_bus_pop_filtered(errors, GST_MESSAGE_ERROR);
    gst_object_unref(errors);
    std::string why = "the pipeline does not start";
    if (message) {
      GError *failure = nullptr;
      gst_message_parse_error(message, &failure, nullptr);
      why += std::string(": ") + GST_OBJECT_NAME(GST_MESSAGE_SRC(message)) + ": " + failure->message;
      g_error_free(failure);
      gst_message_unref(message);
    }
    return fail(runner, why);
  }
}

void Supervisor::connect_authorize(const std::shared_ptr<Runner> &runner, GstElement *source) {
  struct Authorizer {
    Supervisor *self;
    std::string channel_id;
    std::shared_ptr<std::atomic<bool>> alive;
    GMainContext *context;
  };
  auto *authorizer = new Authorizer{this, runner->channel.id, runner->alive, database_.context()};
  g_signal_connect_data(
      source, "authorize",
      G_CALLBACK(+[](GstElement *, const gchar *stream_key, const gchar *, gpointer data) -> gboolean {
        auto *authorizer = static_cast<Authorizer *>(data);
        std::string key = stream_key ? stream_key : "";
        key = key.substr(0, key.find('?'));
        /* Shared by this thread and the main loop, whichever finishes last frees it. */
        auto check = std::make_shared<KeyCheck>();
        struct Ask {
          Authorizer *authorizer;
          std::string key;
          std::shared_ptr<KeyCheck> check;
          std::shared_ptr<std::atomic<bool>> alive;
        };
        g_main_context_invoke_full(
            authorizer->context, G_PRIORITY_HIGH,
            [](gpointer data) -> gboolean {
              auto *ask = static_cast<Ask *>(data);
              if (!ask->alive->load()) {
                ask->check->answer(false);
                return G_SOURCE_REMOVE;
              }
              std::shared_ptr<KeyCheck> check = ask->check;
              ask->authorizer->self->store_.key_is_valid(
                  ask->authorizer->channel_id, ask->key, [check](const db::Error &error, bool found) {
                    if (error) g_warning("cannot check a stream key: %s", error.describe().c_str());
                    check->answer(!error && found);
                  });
              return G_SOURCE_REMOVE;
            },
            new Ask{authorizer, key, check, authorizer->alive},
            [](gpointer data) { delete static_cast<Ask *>(data); });
        /* Fails closed: no answer within 5 s refuses the publish. */
        gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
        g_mutex_lock(&check->lock);
        while (!check->done)
          if (!g_cond_wait_until(&check->answered, &check->lock, deadline)) break;
        bool accepted = check->done && check->accepted;
        g_mutex_unlock(&check->lock);
        return accepted;
      }),
      authorizer, [](gpointer data, GClosure *) { delete static_cast<Authorizer *>(data); },
      static_cast<GConnectFlags>(0));
}

void Supervisor::on_message(const std::shared_ptr<Runner> &runner, GstMessage *message) {
  switch (GST_MESSAGE_TYPE(message)) {
    case GST_MESSAGE_ERROR: {
      GError *error = nullptr;
      gchar *debug = nullptr;
      gst_message_parse_error(message, &error, &debug);
      std::string why = std::string(GST_OBJECT_NAME(GST_MESSAGE_SRC(message))) + ": " + error->message;
      g_debug("channel %s: %s (%s)", runner->channel.id.c_str(), why.c_str(), debug ? debug : "");
      g_error_free(error);
      g_free(debug);
      fail(runner, why);
      break;
    }
    case GST_MESSAGE_EOS:
      if (runner->stopping) {
        if (runner->stop_timer) g_source_remove(runner->stop_timer);
        runner->stop_timer = 0;
        std::string id = runner->channel.id;
        teardown(*runner, "ended");
        set_state(*runner, "stopped");
        if (!runner->wanted) runners_.erase(id);
      } else {
        fail(runner, "the input ended (end of stream)");
      }
      break;
    case GST_MESSAGE_ELEMENT: {
      const GstStructure *s = gst_message_get_structure(message);
      if (gst_structure_has_name(s, "abrsink-segment")) {
        runner->stats.segments++;
        const char *rendition = gst_structure_get_string(s, "rendition");
        bool new_rendition = rendition && runner->renditions.insert(rendition).second;
        if (runner->state == "starting") {
          set_state(*runner, runner->on_slate ? "degraded" : "live",
                    runner->on_slate ? "no input yet: the slate is on" : "");
          /* On air, with a clock: the flashes still valid are shown again. */
          restore_flashes(*runner);
        }
        if (new_rendition && runner->video_id) {
          JsonArray *array = json_array_new();
          for (const std::string &name : runner->renditions) {
            JsonObject *object = json_object_new();
            json_object_set_string_member(object, "name", name.c_str());
            json_array_add_object_element(array, object);
          }
          JsonNode *node = json_node_init_array(json_node_alloc(), array);
          store_.update_broadcast(*runner->video_id, "live", node, [](const db::Error &, bool) {});
          json_node_unref(node);
        }
      } else if (gst_structure_has_name(s, "adsplice-break-start")) {
        record_break(*runner, s, true);
      } else if (gst_structure_has_name(s, "adsplice-break-end")) {
        record_break(*runner, s, false);
      } else if (gst_structure_has_name(s, "newsflash-item-started")) {
        record_flash(*runner, message, true);
      } else if (gst_structure_has_name(s, "newsflash-item-ended")) {
        record_flash(*runner, message, false);
      } else if (gst_structure_has_name(s, "liveinput-switch")) {
        const char *source = gst_structure_get_string(s, "source");
        bool live = g_strcmp0(source, "live") == 0;
        runner->on_slate = !live;
        if (live && runner->state == "degraded") set_state(*runner, "live");
        if (!live && runner->state == "live")
          set_state(*runner, "degraded", "the input is away: the slate is on");
      }
      break;
    }
    case GST_MESSAGE_WARNING: {
      GError *error = nullptr;
      gst_message_parse_warning(message, &error, nullptr);
      runner->error = std::string(GST_OBJECT_NAME(GST_MESSAGE_SRC(message))) + ": " + error->message;
      g_error_free(error);
      break;
    }
    default:
      break;
  }
}

namespace {

std::vector<std::string> strv_field(const GstStructure *s, const char *field) {
  std::vector<std::string> out;
  gchar **values = nullptr;
  if (gst_structure_has_field_typed(s, field, G_TYPE_STRV) &&
      gst_structure_get(s, field, G_TYPE_STRV, &values, NULL)) {
    for (gchar **value = values; value && *value; value++) out.emplace_back(*value);
    g_strfreev(values);
  }
  return out;
}

/* The adsplice's warning that came with a refusal: the action signal posted
 * it synchronously, so it is in the bus queue now. Warnings of other
 * elements taken on the way go back. */
std::string take_refusal(GstElement *pipeline, GstElement *element,
                         const char *fallback = "the ad splicer refused the request") {
  GstBus *bus = gst_element_get_bus(pipeline);
  std::vector<GstMessage *> others;
  std::string reason;
  while (GstMessage *message = gst_bus_pop_filtered(bus, GST_MESSAGE_WARNING)) {
    if (GST_MESSAGE_SRC(message) == GST_OBJECT(element)) {
      GError *error = nullptr;
      gst_message_parse_warning(message, &error, nullptr);
      reason = error ? error->message : "";
      g_clear_error(&error);
      gst_message_unref(message);
      break;
    }
    others.push_back(message);
  }
  for (GstMessage *message : others) gst_bus_post(bus, message);
  gst_object_unref(bus);
  return reason.empty() ? fallback : reason;
}

/* The pipeline's running time at `wall_us` (µs since the Unix epoch);
 * GST_CLOCK_TIME_NONE without a clock. */
GstClockTime running_time_at(GstElement *pipeline, int64_t wall_us) {
  GstClock *clock = gst_element_get_clock(pipeline);
  if (!clock) return GST_CLOCK_TIME_NONE;
  GstClockTime now = gst_clock_get_time(clock);
  gst_object_unref(clock);
  GstClockTime base = gst_element_get_base_time(pipeline);
  gint64 ahead_ns = (wall_us - g_get_real_time()) * GST_USECOND;
  gint64 at = gint64(now - base) + ahead_ns;
  return guint64(std::max<gint64>(at, 0));
}

/* The element named `name` if made by `factory`, else the pipeline's first
 * made by `factory` (a new reference), or nullptr. */
GstElement *named_or_first(GstElement *pipeline, const char *name, const char *factory) {
  GstElement *named = gst_bin_get_by_name(GST_BIN(pipeline), name);
  if (named) {
    GstElementFactory *made_by = gst_element_get_factory(named);
    if (made_by && strcmp(GST_OBJECT_NAME(made_by), factory) == 0) return named;
    gst_object_unref(named);
  }
  std::vector<GstElement *> found = elements_of(pipeline, factory);
  if (found.empty()) return nullptr;
  GstElement *element = GST_ELEMENT(gst_object_ref(found.front()));
  unref_all(found);
  return element;
}

}  // namespace

void Supervisor::record_break(Runner &runner, const GstStructure *s, bool start) {
  store::AdBreakEvent event;
  event.channel_id = runner.channel.id;
  event.video_id = runner.video_id;
  guint id = 0;
  gst_structure_get_uint(s, "id", &id);
  event.event_id = id;
  const char *source = gst_structure_get_string(s, "source");
  event.source = g_strcmp0(source, "scte35") == 0 ? "scte35" : "api";
  gdouble duration = -1;
  if (gst_structure_get_double(s, "duration", &duration) && duration > 0) event.duration = duration;
  if (start) {
    event.creatives = strv_field(s, "creatives");
    ad_breaks_.started(event, [id](const db::Error &error, bool) {
      if (error) g_warning("cannot record the start of ad break %u: %s", id, error.describe().c_str());
    });
    return;
  }
  const char *reason = gst_structure_get_string(s, "reason");
  event.reason = reason ? reason : "auto-return";
  gst_structure_get_double(s, "elapsed", &event.elapsed);
  event.creatives_played = strv_field(s, "creatives-played");
  ad_breaks_.ended(event, [id](const db::Error &error, bool) {
    if (error) g_warning("cannot record the end of ad break %u: %s", id, error.describe().c_str());
  });
}

GstElement *Supervisor::find_adsplice(const std::string &id, AdSpliceResult *why) const {
  auto found = runners_.find(id);
  if (found == runners_.end() || !found->second->pipeline ||
      (found->second->state != "live" && found->second->state != "degraded")) {
    *why = {AdSpliceResult::Outcome::not_running, "the channel is not on air on this daemon"};
    return nullptr;
  }
  GstElement *element = named_or_first(found->second->pipeline, "ads", "adsplice");
  if (!element)
    *why = {AdSpliceResult::Outcome::no_adsplice,
            "the channel's pipeline (" + found->second->channel.pipeline + ") has no adsplice element"};
  return element;
}

AdSpliceResult Supervisor::can_splice(const std::string &id) const {
  AdSpliceResult result;
  if (GstElement *element = find_adsplice(id, &result)) gst_object_unref(element);
  return result;
}

AdSpliceResult Supervisor::splice_out(const std::string &id, double duration, uint32_t event_id,
                                      std::optional<int64_t> start_us,
                                      const std::vector<std::string> &creatives) {
  AdSpliceResult result;
  GstElement *element = find_adsplice(id, &result);
  if (!element) return result;
  GstElement *pipeline = runners_.at(id)->pipeline;
  guint64 running_time = GST_CLOCK_TIME_NONE;
  if (start_us) {
    /* Running time = clock time - base time; the start is that far ahead of now. */
    running_time = running_time_at(pipeline, *start_us);
    if (!GST_CLOCK_TIME_IS_VALID(running_time)) {
      gst_object_unref(element);
      return {AdSpliceResult::Outcome::not_running, "the channel's pipeline has no clock yet"};
    }
  }
  std::vector<const gchar *> strv;
  for (const std::string &creative : creatives) strv.push_back(creative.c_str());
  strv.push_back(nullptr);
  gboolean accepted = FALSE;
  g_signal_emit_by_name(element, "splice-out-full", duration, guint(event_id), running_time,
                        creatives.empty() ? nullptr : strv.data(), &accepted);
  if (!accepted) result = {AdSpliceResult::Outcome::refused, take_refusal(pipeline, element)};
  gst_object_unref(element);
  return result;
}

AdSpliceResult Supervisor::splice_in(const std::string &id, uint32_t event_id) {
  AdSpliceResult result;
  GstElement *element = find_adsplice(id, &result);
  if (!element) return result;
  gboolean accepted = FALSE;
  g_signal_emit_by_name(element, "splice-in", guint(event_id), &accepted);
  if (!accepted)
    result = {AdSpliceResult::Outcome::refused, take_refusal(runners_.at(id)->pipeline, element)};
  gst_object_unref(element);
  return result;
}

AdSpliceResult Supervisor::cancel_break(const std::string &id, uint32_t event_id) {
  AdSpliceResult result;
  GstElement *element = find_adsplice(id, &result);
  if (!element) return result;
  gboolean accepted = FALSE;
  g_signal_emit_by_name(element, "cancel", guint(event_id), &accepted);
  if (!accepted)
    result = {AdSpliceResult::Outcome::refused, take_refusal(runners_.at(id)->pipeline, element)};
  gst_object_unref(element);
  return result;
}

GstElement *Supervisor::find_newsflash(const std::string &id, FlashResult *why) const {
  auto found = runners_.find(id);
  if (found == runners_.end() || !found->second->pipeline ||
      (found->second->state != "live" && found->second->state != "degraded")) {
    *why = {FlashResult::Outcome::not_running, "the channel is not on air on this daemon"};
    return nullptr;
  }
  GstElement *element = named_or_first(found->second->pipeline, "flash", "newsflash");
  if (!element)
    *why = {FlashResult::Outcome::no_newsflash,
            "the channel's pipeline (" + found->second->channel.pipeline + ") has no newsflash element"};
  return element;
}

FlashResult Supervisor::show_flash(const store::NewsFlash &flash) {
  FlashResult result;
  GstElement *element = find_newsflash(flash.channel_id, &result);
  if (!element) return result;
  Runner &runner = *runners_.at(flash.channel_id);
  if (runner.flash_items.count(flash.id)) {
    gst_object_unref(element);
    return result;
  }
  GstStructure *options = gst_structure_new("options", "priority", G_TYPE_INT, flash.priority, nullptr);
  if (flash.subtitle) gst_structure_set(options, "subtitle", G_TYPE_STRING, flash.subtitle->c_str(), nullptr);
  if (flash.loops) gst_structure_set(options, "loops", G_TYPE_UINT, guint(*flash.loops), nullptr);
  if (flash.fade)
    gst_structure_set(options, "fade", G_TYPE_UINT64, guint64(*flash.fade * GST_SECOND), nullptr);
  if (flash.dim) gst_structure_set(options, "dim", G_TYPE_DOUBLE, *flash.dim, nullptr);
  if (flash.expires_us) {
    /* What is left of it: on screen for that long from now, and dropped at
     * its expiry should it wait in the queue (or be pre-empted) meanwhile. */
    gint64 left_us = std::max<gint64>(*flash.expires_us - g_get_real_time(), 1);
    gst_structure_set(options, "duration", G_TYPE_UINT64, guint64(left_us) * GST_USECOND, nullptr);
    GstClockTime expires = running_time_at(runner.pipeline, *flash.expires_us);
    if (GST_CLOCK_TIME_IS_VALID(expires))
      gst_structure_set(options, "expires", G_TYPE_UINT64, expires, nullptr);
  }
  guint64 item = 0;
  g_signal_emit_by_name(element, "show", flash.layer.c_str(), flash.text.c_str(), options, &item);
  gst_structure_free(options);
  if (item) {
    runner.flash = element;
    runner.flash_rows[item] = flash.id;
    runner.flash_items[flash.id] = item;
  } else {
    result = {FlashResult::Outcome::refused,
              take_refusal(runner.pipeline, element, "the news flash element refused the flash")};
  }
  gst_object_unref(element);
  return result;
}

void Supervisor::remove_flashes(const std::string &channel_id, const std::vector<std::string> &flash_ids) {
  FlashResult why;
  GstElement *element = find_newsflash(channel_id, &why);
  if (!element) return;
  Runner &runner = *runners_.at(channel_id);
  for (const std::string &id : flash_ids) {
    auto found = runner.flash_items.find(id);
    if (found == runner.flash_items.end()) continue;
    gboolean removed = FALSE;
    g_signal_emit_by_name(element, "remove", found->second, &removed);
  }
  gst_object_unref(element);
}

void Supervisor::add_reaction(const std::string &channel_id, const std::string &kind, bool super) {
  auto found = runners_.find(channel_id);
  if (found == runners_.end() || !found->second->pipeline) return;
  Runner &runner = *found->second;
  if (super)
    runner.super_reactions.push_back(kind);
  else
    runner.reactions[kind]++;
  if (reactions_timer_) return;
  reactions_timer_ = g_timeout_add_full(
      G_PRIORITY_DEFAULT, reaction_interval_ms,
      [](gpointer self) -> gboolean {
        auto *supervisor = static_cast<Supervisor *>(self);
        supervisor->reactions_timer_ = 0;
        supervisor->flush_reactions();
        return G_SOURCE_REMOVE;
      },
      this, nullptr);
}

void Supervisor::flush_reactions() {
  for (auto &[id, runner] : runners_) {
    if (runner->reactions.empty() && runner->super_reactions.empty()) continue;
    std::map<std::string, guint> counts;
    std::vector<std::string> supers;
    counts.swap(runner->reactions);
    supers.swap(runner->super_reactions);
    if (!runner->pipeline || (runner->state != "live" && runner->state != "degraded")) continue;
    GstElement *element = reactions_element(runner->pipeline);
    if (!element) continue;
    for (const auto &[kind, count] : counts) {
      gboolean accepted = FALSE;
      g_signal_emit_by_name(element, "add", kind.c_str(), count, &accepted);
      if (accepted) reactions_drawn_ += count;
    }
    for (const std::string &kind : supers) {
      gboolean accepted = FALSE;
      g_signal_emit_by_name(element, "add-super", kind.c_str(), &accepted);
      if (accepted) reactions_drawn_++;
    }
    gst_object_unref(element);
  }
}

void Supervisor::restore_flashes(Runner &runner) {
  std::string id = runner.channel.id;
  uint64_t generation = runner.generation;
  news_flashes_.to_show(id, [this, id, generation](const db::Error &error, bool,
                                                   std::vector<store::NewsFlash> flashes) {
    if (error) {
      g_warning("channel %s: cannot read its news flashes: %s", id.c_str(), error.describe().c_str());
      return;
    }
    auto found = runners_.find(id);
    if (found == runners_.end() || found->second->generation != generation) return;
    for (const store::NewsFlash &flash : flashes) {
      FlashResult result = show_flash(flash);
      if (result.outcome != FlashResult::Outcome::refused) continue;
      g_message("channel %s: news flash %s refused: %s", id.c_str(), flash.id.c_str(), result.reason.c_str());
      std::string flash_id = flash.id;
      news_flashes_.ended(flash_id, "refused", [this, id, flash_id](const db::Error &error, bool changed) {
        if (error) g_warning("cannot record a refused news flash: %s", error.describe().c_str());
        if (changed && on_flash) on_flash(id, flash_id, "ended", "refused");
      });
    }
  });
}

void Supervisor::record_flash(Runner &runner, GstMessage *message, bool start) {
  if (!runner.flash || GST_MESSAGE_SRC(message) != GST_OBJECT(runner.flash)) return;
  const GstStructure *s = gst_message_get_structure(message);
  guint64 item = 0;
  gst_structure_get_uint64(s, "id", &item);
  auto found = runner.flash_rows.find(item);
  /* Not ours: an item of the element's text properties. */
  if (found == runner.flash_rows.end()) return;
  std::string flash_id = found->second;
  std::string channel_id = runner.channel.id;
  std::string reason;
  std::string state = "showing";
  if (!start) {
    const char *ended = gst_structure_get_string(s, "reason");
    reason = ended ? ended : "done";
    state = reason == "preempted" ? "queued" : "ended";
  }
  auto told = [this, channel_id, flash_id, state, reason](const db::Error &error, bool changed) {
    if (error)
      g_warning("cannot record news flash %s %s: %s", flash_id.c_str(), state.c_str(),
                error.describe().c_str());
    if (changed && on_flash) on_flash(channel_id, flash_id, state, state == "ended" ? reason : "");
  };
  if (state == "showing") {
    news_flashes_.started(flash_id, told);
  } else if (state == "queued") {
    news_flashes_.requeued(flash_id, told);
  } else {
    runner.flash_rows.erase(found);
    runner.flash_items.erase(flash_id);
    news_flashes_.ended(flash_id, reason, told);
  }
}

void Supervisor::refresh_stats(Runner &runner) {
  if (!runner.pipeline) return;
  gint64 now = g_get_monotonic_time();
  uint64_t frames = runner.counters->frames.load(std::memory_order_relaxed);
  double seconds = double(now - runner.last_stats_us) / G_USEC_PER_SEC;
  if (seconds > 0) runner.stats.fps = double(frames - runner.last_frames) / seconds;
  runner.last_frames = frames;
  runner.last_stats_us = now;
  runner.stats.frames = frames;
  runner.stats.uptime_s = (now - runner.started_us) / G_USEC_PER_SEC;
  runner.stats.renditions.assign(runner.renditions.begin(), runner.renditions.end());
  uint64_t dropped = 0;
  std::vector<GstElement *> rates = elements_of(runner.pipeline, "videorate");
  for (GstElement *rate : rates) {
    guint64 drops = 0;
    g_object_get(rate, "drop", &drops, nullptr);
    dropped += drops;
  }
  unref_all(rates);
  runner.stats.dropped_frames = dropped;
  runner.stats.input_bitrate.reset();
  runner.stats.publisher.reset();
  std::vector<GstElement *> sources = elements_of(runner.pipeline, "rtmpserversrc");
  for (GstElement *source : sources) {
    GstStructure *stats = nullptr;
    g_object_get(source, "stats", &stats, nullptr);
    if (!stats) continue;
    gboolean publishing = FALSE;
    guint64 bitrate = 0;
    gst_structure_get_boolean(stats, "publishing", &publishing);
    gst_structure_get_uint64(stats, "bitrate", &bitrate);
    if (publishing) {
      runner.stats.input_bitrate = bitrate;
      if (const char *address = gst_structure_get_string(stats, "address")) runner.stats.publisher = address;
    }
    gst_structure_free(stats);
  }
  unref_all(sources);
  /* the element the reactions go to (flush_reactions) */
  runner.stats.reactions_frames.reset();
  runner.stats.reactions_processing_ns.reset();
  if (GstElement *element = reactions_element(runner.pipeline)) {
    GstStructure *stats = nullptr;
    g_signal_emit_by_name(element, "get-stats", &stats);
    if (stats) {
      guint64 frames = 0, processing = 0;
      gst_structure_get_uint64(stats, "frames", &frames);
      gst_structure_get_uint64(stats, "processing-time", &processing);
      runner.stats.reactions_frames = frames;
      runner.stats.reactions_processing_ns = processing;
      gst_structure_free(stats);
    }
    gst_object_unref(element);
  }
}

void Supervisor::fail(const std::shared_ptr<Runner> &runner, const std::string &error) {
  g_message("channel %s (%s) failed: %s", runner->channel.name.c_str(), runner->channel.id.c_str(),
            error.c_str());
  bool was_stable = runner->started_us && g_get_monotonic_time() - runner->started_us >= settings_.stable_us;
  teardown(*runner, "failed");
  set_state(*runner, "failed", error);
  if (was_stable) runner->failures = 0;
  if (runner->wanted) schedule_restart(runner);
}

void Supervisor::schedule_restart(const std::shared_ptr<Runner> &runner) {
  gint64 delay = settings_.backoff_min_us;
  for (int i = 0; i < runner->failures && delay < settings_.backoff_max_us; i++) delay *= 2;
  delay = std::min(delay, settings_.backoff_max_us);
  runner->failures++;
  runner->restart_at_us = g_get_monotonic_time() + delay;
  struct Restart {
    Supervisor *self;
    std::weak_ptr<Runner> runner;
  };
  runner->restart_timer = g_timeout_add_full(
      G_PRIORITY_DEFAULT, delay / 1000,
      [](gpointer data) -> gboolean {
        auto *restart = static_cast<Restart *>(data);
        if (std::shared_ptr<Runner> runner = restart->runner.lock()) {
          runner->restart_timer = 0;
          if (runner->wanted) {
            runner->stats.restarts++;
            restart->self->start(runner);
          }
        }
        return G_SOURCE_REMOVE;
      },
      new Restart{this, runner}, [](gpointer data) { delete static_cast<Restart *>(data); });
}

void Supervisor::teardown(Runner &runner, const std::string &video_status) {
  runner.generation++;
  if (runner.bus_watch) g_source_remove(runner.bus_watch);
  runner.bus_watch = 0;
  if (runner.stop_timer) g_source_remove(runner.stop_timer);
  runner.stop_timer = 0;
  if (runner.pipeline) {
    gst_element_set_state(runner.pipeline, GST_STATE_NULL);
    gst_object_unref(runner.pipeline);
    runner.pipeline = nullptr;
  }
  runner.reaction_kinds.clear();
  /* Publish checks of the old run still queued are refused. */
  runner.alive->store(false);
  runner.alive = std::make_shared<std::atomic<bool>>(true);
  runner.stopping = false;
  runner.stats.fps = 0;
  runner.stats.uptime_s = 0;
  runner.stats.input_bitrate.reset();
  /* The element's breaks went with its pipeline. */
  ad_breaks_.close_open(runner.channel.id, runner.video_id, [](const db::Error &, bool) {});
  /* Its flashes wait for the next run. */
  runner.flash = nullptr;
  runner.flash_rows.clear();
  runner.flash_items.clear();
  news_flashes_.requeue_showing(runner.channel.id, [](const db::Error &, bool) {});
  if (runner.video_id) {
    /* A broadcast that wrote segments stays watchable as a recording; one
     * that failed before any is marked failed. */
    std::string status = video_status == "failed" && !runner.renditions.empty() ? "ended" : video_status;
    store_.update_broadcast(*runner.video_id, status, nullptr, [](const db::Error &, bool) {});
    runner.video_id.reset();
  }
}

}  // namespace onair::channels
