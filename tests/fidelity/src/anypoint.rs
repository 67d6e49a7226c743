//! Running anypoint-cli-v4 against the Anypoint simulator as a user would.
//!
//! The CLI builds every URL as `https://{--host}` and only sends its bearer token when the host
//! looks like `anypoint.mulesoft…` (`isAnypointDomain` in `anypoint-cli-command/lib/api-client.js`),
//! so pointing `--host` at `127.0.0.1:port` would log in and then call every API without a token.
//! Instead the CLI keeps its real default host, `anypoint.mulesoft.com`, and reaches it through
//! an HTTPS proxy (`HTTPS_PROXY`, which the CLI supports for corporate networks): the small
//! CONNECT proxy here tunnels every connection to the simulator, which serves TLS with a
//! certificate for `anypoint.mulesoft.com` signed by the CA it generated at start. The CLI trusts
//! that CA through `NODE_EXTRA_CA_CERTS`; verification stays on. Its GraphQL client does not
//! honour `HTTPS_PROXY` on Node 20, so `support/env-proxy.cjs` (loaded through `NODE_OPTIONS`)
//! points Node's default agent at the proxy, as Node 24's `NODE_USE_ENV_PROXY` would.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, bail};
use baton_sim_anypoint::{RunningSim, SimConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::{Ran, run};

/// The host the CLI believes it talks to (its default).
pub const ANYPOINT_HOST: &str = "anypoint.mulesoft.com";

/// The simulator over TLS, the proxy in front of it, and the folder the CLI runs in.
pub struct AnypointCli {
    /// The simulator (its state is what tests assert on besides the CLI's output).
    pub sim: RunningSim,
    proxy_addr: SocketAddr,
    proxy_task: JoinHandle<()>,
    /// Every `CONNECT` target the proxy was asked for, in order.
    pub tunnels: Arc<Mutex<Vec<String>>>,
    ca_file: PathBuf,
    /// The folder the CLI runs in (its fresh `HOME` is under it).
    pub dir: PathBuf,
}

impl AnypointCli {
    /// Starts the simulator with `config` over TLS and the proxy, and writes the CA to a file in a
    /// fresh folder `tests/fidelity/.work/{name}-{pid}`.
    pub async fn start(name: &str, config: SimConfig) -> Result<Self> {
        let dir = crate::fidelity_dir()
            .join(".work")
            .join(format!("{name}-{}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir).with_context(|| format!("clearing {}", dir.display()))?;
        }
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let sim = baton_sim_anypoint::start_tls(config, 0, &[ANYPOINT_HOST]).await?;
        let ca_pem = sim.ca_pem().context("the simulator was started with TLS")?;
        let ca_file = dir.join("sim-ca.pem");
        std::fs::write(&ca_file, ca_pem).with_context(|| format!("writing {}", ca_file.display()))?;
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.context("binding the proxy")?;
        let proxy_addr = listener.local_addr()?;
        let tunnels = Arc::new(Mutex::new(Vec::new()));
        let proxy_task = tokio::spawn(proxy(listener, sim.addr(), tunnels.clone()));
        Ok(Self {
            sim,
            proxy_addr,
            proxy_task,
            tunnels,
            ca_file,
            dir,
        })
    }

    /// The environment a user of the CLI behind a proxy would have: credentials, the proxy, and
    /// the simulator's CA added to Node's trusted roots.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let config = self.sim.state().config();
        vec![
            ("ANYPOINT_CLIENT_ID", config.client_id.clone()),
            ("ANYPOINT_CLIENT_SECRET", config.client_secret.clone()),
            ("HTTPS_PROXY", format!("http://{}", self.proxy_addr)),
            ("NODE_EXTRA_CA_CERTS", self.ca_file.display().to_string()),
            // The CLI's GraphQL client ignores HTTPS_PROXY on Node 20: see support/env-proxy.cjs.
            (
                "NODE_OPTIONS",
                format!(
                    "--require {}",
                    crate::fidelity_dir().join("support/env-proxy.cjs").display()
                ),
            ),
        ]
    }

    /// Runs `anypoint-cli-v4 args…` in [`Self::dir`] with [`Self::env`].
    pub async fn run(&self, args: &[&str]) -> Result<Ran> {
        run("anypoint-cli-v4", args, &self.env(), &self.dir).await
    }

    /// Runs it and fails, showing what it printed, unless it exited 0.
    pub async fn ok(&self, args: &[&str]) -> Result<Ran> {
        let ran = self.run(args).await?;
        if !ran.success {
            bail!("anypoint-cli-v4 {args:?} failed:\n{}", ran.all());
        }
        Ok(ran)
    }

    /// Runs it with `--output json` and parses the JSON it printed (after any progress lines such as
    /// "Deploying orders-api ...").
    pub async fn json(&self, args: &[&str]) -> Result<serde_json::Value> {
        let mut all: Vec<&str> = args.to_vec();
        // The long form: `exchange asset list` takes `-o` for its offset.
        all.extend(["--output", "json"]);
        let ran = self.ok(&all).await?;
        let start = ran.stdout.find(['{', '[']).unwrap_or(0);
        serde_json::from_str(ran.stdout[start..].trim())
            .with_context(|| format!("anypoint-cli-v4 {all:?} printed no JSON:\n{}", ran.all()))
    }

    /// The simulator's deployments in `environment` (details as its API answers them).
    pub fn deployments(&self, environment: &str) -> Vec<serde_json::Value> {
        let snapshot = self.sim.state().snapshot();
        snapshot["environments"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|env| env["name"] == environment)
            .flat_map(|env| env["deployments"].as_array().cloned().unwrap_or_default())
            .collect()
    }

    /// Where the CLI runs; for files a command uploads or writes.
    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }
}

