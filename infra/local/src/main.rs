//! `baton-local`: Baton's local stack.
//!
//! ```text
//! baton-local up   [options]          run the stack in the foreground until Ctrl-C
//! baton-local demo [options] [--exit] run the stack, push the sample packages, report the release
//!
//! options: --region R --aws-port N --http-port N --moto-port N --bucket B --config FILE
//! ```
//! Each option also has an environment variable: BATON_REGION, BATON_AWS_PORT, BATON_HTTP_PORT,
//! BATON_MOTO_PORT, BATON_BUCKET, BATON_CONFIG.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use baton_local::{LocalStack, StackOptions, demo};

const USAGE: &str = "usage: baton-local up|demo [--region R] [--aws-port N] [--http-port N] [--moto-port N] [--bucket B] [--config FILE] [--auto-approve] [--exit]\n       baton-local sim cloudflare|anypoint [--port N] [simulator flags]";

struct Command {
    options: StackOptions,
    exit_after_demo: bool,
    auto_approve: bool,
}

fn parse(args: &[String]) -> Result<Command> {
    let mut o = StackOptions::default();
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let port = |v: &str, what: &str| {
        v.parse::<u16>()
            .with_context(|| format!("{what} must be a port number, not '{v}'"))
    };
    if let Some(v) = env("BATON_REGION") {
        o.region = v;
    }
    if let Some(v) = env("BATON_AWS_PORT") {
        o.aws_port = port(&v, "BATON_AWS_PORT")?;
    }
    if let Some(v) = env("BATON_HTTP_PORT") {
        o.http_port = port(&v, "BATON_HTTP_PORT")?;
    }
    if let Some(v) = env("BATON_MOTO_PORT") {
        o.moto_port = port(&v, "BATON_MOTO_PORT")?;
    }
    if let Some(v) = env("BATON_BUCKET") {
        o.bucket = v;
    }
    let mut config_path = env("BATON_CONFIG");
    let mut exit_after_demo = false;
    let mut auto_approve = std::env::var("AUTO_APPROVE").is_ok_and(|v| !v.is_empty() && v != "0");
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .with_context(|| format!("{flag} needs a value; {USAGE}"))
        };
        match flag.as_str() {
            "--region" => o.region = value()?,
            "--aws-port" => o.aws_port = port(&value()?, "--aws-port")?,
            "--http-port" => o.http_port = port(&value()?, "--http-port")?,
            "--moto-port" => o.moto_port = port(&value()?, "--moto-port")?,
            "--bucket" => o.bucket = value()?,
            "--config" => config_path = Some(value()?),
            "--exit" => exit_after_demo = true,
            "--auto-approve" => auto_approve = true,
            other => bail!("unknown option '{other}'; {USAGE}"),
        }
    }
    if let Some(path) = config_path {
        o.config_yaml = Some(std::fs::read_to_string(&path).with_context(|| format!("reading --config {path}"))?);
    }
    let log = o.root.join(".local/moto.log");
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir)?;
    }
    o.moto_log = Some(log);
    Ok(Command {
        options: o,
        exit_after_demo,
        auto_approve,
    })
}

