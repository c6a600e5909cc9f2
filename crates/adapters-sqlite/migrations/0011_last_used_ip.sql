-- Where a token was last used from (issue 15, item 5): the client address of the use that
-- `last_used_at` records, as the HTTP adapter determined it (TOLLGATE_TRUSTED_PROXIES), written
-- in the same batches as `last_used_at`. Text as Rust prints an address (`192.0.2.1`,
-- `2001:db8::1`): at most 39 characters. The domain reads it back as one address; a value it
-- cannot read is a corrupt row. NULL: never used, or used where no address was known.
ALTER TABLE api_tokens ADD COLUMN last_used_ip TEXT NULL
    CONSTRAINT api_tokens_last_used_ip_length CHECK (
        last_used_ip IS NULL OR length(last_used_ip) BETWEEN 2 AND 39
    );

-- The same batches also replace outdated hashes (issue 16, item 1): `secret_hash` is written
-- only where it still holds the hash the secret was verified against. Neither column is among
-- those the `api_tokens_changed` trigger (0007) watches: a use or a re-hash changes no
-- token's validity, and the verification cache keys on the token string, not on its hash.
