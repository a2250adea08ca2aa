//! Command-line interface: clap types only; `main.rs` runs them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Triage tox test runs: which targets failed, where, why, and how to reproduce.
#[derive(Debug, Parser)]
#[command(name = "tox-triage", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read tox output and JUnit XML and report failing targets.
    Analyze(AnalyzeArgs),
}

/// `tox-triage analyze`.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// A tox log: plain tox output or a GitHub job log (`-` reads stdin). Repeatable.
    #[arg(long = "log", value_name = "FILE")]
    pub logs: Vec<String>,

    /// JUnit XML: a file, a directory (searched for *.xml and .junitxml-*), or a glob. Repeatable.
    #[arg(long = "junit", value_name = "PATH")]
    pub junit: Vec<String>,

    /// A JUnit file whose tox target cannot be told from its name or testsuite. Repeatable.
    #[arg(long = "junit-for", value_name = "TARGET=PATH")]
    pub junit_for: Vec<String>,

    /// tox.ini, for the envlist: targets it lists that no log reports are "not-run"
    /// (used only when no log shows tox's `-e` selection).
    #[arg(long = "tox-ini", value_name = "FILE")]
    pub tox_ini: Option<PathBuf>,

    /// Write the JSON report here.
    #[arg(long = "json", value_name = "OUT")]
    pub json: Option<PathBuf>,

    /// Write the markdown summary here. Defaults to appending to $GITHUB_STEP_SUMMARY when set.
    #[arg(long = "summary", value_name = "OUT")]
    pub summary: Option<PathBuf>,
}
