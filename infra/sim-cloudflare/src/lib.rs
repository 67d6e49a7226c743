//! A local simulator of the Cloudflare Pages API: v4 envelope, Direct Upload (upload JWTs, assets),
//! deployments that move through their stages, deployed sites served over HTTP, and fault injection.
//!
//! ```no_run
//! # async fn demo() -> Result<(), baton_sim_cloudflare::SimError> {
//! let sim = baton_sim_cloudflare::start(baton_sim_cloudflare::SimConfig::default(), 0).await?;
//! println!("CLOUDFLARE_API_BASE_URL={}", sim.url());
//! # Ok(()) }
//! ```
//!
//! See `README.md` beside this crate for the endpoints, the admin API and how to point wrangler at it.

mod admin;
mod assets;
mod auth;
mod config;
mod deployments;
mod env_vars;
mod envelope;
mod faults;
mod front;
mod projects;
mod render;
mod rules;
mod serve;
mod stages;
mod state;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use config::{
    DEFAULT_ACCOUNT_ID, DEFAULT_API_TOKEN, DEFAULT_PRODUCTION_BRANCH, DEFAULT_PROJECT, RateLimit, SeedProject,
    SimConfig,
};
pub use envelope::codes;
pub use faults::FaultSpec;
pub use state::SimState;

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The port could not be bound.
    #[error("could not listen on {address}: {source}")]
    Bind {
        /// The address tried.
        address: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
}

/// The simulator's HTTP routes. The API lives under `/client/v4`; site hosts are served before routing.
pub fn router(state: SimState) -> Router {
    let project = "/client/v4/accounts/{account}/pages/projects/{project}";
    let deployment = format!("{project}/deployments/{{id}}");
    let api = Router::new()
        .route(
            "/client/v4/accounts/{account}/pages/projects",
            get(projects::list_projects).post(projects::create_project),
        )
        .route(
            project,
            get(projects::get_project)
                .patch(projects::update_project)
                .delete(projects::delete_project),
        )
        .route(&format!("{project}/upload-token"), get(projects::upload_token))
        .route(
            &format!("{project}/deployments"),
            get(deployments::list).post(deployments::create),
        )
        .route(&deployment, get(deployments::get).delete(deployments::delete))
        .route(&format!("{deployment}/history/logs"), get(deployments::logs))
        .route(&format!("{deployment}/rollback"), post(deployments::rollback))
        .route(&format!("{deployment}/retry"), post(deployments::retry))
        .route(&format!("{deployment}/tails"), post(deployments::tail))
        .route("/client/v4/pages/assets/check-missing", post(assets::check_missing))
        .route("/client/v4/pages/assets/upload", post(assets::upload))
        .route("/client/v4/pages/assets/upsert-hashes", post(assets::upsert_hashes));
    let max_body = state.config().max_body_bytes;
    api.route(
        "/__admin/faults",
        get(admin::list_faults)
            .post(admin::add_faults)
            .delete(admin::clear_faults),
    )
    .route("/__admin/state", get(admin::get_state))
    .route("/__admin/reset", post(admin::reset))
    .route("/__sites/{host}", get(serve::path_based))
    .route("/__sites/{host}/", get(serve::path_based))
    .route("/__sites/{host}/{*path}", get(serve::path_based))
    .route("/", get(admin::index))
    .fallback(unknown_route)
    .method_not_allowed_fallback(unknown_route)
    .layer(axum::middleware::from_fn_with_state(state.clone(), front::front_door))
    .layer(DefaultBodyLimit::max(max_body))
    .with_state(state)
}

/// Cloudflare's answer to a path it has no route for: 404 with codes 7003 and 7000.
async fn unknown_route(uri: axum::http::Uri) -> envelope::ApiError {
    envelope::ApiError::no_route(uri.path())
}

/// A running simulator. Dropping it stops the server.
pub struct RunningSim {
    address: SocketAddr,
    state: SimState,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl RunningSim {
    /// The API base URL, e.g. `http://127.0.0.1:8788/client/v4` (what `CLOUDFLARE_API_BASE_URL` takes).
    pub fn url(&self) -> String {
        format!("{}{}", self.base_url(), front::API_PREFIX)
    }

    /// `http://127.0.0.1:PORT`: the admin endpoints and `/__sites/` live here.
    pub fn base_url(&self) -> String {
        let ip = match self.address.ip() {
            ip if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            ip => ip,
        };
        format!("http://{}", SocketAddr::new(ip, self.address.port()))
    }

    /// The port listened on.
    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// The state, for tests to inspect or inject faults without HTTP.
    pub fn state(&self) -> &SimState {
        &self.state
    }

    /// Stops the server and waits for it to finish.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        // Open keep-alive connections would hold a graceful shutdown; the task is aborted in Drop anyway.
        self.task.abort();
        let _ = (&mut self.task).await;
    }
}

impl Drop for RunningSim {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        self.task.abort();
    }
}

/// Starts the simulator on `config.bind_address` and `port` (0 picks a free port).
pub async fn start(config: SimConfig, port: u16) -> Result<RunningSim, SimError> {
    let requested = SocketAddr::new(config.bind_address, port);
    let listener = tokio::net::TcpListener::bind(requested)
        .await
        .map_err(|source| SimError::Bind {
            address: requested,
            source,
        })?;
    let address = listener.local_addr().map_err(|source| SimError::Bind {
        address: requested,
        source,
    })?;
    let state = SimState::new(config, address.port());
    let app = router(state.clone());
    let (shutdown, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let server = axum::serve(listener, app).with_graceful_shutdown(async {
            let _ = stopped.await;
        });
        if let Err(error) = server.await {
            tracing::error!(%error, "Cloudflare simulator stopped with an error");
        }
    });
    tracing::info!(%address, public_host = state.public_host(), "Cloudflare Pages simulator listening");
    Ok(RunningSim {
        address,
        state,
        shutdown: Some(shutdown),
        task,
    })
}
