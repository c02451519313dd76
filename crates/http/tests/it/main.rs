//! registration-http's end-to-end tests: a real server on 127.0.0.1 over a real SQLite
//! file, driven with a real HTTP client; time comes from a fake clock the test moves.

#![allow(clippy::unwrap_used)]

mod admin;
mod fuzz;
mod oauth;
mod parsing;
mod protection;

use std::sync::Arc;

use registration_core::testkit::FakeClock;
use registration_core::{
    Clock, ExpirationDate, NewRegistration, RandomSource, RegistrationName, RegistrationService,
    SecretHasher, SiteName, SiteSlug, SiteZone,
};
use registration_http::{BudgetPolicy, Config, Server};
use store_sqlite::SqliteStore;
use tempfile::TempDir;
use time::OffsetDateTime;
use time::macros::datetime;
use tokio::sync::oneshot;

pub(crate) const START: OffsetDateTime = datetime!(2026-11-23 09:00 UTC);

/// The OS random source, as in production: keys and token IDs must really be random.
struct OsRandom;

impl RandomSource for OsRandom {
    fn fill_bytes(&self, dest: &mut [u8]) -> Result<(), registration_core::Error> {
        #[allow(clippy::disallowed_methods)] // the test server's production-like RandomSource
        getrandom::fill(dest).map_err(|_| registration_core::Error::EntropyUnavailable)
    }
}

pub(crate) struct TestApp {
    pub(crate) base: String,
    pub(crate) clock: Arc<FakeClock>,
    pub(crate) service: Arc<RegistrationService>,
    pub(crate) client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    _dir: TempDir,
}

pub(crate) struct Credentials {
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
}

/// Starts an isolated server on a free port with a fresh database and a second site `other`.
pub(crate) async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub(crate) async fn spawn_app_with(configure: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("appreg.db")).unwrap());
    let clock = Arc::new(FakeClock::at(START));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let service = Arc::new(RegistrationService::new(
        store,
        clock.clone(),
        Arc::new(OsRandom),
        SecretHasher::recommended().unwrap(),
        Arc::new(notify::SandboxedRenderer::default()),
        &base,
    ));
    service
        .add_site(
            SiteSlug::parse("other").unwrap(),
            Some(SiteName::parse("Other").unwrap()),
            Some(SiteZone::parse("Europe/Berlin").unwrap()),
            &crate::tester(),
        )
        .unwrap();
    let mut config = Config::new(base.clone());
    config.budgets = BudgetPolicy::default();
    configure(&mut config);
    let server = Server::new(service.clone(), config, [7; 32]).unwrap();
    let (shutdown, stop) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        server
            .run(listener, async {
                let _ = stop.await;
            })
            .await
            .unwrap();
    });
    TestApp {
        base,
        clock,
        service,
        client: {
            notify::install_tls_provider();
            reqwest::Client::new()
        },
        shutdown: Some(shutdown),
        server: Some(server),
        _dir: dir,
    }
}

impl TestApp {
    pub(crate) fn create(&self, site: &str, name: &str, expires: &str) -> Credentials {
        let (snapshot, secret) = self
            .service
            .create(
                &SiteSlug::parse(site).unwrap(),
                NewRegistration {
                    name: RegistrationName::parse(name).unwrap(),
                    expiration_date: ExpirationDate::parse(expires).unwrap(),
                    enabled: true,
                },
                &crate::tester(),
            )
            .unwrap();
        Credentials {
            client_id: snapshot.registration.client_id().to_string(),
            client_secret: secret.expose_secret().to_owned(),
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub(crate) async fn token_basic(&self, site: &str, client: &Credentials) -> reqwest::Response {
        self.client
            .post(self.url(&format!("/sites/{site}/oauth2/token")))
            .basic_auth(&client.client_id, Some(&client.client_secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn token_post(&self, site: &str, client: &Credentials) -> reqwest::Response {
        self.client
            .post(self.url(&format!("/sites/{site}/oauth2/token")))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", &client.client_id),
                ("client_secret", &client.client_secret),
            ])
            .send()
            .await
            .unwrap()
    }

    pub(crate) fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// Stops the server gracefully (coalesced usage is written).
    pub(crate) async fn stop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            shutdown.send(()).unwrap();
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap();
        }
    }
}

/// Who the audit log names for changes these tests make through the service directly.
pub(crate) fn tester() -> registration_core::Actor {
    registration_core::Actor::Cli("test".into())
}