fn print_stack(stack: &LocalStack, started: Instant) -> Result<()> {
    println!("\nBaton local stack is up ({} ms)", started.elapsed().as_millis());
    println!("  region         {}", stack.region);
    println!("  AWS endpoint   {}   (AWS_ENDPOINT_URL)", stack.aws_endpoint);
    println!("  HTTP API       {}", stack.http_url);
    println!("  bucket         {}", stack.bucket);
    println!("  table          {}", stack.resource_name("Table")?);
    println!("  uploads queue  {}", stack.queue_url("UploadsQueue")?);
    println!("  dead letters   {}", stack.queue_url("UploadsDeadLetterQueue")?);
    println!("  state machine  {}", stack.state_machine_arn("ReleaseStateMachine")?);
    println!("  moto log       .local/moto.log");
    println!(
        "  outbox         {}/_local/outbox   (every mail sent; approval links are clickable)",
        stack.http_url
    );
    println!("  status page    {}/", stack.http_url);
    println!(
        "  Cloudflare sim {}   (sites: http://<deployment>.baton-demo.localhost:{}/)",
        stack.cloudflare.url(),
        stack.cloudflare.port()
    );
    println!("  Anypoint sim   {}", stack.anypoint.url());
    println!("\nPush a package as CI does:");
    println!(
        "  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION={} \\\n    aws --endpoint-url {} s3 cp samples/state/manifest.yaml s3://{}/packages/state/1.0.0/manifest.yaml \\\n    --metadata commit=3f2c1d9,branch=main,notes=\"Patient API 1.4.2\"",
        stack.region, stack.aws_endpoint, stack.bucket
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,aws_config=warn,aws_smithy_runtime=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(verb) = args.first().map(String::as_str) else {
        bail!("{USAGE}")
    };
    if verb == "sim" {
        return run_simulator(&args[1..]).await;
    }
    if !matches!(verb, "up" | "demo") {
        bail!("unknown command '{verb}'; {USAGE}");
    }
    let command = parse(&args[1..])?;
    let root = command.options.root.clone();
    let started = Instant::now();
    let stack = LocalStack::start(command.options).await?;
    print_stack(&stack, started)?;
    if verb == "demo" {
        println!("\nPushing the sample packages as CI would:");
        demo::push_samples(&stack, &root, "1.0.0").await?;
        let release = demo::wait_for_release(&stack, 1, Duration::from_secs(60)).await?;
        println!("\n{}", demo::describe(&release));
        let environments: Vec<String> = ["TEST", "PROD"].iter().map(|e| e.to_string()).collect();
        if command.auto_approve {
            println!("Approving each environment from its mail (AUTO_APPROVE). Timeline:");
        } else {
            println!(
                "Baton has mailed the release manager. Open {}/_local/outbox, follow the link,",
                stack.http_url
            );
            println!("review the release and press Approve: TEST first, then (after TEST is live) PROD.");
            println!("Follow it on {}/ . Timeline:", stack.http_url);
        }
        let timeout = if command.auto_approve {
            Duration::from_secs(300)
        } else {
            Duration::from_secs(24 * 3_600)
        };
        let finished = demo::follow(&stack, 1, &environments, command.auto_approve, timeout).await?;
        println!("\nRelease {} finished: {:?}", finished.number, finished.status);
        if command.exit_after_demo {
            stack.stop().await;
            return Ok(());
        }
    }
    println!("\nReleases are reported below as they are created. Ctrl-C stops the stack.\n");
    stopped().await?;
    println!("stopping");
    stack.stop().await;
    Ok(())
}

/// `baton-local sim cloudflare|anypoint`: one simulator on its own, for a team's own tooling.
async fn run_simulator(args: &[String]) -> Result<()> {
    let Some(which) = args.first().map(String::as_str) else {
        bail!("{USAGE}")
    };
    let mut flags = std::collections::BTreeMap::new();
    let mut it = args[1..].iter();
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value; {USAGE}"))?;
        flags.insert(flag.trim_start_matches("--").to_string(), value.clone());
    }
    let port: u16 = match flags.remove("port") {
        Some(p) => p
            .parse()
            .with_context(|| format!("--port must be a port number, not '{p}'"))?,
        None => 0,
    };
    match which {
        "cloudflare" => {
            let mut config = baton_sim_cloudflare::SimConfig::default();
            if let Some(token) = flags.remove("token") {
                config.api_token = token;
            }
            if let Some(account) = flags.remove("account") {
                config.account_id = account;
            }
            refuse_unknown(flags, "--port, --token, --account")?;
            let sim = baton_sim_cloudflare::start(config.clone(), port).await?;
            println!(
                "Cloudflare Pages simulator on {} (account {}, API token {})",
                sim.url(),
                config.account_id,
                config.api_token
            );
            println!(
                "Admin: {}/__admin/state   Sites: http://<deployment>.<project>.localhost:{}/",
                sim.base_url(),
                sim.port()
            );
            stopped().await?;
            sim.stop().await;
        }
        "anypoint" => {
            let mut config = match flags.remove("seed") {
                Some(path) => baton_sim_anypoint::SimConfig::from_seed_file(std::path::Path::new(&path))?,
                None => baton_sim_anypoint::SimConfig::default(),
            };
            if let Some(id) = flags.remove("client-id") {
                config.client_id = id;
            }
            if let Some(secret) = flags.remove("client-secret") {
                config.client_secret = secret;
            }
            if let Some(org) = flags.remove("org") {
                config.org_id = org;
            }
            if let Some(ms) = flags.remove("apply-delay-ms") {
                config = config.with_apply_delay(Duration::from_millis(
                    ms.parse().context("--apply-delay-ms must be a number")?,
                ));
            }
            refuse_unknown(
                flags,
                "--port, --seed, --client-id, --client-secret, --org, --apply-delay-ms",
            )?;
            let sim = baton_sim_anypoint::start(config.clone(), port).await?;
            println!(
                "Anypoint Platform simulator on {} (org {}, client id {})",
                sim.url(),
                config.org_id,
                config.client_id
            );
            println!("Admin: {}/__admin/state", sim.url());
            stopped().await?;
            sim.stop().await;
        }
        other => bail!("unknown simulator '{other}'; use cloudflare or anypoint"),
    }
    Ok(())
}

fn refuse_unknown(flags: std::collections::BTreeMap<String, String>, known: &str) -> Result<()> {
    match flags.keys().next() {
        Some(flag) => bail!("unknown option --{flag}; this simulator takes {known}"),
        None => Ok(()),
    }
}

/// Ctrl-C or SIGTERM (e.g. `timeout`, a supervisor): either way the stack is stopped cleanly,
/// moto included.
async fn stopped() -> Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r?,
        _ = term.recv() => {}
    }
    Ok(())
}
