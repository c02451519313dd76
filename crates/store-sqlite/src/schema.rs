//! Versioned migrations. Each entry is applied once, in order, in its own transaction, and
//! recorded in `schema_version`. Never edit a released migration: append a new one.

pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: sites, registrations, the notice outbox and its deliveries, the audit log.
    r"
    CREATE TABLE sites (
        slug TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        time_zone TEXT NOT NULL,
        max_years_ahead INTEGER NOT NULL
    ) STRICT;

    -- SPEC 2: a fresh database gets a site `default`.
    INSERT INTO sites (slug, name, time_zone, max_years_ahead)
    VALUES ('default', 'Default site', 'UTC', 10);

    CREATE TABLE registrations (
        id TEXT PRIMARY KEY,
        site TEXT NOT NULL REFERENCES sites (slug),
        client_id TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        name_key TEXT NOT NULL,
        expiration_date TEXT NOT NULL,
        enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
        secret_hash TEXT NOT NULL,
        secret_hint TEXT NOT NULL,
        registration_date TEXT NOT NULL,
        last_used TEXT,
        rejected_count INTEGER NOT NULL,
        last_rejected TEXT,
        revision INTEGER NOT NULL,
        UNIQUE (site, name_key)
    ) STRICT;
    CREATE INDEX registrations_by_expiration ON registrations (expiration_date);

    -- Notices are not tied to registrations by a foreign key: the log outlives deletions.
    CREATE TABLE notices (
        id INTEGER PRIMARY KEY,
        registration_id TEXT NOT NULL,
        expiration_date TEXT NOT NULL,
        kind TEXT NOT NULL,
        site TEXT NOT NULL REFERENCES sites (slug),
        registration_name TEXT NOT NULL,
        client_id TEXT NOT NULL,
        disposition TEXT NOT NULL,
        subject TEXT NOT NULL,
        due_at TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        UNIQUE (registration_id, expiration_date, kind)
    ) STRICT;
    CREATE INDEX notices_by_site ON notices (site, recorded_at);

    CREATE TABLE deliveries (
        notice_id INTEGER NOT NULL REFERENCES notices (id),
        position INTEGER NOT NULL,
        recipient TEXT NOT NULL,
        channel TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        PRIMARY KEY (notice_id, channel, recipient)
    ) STRICT;

    CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        site TEXT NOT NULL,
        action TEXT NOT NULL,
        subject TEXT NOT NULL,
        before TEXT,
        after TEXT
    ) STRICT;
    ",
    // 2: token signing keys, shared by every node on this database.
    r"
    -- `id` orders keys by insertion: creation times may be equal.
    CREATE TABLE signing_keys (
        id INTEGER PRIMARY KEY,
        kid TEXT NOT NULL UNIQUE,
        private_key BLOB NOT NULL CHECK (length(private_key) = 32),
        created_at TEXT NOT NULL
    ) STRICT;
    ",
    // 3: Site Administrators, their sites, and their API tokens (as SHA-256 digests).
    r"
    CREATE TABLE admins (
        username TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL,
        email TEXT,
        created_at TEXT NOT NULL
    ) STRICT;

    CREATE TABLE admin_sites (
        username TEXT NOT NULL REFERENCES admins (username),
        site TEXT NOT NULL REFERENCES sites (slug),
        PRIMARY KEY (username, site)
    ) STRICT;

    CREATE TABLE admin_tokens (
        digest BLOB PRIMARY KEY CHECK (length(digest) = 32),
        username TEXT NOT NULL REFERENCES admins (username),
        created_at TEXT NOT NULL
    ) STRICT;
    ",
    // 4: per-site notification templates (kinds never saved use the default).
    r"
    CREATE TABLE notification_templates (
        site TEXT NOT NULL REFERENCES sites (slug),
        kind TEXT NOT NULL,
        subject TEXT NOT NULL,
        body TEXT NOT NULL,
        enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
        banner TEXT NOT NULL,
        PRIMARY KEY (site, kind)
    ) STRICT;
    ",
    // 5: the sweep reads only registrations that can be due.
    r"
    CREATE INDEX registrations_due ON registrations (site, enabled, expiration_date);
    DROP INDEX registrations_by_expiration;
    ",
    // 6: administrators' subscription choices (absent: in-app on, e-mail off).
    r"
    CREATE TABLE subscriptions (
        site TEXT NOT NULL REFERENCES sites (slug),
        username TEXT NOT NULL REFERENCES admins (username),
        kind TEXT NOT NULL,
        channel TEXT NOT NULL,
        enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
        PRIMARY KEY (site, username, kind, channel)
    ) STRICT;
    ",
    // 7: the rendered message of each notice (the in-app notification's content).
    r"
    ALTER TABLE notices ADD COLUMN body TEXT NOT NULL DEFAULT '';
    ",
    // 8: the delivery worker (retries, leases, last error) and site webhook endpoints.
    r"
    ALTER TABLE deliveries ADD COLUMN next_attempt_at TEXT;
    ALTER TABLE deliveries ADD COLUMN lease_id TEXT;
    ALTER TABLE deliveries ADD COLUMN lease_until TEXT;
    ALTER TABLE deliveries ADD COLUMN last_error TEXT;
    -- Claims read only open deliveries, however many have been sent.
    CREATE INDEX deliveries_open ON deliveries (notice_id, position)
        WHERE status IN ('pending', 'retrying');

    -- The signing secret is kept in clear: the server signs every POST with it.
    CREATE TABLE webhooks (
        site TEXT NOT NULL REFERENCES sites (slug),
        url TEXT NOT NULL,
        secret TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (site, url)
    ) STRICT;
    ",
    // 9: console sessions; the registration grid sorted by any column without a full sort.
    r"
    CREATE TABLE console_sessions (
        digest BLOB PRIMARY KEY CHECK (length(digest) = 32),
        username TEXT NOT NULL REFERENCES admins (username),
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    ) STRICT;
    CREATE INDEX console_sessions_by_expiry ON console_sessions (expires_at);

    CREATE INDEX registrations_by_client_id ON registrations (site, client_id);
    CREATE INDEX registrations_by_registration_date
        ON registrations (site, registration_date, client_id);
    CREATE INDEX registrations_by_enabled ON registrations (site, enabled, client_id);
    CREATE INDEX registrations_by_last_used ON registrations (site, last_used, client_id);
    CREATE INDEX registrations_by_expiration_date
        ON registrations (site, expiration_date, client_id);
    ",
    // 10: grid searches scan this narrow index instead of whole rows.
    r"
    CREATE INDEX registrations_search ON registrations (site, name_key, client_id);
    ",
    // 11: the notification log paged in its display order without sorting a sweep's worth.
    r"
    CREATE INDEX notices_log ON notices (site, recorded_at, due_at, kind);
    DROP INDEX notices_by_site;
    ",
    // 12: the store's half of the console's one-time secret reveals (a pad, never a secret).
    r"
    CREATE TABLE console_reveals (
        session BLOB NOT NULL REFERENCES console_sessions (digest) ON DELETE CASCADE,
        client_id TEXT NOT NULL,
        pad BLOB NOT NULL,
        expires_at TEXT NOT NULL,
        PRIMARY KEY (session, client_id)
    ) STRICT;
    CREATE INDEX console_reveals_by_expiry ON console_reveals (expires_at);
    ",
    // 13: each site's audit log paged newest first.
    r"
    CREATE INDEX audit_log_by_site ON audit_log (site, id);
    ",
    // 14: administrators' inboxes: in-app deliveries are read (or not) by their recipient.
    r"
    ALTER TABLE deliveries ADD COLUMN read_at TEXT;
    CREATE INDEX deliveries_inbox ON deliveries (recipient, channel, status, read_at);
    ",
    // 15: the change stamp every process polls to know its copy of sites and registrations
    // is stale (registration_core::snapshots). Bumped in the transaction of each change.
    r"
    CREATE TABLE change_stamp (
        only_row INTEGER PRIMARY KEY CHECK (only_row = 1),
        stamp INTEGER NOT NULL
    ) STRICT;
    INSERT INTO change_stamp (only_row, stamp) VALUES (1, 0);
    ",
    // 16: secret rotation with overlap (SPEC 12): the current secret's creation and Last
    // used, and the previous secret while it is kept. Existing secrets were made with their
    // registration and were used whenever it was.
    r"
    ALTER TABLE registrations ADD COLUMN secret_created_at TEXT NOT NULL DEFAULT '';
    UPDATE registrations SET secret_created_at = registration_date;
    ALTER TABLE registrations ADD COLUMN secret_last_used TEXT;
    UPDATE registrations SET secret_last_used = last_used;
    ALTER TABLE registrations ADD COLUMN previous_secret_hash TEXT;
    ALTER TABLE registrations ADD COLUMN previous_secret_hint TEXT;
    ALTER TABLE registrations ADD COLUMN previous_secret_created_at TEXT;
    ALTER TABLE registrations ADD COLUMN previous_secret_last_used TEXT;
    ALTER TABLE registrations ADD COLUMN previous_secret_rejected_count INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE registrations ADD COLUMN previous_secret_last_rejected TEXT;
    ALTER TABLE registrations ADD COLUMN previous_secret_expires_at TEXT CHECK (
        (previous_secret_hash IS NULL) = (previous_secret_expires_at IS NULL)
        AND (previous_secret_hash IS NULL) = (previous_secret_hint IS NULL)
        AND (previous_secret_hash IS NULL) = (previous_secret_created_at IS NULL)
    );
    ",
    // 17: calendar feeds (SPEC 13): one per administrator and site, found by its token's
    // SHA-256 (the token is never stored).
    r"
    CREATE TABLE calendar_feeds (
        digest BLOB PRIMARY KEY CHECK (length(digest) = 32),
        username TEXT NOT NULL REFERENCES admins (username),
        site TEXT NOT NULL REFERENCES sites (slug),
        created_at TEXT NOT NULL,
        UNIQUE (username, site)
    ) STRICT;
    ",
];
