//! `appreg serve`: the HTTP server on a tokio runtime, stopped gracefully by Ctrl-C or
//! SIGTERM.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result};
use notify::ChannelNotifier;
use registration_core::{RandomSource, RegistrationService};
use registration_http::{Config, Server};

use crate::system::OsRandom;

/// Where `serve` listens and how it is reached.
pub(crate) struct Network {
    pub(crate) listen: SocketAddr,
    pub(crate) public_url: Option<String>,
    pub(crate) trusted_proxies: Vec<ipnet::IpNet>,
}

pub(crate) fn serve(
    service: Arc<RegistrationService>,
    network: Network,
    notifier: ChannelNotifier,
) -> Result<()> {
    let Network {
        listen,
        public_url,
        trusted_proxies,
    } = network;
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("APPREG_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    // The store's synchronous clients must never run, nor be dropped, on the runtime's
    // threads: every store call goes through the blocking pool, and this handle keeps the
    // store alive until the runtime is gone, so its last handle is dropped here.
    let store_keeper = service.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let outcome = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let address = listener.local_addr()?;
        let public_url = public_url.unwrap_or_else(|| format!("http://{address}"));
        let mut cache_key = [0u8; 32];
        OsRandom.fill_bytes(&mut cache_key)?;
        let config = Config {
            trusted_proxies,
            ..Config::new(public_url.clone())
        };
        let (server, bootstrap) = tokio::task::spawn_blocking(move || -> Result<_> {
            let bootstrap = service.bootstrap_admin()?;
            Ok((Server::new(service, config, cache_key)?, bootstrap))
        })
        .await
        .context("the start-up task failed")??;
        // On the terminal (stdout), never in the logs (stderr, often kept by a journal).
        if let Some((username, password)) = bootstrap {
            println!(
                "appreg: no administrator existed, so one was created for site default:\n\n  \
                 username  {username}\n  password  {}\n\n\
                 This password is shown only this once. Issue an API token with \
                 `appreg admin token {username}`.\n",
                password.expose_secret()
            );
        }
        let server = server.with_notifier(Arc::new(notifier));
        eprintln!("appreg: listening on http://{address} (public URL {public_url})");
        tracing::info!(%address, %public_url, "listening");
        server.run(listener, shutdown_signal()).await?;
        tracing::info!("stopped");
        Ok(())
    });
    // A delivery attempt still running is abandoned after this; its lease runs out and
    // another worker retries it (at least once, never lost).
    runtime.shutdown_timeout(std::time::Duration::from_secs(10));
    drop(store_keeper);
    outcome
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
