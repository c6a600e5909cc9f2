-- Names are what they look like (issue 18, item 5). The domain's name rule
-- (crates/domain/src/name.rs) now also requires a visible character, and refuses the
-- bidirectional controls U+202A-U+202E and U+2066-U+2069 and the separators U+2028 and U+2029
-- anywhere in a name, with a byte cap of 400 beside the 100 characters.
--
-- Rows written before this rule may break it. They are repaired here, not refused: a migration
-- that fails keeps the server from starting, and these rows were valid when written. Each
-- refused code point becomes U+FFFD REPLACEMENT CHARACTER, and a name that shows nothing
-- becomes as many U+FFFD as it had characters. A repaired name keeps its length, shows that
-- something was there, and reads back through the domain's rule; an operator can rename it.
-- No audit event is written (events record what an actor did to a token), and the change
-- feed's triggers do not fire (a name is not part of a token's validity).
--
-- Then the two name CHECKs gain what SQL can express: the byte cap and the refused code points.
-- Visibility stays the domain's alone. The CHECK text is edited in place, as 0006 does; this
-- time the CHECK is narrowed, which SQLite allows once no row breaks it (above).

-- The rule's two character classes as GLOB patterns, built with char() (45 is the `-` of a
-- range). `visible` matches a name with a character outside the domain's invisible ranges
-- (crates/domain/src/name/visible.rs, `INVISIBLE`; NUL left out, as a GLOB pattern cannot
-- hold it and no stored name does); `refused` a name with a refused code point. The adapter's
-- tests check both against the domain at every boundary of its ranges.
CREATE TEMP TABLE visible_names_rule (visible TEXT NOT NULL, refused TEXT NOT NULL) STRICT;
INSERT INTO visible_names_rule VALUES (
    '*[^' || char(
        1, 45, 32, 127, 45, 160, 173, 847, 1536, 45, 1541, 1564, 1757, 1807, 2192, 45, 2193,
        2274, 4447, 45, 4448, 5760, 6068, 45, 6069, 6155, 45, 6159, 8192, 45, 8207, 8232, 45,
        8239, 8287, 45, 8303, 10240, 12288, 12644, 65024, 45, 65039, 65279, 65440, 65520, 45,
        65531, 69821, 69837, 78896, 45, 78911, 113824, 45, 113827, 119155, 45, 119162, 917504,
        45, 921599
    ) || ']*',
    '*[' || char(8234, 45, 8238, 8294, 45, 8297, 8232, 8233) || ']*'
);

UPDATE spaces
SET name = replace(hex(zeroblob(length(name))), '00', char(65533))
WHERE name NOT GLOB (SELECT visible FROM temp.visible_names_rule);

UPDATE api_tokens
SET name = replace(hex(zeroblob(length(name))), '00', char(65533))
WHERE name NOT GLOB (SELECT visible FROM temp.visible_names_rule);

UPDATE spaces
SET name = replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(name, char(8234), char(65533)), char(8235), char(65533)), char(8236), char(65533)), char(8237), char(65533)), char(8238), char(65533)), char(8294), char(65533)), char(8295), char(65533)), char(8296), char(65533)), char(8297), char(65533)), char(8232), char(65533)), char(8233), char(65533))
WHERE name GLOB (SELECT refused FROM temp.visible_names_rule);

UPDATE api_tokens
SET name = replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(name, char(8234), char(65533)), char(8235), char(65533)), char(8236), char(65533)), char(8237), char(65533)), char(8238), char(65533)), char(8294), char(65533)), char(8295), char(65533)), char(8296), char(65533)), char(8297), char(65533)), char(8232), char(65533)), char(8233), char(65533))
WHERE name GLOB (SELECT refused FROM temp.visible_names_rule);

DROP TABLE temp.visible_names_rule;

PRAGMA writable_schema = ON;

UPDATE sqlite_schema
SET sql = replace(
    sql,
    'CONSTRAINT spaces_name_valid CHECK (',
    'CONSTRAINT spaces_name_valid CHECK (length(CAST(name AS BLOB)) <= 400 AND name NOT GLOB ''*['' || char(8234, 45, 8238, 8294, 45, 8297, 8232, 8233) || '']*'' AND '
)
WHERE type = 'table' AND name = 'spaces';

UPDATE sqlite_schema
SET sql = replace(
    sql,
    'CONSTRAINT api_tokens_name_valid CHECK (',
    'CONSTRAINT api_tokens_name_valid CHECK (length(CAST(name AS BLOB)) <= 400 AND name NOT GLOB ''*['' || char(8234, 45, 8238, 8294, 45, 8297, 8232, 8233) || '']*'' AND '
)
WHERE type = 'table' AND name = 'api_tokens';

PRAGMA writable_schema = RESET;

-- Both edits found their constraint, or the migration fails here and changes nothing.
CREATE TEMP TABLE visible_names_migration_check (edited INTEGER NOT NULL CHECK (edited = 2));
INSERT INTO visible_names_migration_check
SELECT count(*) FROM sqlite_schema
WHERE type = 'table'
    AND (
        (name = 'spaces' AND instr(sql, 'spaces_name_valid CHECK (length(CAST(name AS BLOB)) <= 400 AND ') > 0)
        OR (name = 'api_tokens' AND instr(sql, 'api_tokens_name_valid CHECK (length(CAST(name AS BLOB)) <= 400 AND ') > 0)
    );
DROP TABLE visible_names_migration_check;

CREATE TABLE visible_names_schema_cookie (bump INTEGER) STRICT;
DROP TABLE visible_names_schema_cookie;
