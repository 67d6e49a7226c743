//! `baton-local`: Baton's local stack. `baton-local --help` lists the commands; each has its
//! own `--help`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use baton_local::schedules::Schedules;
use baton_local::{LocalStack, LogTarget, StackOptions, demo};
use clap::{Args, Parser, Subcommand};

/// Baton's local stack: moto for AWS, the functions in process, simulators of Cloudflare Pages
/// and the Anypoint Platform, all from template.yaml. No AWS account, no Docker.
#[derive(Debug, Parser)]
#[command(name = "baton-local", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the stack in the foreground until Ctrl-C, reporting releases as they happen.
    Up(StackArgs),
    /// Run the stack, push the sample packages as CI would and follow release 1.
    Demo(DemoArgs),
    /// Run one platform simulator on its own, for a team's own tooling.
    #[command(subcommand)]
    Sim(Simulator),
}

/// Where the stack listens and what it runs.
#[derive(Debug, Args)]
struct StackArgs {
    /// AWS region.
    #[arg(long, env = "BATON_REGION", default_value = "eu-west-1")]
    region: String,
    /// Port of the AWS endpoint (AWS_ENDPOINT_URL for tools).
    #[arg(long, env = "BATON_AWS_PORT", default_value_t = 4566)]
    aws_port: u16,
    /// Port of the HTTP API (status page, approval links, outbox).
    #[arg(long, env = "BATON_HTTP_PORT", default_value_t = 3000)]
    http_port: u16,
    /// Port of moto, behind the AWS endpoint (0: any free port).
    #[arg(long, env = "BATON_MOTO_PORT", default_value_t = 0)]
    moto_port: u16,
    /// The artefact bucket.
    #[arg(long, env = "BATON_BUCKET", default_value = "baton-artefacts")]
    bucket: String,
    /// baton.yaml to use instead of infra/config/baton.local.yaml.
    #[arg(long, env = "BATON_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Show the functions' and moto's logs here instead of in files under .local/.
    #[arg(long, short)]
    verbose: bool,
    /// Fire the template's rate(...) schedules (the drift check) every this many seconds
    /// instead of at their own rate; 0 fires none.
    #[arg(long, env = "BATON_SCHEDULE_EVERY", value_name = "SECONDS")]
    schedule_every: Option<u64>,
}

#[derive(Debug, Args)]
struct DemoArgs {
    #[command(flatten)]
    stack: StackArgs,
    /// Approve each environment from its mail, as a release manager would.
    #[arg(long, env = "AUTO_APPROVE", value_parser = clap::builder::FalseyValueParser::new())]
    auto_approve: bool,
    /// Stop once the release has finished instead of keeping the stack up.
    #[arg(long)]
    exit: bool,
}

#[derive(Debug, Subcommand)]
enum Simulator {
    /// The Cloudflare Pages API simulator.
    Cloudflare {
        /// Port (0: any free port).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// The API token it accepts.
        #[arg(long)]
        token: Option<String>,
        /// The account id it serves.
        #[arg(long)]
        account: Option<String>,
    },
    /// The Anypoint Platform API simulator (token, Exchange, CloudHub 2.0).
    Anypoint {
        /// Port (0: any free port).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// A seed file of environments, targets and Exchange assets.
        #[arg(long, value_name = "FILE")]
        seed: Option<PathBuf>,
        /// The connected app's client id it accepts.
        #[arg(long)]
        client_id: Option<String>,
        /// The connected app's client secret it accepts.
        #[arg(long)]
        client_secret: Option<String>,
        /// The organisation id.
        #[arg(long)]
        org: Option<String>,
        /// How long a deployment takes to go from APPLYING to APPLIED, in milliseconds.
        #[arg(long, value_name = "MS")]
        apply_delay_ms: Option<u64>,
    },
}

