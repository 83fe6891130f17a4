-- The sessions of the operator console and the tenant portal.
--
-- Only hashes are kept: hash is the SHA-256 of the random session id the
-- browser holds in its cookie, credential_hash the SHA-256 of the admin key
-- or token the session was opened with, which every request of the session
-- looks up again (a revoked key ends its sessions). The table is in the
-- store, not in one process, so every node of a cluster knows every
-- session. expires_at is on allot's clock.
CREATE TABLE IF NOT EXISTS console_sessions (
    hash            BYTEA  NOT NULL CHECK (length(hash) = 32),
    kind            TEXT   NOT NULL CHECK (kind IN ('admin', 'token')),
    credential_hash BYTEA  NOT NULL CHECK (length(credential_hash) = 32),
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    CONSTRAINT console_sessions_pkey PRIMARY KEY (hash)
);

CREATE INDEX IF NOT EXISTS console_sessions_expiry ON console_sessions (expires_at);
