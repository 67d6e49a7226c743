//! The domain's rules as users meet them, checked through the crate's public API: defaults and
//! limits of `baton.yaml`, what validation refuses and how it says so, the wording of the status
//! pages, manifest and package rules, and the approval gate.
//!
//! These tests are what `make mutants` (cargo-mutants, see docs/testing.md) relies on to notice
//! wrong code: each asserts a value or sentence a user would see, so that changing the code
//! changes an outcome. They live in one test binary (one link per mutant, not one per file).

mod common;

mod approval_rules;

mod config_defaults;
mod config_validation;
mod display_names;
mod package_verdict;
mod status_detail;
mod status_figures;
mod status_overview;
mod status_progress;
