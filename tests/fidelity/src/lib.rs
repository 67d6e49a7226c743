//! The fidelity suite's shared parts: where the pinned command-line tools are, and running one
//! as a user would (a clean environment apart from what the command needs).
//!
//! The tools are installed by `make fidelity` (`tools/fidelity.sh`) from this crate's
//! `package.json`/`package-lock.json` into `tests/fidelity/node_modules`. The suite is not part of
//! `make test`: it needs Node and about 400 MB of npm packages, so it has its own command, and CI
//! runs both.

pub mod anypoint;
pub mod pages;

use std::path::PathBuf;
use std::process::Output;

use anyhow::{Context, Result, bail};

/// The folder holding `package.json` and `node_modules`.
pub fn fidelity_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The path of an installed tool (`wrangler`, `anypoint-cli-v4`, `asl-validator`), or an error
/// that says how to install it.
pub fn tool(name: &str) -> Result<PathBuf> {
    let path = fidelity_dir().join("node_modules").join(".bin").join(name);
    if !path.exists() {
        bail!(
            "{name} is not installed at {}: run `make fidelity` (it installs the pinned tools with npm)",
            path.display()
        );
    }
    Ok(path)
}

/// A finished command: its exit status and what it printed.
#[derive(Debug)]
pub struct Ran {
    /// Whether it exited with status 0.
    pub success: bool,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Ran {
    /// Standard output then standard error, for assertions that do not care which.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

impl From<Output> for Ran {
    fn from(output: Output) -> Self {
        Ran {
            success: output.status.success(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// Runs `tool` with `args` in `dir`, with only `PATH`, `HOME` (a fresh temporary folder, so no
/// user configuration or cached login leaks in) and `env`; gives up after two minutes.
pub async fn run(tool_name: &str, args: &[&str], env: &[(&str, String)], dir: &std::path::Path) -> Result<Ran> {
    run_program(&tool(tool_name)?, args, env, dir).await
}

/// The workspace's root folder.
pub fn workspace_dir() -> PathBuf {
    fidelity_dir().join("..").join("..")
}

/// The path of a pinned Python tool in `.venv-tools` (`sam`, `cfn-lint`), or an error that says
/// how to install it.
pub fn python_tool(name: &str) -> Result<PathBuf> {
    let path = workspace_dir().join(".venv-tools").join("bin").join(name);
    if !path.exists() {
        bail!(
            "{name} is not installed at {}: run `make check-template` (it installs the pinned tools)",
            path.display()
        );
    }
    Ok(path)
}

/// As [`run`], for a program given by its path.
pub async fn run_program(
    program: &std::path::Path,
    args: &[&str],
    env: &[(&str, String)],
    dir: &std::path::Path,
) -> Result<Ran> {
    run_program_with_stdin(program, args, env, dir, None).await
}

/// As [`run_program`], writing `stdin` to the program's standard input (wrangler reads a
/// secret's value there when it is not a terminal). Without input the pipe is closed at once, so
/// a tool that reads it sees the end rather than waiting.
pub async fn run_program_with_stdin(
    program: &std::path::Path,
    args: &[&str],
    env: &[(&str, String)],
    dir: &std::path::Path,
    stdin: Option<&str>,
) -> Result<Ran> {
    use tokio::io::AsyncWriteExt;
    let tool_name = program.display().to_string();
    let home = dir.join(".home");
    std::fs::create_dir_all(&home).with_context(|| format!("creating {}", home.display()))?;
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("NO_COLOR", "1")
        .envs(env.iter().map(|(key, value)| (key, value)))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {tool_name}"))?;
    // Taken (and dropped at the end of this block) whether or not there is input.
    if let (Some(mut pipe), Some(input)) = (child.stdin.take(), stdin) {
        pipe.write_all(input.as_bytes())
            .await
            .with_context(|| format!("writing to {tool_name}'s stdin"))?;
    }
    let output = tokio::time::timeout(std::time::Duration::from_secs(120), child.wait_with_output())
        .await
        .with_context(|| format!("{tool_name} {args:?} did not finish within 120 s"))?
        .with_context(|| format!("running {tool_name}"))?;
    Ok(output.into())
}
