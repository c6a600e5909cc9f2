-- Listings fast on a space of a million tokens (issue 16, item 3): every `status=` and `level=`
-- filter reads an index that holds its tokens in id order, so a page (first or after a cursor,
-- in either order) costs about its own size, never a scan of the space.
--
-- The listing's status conditions (tollgate_app::stored::StatusCondition) split the tokens into
-- classes that partial indexes can hold: revoked (`revoked_at IS NOT NULL`), rotated
-- (`revoked_at IS NULL AND replaced_by IS NOT NULL`), and live (neither), of which the
-- suspended ones have their own small index. "Expired" and "active" depend on the moment of the
-- query, which no predicate can name: the live indexes carry `expires_at` as a key column, so
-- that `expires_at <= $now` is checked in the index, without a visit to the table per token.
-- `level` is a key column too, checked in the index; and for `level=` a second live index and
-- an index of every token put it before `id`, so that a rare level (admin) is read as its own
-- range rather than filtered out of the whole space.
--
-- The index builds lock writes to `api_tokens` while they run, inside this migration's
-- transaction: on a million tokens, some seconds at start-up.

DROP INDEX api_tokens_live_space_id_id_idx;
CREATE INDEX api_tokens_live_space_id_id_idx ON api_tokens (space_id, id, level, expires_at)
    WHERE revoked_at IS NULL AND replaced_by IS NULL;
CREATE INDEX api_tokens_live_space_level_id_idx ON api_tokens (space_id, level, id, expires_at)
    WHERE revoked_at IS NULL AND replaced_by IS NULL;
CREATE INDEX api_tokens_suspended_space_id_idx ON api_tokens (space_id, id, level)
    WHERE revoked_at IS NULL AND replaced_by IS NULL AND suspended_at IS NOT NULL;
CREATE INDEX api_tokens_revoked_space_id_idx ON api_tokens (space_id, id, level)
    WHERE revoked_at IS NOT NULL;
CREATE INDEX api_tokens_rotated_space_id_idx ON api_tokens (space_id, id, level)
    WHERE revoked_at IS NULL AND replaced_by IS NOT NULL;
CREATE INDEX api_tokens_space_level_id_idx ON api_tokens (space_id, level, id);

-- `q=`, a case-insensitive substring of the name (`name ILIKE '%term%'`, the term at least
-- three characters, so that it has a trigram): pg_trgm's GIN index finds the matching names
-- without reading the space. pg_trgm ships with Postgres and is a trusted extension (PG 13+):
-- the database's owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX api_tokens_name_trgm_idx ON api_tokens USING gin (name gin_trgm_ops);
