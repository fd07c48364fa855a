-- onair: viewers' points and reactions on live streams.
--
-- Follows 0001_init.sql's conventions (UUID v7 keys, text + CHECK for
-- kinds, timestamptz, constraints named <table>_<field>_<rule> so that
-- errors map back to fields).
--
-- Viewer identity: viewers have no accounts; a viewer is an API token
-- (api_tokens.id), whatever its role. A player holds a viewer token; its
-- points belong to that token, and /api/v1/viewers/me is the caller's token.
--
-- Points: a ledger of signed transactions per viewer (earn: watch time the
-- player reported; spend: a super reaction; grant: an admin's gift) and a
-- balance row per viewer, changed in the same statement as the ledger row
-- that explains it, so that the ledger always sums to the balance. Every
-- change of a viewer's points goes through its balance row: an UPDATE takes
-- the row lock, concurrent spends queue on it and each sees the balance the
-- one before left (READ COMMITTED re-checks the WHERE on the new row
-- version), so two spends can never take the same point; the CHECK is the
-- last guard against a balance below zero.

CREATE TABLE point_balances (
  viewer_id uuid PRIMARY KEY REFERENCES api_tokens (id) ON DELETE CASCADE,
  balance bigint NOT NULL DEFAULT 0
    CONSTRAINT point_balances_balance_nonnegative CHECK (balance >= 0),
  -- Reported watch seconds not yet paid (less than one point's worth).
  unpaid_seconds integer NOT NULL DEFAULT 0
    CONSTRAINT point_balances_unpaid_seconds_range CHECK (unpaid_seconds >= 0),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE point_transactions (
  id uuid PRIMARY KEY DEFAULT onair_uuid_v7(),
  viewer_id uuid NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,
  kind text NOT NULL
    CONSTRAINT point_transactions_kind_valid CHECK (kind IN ('earn', 'spend', 'grant')),
  -- Signed: earn and grant add, spend takes.
  amount bigint NOT NULL
    CONSTRAINT point_transactions_amount_sign CHECK ((kind = 'spend') = (amount < 0) AND amount <> 0),
  -- The balance this transaction left.
  balance_after bigint NOT NULL
    CONSTRAINT point_transactions_balance_after_nonnegative CHECK (balance_after >= 0),
  -- A grant's reason, or the reaction kind a spend paid for.
  reason text
    CONSTRAINT point_transactions_reason_length CHECK (char_length(reason) BETWEEN 1 AND 200),
  -- Where the points were earned or spent.
  channel_id uuid REFERENCES channels (id) ON DELETE SET NULL,
  video_id uuid REFERENCES videos (id) ON DELETE SET NULL,
  -- Watch seconds reported (earn).
  seconds integer,
  -- The admin token of a grant.
  granted_by uuid REFERENCES api_tokens (id) ON DELETE SET NULL,
  -- When the row was written, not when its transaction began: a change waits
  -- for the balance row's lock first, so the ledger's order (newest first)
  -- is the order the balance changed in, even for concurrent spends.
  created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- A viewer's ledger newest first (keyset on created_at, id), and the sum of
-- its earnings of the last hour (the earn cap).
CREATE INDEX point_transactions_viewer_created ON point_transactions (viewer_id, created_at DESC, id DESC);
CREATE INDEX point_transactions_channel ON point_transactions (channel_id) WHERE channel_id IS NOT NULL;
CREATE INDEX point_transactions_video ON point_transactions (video_id) WHERE video_id IS NOT NULL;

-- Watch time → points, under the balance row's lock (so concurrent reports
-- of one viewer queue) and with a snapshot taken after it (each statement of
-- a VOLATILE function sees what committed before it): the earnings of the
-- last hour are exact, and at most `max_per_hour` points are earned in any
-- hour. Seconds worth less than a point wait in unpaid_seconds; seconds
-- beyond the cap are dropped. Returns the points earned (maybe 0) and the
-- balance; a ledger row only when points were earned.
CREATE FUNCTION onair_points_earn(viewer uuid, seconds integer, seconds_per_point integer, max_per_hour bigint,
                                  channel uuid, video uuid)
RETURNS TABLE (earned bigint, balance bigint, unpaid_seconds integer, earned_last_hour bigint)
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
  held point_balances%ROWTYPE;
  recent bigint;
  wanted bigint;
  award bigint;
  left_over integer;
BEGIN
  -- An unknown channel or video is the client's error even when no ledger
  -- row (whose foreign keys would say so) is written.
  IF channel IS NOT NULL AND NOT EXISTS (SELECT 1 FROM channels c WHERE c.id = channel) THEN
    RAISE foreign_key_violation USING MESSAGE = 'no such channel', CONSTRAINT = 'point_transactions_channel_id_fkey';
  END IF;
  IF video IS NOT NULL AND NOT EXISTS (SELECT 1 FROM videos v WHERE v.id = video) THEN
    RAISE foreign_key_violation USING MESSAGE = 'no such video', CONSTRAINT = 'point_transactions_video_id_fkey';
  END IF;
  INSERT INTO point_balances (viewer_id) VALUES (viewer) ON CONFLICT (viewer_id) DO NOTHING;
  SELECT * INTO held FROM point_balances b WHERE b.viewer_id = viewer FOR UPDATE;
  SELECT coalesce(sum(t.amount), 0) INTO recent FROM point_transactions t
    WHERE t.viewer_id = viewer AND t.kind = 'earn' AND t.created_at > now() - interval '1 hour';
  wanted := (held.unpaid_seconds + seconds) / seconds_per_point;
  award := least(wanted, greatest(max_per_hour - recent, 0));
  left_over := CASE WHEN award = wanted THEN (held.unpaid_seconds + seconds) % seconds_per_point ELSE 0 END;
  UPDATE point_balances b SET balance = b.balance + award, unpaid_seconds = left_over, updated_at = now()
    WHERE b.viewer_id = viewer;
  IF award > 0 THEN
    INSERT INTO point_transactions (viewer_id, kind, amount, balance_after, channel_id, video_id, seconds)
      VALUES (viewer, 'earn', award, held.balance + award, channel, video, onair_points_earn.seconds);
  END IF;
  RETURN QUERY SELECT award, held.balance + award, left_over, recent + award;
END
$$;

-- Reactions counted per video (a live channel's current broadcast) and
-- minute. The daemon adds a batch of reactions in one upsert per (video,
-- kind) of the batch, not one statement per reaction.
CREATE TABLE reaction_counts (
  video_id uuid NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
  -- The start of the minute the reactions came in.
  minute timestamptz NOT NULL
    CONSTRAINT reaction_counts_minute_whole CHECK (date_trunc('minute', minute) = minute),
  kind text NOT NULL
    CONSTRAINT reaction_counts_kind_length CHECK (char_length(kind) BETWEEN 1 AND 16),
  channel_id uuid NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
  -- Every reaction, super ones included ...
  count bigint NOT NULL
    CONSTRAINT reaction_counts_count_positive CHECK (count > 0),
  -- ... of which super reactions (paid with points).
  super_count bigint NOT NULL DEFAULT 0
    CONSTRAINT reaction_counts_super_count_range CHECK (super_count >= 0 AND super_count <= count),
  PRIMARY KEY (video_id, minute, kind)
);

-- A channel's reactions over its broadcasts, and the foreign key's cascade.
CREATE INDEX reaction_counts_channel_minute ON reaction_counts (channel_id, minute);
