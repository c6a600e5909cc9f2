-- Names are what they look like (issue 18, item 5). The domain's name rule
-- (crates/domain/src/name.rs) now also requires a visible character, and refuses the
-- bidirectional controls U+202A-U+202E and U+2066-U+2069 and the separators U+2028 and U+2029
-- anywhere in a name, with a byte cap of 400 beside the 100 characters.
--
-- Rows written before this rule may break it. They are repaired here, not refused: a migration
-- that fails keeps every node from starting, and these rows were valid when written. Each
-- refused code point becomes U+FFFD REPLACEMENT CHARACTER, and a name that shows nothing
-- becomes as many U+FFFD as it had characters. A repaired name keeps its length, shows that
-- something was there, and reads back through the domain's rule; an operator can rename it.
-- No audit event is written (events record what an actor did to a token), and no revocation
-- notification is sent (a name is not part of a token's validity).
--
-- Then `tollgate_is_valid_name`, which both name CHECKs call, gains what SQL can express of
-- the rule: the byte cap and the refused code points. Visibility stays the domain's alone. The
-- two constraints are dropped and added again so that Postgres checks every row against the
-- new function (replacing a function does not re-check the rows a constraint already holds).
DO $$
DECLARE
    -- A name with a character outside the domain's invisible ranges
    -- (crates/domain/src/name/visible.rs, `INVISIBLE`; NUL left out, as text cannot hold it).
    -- The adapter's tests check this class against the domain at every boundary of its ranges.
    visible constant text := '[^\u0001-\u0020\u007f-\u00a0\u00ad\u034f\u0600-\u0605\u061c\u06dd'
        '\u070f\u0890-\u0891\u08e2\u115f-\u1160\u1680\u17b4-\u17b5\u180b-\u180f\u2000-\u200f'
        '\u2028-\u202f\u205f-\u206f\u2800\u3000\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb'
        '\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a'
        '\U000e0000-\U000e0fff]';
    refused constant text := '[\u202a-\u202e\u2066-\u2069\u2028\u2029]';
    target text;
BEGIN
    FOREACH target IN ARRAY ARRAY['spaces', 'api_tokens'] LOOP
        EXECUTE format(
            'UPDATE %I SET name = repeat(chr(65533), char_length(name)) WHERE name !~ %L',
            target, visible
        );
        EXECUTE format(
            'UPDATE %I SET name = regexp_replace(name, %L, chr(65533), ''g'') WHERE name ~ %L',
            target, refused, refused
        );
    END LOOP;
END
$$;

-- The domain's name rule for a stored, already trimmed name, as far as SQL can say it: 1 to
-- 100 characters and at most 400 bytes, no control character (Cc), no bidirectional control
-- or line or paragraph separator, and no white space at either end.
CREATE OR REPLACE FUNCTION tollgate_is_valid_name(name text) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT char_length(name) BETWEEN 1 AND 100
       AND octet_length(name) <= 400
       AND name !~ '[\u0001-\u001f\u007f-\u009f]'
       AND name !~ '[\u202a-\u202e\u2066-\u2069\u2028\u2029]'
       AND name !~ '^[\u0020\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]'
       AND name !~ '[\u0020\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$'
$$;

ALTER TABLE spaces
    DROP CONSTRAINT spaces_name_valid,
    ADD CONSTRAINT spaces_name_valid CHECK (tollgate_is_valid_name(name));
ALTER TABLE api_tokens
    DROP CONSTRAINT api_tokens_name_valid,
    ADD CONSTRAINT api_tokens_name_valid CHECK (tollgate_is_valid_name(name));
