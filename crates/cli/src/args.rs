//! The command line's grammar (SPEC section 9). Parsing only; `commands.rs` acts.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "appreg",
    version,
    about = "Manage App registrations: machine credentials with an expiration date.",
    after_help = "APPREG_NOW=<RFC 3339 instant> starts the clock at that instant (for demos and \
                  tests); it then advances in real time."
)]
pub(crate) struct Cli {
    /// The SQLite database file (created with its schema when missing).
    #[arg(long, global = true, env = "APPREG_DB", default_value = "./appreg.db")]
    pub(crate) db: PathBuf,

    /// A PostgreSQL database instead of the SQLite file, shared by any number of nodes:
    /// postgres://user:password@host:port/dbname (its schema is created when missing).
    #[arg(
        long,
        global = true,
        env = "APPREG_DATABASE_URL",
        hide_env_values = true,
        value_name = "URL",
        conflicts_with = "db"
    )]
    pub(crate) database_url: Option<String>,

    /// Print stable, machine-readable JSON instead of tables.
    #[arg(long, global = true)]
    pub(crate) json: bool,

    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the HTTP server: OAuth 2.0 endpoints per site, health and metrics.
    Serve {
        /// Address to listen on (port 0 picks a free one).
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
        /// Where clients reach this server; issuers, notice links and calendar feed URLs
        /// derive from it (default: http:// and the listen address).
        #[arg(long, env = "APPREG_PUBLIC_URL")]
        public_url: Option<String>,
        /// A reverse proxy (address or CIDR block, repeatable) whose X-Forwarded-For names
        /// the client; failure budgets then count per client, not per proxy.
        #[arg(long = "trusted-proxy", value_name = "CIDR", value_parser = parse_proxy)]
        trusted_proxies: Vec<ipnet::IpNet>,
        #[command(flatten)]
        delivery: DeliveryArgs,
    },
    /// Token signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Move an installation from one store to another.
    #[command(subcommand)]
    Db(DbCommand),
    /// Site Administrators and their API tokens.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Sites of the multi-site product.
    #[command(subcommand)]
    Site(SiteCommand),
    /// App registrations of a site.
    #[command(subcommand)]
    Reg(RegCommand),
    /// Evaluate every registration's notification schedule now, record what is due, and
    /// deliver what is due (e-mail, webhooks) before returning.
    Sweep {
        #[command(flatten)]
        delivery: DeliveryArgs,
    },
    /// Webhook endpoints of a site: every notice is POSTed to each, signed.
    #[command(subcommand)]
    Webhook(WebhookCommand),
    /// The Administrative notification log.
    #[command(subcommand)]
    Notices(NoticesCommand),
    /// The audit log: who changed what in a site, and when.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Notification templates of a site.
    #[command(subcommand)]
    Templates(TemplatesCommand),
    /// Switch a notification channel on (or off with --off) for an administrator.
    Subscribe {
        /// The administrator.
        username: String,
        #[command(flatten)]
        site: SiteArg,
        /// expires_in_30_days, expires_in_7_days or expired
        #[arg(long)]
        template: String,
        /// in_app (on by default) or email (off by default; needs an e-mail address)
        #[arg(long)]
        channel: String,
        /// Switch it off instead.
        #[arg(long)]
        off: bool,
    },
}

/// How notices leave the building.
#[derive(Debug, Clone, Args)]
pub(crate) struct DeliveryArgs {
    /// SMTP server for e-mail notices: smtp://host:port (plain), smtp://host:port?tls=required
    /// (STARTTLS) or smtps://host:port; credentials as smtp://user:password@host:port.
    /// Without it, e-mail deliveries wait in the outbox.
    #[arg(long, env = "APPREG_SMTP_URL", hide_env_values = true)]
    pub(crate) smtp_url: Option<String>,
    /// The From: address of e-mail notices.
    #[arg(long, env = "APPREG_MAIL_FROM", default_value = "appreg@localhost")]
    pub(crate) mail_from: String,
    /// Seconds one delivery attempt (SMTP conversation or webhook POST) may take.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub(crate) delivery_timeout: u64,
    #[command(flatten)]
    pub(crate) networks: NetworkArgs,
}

