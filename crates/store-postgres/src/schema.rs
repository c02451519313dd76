//! Versioned migrations. Each entry is applied once, in order, under a transaction-scoped
//! advisory lock, and recorded in `schema_version`: nodes that start together migrate once.
//! Never edit a released migration: append a new one.
//!
//! Migration 1 is the SQLite store's schema after its 14 migrations, in PostgreSQL's types.
//! Instants are the same fixed-width UTC text (text order is time order), so the queries
//! that order and compare them carry over unchanged.

pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: everything the storage ports keep, as of the SQLite store's migration 14.
    r"
    CREATE TABLE sites (
        slug TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        time_zone TEXT NOT NULL,
        max_years_ahead SMALLINT NOT NULL
    );
    INSERT INTO sites (slug, name, time_zone, max_years_ahead)
        VALUES ('default', 'Default site', 'UTC', 10);

    CREATE TABLE registrations (
        id TEXT PRIMARY KEY,
        site TEXT NOT NULL REFERENCES sites (slug),
        client_id TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        name_key TEXT NOT NULL,
        expiration_date TEXT NOT NULL,
        enabled BOOLEAN NOT NULL,
        secret_hash TEXT NOT NULL,
        secret_hint TEXT NOT NULL,
        registration_date TEXT NOT NULL,
        last_used TEXT,
        rejected_count BIGINT NOT NULL,
        last_rejected TEXT,
        revision BIGINT NOT NULL,
        UNIQUE (site, name_key)
    );
    CREATE INDEX registrations_due ON registrations (site, enabled, expiration_date);
    CREATE INDEX registrations_by_client_id ON registrations (site, client_id);
    CREATE INDEX registrations_by_registration_date
        ON registrations (site, registration_date, client_id);
    CREATE INDEX registrations_by_enabled ON registrations (site, enabled, client_id);
    CREATE INDEX registrations_by_last_used ON registrations (site, last_used, client_id);
    CREATE INDEX registrations_by_expiration_date
        ON registrations (site, expiration_date, client_id);
    CREATE INDEX registrations_search ON registrations (site, name_key, client_id);

    -- Notices are not tied to registrations by a foreign key: the log outlives deletions.
    CREATE TABLE notices (
        id BIGSERIAL PRIMARY KEY,
        registration_id TEXT NOT NULL,
        expiration_date TEXT NOT NULL,
        kind TEXT NOT NULL,
        site TEXT NOT NULL REFERENCES sites (slug),
        registration_name TEXT NOT NULL,
        client_id TEXT NOT NULL,
        disposition TEXT NOT NULL,
        subject TEXT NOT NULL,
        body TEXT NOT NULL,
        due_at TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        UNIQUE (registration_id, expiration_date, kind)
    );
    CREATE INDEX notices_log ON notices (site, recorded_at, due_at, kind);

    CREATE TABLE deliveries (
        notice_id BIGINT NOT NULL REFERENCES notices (id),
        position INTEGER NOT NULL,
        recipient TEXT NOT NULL,
        channel TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        next_attempt_at TEXT,
        lease_id TEXT,
        lease_until TEXT,
        last_error TEXT,
        read_at TEXT,
        PRIMARY KEY (notice_id, channel, recipient)
    );
    CREATE INDEX deliveries_open ON deliveries (notice_id, position)
        WHERE status IN ('pending', 'retrying');
    CREATE INDEX deliveries_inbox ON deliveries (recipient, channel, status, read_at);

    CREATE TABLE audit_log (
        id BIGSERIAL PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        site TEXT NOT NULL,
        action TEXT NOT NULL,
        subject TEXT NOT NULL,
        before TEXT,
        after TEXT
    );
    CREATE INDEX audit_log_by_site ON audit_log (site, id);

    -- `id` orders keys by insertion: creation times may be equal.
    CREATE TABLE signing_keys (
        id BIGSERIAL PRIMARY KEY,
        kid TEXT NOT NULL UNIQUE,
        private_key BYTEA NOT NULL CHECK (length(private_key) = 32),
        created_at TEXT NOT NULL
    );

    CREATE TABLE admins (
        username TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL,
        email TEXT,
        created_at TEXT NOT NULL
    );
    CREATE TABLE admin_sites (
        username TEXT NOT NULL REFERENCES admins (username),
        site TEXT NOT NULL REFERENCES sites (slug),
        PRIMARY KEY (username, site)
    );
    CREATE TABLE admin_tokens (
        digest BYTEA PRIMARY KEY CHECK (length(digest) = 32),
        username TEXT NOT NULL REFERENCES admins (username),
        created_at TEXT NOT NULL
    );

    CREATE TABLE notification_templates (
        site TEXT NOT NULL REFERENCES sites (slug),
        kind TEXT NOT NULL,
        subject TEXT NOT NULL,
        body TEXT NOT NULL,
        enabled BOOLEAN NOT NULL,
        banner TEXT NOT NULL,
        PRIMARY KEY (site, kind)
    );

    CREATE TABLE subscriptions (
        site TEXT NOT NULL REFERENCES sites (slug),
        username TEXT NOT NULL REFERENCES admins (username),
        kind TEXT NOT NULL,
        channel TEXT NOT NULL,
        enabled BOOLEAN NOT NULL,
        PRIMARY KEY (site, username, kind, channel)
    );

    -- The signing secret is kept in clear: the server signs every POST with it.
    CREATE TABLE webhooks (
        site TEXT NOT NULL REFERENCES sites (slug),
        url TEXT NOT NULL,
        secret TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (site, url)
    );

    CREATE TABLE console_sessions (
        digest BYTEA PRIMARY KEY CHECK (length(digest) = 32),
        username TEXT NOT NULL REFERENCES admins (username),
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    );
    CREATE INDEX console_sessions_by_expiry ON console_sessions (expires_at);

    -- The store's half of the console's one-time secret reveals (a pad, never a secret).
    CREATE TABLE console_reveals (
        session BYTEA NOT NULL REFERENCES console_sessions (digest) ON DELETE CASCADE,
        client_id TEXT NOT NULL,
        pad BYTEA NOT NULL,
        expires_at TEXT NOT NULL,
        PRIMARY KEY (session, client_id)
    );
    CREATE INDEX console_reveals_by_expiry ON console_reveals (expires_at);
    ",
];
