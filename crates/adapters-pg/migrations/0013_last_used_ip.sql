-- Where a token was last used from (issue 15, item 5): the client address of the use that
-- `last_used_at` records, as the HTTP adapter determined it (TOLLGATE_TRUSTED_PROXIES), written
-- in the same batches as `last_used_at`. One host address: a network (`10.0.0.0/8`) is refused
-- here, as the domain would refuse it on reading. NULL: never used, or used where no address
-- was known.
ALTER TABLE api_tokens ADD COLUMN last_used_ip inet NULL
    CONSTRAINT api_tokens_last_used_ip_host CHECK (
        last_used_ip IS NULL OR masklen(last_used_ip) = CASE family(last_used_ip) WHEN 4 THEN 32 ELSE 128 END
    );

-- The same batches also replace outdated hashes (issue 16, item 1): `secret_hash` is written
-- only where it still holds the hash the secret was verified against. Neither column is among
-- those the `api_tokens_notify_changed` trigger watches: a use or a re-hash changes no token's
-- validity, and the verification cache keys on the token string, not on its hash.
