//! `baton`: Baton's command line, for CI and for people at a terminal.
//!
//! `baton push` uploads a package where Baton expects it (`packages/<component>/<version>/<file>`)
//! with CI's metadata, and with `--wait` exits by Baton's verdict on that upload; `baton status`,
//! `baton releases` and `baton release N` read the status API; `baton redeploy` asks Baton to
//! deploy a release to an environment again (confirmed by mail). See `docs/ci.md`.

pub mod cli;
pub mod error;
pub mod push;
pub mod read;
pub mod redeploy;
pub mod target;

use cli::{Cli, Command};
use error::CliError;
use target::{Api, Target};

/// Runs one command line.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    let target = Target::resolve(&cli.endpoints);
    match &cli.command {
        Command::Push(args) => push::push(&target, args).await,
        Command::Status(args) => read::status(&Api::of(&target)?, args.json).await,
        Command::Releases(args) => read::releases(&Api::of(&target)?, args).await,
        Command::Release(args) => read::release(&Api::of(&target)?, args).await,
        Command::Redeploy(args) => redeploy::redeploy(&Api::of(&target)?, args).await,
    }
}
