//! The command line, as clap reads it.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// Baton's command line: push packages as CI does, and read where releases stand.
///
/// Without BATON_API_URL, `baton` talks to the local stack (`make up`): http://127.0.0.1:3000,
/// bucket baton-artefacts (or BATON_BUCKET), S3 at http://127.0.0.1:4566, test credentials.
/// With it, AWS credentials come from the default chain (environment, profile, SSO, OIDC web
/// identity, instance role).
#[derive(Debug, Parser)]
#[command(name = "baton", version, propagate_version = true)]
pub struct Cli {
    /// Where Baton is.
    #[command(flatten)]
    pub endpoints: EndpointArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Where Baton's API and bucket are.
#[derive(Debug, Args, Clone, Default)]
pub struct EndpointArgs {
    /// Baton's public URL (the stack's PublicUrl output), for verdicts and status.
    #[arg(long, env = "BATON_API_URL", global = true, value_name = "URL")]
    pub api_url: Option<String>,
    /// The artefact bucket packages are uploaded to.
    #[arg(long, env = "BATON_BUCKET", global = true, value_name = "BUCKET")]
    pub bucket: Option<String>,
    /// Another S3 endpoint (a local stack, a VPC endpoint); buckets are then addressed by path.
    #[arg(long, env = "AWS_ENDPOINT_URL", global = true, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// An API token (make one on the status page's account page) for a Baton whose pages are
    /// for signed-in viewers. Read from the environment only, so it stays out of shell history.
    #[arg(skip = std::env::var("BATON_TOKEN").ok().filter(|t| !t.trim().is_empty()))]
    pub token: Option<String>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Upload a package as CI does, and with --wait report Baton's verdict on it.
    ///
    /// Exit codes: 0 registered (or already registered), 1 refused (the reason is printed),
    /// 2 a wrong command line or file, 3 --wait timed out, 4 Baton or AWS could not be reached.
    Push(PushArgs),
    /// What is live in each environment, what is on its way, recent releases, refused uploads.
    Status(ReadArgs),
    /// The releases, newest first.
    Releases(ReleasesArgs),
    /// One release: where it stands, what it holds, its timeline.
    Release(ReleaseArgs),
    /// Ask to deploy a release to an environment again: roll back to it, deploy it again, or
    /// retry it.
    ///
    /// Baton mails a confirmation link to --email (or BATON_EMAIL) if that address is an
    /// approver of the environment; nothing changes until it is confirmed through the link.
    /// Only an environment the release was deployed to before can be asked for.
    ///
    /// Exit codes: 0 asked, 1 Baton refused (its reason is printed), 2 a wrong command line (no
    /// address, an empty or too long reason), 4 Baton could not be reached.
    Redeploy(RedeployArgs),
}

/// `baton push`.
#[derive(Debug, Args)]
pub struct PushArgs {
    /// The component, as configured in baton.yaml (e.g. web, state).
    pub component: String,
    /// The version, SemVer 2.0 (e.g. 1.4.0, 1.4.0-rc.1).
    #[arg(id = "package_version", value_name = "VERSION")]
    pub version: String,
    /// The package: a zip of the site for a web component, a manifest for a state component.
    pub file: PathBuf,
    /// The commit it was built from.
    #[arg(long, value_name = "SHA")]
    pub commit: Option<String>,
    /// The branch it was built from.
    #[arg(long)]
    pub branch: Option<String>,
    /// A link to the CI build.
    #[arg(long, value_name = "URL")]
    pub build_url: Option<String>,
    /// Release notes: any text (commas, quotes, new lines, any language).
    #[arg(long)]
    pub notes: Option<String>,
    /// Who made the change (their address; environments may forbid them to approve it).
    #[arg(long, value_name = "EMAIL")]
    pub author: Option<String>,
    /// Wait for Baton's verdict and exit by it.
    #[arg(long)]
    pub wait: bool,
    /// How long --wait waits (e.g. 120s, 5m).
    #[arg(long, default_value = "120s", value_parser = humantime::parse_duration, requires = "wait")]
    pub timeout: Duration,
}

/// Options of every read.
#[derive(Debug, Args)]
pub struct ReadArgs {
    /// Print Baton's JSON answer instead of words.
    #[arg(long)]
    pub json: bool,
}

/// `baton releases`.
#[derive(Debug, Args)]
pub struct ReleasesArgs {
    /// How many (1 to 100).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u16).range(1..=100))]
    pub limit: u16,
    /// Only releases numbered below this one (the next page).
    #[arg(long, value_name = "NUMBER")]
    pub before: Option<u64>,
    /// Words or JSON.
    #[command(flatten)]
    pub read: ReadArgs,
}

/// `baton release`.
#[derive(Debug, Args)]
pub struct ReleaseArgs {
    /// The release: its number (12) or id (rel-12).
    pub release: String,
    /// Words or JSON.
    #[command(flatten)]
    pub read: ReadArgs,
}

/// `baton redeploy`.
#[derive(Debug, Args)]
pub struct RedeployArgs {
    /// The release to deploy: its number (5) or id (rel-5).
    #[arg(long, value_name = "N|rel-N")]
    pub release: String,
    /// The environment to deploy it to (e.g. PROD).
    #[arg(long = "env", value_name = "ENV")]
    pub environment: String,
    /// Why (recorded on the releases' timelines; at most 500 characters).
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    /// Your address, an approver of the environment: the confirmation link goes there.
    #[arg(long, env = "BATON_EMAIL", value_name = "ADDR")]
    pub email: Option<String>,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn push_reads_its_arguments_and_timeout() {
        let cli = Cli::try_parse_from([
            "baton",
            "push",
            "web",
            "1.4.0",
            "site.zip",
            "--notes",
            "a, b",
            "--wait",
            "--timeout",
            "2m",
        ])
        .unwrap();
        let Command::Push(push) = cli.command else {
            panic!("not a push")
        };
        assert_eq!((push.component.as_str(), push.version.as_str()), ("web", "1.4.0"));
        assert_eq!(push.notes.as_deref(), Some("a, b"));
        assert_eq!(push.timeout, Duration::from_secs(120));
        assert!(Cli::try_parse_from(["baton", "push", "web", "1.4.0", "site.zip", "--timeout", "5s"]).is_err());
    }

