//! Package versions: SemVer 2.0, strictly.

use std::fmt;
use std::str::FromStr;

/// A package version, SemVer 2.0 (`1.4.0`, `2.0.0-rc.1`, `1.0.0+build.5`).
///
/// Ordering is SemVer precedence; build metadata, which precedence ignores, only breaks ties
/// so that the order is total and deterministic.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(semver::Version);

/// Why a string is not a SemVer 2.0 version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "'{input}' is not a SemVer 2.0 version ({detail}); use MAJOR.MINOR.PATCH such as 1.4.0 or 2.0.0-rc.1, without a leading 'v'"
)]
pub struct VersionError {
    /// The text that was given.
    pub input: String,
    /// What the parser objected to.
    pub detail: String,
}

impl Version {
    /// Parses a SemVer 2.0 version.
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        semver::Version::parse(input).map(Version).map_err(|e| VersionError {
            input: input.to_string(),
            detail: e.to_string(),
        })
    }
}

impl FromStr for Version {
    type Err = VersionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Version::parse(s)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl serde::Serialize for Version {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Version {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Version::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_semver_and_orders_by_precedence() {
        let mut versions: Vec<Version> = [
            "1.0.0",
            "1.0.0-rc.1",
            "1.0.0-alpha",
            "0.9.12",
            "1.0.0-alpha.10",
            "1.0.0-alpha.2",
        ]
        .iter()
        .map(|v| Version::parse(v).unwrap())
        .collect();
        versions.sort();
        let shown: Vec<String> = versions.iter().map(|v| v.to_string()).collect();
        assert_eq!(
            shown,
            [
                "0.9.12",
                "1.0.0-alpha",
                "1.0.0-alpha.2",
                "1.0.0-alpha.10",
                "1.0.0-rc.1",
                "1.0.0"
            ]
        );
    }

    #[test]
    fn rejects_what_is_not_semver_with_a_hint() {
        for bad in ["v1.0.0", "1.0", "01.0.0", "latest", "1.0.0-", ""] {
            let err = Version::parse(bad).unwrap_err();
            assert!(err.to_string().contains("not a SemVer 2.0 version"), "{bad}: {err}");
        }
    }
}
