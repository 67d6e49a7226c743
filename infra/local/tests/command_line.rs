//! `baton-local` behaves like the ecosystem's command lines: help on every subcommand, a
//! version, exit 2 and one clear line for a wrong flag, never a backtrace.

use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    match Command::new(env!("CARGO_BIN_EXE_baton-local"))
        .args(args)
        // A user's mistake must not show a backtrace even when backtraces are asked for.
        .env("RUST_BACKTRACE", "1")
        .output()
    {
        Ok(out) => out,
        Err(e) => panic!("baton-local could not run: {e}"),
    }
}

#[test]
fn help_answers_on_every_subcommand() {
    for args in [
        vec!["--help"],
        vec!["-h"],
        vec!["up", "--help"],
        vec!["demo", "-h"],
        vec!["sim", "--help"],
        vec!["sim", "cloudflare", "--help"],
        vec!["sim", "anypoint", "-h"],
        vec!["help", "demo"],
    ] {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {out:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage: baton-local"),
            "{args:?}"
        );
    }
    let version = run(&["--version"]);
    assert_eq!(version.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("baton-local "));
}

#[test]
fn a_wrong_flag_or_value_exits_two_with_one_clear_error() {
    for args in [
        vec!["up", "--bogus"],
        vec!["demo", "--http-port", "not-a-port"],
        vec!["sim", "cloudflare", "--port", "70000"],
        vec!["deploy"],
        vec![],
    ] {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("error") || stderr.contains("Usage"),
            "{args:?}: {stderr}"
        );
        assert!(
            !stderr.contains("panicked") && !stderr.contains("stack backtrace"),
            "{stderr}"
        );
    }
}
