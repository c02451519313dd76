//! Versioned migrations. Each entry is applied once, in order, under a transaction-scoped
//! advisory lock, and recorded in `schema_version`: nodes that start together migrate once.
//! Never edit a released migration: append a new one.
//!
//! Migration 1 is the SQLite store's schema after its 14 migrations, in PostgreSQL's types.
//! Instants are the same fixed-width UTC text (text order is time order), so the queries
//! that order and compare them carry over unchanged. Every text column collates as "C"
//! (byte order, as SQLite compares): sorting by name key, slug or URL must not depend on
//! the locale the database was created with.

pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: everything the storage ports keep, as of the SQLite store's migration 14.
    r#"
    CREATE TABLE sites (
        slug TEXT COLLATE "C" PRIMARY KEY,
        name TEXT COLLATE "C" NOT NULL,
        time_zone TEXT COLLATE "C" NOT NULL,
        max_years_ahead SMALLINT NOT NULL
    );
    INSERT INTO sites (slug, name, time_zone, max_years_ahead)
        VALUES ('default', 'Default site', 'UTC', 10);

    CREATE TABLE registrations (
        id TEXT COLLATE "C" PRIMARY KEY,
        site TEXT COLLATE "C" NOT NULL REFERENCES sites (slug),
        client_id TEXT COLLATE "C" NOT NULL UNIQUE,
        name TEXT COLLATE "C" NOT NULL,
        name_key TEXT COLLATE "C" NOT NULL,
        expiration_date TEXT COLLATE "C" NOT NULL,
        enabled BOOLEAN NOT NULL,
        secret_hash TEXT COLLATE "C" NOT NULL,
        secret_hint TEXT COLLATE "C" NOT NULL,
        registration_date TEXT COLLATE "C" NOT NULL,
        last_used TEXT COLLATE "C",
        rejected_count BIGINT NOT NULL,
        last_rejected TEXT COLLATE "C",
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
        registration_id TEXT COLLATE "C" NOT NULL,
        expiration_date TEXT COLLATE "C" NOT NULL,
        kind TEXT COLLATE "C" NOT NULL,
        site TEXT COLLATE "C" NOT NULL REFERENCES sites (slug),
        registration_name TEXT COLLATE "C" NOT NULL,
        client_id TEXT COLLATE "C" NOT NULL,
        disposition TEXT COLLATE "C" NOT NULL,
        subject TEXT COLLATE "C" NOT NULL,
        body TEXT COLLATE "C" NOT NULL,
        due_at TEXT COLLATE "C" NOT NULL,
        recorded_at TEXT COLLATE "C" NOT NULL,
        UNIQUE (registration_id, expiration_date, kind)
    );
    CREATE INDEX notices_log ON notices (site, recorded_at, due_at, kind);

    CREATE TABLE deliveries (
        notice_id BIGINT NOT NULL REFERENCES notices (id),
        position INTEGER NOT NULL,
        recipient TEXT COLLATE "C" NOT NULL,
        channel TEXT COLLATE "C" NOT NULL,
        status TEXT COLLATE "C" NOT NULL,
        attempts INTEGER NOT NULL,
        next_attempt_at TEXT COLLATE "C",
        lease_id TEXT COLLATE "C",
        lease_until TEXT COLLATE "C",
        last_error TEXT COLLATE "C",
        read_at TEXT COLLATE "C",
        PRIMARY KEY (notice_id, channel, recipient)
    );
    CREATE INDEX deliveries_open ON deliveries (notice_id, position)
        WHERE status IN ('pending', 'retrying');
    CREATE INDEX deliveries_inbox ON deliveries (recipient, channel, status, read_at);

    CREATE TABLE audit_log (
        id BIGSERIAL PRIMARY KEY,
        at TEXT COLLATE "C" NOT NULL,
        actor TEXT COLLATE "C" NOT NULL,
        site TEXT COLLATE "C" NOT NULL,
        action TEXT COLLATE "C" NOT NULL,
        subject TEXT COLLATE "C" NOT NULL,
        before TEXT COLLATE "C",
        after TEXT COLLATE "C"
    );
    CREATE INDEX audit_log_by_site ON audit_log (site, id);

    -- `id` orders keys by insertion: creation times may be equal.
    CREATE TABLE signing_keys (
        id BIGSERIAL PRIMARY KEY,
        kid TEXT COLLATE "C" NOT NULL UNIQUE,
        private_key BYTEA NOT NULL CHECK (length(private_key) = 32),
        created_at TEXT COLLATE "C" NOT NULL
    );

    CREATE TABLE admins (
        username TEXT COLLATE "C" PRIMARY KEY,
        password_hash TEXT COLLATE "C" NOT NULL,
        email TEXT COLLATE "C",
        created_at TEXT COLLATE "C" NOT NULL
    );
    CREATE TABLE admin_sites (
        username TEXT COLLATE "C" NOT NULL REFERENCES admins (username),
        site TEXT COLLATE "C" NOT NULL REFERENCES sites (slug),
        PRIMARY KEY (username, site)
    );
    CREATE TABLE admin_tokens (
        digest BYTEA PRIMARY KEY CHECK (length(digest) = 32),
        username TEXT COLLATE "C" NOT NULL REFERENCES admins (username),
        created_at TEXT COLLATE "C" NOT NULL
    );

    CREATE TABLE notification_templates (
        site TEXT COLLATE "C" NOT NULL REFERENCES sites (slug),
        kind TEXT COLLATE "C" NOT NULL,
        subject TEXT COLLATE "C" NOT NULL,
        body TEXT COLLATE "C" NOT NULL,
        enabled BOOLEAN NOT NULL,
        banner TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (site, kind)
    );

    CREATE TABLE subscriptions (
        site TEXT COLLATE "C" NOT NULL REFERENCES sites (slug),
        username TEXT COLLATE "C" NOT NULL REFERENCES admins (username),
        kind TEXT COLLATE "C" NOT NULL,
        channel TEXT COLLATE "C" NOT NULL,
        enabled BOOLEAN NOT NULL,
        PRIMARY KEY (site, username, kind, channel)
    );

    -- The signing secret is kept in clear: the server signs every POST with it.
    CREATE TABLE webhooks (
        site TEXT COLLATE "C" NOT NULL REFERENCES sites (slug),
        url TEXT COLLATE "C" NOT NULL,
        secret TEXT COLLATE "C" NOT NULL,
        created_at TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (site, url)
    );

    CREATE TABLE console_sessions (
        digest BYTEA PRIMARY KEY CHECK (length(digest) = 32),
        username TEXT COLLATE "C" NOT NULL REFERENCES admins (username),
        created_at TEXT COLLATE "C" NOT NULL,
        expires_at TEXT COLLATE "C" NOT NULL
    );
    CREATE INDEX console_sessions_by_expiry ON console_sessions (expires_at);

    -- The store's half of the console's one-time secret reveals (a pad, never a secret).
    CREATE TABLE console_reveals (
        session BYTEA NOT NULL REFERENCES console_sessions (digest) ON DELETE CASCADE,
        client_id TEXT COLLATE "C" NOT NULL,
        pad BYTEA NOT NULL,
        expires_at TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (session, client_id)
    );
    CREATE INDEX console_reveals_by_expiry ON console_reveals (expires_at);
    "#,
    // 2: the change stamp every node polls to know its copy of sites and registrations is
    // stale (snapshots.rs). Bumped in the transaction of each change; one row.
    r"
    CREATE TABLE change_stamp (
        only_row BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row),
        stamp BIGINT NOT NULL
    );
    INSERT INTO change_stamp (stamp) VALUES (0);
    ",
    // 3: the grid at 100,000 registrations. It sorts "no Last used" first, as SQLite does:
    // the index must hold NULLs first for the page to be an index scan rather than a sort of
    // the whole site. Its search is a substring of the name or the Client ID: trigram
    // indexes (pg_trgm, a trusted extension: the database's owner may create it) find the
    // matches without reading every registration.
    r"
    DROP INDEX registrations_by_last_used;
    CREATE INDEX registrations_by_last_used
        ON registrations (site, last_used NULLS FIRST, client_id);
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    CREATE INDEX registrations_trigrams
        ON registrations USING gin (name_key gin_trgm_ops, client_id gin_trgm_ops);
    ",
    // 4: secret rotation with overlap (SPEC 12), as SQLite's migration 16: the current
    // secret's creation and Last used, and the previous secret while it is kept.
    r#"
    ALTER TABLE registrations
        ADD COLUMN secret_created_at TEXT COLLATE "C",
        ADD COLUMN secret_last_used TEXT COLLATE "C",
        ADD COLUMN previous_secret_hash TEXT COLLATE "C",
        ADD COLUMN previous_secret_hint TEXT COLLATE "C",
        ADD COLUMN previous_secret_created_at TEXT COLLATE "C",
        ADD COLUMN previous_secret_last_used TEXT COLLATE "C",
        ADD COLUMN previous_secret_rejected_count BIGINT NOT NULL DEFAULT 0,
        ADD COLUMN previous_secret_last_rejected TEXT COLLATE "C",
        ADD COLUMN previous_secret_expires_at TEXT COLLATE "C",
        ADD CONSTRAINT previous_secret_whole CHECK (
            (previous_secret_hash IS NULL) = (previous_secret_expires_at IS NULL)
            AND (previous_secret_hash IS NULL) = (previous_secret_hint IS NULL)
            AND (previous_secret_hash IS NULL) = (previous_secret_created_at IS NULL)
        );
    UPDATE registrations SET secret_created_at = registration_date, secret_last_used = last_used;
    ALTER TABLE registrations ALTER COLUMN secret_created_at SET NOT NULL;
    "#,
    // 5: calendar feeds (SPEC 13), as SQLite's migration 17.
    r#"
    CREATE TABLE calendar_feeds (
        digest BYTEA PRIMARY KEY CHECK (length(digest) = 32),
        username TEXT COLLATE "C" NOT NULL REFERENCES admins (username),
        site TEXT COLLATE "C" NOT NULL REFERENCES sites (slug),
        created_at TEXT COLLATE "C" NOT NULL,
        UNIQUE (username, site)
    );
    "#,
];
