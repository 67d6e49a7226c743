//! A local simulator of the Anypoint Platform API (token, me, environments, Exchange, CloudHub 2.0 deployments, fault injection).
//!
//! Plain HTTP, in memory, following the research notes in `shared/reference/anypoint-cloudhub.md`
//! (§10). Start it with [`start`] (port 0 picks a free port) and point any Anypoint client at
//! [`RunningSim::url`]. See the crate README for the routes, the seed file and `/__admin`.

mod accounts;
mod admin;
mod config;
mod deployment;
mod deployments_api;
mod exchange;
mod graph;
mod http;
mod spec;
mod state;
mod targets;
mod tls;

use std::net::{Ipv4Addr, SocketAddr};

use axum::Router;
use axum::routing::{get, post};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use config::{
    AssetSeed, DEFAULT_APPLY_DELAY, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_ORG_ID, DEFAULT_ORG_NAME,
    DEFAULT_PRODUCTION_ENV_ID, DEFAULT_SANDBOX_ENV_ID, DEFAULT_TOKEN_TTL, EnvironmentSeed, FailingVersion, SimConfig,
};
pub use state::{FaultSpec, SimState};
pub use tls::TlsError;

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The TLS certificate or configuration could not be made.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The seed file could not be read or parsed.
    #[error("invalid seed file {path}: {message}")]
    Seed {
        /// The file.
        path: String,
        /// What was wrong.
        message: String,
    },
}

/// The simulator's routes over `state`.
pub fn router(state: SimState) -> Router {
    const AMC: &str = "/amc/application-manager/api/v2/organizations/{org_id}/environments/{env_id}/deployments";
    const RTF: &str = "/runtimefabric/api/organizations/{org_id}/targets";
    Router::new()
        .route("/accounts/api/v2/oauth2/token", post(accounts::token))
        .route("/accounts/api/me", get(accounts::me))
        .route("/accounts/api/users/me", get(accounts::users_me))
        .route("/accounts/api/organizations/{org_id}", get(accounts::organization))
        .route(
            "/accounts/api/organizations/{org_id}/environments",
            get(accounts::environments),
        )
        .route(
            "/accounts/api/organizations/{org_id}/environments/{env_id}",
            get(accounts::environment),
        )
        .route(
            "/accounts/api/organizations/{org_id}/hierarchy",
            get(accounts::hierarchy),
        )
        .route(
            "/exchange/api/v2/assets/{group_id}/{asset_id}/asset",
            get(exchange::asset_latest),
        )
        .route(
            "/exchange/api/v2/assets/{group_id}/{asset_id}/{version}",
            get(exchange::asset_version),
        )
        .route(
            "/exchange/api/v2/assets/{group_id}/{asset_id}/{version}/asset",
            get(exchange::asset_version),
        )
        .route(
            "/exchange/api/v1/assets/{group_id}/{asset_id}",
            get(exchange::asset_v1_latest),
        )
        .route(
            "/exchange/api/v1/assets/{group_id}/{asset_id}/{version}",
            get(exchange::asset_v1_version),
        )
        .route("/graph/api/v2/graphql", post(graph::graphql))
        .route(
            "/amc/atlas/api/v1/organizations/{org_id}/providers/{provider}/targets",
            get(targets::atlas_targets),
        )
        // anypoint-cli posts usage analytics after each command: accepted and dropped.
        .route("/cli/api/v1/analytics/{kind}", post(admin::analytics))
        .route(RTF, get(targets::list_targets))
        .route(&format!("{RTF}/{{target_id}}"), get(targets::get_target))
        .route(
            &format!("{RTF}/{{target_id}}/environments/{{env_id}}/domains"),
            get(targets::target_domains),
        )
        .route(AMC, get(deployments_api::list).post(deployments_api::create))
        .route(
            &format!("{AMC}/{{deployment_id}}"),
            get(deployments_api::get)
                .patch(deployments_api::patch)
                .delete(deployments_api::delete),
        )
        .route("/__admin/state", get(admin::get_state))
        .route("/__admin/reset", post(admin::reset))
        .route("/__admin/faults", post(admin::add_faults).delete(admin::clear_faults))
        .route("/__admin/assets", post(admin::add_assets))
        .route("/__admin/failing-versions", post(admin::add_failing))
        .route("/__admin/tokens/expire", post(admin::expire_tokens))
        .route("/__admin/credentials", post(admin::rotate_credentials))
        .route("/__admin/settings", post(admin::settings))
        .fallback(admin::fallback)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            admin::count_and_inject,
        ))
        .with_state(state)
}