fn main() -> ExitCode {
    // clap prints usage errors itself and exits 2; --help and --version exit 0.
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line with its causes; never a backtrace.
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> Result<()> {
    match command {
        Command::Up(args) => {
            let (stack, _) = start(&args).await?;
            println!("\nReleases are reported below as they happen. Ctrl-C stops the stack.\n");
            tokio::select! {
                r = demo::report_releases(&stack, 1) => r?,
                r = stopped() => r?,
            }
            println!("stopping");
            stack.stop().await;
            Ok(())
        }
        Command::Demo(args) => {
            let (stack, root) = start(&args.stack).await?;
            let finished = tokio::select! {
                r = demo::run(&stack, &root, args.auto_approve) => r?,
                r = stopped() => { r?; stack.stop().await; return Ok(()); }
            };
            if args.exit {
                stack.stop().await;
                return Ok(());
            }
            println!("\nThe stack stays up; later releases are reported below. Ctrl-C stops it.\n");
            tokio::select! {
                r = demo::report_releases(&stack, finished + 1) => r?,
                r = stopped() => r?,
            }
            println!("stopping");
            stack.stop().await;
            Ok(())
        }
        Command::Sim(simulator) => run_simulator(simulator).await,
    }
}

/// Sets up logging, starts the stack and prints where everything is.
async fn start(args: &StackArgs) -> Result<(LocalStack, PathBuf)> {
    let mut options = StackOptions {
        region: args.region.clone(),
        aws_port: args.aws_port,
        http_port: args.http_port,
        moto_port: args.moto_port,
        bucket: args.bucket.clone(),
        schedules: match args.schedule_every {
            None => Schedules::AsDeclared,
            Some(0) => Schedules::Off,
            Some(seconds) => Schedules::Every(std::time::Duration::from_secs(seconds)),
        },
        ..StackOptions::default()
    };
    if let Some(path) = &args.config {
        options.config_yaml =
            Some(std::fs::read_to_string(path).with_context(|| format!("reading --config {}", path.display()))?);
    }
    let logs = options.root.join(".local");
    let function_log = logs.join("functions.log");
    if args.verbose {
        options.moto_log = LogTarget::Terminal;
        log_to(std::io::stdout, true);
    } else {
        std::fs::create_dir_all(&logs).with_context(|| format!("creating {}", logs.display()))?;
        options.moto_log = LogTarget::File(logs.join("moto.log"));
        let file =
            std::fs::File::create(&function_log).with_context(|| format!("creating {}", function_log.display()))?;
        log_to(std::sync::Mutex::new(file), false);
    }
    let root = options.root.clone();
    let started = Instant::now();
    let stack = LocalStack::start(options).await?;
    print_stack(&stack, started, (!args.verbose).then_some(&logs))?;
    Ok((stack, root))
}

/// The functions' and the runner's logs, to the terminal or a file.
fn log_to<W>(writer: W, ansi: bool)
where
    W: for<'a> tracing_subscriber::fmt::MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,aws_config=warn,aws_smithy_runtime=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(ansi)
        .with_writer(writer)
        .init();
}

fn print_stack(stack: &LocalStack, started: Instant, logs: Option<&std::path::Path>) -> Result<()> {
    println!("Baton local stack is up ({} ms)", started.elapsed().as_millis());
    println!("  status page    {}/", stack.http_url);
    println!(
        "  outbox         {}/_local/outbox   (every mail sent; approval links are clickable)",
        stack.http_url
    );
    println!(
        "  AWS endpoint   {}   (AWS_ENDPOINT_URL), region {}",
        stack.aws_endpoint, stack.region
    );
    println!("  bucket         {}", stack.bucket);
    println!("  table          {}", stack.resource_name("Table")?);
    println!("  uploads queue  {}", stack.queue_url("UploadsQueue")?);
    println!("  state machine  {}", stack.state_machine_arn("ReleaseStateMachine")?);
    println!(
        "  Cloudflare sim {}   (sites: http://<deployment>.baton-demo.localhost:{}/)",
        stack.cloudflare.url(),
        stack.cloudflare.port()
    );
    println!("  Anypoint sim   {}", stack.anypoint.url());
    match logs {
        Some(dir) => println!(
            "  logs           {}/functions.log and moto.log   (--verbose shows them here)",
            dir.display()
        ),
        None => println!("  logs           here (--verbose)"),
    }
    println!("\nPush a package as CI does (`push --help` says more):");
    println!(
        "  cargo run -q -p baton-cli -- push state 1.0.1 samples/state/manifest.yaml --notes \"Patient API 1.4.2\" --wait"
    );
    Ok(())
}

/// `baton-local sim cloudflare|anypoint`.
async fn run_simulator(simulator: Simulator) -> Result<()> {
    match simulator {
        Simulator::Cloudflare { port, token, account } => {
            let mut config = baton_sim_cloudflare::SimConfig::default();
            if let Some(token) = token {
                config.api_token = token;
            }
            if let Some(account) = account {
                config.account_id = account;
            }
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
        Simulator::Anypoint {
            port,
            seed,
            client_id,
            client_secret,
            org,
            apply_delay_ms,
        } => {
            let mut config = match seed {
                Some(path) => baton_sim_anypoint::SimConfig::from_seed_file(&path)?,
                None => baton_sim_anypoint::SimConfig::default(),
            };
            if let Some(id) = client_id {
                config.client_id = id;
            }
            if let Some(secret) = client_secret {
                config.client_secret = secret;
            }
            if let Some(org) = org {
                config.org_id = org;
            }
            if let Some(ms) = apply_delay_ms {
                config = config.with_apply_delay(std::time::Duration::from_millis(ms));
            }
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
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}
