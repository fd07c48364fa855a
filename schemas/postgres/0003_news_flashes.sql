-- onair: news flashes of the channels (lower thirds, crawl, full-screen
-- cards), drawn by the pipeline's newsflash element (`name=flash`).
--
-- Follows 0001_init.sql's conventions (UUID v7 keys, text + CHECK for
-- states, timestamptz, constraints named <table>_<field>_<rule> so that
-- errors map back to fields).
--
-- A flash asked through the API is inserted (queued) and handed to the
-- element when its channel is on air, or when the channel next goes on air:
-- the rows are what a restarted channel shows again. The element's bus
-- messages then mark it showing, queued again (pre-empted by a flash of a
-- higher priority) and ended. Times are wall-clock: a duration asked by the
-- client becomes expires_at at creation, and a channel that starts again
-- shows a flash for what is left of it.

CREATE TABLE news_flashes (
  id uuid PRIMARY KEY DEFAULT onair_uuid_v7(),
  channel_id uuid NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
  -- The element's layers, bottom to top.
  layer text NOT NULL
    CONSTRAINT news_flashes_layer_valid CHECK (layer IN ('crawl', 'lower-third', 'fullscreen')),
  -- Pango markup, checked by the daemon before it is stored.
  text text NOT NULL
    CONSTRAINT news_flashes_text_length CHECK (char_length(text) BETWEEN 1 AND 500),
  -- The lower third's second line (markup).
  subtitle text
    CONSTRAINT news_flashes_subtitle_length CHECK (char_length(subtitle) BETWEEN 1 AND 200),
  CONSTRAINT news_flashes_subtitle_lower_third CHECK (subtitle IS NULL OR layer = 'lower-third'),
  -- A higher one pre-empts the flash on screen on the same layer.
  priority integer NOT NULL DEFAULT 0
    CONSTRAINT news_flashes_priority_range CHECK (priority BETWEEN -100 AND 100),
  -- Crawl passes (0: until it ends otherwise); NULL for the other layers.
  loops integer
    CONSTRAINT news_flashes_loops_range CHECK (loops BETWEEN 0 AND 1000),
  CONSTRAINT news_flashes_loops_crawl CHECK (loops IS NULL OR layer = 'crawl'),
  -- Seconds of fade in and out; NULL: the element's fade-duration.
  fade double precision
    CONSTRAINT news_flashes_fade_range CHECK (fade >= 0 AND fade <= 60),
  -- How far a full-screen card darkens the picture (0..1); NULL: the
  -- element's fullscreen-dim.
  dim double precision
    CONSTRAINT news_flashes_dim_range CHECK (dim >= 0 AND dim <= 1),
  CONSTRAINT news_flashes_dim_fullscreen CHECK (dim IS NULL OR layer = 'fullscreen'),
  -- The duration asked, in seconds (for reporting; expires_at is what counts).
  duration double precision
    CONSTRAINT news_flashes_duration_range CHECK (duration > 0 AND duration <= 86400),
  created_at timestamptz NOT NULL DEFAULT now(),
  -- When it first went on screen.
  started_at timestamptz,
  -- When it leaves the screen and the queue; NULL: when removed (or, for
  -- the crawl, after its passes).
  expires_at timestamptz,
  -- queued: waiting for its channel or its turn; showing: on screen;
  -- ended: gone for good.
  state text NOT NULL DEFAULT 'queued'
    CONSTRAINT news_flashes_state_valid CHECK (state IN ('queued', 'showing', 'ended')),
  -- done: its duration or passes were over; expired: expires_at passed
  -- (on screen or waiting); removed: DELETE of the flash; cleared: DELETE
  -- of its layer or of all; refused: the element would not draw it (text
  -- too large for the channel's picture).
  end_reason text
    CONSTRAINT news_flashes_end_reason_valid CHECK (end_reason IN ('done', 'expired', 'removed', 'cleared', 'refused')),
  ended_at timestamptz,
  CONSTRAINT news_flashes_ended CHECK ((state = 'ended') = (end_reason IS NOT NULL AND ended_at IS NOT NULL))
);

-- The channel's active queue (GET .../news-flashes, and what a channel
-- shows when it starts): a small part of the table.
CREATE INDEX news_flashes_active ON news_flashes (channel_id, layer, priority DESC, created_at)
  WHERE state <> 'ended';
-- The foreign key's cascade, and the history of a channel.
CREATE INDEX news_flashes_channel_created ON news_flashes (channel_id, created_at DESC);
