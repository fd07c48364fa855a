/* onair
 * Copyright (C) 2026 onair developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "db/database.h"
#include "store/ad_breaks.h"
#include "store/channels.h"
#include "store/news_flashes.h"

#include <gst/gst.h>
#include <json-glib/json-glib.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace onair::channels {

struct Settings {
  /* Where `<pipeline>.pipeline` files are found. */
  std::string pipelines_dir;
  /* Broadcasts are written to <media_root>/videos/<video id>. */
  std::string media_root;
  /* Given to pipelines that declare rtmp-port / address, unless the channel sets them. */
  int rtmp_port = 1935;
  std::string rtmp_address = "0.0.0.0";
  /* Restart delays double from min to max while a channel keeps failing;
   * a run that stayed up `stable_us` resets them. */
  gint64 backoff_min_us = G_USEC_PER_SEC;
  gint64 backoff_max_us = 60 * G_USEC_PER_SEC;
  gint64 stable_us = 30 * G_USEC_PER_SEC;
  /* How long a stop waits for the pipeline to finish its playlists (EOS). */
  gint64 stop_timeout_us = 5 * G_USEC_PER_SEC;
};

/* What a running channel measures, refreshed every second. */
struct Stats {
  /* The publisher's bitrate (bit/s), when the input reports one (RTMP). */
  std::optional<uint64_t> input_bitrate;
  std::optional<std::string> publisher;
  /* Frames per second entering the ladder. */
  double fps = 0;
  /* Frames dropped to keep the output rate (videorate drops, QoS). */
  uint64_t dropped_frames = 0;
  uint64_t frames = 0;
  /* Seconds since the pipeline started playing; 0 when not running. */
  int64_t uptime_s = 0;
  /* Renditions that have written a segment. */
  std::vector<std::string> renditions;
  uint64_t segments = 0;
  /* Restarts since the channel was started. */
  uint64_t restarts = 0;
  /* A pipeline with a reactions element (named "reactions", the one the
   * daemon hands reactions to): the frames it processed and the
   * CPU time it spent on them (its get-stats), since the pipeline started. */
  std::optional<uint64_t> reactions_frames;
  std::optional<uint64_t> reactions_processing_ns;
};

/* The supervisor's view of one channel. */
struct Runtime {
  std::string state = "stopped";
  std::string error; /* the last error, empty if none */
  std::optional<std::string> video_id;
  Stats stats;
  /* When the next restart is due (monotonic µs), 0 if none is. */
  gint64 restart_at_us = 0;
  /* The kinds its reactions element (named "reactions") counts, from its
   * `kinds` property; empty when its pipeline has none. */
  std::vector<std::string> reaction_kinds;
};

/* A parameter value at fault, for a 422 naming parameters.<name>. */
struct ParameterError {
  std::string field;
  std::string message;
};

/* The answer of a channel's adsplice to an ad break request. */
struct AdSpliceResult {
  enum class Outcome {
    done,
    /* This daemon does not run the channel, or it is not on air yet. */
    not_running,
    /* Its pipeline has no adsplice element. */
    no_adsplice,
    /* The element said no (a start in the past, an overlap, nothing to end). */
    refused,
  };
  Outcome outcome = Outcome::done;
  std::string reason;
  bool ok() const { return outcome == Outcome::done; }
};

/* The answer of a channel's newsflash to a flash. */
struct FlashResult {
  enum class Outcome {
    done,
    /* This daemon does not run the channel, or it is not on air yet: the
     * flash is shown when the channel goes on air. */
    not_running,
    /* Its pipeline has no newsflash element. */
    no_newsflash,
    /* The element said no (text too large for the picture, ...). */
    refused,
  };
  Outcome outcome = Outcome::done;
  std::string reason;
  bool ok() const { return outcome == Outcome::done; }
};

/* Runs channels: each is a pipeline file rendered with its parameters and
 * with what the daemon supplies (the output directory of the broadcast, the
 * stream key, the RTMP port), started, watched on its bus and restarted
 * with back-off when it fails. States: starting (until its first segment),
 * live, degraded (the input is away and the slate is on), failed (the
 * error is kept; a restart is scheduled), stopped. Every state change is
 * written to the database and announced through `on_state`.
 *
 * Everything runs on the main context: bus messages through a bus watch,
 * pad probes only count. A publish to an RTMP input is checked against the
 * database (the channel's current key, the channel meant to run) through
 * rtmpserversrc's authorize signal: its connection thread waits for the
 * main loop's answer, never touching the database itself. One channel
 * failing never touches another. */
class Supervisor {
 public:
  Supervisor(db::Database &database, Settings settings);
  ~Supervisor();
  Supervisor(const Supervisor &) = delete;
  Supervisor &operator=(const Supervisor &) = delete;

  /* Starts the channels whose desired state is running. */
  void boot();
  /* The channel should run: starts it unless it runs. */
  void run(const store::Channel &channel);
  /* The channel changed (parameters, key): restarts it if it runs. */
  void reconfigure(const store::Channel &channel);
  /* The channel should not run: stops it (EOS, then NULL). */
  void stop(const std::string &id);
  /* Stops every channel at once: the daemon is going away. */
  void shutdown();