    #[test]
    fn redeploy_reads_release_environment_reason_and_address() {
        let cli = Cli::try_parse_from([
            "baton",
            "redeploy",
            "--release",
            "rel-5",
            "--env",
            "PROD",
            "--reason",
            "login broken since 7",
            "--email",
            "rm@example.com",
        ])
        .unwrap();
        let Command::Redeploy(args) = cli.command else {
            panic!("not a redeploy")
        };
        assert_eq!(args.release, "rel-5");
        assert_eq!(args.environment, "PROD");
        assert_eq!(args.reason, "login broken since 7");
        assert_eq!(args.email.as_deref(), Some("rm@example.com"));
        let missing: [&[&str]; 3] = [
            &["--env", "PROD", "--reason", "r"],
            &["--release", "5", "--reason", "r"],
            &["--release", "5", "--env", "PROD"],
        ];
        for args in missing {
            let line = ["baton", "redeploy"].iter().chain(args).copied();
            assert!(Cli::try_parse_from(line).is_err(), "{args:?}");
        }
        // The endpoint flags are global: they may follow the subcommand.
        let cli = Cli::try_parse_from([
            "baton",
            "redeploy",
            "--release",
            "5",
            "--env",
            "TEST",
            "--reason",
            "r",
            "--api-url",
            "https://b.example",
        ])
        .unwrap();
        assert_eq!(cli.endpoints.api_url.as_deref(), Some("https://b.example"));
    }
}