impl Drop for AnypointCli {
    fn drop(&mut self) {
        self.proxy_task.abort();
    }
}

/// A minimal HTTP CONNECT proxy: answers each `CONNECT host:port` with 200 and tunnels the bytes to
/// `target`, whatever host was asked for (the simulator stands in for all of Anypoint).
async fn proxy(listener: TcpListener, target: SocketAddr, tunnels: Arc<Mutex<Vec<String>>>) {
    while let Ok((client, _)) = listener.accept().await {
        let tunnels = tunnels.clone();
        tokio::spawn(async move {
            if let Err(error) = tunnel(client, target, &tunnels).await {
                eprintln!("fidelity proxy: {error:#}");
            }
        });
    }
}

async fn tunnel(mut client: TcpStream, target: SocketAddr, tunnels: &Mutex<Vec<String>>) -> Result<()> {
    let head = read_head(&mut client).await?;
    let request_line = head.lines().next().unwrap_or_default().to_string();
    let mut parts = request_line.split_whitespace();
    let (Some("CONNECT"), Some(authority)) = (parts.next(), parts.next()) else {
        client
            .write_all(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            .await?;
        bail!("not a CONNECT request: {request_line}");
    };
    if let Ok(mut seen) = tunnels.lock() {
        seen.push(authority.to_string());
    }
    let mut upstream = TcpStream::connect(target)
        .await
        .context("connecting to the simulator")?;
    client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await?;
    // Either side closing ends the tunnel; a reset after the exchange is normal.
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
    Ok(())
}

/// Reads the request head (up to the blank line), byte by byte so nothing after it is consumed.
async fn read_head(client: &mut TcpStream) -> Result<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 16 * 1024 {
            bail!("proxy request head over 16 KiB");
        }
        let read = client.read(&mut byte).await?;
        if read == 0 {
            bail!("client closed before finishing its CONNECT request");
        }
        head.push(byte[0]);
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}

/// Writes `bytes` to `path` (a jar or a properties file a command uploads).
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}
