-- onair: ad breaks of the channels, for control and reporting.
--
-- Follows 0001_init.sql's conventions (UUID v7 keys, text + CHECK for
-- states, timestamptz, keyset indexes, constraints named
-- <table>_<field>_<rule> so that errors map back to fields).
--
-- A break asked through the API is inserted (scheduled) before the daemon
-- hands it to the pipeline's adsplice element; the element's bus messages
-- then mark it running and ended. A break cued by SCTE-35 in the input is
-- inserted when it starts (source 'scte35').

-- splice_event_id values for breaks asked through the API: SCTE-35 gives
-- them 32 bits; after the last one the numbers start again (by then the
-- breaks that used the first ones are long over).
CREATE SEQUENCE ad_breaks_event_id AS bigint MINVALUE 1 MAXVALUE 4294967295 CYCLE;

CREATE TABLE ad_breaks (
  id uuid PRIMARY KEY DEFAULT onair_uuid_v7(),
  channel_id uuid NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
  -- The broadcast the break went out in (NULL once that video is deleted).
  video_id uuid REFERENCES videos (id) ON DELETE SET NULL,
  -- The splice_event_id the element and the SCTE-35 markers carry.
  event_id bigint NOT NULL DEFAULT nextval('ad_breaks_event_id')
    CONSTRAINT ad_breaks_event_id_uint32 CHECK (event_id BETWEEN 0 AND 4294967295),
  -- api: POST /api/v1/channels/{id}/ad-breaks; scte35: a cue in the input.
  source text NOT NULL DEFAULT 'api'
    CONSTRAINT ad_breaks_source_valid CHECK (source IN ('api', 'scte35')),
  -- The planned length in seconds; NULL only for an SCTE-35 break that
  -- announced none (it lasts until the input's return cue).
  duration double precision
    CONSTRAINT ad_breaks_duration_range CHECK (duration > 0 AND duration <= 86400),
  -- When it was asked to start ("at"); NULL: on the next frame.
  requested_start timestamptz,
  -- Files (relative to the daemon's media root) or URIs, as asked.
  creatives jsonb NOT NULL DEFAULT '[]'
    CONSTRAINT ad_breaks_creatives_array CHECK (jsonb_typeof(creatives) = 'array'),
  -- scheduled: handed to the pipeline, not started; running: on air;
  -- ended: the program is back; cancelled: dropped before it started.
  status text NOT NULL DEFAULT 'scheduled'
    CONSTRAINT ad_breaks_status_valid CHECK (status IN ('scheduled', 'running', 'ended', 'cancelled')),
  started_at timestamptz,
  ended_at timestamptz,
  -- Seconds on air, as the element measured them in running time.
  elapsed double precision
    CONSTRAINT ad_breaks_elapsed_positive CHECK (elapsed >= 0),
  -- auto-return: its duration was over; splice-in: ended early (DELETE);
  -- scte35: the input's return cue; channel-stopped: the run it belonged
  -- to ended first. NULL while it has not ended (and when cancelled).
  end_reason text
    CONSTRAINT ad_breaks_end_reason_valid CHECK (end_reason IN ('auto-return', 'splice-in', 'scte35', 'channel-stopped')),
  -- The creatives shown, in order (empty when the element only signals breaks).
  creatives_played jsonb NOT NULL DEFAULT '[]'
    CONSTRAINT ad_breaks_creatives_played_array CHECK (jsonb_typeof(creatives_played) = 'array'),
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT ad_breaks_api_duration CHECK (source <> 'api' OR duration IS NOT NULL),
  CONSTRAINT ad_breaks_started CHECK (status IN ('scheduled', 'cancelled') OR started_at IS NOT NULL),
  CONSTRAINT ad_breaks_ended CHECK ((status = 'ended') = (end_reason IS NOT NULL))
);

-- A channel's breaks newest first: WHERE channel_id = $1 AND (created_at, id) < ($2, $3)
-- ORDER BY created_at DESC, id DESC. Also serves the foreign key's cascade.
CREATE INDEX ad_breaks_channel_created ON ad_breaks (channel_id, created_at DESC, id DESC);
-- The breaks not over yet, found by event id when the element reports a
-- start or an end; a small part of the table.
CREATE INDEX ad_breaks_open ON ad_breaks (channel_id, event_id) WHERE status IN ('scheduled', 'running');
-- Reporting per broadcast.
CREATE INDEX ad_breaks_video ON ad_breaks (video_id) WHERE video_id IS NOT NULL;