  std::optional<Runtime> runtime(const std::string &id) const;
  /* Channels run here, by state. */
  std::map<std::string, int> count_by_state() const;
  /* The stats of every channel with a pipeline, by channel id (for /metrics). */
  std::map<std::string, Stats> stats_by_channel() const;

  /* Checks a pipeline name and a parameters object (an object of strings,
   * numbers and booleans) against the pipeline file, as if the channel
   * started: unknown pipeline, unknown parameter, wrong type, out of range,
   * missing, or one that the daemon sets itself. */
  std::vector<ParameterError> validate(const std::string &pipeline, JsonNode *parameters) const;
  /* rtmp://HOST:PORT/APPLICATION/KEY for a channel whose pipeline takes a
   * stream key; empty otherwise. `host` is what publishers connect to. */
  std::string publish_url(const store::Channel &channel, const std::string &host) const;

  /* Ad breaks, through the channel's adsplice (`name=ads`, else the first
   * adsplice of its pipeline) and its action signals. `start_us`: when the
   * break starts (µs since the Unix epoch, mapped to the pipeline's running
   * time); nullopt: on the next frame. Refusals carry the element's warning.
   * The element's break messages update the rows of store::AdBreakStore. */
  AdSpliceResult can_splice(const std::string &id) const;
  AdSpliceResult splice_out(const std::string &id, double duration, uint32_t event_id,
                            std::optional<int64_t> start_us, const std::vector<std::string> &creatives);
  AdSpliceResult splice_in(const std::string &id, uint32_t event_id);
  AdSpliceResult cancel_break(const std::string &id, uint32_t event_id);

  /* News flashes, through the channel's newsflash (`name=flash`, else the
   * first newsflash of its pipeline) and its action signals. A flash is
   * handed to the element once per run (again: nothing is done); one with
   * an expiry is shown for what is left of it. When a channel goes on air,
   * the flashes of store::NewsFlashStore still valid are shown again; the
   * element's item messages update their rows. */
  FlashResult show_flash(const store::NewsFlash &flash);
  /* Takes flashes off the channel's picture (those it shows). */
  void remove_flashes(const std::string &channel_id, const std::vector<std::string> &flash_ids);

  /* Viewer reactions for the channel's `reactions` element (`name=reactions`,
   * used only when made by the reactions factory: the shipped pipelines hold
   * an identity placeholder until the element lands). Calls are gathered and
   * handed over every reaction_interval_ms: one add(kind, n) per kind, one
   * add-super(kind) per super reaction. Nothing is kept for a channel that
   * is not on air here. */
  void add_reaction(const std::string &channel_id, const std::string &kind, bool super);
  static constexpr guint reaction_interval_ms = 100;
  /* Reactions handed to reactions elements since the daemon started (tests, metrics). */
  uint64_t reactions_drawn() const { return reactions_drawn_; }

  /* Called on each state change: id, state, previous state, error. */
  std::function<void(const std::string &, const std::string &, const std::string &, const std::string &)>
      on_state;

  /* Called when the element moves a flash: channel id, flash id, state
   * (showing, queued, ended), end reason (empty unless ended). */
  std::function<void(const std::string &, const std::string &, const std::string &, const std::string &)>
      on_flash;

  const Settings &settings() const { return settings_; }

 private:
  struct Runner;
  void start(const std::shared_ptr<Runner> &runner);
  void launch(const std::shared_ptr<Runner> &runner);
  void fail(const std::shared_ptr<Runner> &runner, const std::string &error);
  void teardown(Runner &runner, const std::string &video_status);
  void set_state(Runner &runner, const std::string &state, const std::string &error = {});
  void schedule_restart(const std::shared_ptr<Runner> &runner);
  void on_message(const std::shared_ptr<Runner> &runner, GstMessage *message);
  void refresh_stats(Runner &runner);
  void connect_authorize(const std::shared_ptr<Runner> &runner, GstElement *source);
  void record_break(Runner &runner, const GstStructure *message, bool start);
  /* The channel's adsplice (a new reference) or why there is none. */
  GstElement *find_adsplice(const std::string &id, AdSpliceResult *why) const;
  /* The channel's newsflash (a new reference) or why there is none. */
  GstElement *find_newsflash(const std::string &id, FlashResult *why) const;
  void restore_flashes(Runner &runner);
  void flush_reactions();
  void record_flash(Runner &runner, GstMessage *message, bool start);
  std::string pipeline_path(const std::string &pipeline) const;

  db::Database &database_;
  Settings settings_;
  store::ChannelStore store_;
  store::AdBreakStore ad_breaks_;
  store::NewsFlashStore news_flashes_;
  std::map<std::string, std::shared_ptr<Runner>> runners_;
  guint stats_timer_ = 0;
  /* Pending while reactions wait to be handed over. */
  guint reactions_timer_ = 0;
  uint64_t reactions_drawn_ = 0;
};

}  // namespace onair::channels
