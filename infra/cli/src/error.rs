//! What can end a `baton` command, and the exit code each gives.

/// A command's end other than success. Each prints as one line and has its own exit code, so CI
/// can tell a refused package from a network problem.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Baton refused the package or the request (exit 1); the reason is Baton's.
    #[error("{0}")]
    Refused(String),
    /// Baton answered that what was asked does not exist (exit 1).
    #[error("{0}")]
    NotFound(String),
    /// The command line or its input is wrong (exit 2, as for a wrong flag).
    #[error("{0}")]
    Usage(String),
    /// No verdict within the wait (exit 3).
    #[error("{0}")]
    TimedOut(String),
    /// Baton or AWS could not be reached or failed (exit 4).
    #[error("{0}")]
    Unreachable(String),
}

impl CliError {
    /// The process exit code.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Refused(_) | CliError::NotFound(_) => 1,
            CliError::Usage(_) => 2,
            CliError::TimedOut(_) => 3,
            CliError::Unreachable(_) => 4,
        }
    }
}
