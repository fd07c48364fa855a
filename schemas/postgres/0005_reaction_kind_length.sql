-- onair: reaction kinds as long as the reactions element takes them.
--
-- A channel's kinds come from its reactions element (its `kinds` property:
-- at most 32 bytes each), no longer from a fixed list of single emoji; a kind
-- longer than 0004's 16 characters would be taken by the API and then fail
-- its count. 32 bytes are at most 32 characters.

ALTER TABLE reaction_counts
  DROP CONSTRAINT reaction_counts_kind_length,
  ADD CONSTRAINT reaction_counts_kind_length CHECK (char_length(kind) BETWEEN 1 AND 32);