/// Where webhooks may go (decision 0008).
#[derive(Debug, Clone, Copy, Args)]
pub(crate) struct NetworkArgs {
    /// Let webhooks reach loopback and private-network addresses (RFC 1918, 100.64.0.0/10,
    /// fc00::/7), for receivers on the operator's own network. Link-local (cloud metadata)
    /// and unspecified addresses stay refused.
    #[arg(long, env = "APPREG_ALLOW_PRIVATE_NETWORK")]
    pub(crate) allow_private_network: bool,
}

impl NetworkArgs {
    pub(crate) fn networks(self) -> registration_core::WebhookNetworks {
        if self.allow_private_network {
            registration_core::WebhookNetworks::AllowPrivate
        } else {
            registration_core::WebhookNetworks::PublicOnly
        }
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum WebhookCommand {
    /// Add an endpoint; prints its signing secret once.
    Add {
        #[command(flatten)]
        site: SiteArg,
        /// http:// or https:// URL, without credentials. Its host must be public (every
        /// address it resolves to now) unless --allow-private-network.
        url: String,
        #[command(flatten)]
        networks: NetworkArgs,
    },
    /// List a site's endpoints (never their secrets).
    List {
        #[command(flatten)]
        site: SiteArg,
    },
    /// Remove an endpoint; its deliveries still waiting are cancelled.
    Remove {
        #[command(flatten)]
        site: SiteArg,
        url: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum AdminCommand {
    /// Add a Site Administrator; prints a generated password once unless --password-stdin.
    Add {
        /// `[a-z0-9._-]{1,64}`
        username: String,
        /// A site this administrator manages (repeat for several).
        #[arg(long = "site", required = true)]
        sites: Vec<String>,
        #[arg(long)]
        email: Option<String>,
        /// Read the password from the first line of standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Issue a personal API token for the admin API; printed once.
    Token { username: String },
    /// Issue an iCalendar feed URL of a site's expiry dates for this administrator, printed
    /// once (an earlier URL stops working); --revoke ends it.
    CalendarUrl {
        username: String,
        #[command(flatten)]
        site: SiteArg,
        /// Revoke the administrator's feed URL for the site instead.
        #[arg(long)]
        revoke: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum DbCommand {
    /// Copy everything from a SQLite file into an empty PostgreSQL database: sites,
    /// registrations (consumers keep their secrets), notices and deliveries, templates,
    /// subscriptions, administrators and their tokens, webhooks, signing keys and the
    /// audit log. Counts are verified before anything is kept; stop the servers first.
    Copy {
        /// The SQLite file to copy (it is only read).
        #[arg(long, value_name = "PATH")]
        from: PathBuf,
        /// The empty PostgreSQL database: postgres://user:password@host:port/dbname.
        #[arg(long, value_name = "URL")]
        to: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum KeysCommand {
    /// Make a new signing key current; the previous one keeps verifying until it is
    /// rotated out. Running servers pick it up within a minute.
    Rotate,
}

#[derive(Debug, Subcommand)]
pub(crate) enum SiteCommand {
    /// Add a site.
    Add {
        /// `[a-z0-9-]{1,40}`
        slug: String,
        /// Display name (default: the slug).
        #[arg(long)]
        name: Option<String>,
        /// IANA time zone, e.g. Europe/Berlin (default: UTC).
        #[arg(long)]
        time_zone: Option<String>,
    },
    /// Change a site's display name or time zone. A new zone moves every registration's
    /// expiry instant and deadlines at once; notices already recorded are not sent again.
    #[command(group = clap::ArgGroup::new("change").required(true).multiple(true).args(["name", "time_zone"]))]
    Edit {
        /// The site's slug.
        slug: String,
        /// New display name.
        #[arg(long)]
        name: Option<String>,
        /// New IANA time zone, e.g. Europe/Berlin.
        #[arg(long)]
        time_zone: Option<String>,
    },
    /// List sites.
    List,
}

#[derive(Debug, Args)]
pub(crate) struct SiteArg {
    /// The site's slug.
    #[arg(long)]
    pub(crate) site: String,
}

#[derive(Debug, Args)]
pub(crate) struct Target {
    #[command(flatten)]
    pub(crate) site: SiteArg,
    /// The registration's Client ID.
    pub(crate) client_id: String,
}

#[derive(Debug, Subcommand)]
pub(crate) enum RegCommand {
    /// Create a registration and print its Client ID and Client secret (once).
    Create {
        #[command(flatten)]
        site: SiteArg,
        /// 1–100 characters, unique in the site (ignoring case).
        #[arg(long)]
        name: String,
        /// Expiration date, YYYY-MM-DD in the site's time zone: it works through that day.
        #[arg(long)]
        expires: String,
        /// Create it disabled.
        #[arg(long)]
        disabled: bool,
    },
    /// List a site's registrations, sorted by name.
    List {
        #[command(flatten)]
        site: SiteArg,
        /// Only registrations in this state: expiring (enabled, within 30 days), expired
        /// (enabled, past its last day) or disabled.
        #[arg(long, value_name = "STATE", value_parser = parse_state)]
        state: Option<registration_core::StateFilter>,
    },
    /// Show one registration.
    Show(Target),
    /// List the registrations that expire within DAYS or have expired, soonest first, across
    /// sites (every site unless --site names one).
    Expiring {
        /// Days ahead, site time: 0 (today and expired) to 3660. Default 30.
        #[arg(long, value_name = "DAYS")]
        within: Option<String>,
        /// Only this site.
        #[arg(long, conflicts_with = "all_sites")]
        site: Option<String>,
        /// Every site (the default).
        #[arg(long)]
        all_sites: bool,
        /// RFC 4180 CSV with a header row instead of a table (not with --json).
        #[arg(long)]
        csv: bool,
    },
    /// Set a new expiration date; Client ID and secret stay the same.
    Renew {
        #[command(flatten)]
        target: Target,
        /// New expiration date, YYYY-MM-DD, not before today (site time).
        #[arg(long)]
        expires: String,
    },
    /// Allow the registration to authenticate (until it expires).
    Enable(Target),
    /// Stop the registration from authenticating.
    Disable(Target),
    /// Delete the registration; its pending notices are cancelled.
    Delete(Target),
    /// Issue a new Client secret for the same Client ID and print it (once); the previous
    /// secret keeps authenticating for the overlap.
    Rotate {
        #[command(flatten)]
        target: Target,
        /// How long the previous secret keeps working: 0 (at once) or a whole number with
        /// d, h, m or s (e.g. 7d, 36h); at most 90 days, never past the expiry. Default 7d.
        #[arg(long, value_name = "DURATION")]
        overlap: Option<String>,
    },
    /// End the previous secret's overlap now; only the current secret authenticates.
    RetireSecret(Target),
}

#[derive(Debug, Subcommand)]
pub(crate) enum TemplatesCommand {
    /// List the site's three templates.
    List {
        #[command(flatten)]
        site: SiteArg,
    },
    /// Change a template; it must render, or nothing is saved.
    Edit {
        #[command(flatten)]
        site: SiteArg,
        /// expires_in_30_days, expires_in_7_days or expired
        kind: String,
        /// New subject (minijinja).
        #[arg(long)]
        subject: Option<String>,
        /// File holding the new body (minijinja).
        #[arg(long)]
        body_file: Option<std::path::PathBuf>,
        /// none or warning (not for expired, which always shows the red banner).
        #[arg(long)]
        banner: Option<String>,
        /// Switch the template off: notices are logged but not delivered.
        #[arg(long, conflicts_with = "on")]
        off: bool,
        /// Switch the template back on.
        #[arg(long)]
        on: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum NoticesCommand {
    /// List a site's notices, newest first.
    List {
        #[command(flatten)]
        site: SiteArg,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum AuditCommand {
    /// List a site's audit entries, newest first, one page at a time.
    List {
        #[command(flatten)]
        site: SiteArg,
        /// Which page (1 is the newest).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
        page: u32,
        /// Entries per page.
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=1000))]
        per_page: u32,
    },
}

/// `10.0.0.0/8`, `2001:db8::/32`, or one address (`10.0.0.7`).
fn parse_proxy(text: &str) -> Result<ipnet::IpNet, String> {
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{text:?} is neither an IP address nor a CIDR block"))
}

fn parse_state(text: &str) -> Result<registration_core::StateFilter, String> {
    registration_core::StateFilter::parse(text)
        .ok_or_else(|| format!("{text:?} is not a state: use expiring, expired or disabled"))
}
