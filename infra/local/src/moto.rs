//! moto, the AWS emulator, as a child process of the runner.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tokio::process::{Child, Command};

/// A running moto server; killed when dropped.
pub struct Moto {
    child: Child,
    /// Its base URL.
    pub url: String,
}

/// Whether something already listens on `port`.
pub fn port_in_use(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(200),
    )
    .is_ok()
}

/// A free local port, chosen by the OS.
pub fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// How to start moto: `BATON_MOTO_SERVER` (a `moto_server` executable, used as is), else the
/// project's venv Python running `infra/local/moto_server.py` (moto's server with patches that
/// keep its cost per request from growing with the data it holds; its docstring lists them).
pub fn moto_command(root: &Path) -> Result<(PathBuf, Vec<String>)> {
    if let Ok(path) = std::env::var("BATON_MOTO_SERVER") {
        return Ok((PathBuf::from(path), Vec::new()));
    }
    let python = root.join(".venv/bin/python3");
    if !root.join(".venv/bin/moto_server").exists() {
        bail!(
            "{} has no moto: run `make setup` (it installs the pinned moto into .venv)",
            root.join(".venv").display()
        );
    }
    let script = root.join("infra/local/moto_server.py");
    Ok((python, vec![script.to_string_lossy().into_owned()]))
}

impl Moto {
    /// Starts moto on `port`. `lambda_port` is where its state machine interpreter sends
    /// Lambda and other service calls (`MOTO_PORT`): the runner's AWS endpoint.
    pub async fn start(root: &Path, port: u16, lambda_port: u16, log: &crate::LogTarget) -> Result<Moto> {
        let (exe, script) = moto_command(root)?;
        Moto::start_command(&exe, &script, port, lambda_port, log).await
    }

    /// Starts `exe` with `args` as moto on `port` (`start` without choosing the command: the
    /// tests of `moto_server.py` compare it with moto's own `moto_server`).
    pub async fn start_command(
        exe: &Path,
        args: &[String],
        port: u16,
        lambda_port: u16,
        log: &crate::LogTarget,
    ) -> Result<Moto> {
        if port_in_use(port) {
            bail!(
                "port {port} is already in use by another process; stop it or choose another moto port (--moto-port)"
            );
        }
        let stderr = match log {
            crate::LogTarget::File(path) => {
                Stdio::from(std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?)
            }
            crate::LogTarget::Terminal => Stdio::inherit(),
            crate::LogTarget::Discard => Stdio::null(),
        };
        let child = Command::new(exe)
            .args(args)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_PORT", lambda_port.to_string())
            .env("AWS_DEFAULT_REGION", "eu-west-1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", exe.display()))?;
        let moto = Moto {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        moto.wait_ready().await?;
        moto.configure().await?;
        Ok(moto)
    }

    async fn wait_ready(&self) -> Result<()> {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if client.get(format!("{}/moto-api/", self.url)).send().await.is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("moto did not answer on {} within 20 s", self.url);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Turns on real state machine execution (moto only stores definitions by default).
    async fn configure(&self) -> Result<()> {
        let response = reqwest::Client::new()
            .post(format!("{}/moto-api/config", self.url))
            .json(&serde_json::json!({"stepfunctions": {"execute_state_machine": true}}))
            .send()
            .await?;
        if !response.status().is_success() {
            bail!(
                "moto refused the state machine execution setting: {}",
                response.status()
            );
        }
        Ok(())
    }

    /// Stops moto.
    pub async fn stop(&mut self) {
        let _ = self.child.kill().await;
    }
}