/// A simulator serving in the background. Dropping it stops the server.
pub struct RunningSim {
    addr: SocketAddr,
    state: SimState,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
    /// The generated CA's PEM when serving TLS.
    ca_pem: Option<String>,
}

impl RunningSim {
    /// Base URL, e.g. `http://127.0.0.1:40123` (`https://` when started by [`start_tls`]; no
    /// trailing slash).
    pub fn url(&self) -> String {
        let scheme = if self.ca_pem.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// The PEM of the certificate authority that signed the server certificate, when serving TLS:
    /// what a client must trust (e.g. `NODE_EXTRA_CA_CERTS` for Node).
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The socket address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The live state, to seed assets, inject faults or read counters from a test.
    pub fn state(&self) -> &SimState {
        &self.state
    }

    /// Stops the server and waits for it to finish (in-flight requests are dropped).
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        self.task.abort();
        let _ = (&mut self.task).await;
    }
}

impl Drop for RunningSim {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        // Keep-alive connections would hold a graceful shutdown open; a simulator can just stop.
        self.task.abort();
    }
}

/// Starts the simulator on `127.0.0.1:port` (port 0 picks a free one).
pub async fn start(config: SimConfig, port: u16) -> Result<RunningSim, SimError> {
    start_on(config, SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await
}

/// Starts the simulator on `addr` (e.g. `0.0.0.0:8081` to serve other machines).
pub async fn start_on(config: SimConfig, addr: SocketAddr) -> Result<RunningSim, SimError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| SimError::Bind { addr, source })?;
    let addr = listener
        .local_addr()
        .map_err(|source| SimError::Bind { addr, source })?;
    Ok(serve(listener, addr, config, None))
}

/// Starts the simulator serving https on `127.0.0.1:port` (port 0 picks a free one), with a
/// certificate generated now for `localhost`, `127.0.0.1` and `hostnames`, signed by a CA generated
/// now too: [`RunningSim::ca_pem`] is what the client must trust. For clients that only speak
/// https (anypoint-cli-v4); `hostnames` names the host such a client believes it talks to.
pub async fn start_tls(config: SimConfig, port: u16, hostnames: &[&str]) -> Result<RunningSim, SimError> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let identity = tls::generate(hostnames)?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| SimError::Bind { addr, source })?;
    let addr = listener
        .local_addr()
        .map_err(|source| SimError::Bind { addr, source })?;
    let listener = tls::TlsListener::new(listener, addr, identity.server_config);
    Ok(serve(listener, addr, config, Some(identity.ca_pem)))
}

/// Serves the routes over `listener` in a background task.
fn serve<L>(listener: L, addr: SocketAddr, config: SimConfig, ca_pem: Option<String>) -> RunningSim
where
    L: axum::serve::Listener,
    L::Addr: std::fmt::Debug,
{
    let state = SimState::new(config);
    let app = router(state.clone());
    let (shutdown, shutdown_signal) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = shutdown_signal.await;
            })
            .await;
        if let Err(error) = served {
            tracing::error!(%error, "Anypoint simulator stopped with an error");
        }
    });
    tracing::info!(%addr, tls = ca_pem.is_some(), "Anypoint simulator listening");
    RunningSim {
        addr,
        state,
        shutdown: Some(shutdown),
        task,
        ca_pem,
    }
}
