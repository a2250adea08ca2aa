//! Command-line interface: clap types only; `main.rs` runs them.
//!
//! Every `analyze` option an action input maps to has an `env` fallback named
//! as GitHub passes inputs to a Docker action: `INPUT_` + the input's name
//! upper-cased, hyphens kept (`tox-log` → `INPUT_TOX-LOG`). Multi-line inputs
//! split on newlines. An empty `INPUT_*` variable counts as unset.

use clap::{Args, Parser, Subcommand, ValueEnum};

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
    Analyze(Box<AnalyzeArgs>),
    /// Run a test command (in a tox env): retry pytest's exit 4 for a path
    /// not found, and record forensics of the filesystem and git when it persists.
    Run(RunArgs),
}

/// `tox-triage run [OPTIONS] -- <command...>`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Retries after an exit 4 with a path not found.
    #[arg(long = "retries", value_name = "N", default_value_t = 3)]
    pub retries: u32,

    /// Backoff step in seconds: the n-th retry waits n times this (0.5, 1.0, 1.5, ...).
    #[arg(long = "retry-delay", value_name = "SECONDS", default_value_t = 0.5)]
    pub retry_delay: f64,

    /// Where to write forensics-<target>.json and .md (relative to the workspace).
    #[arg(
        long = "forensics-dir",
        value_name = "DIR",
        env = "TOX_TRIAGE_FORENSICS_DIR",
        default_value = "tox-triage-forensics"
    )]
    pub forensics_dir: String,

    /// Time allowed for forensics, in seconds.
    #[arg(
        long = "forensics-timeout",
        value_name = "SECONDS",
        default_value_t = 5.0
    )]
    pub forensics_timeout: f64,

    /// The base revision, for "added by the PR". Defaults to the event's base
    /// commit ($GITHUB_EVENT_PATH), else origin/$GITHUB_BASE_REF.
    #[arg(long = "base-ref", value_name = "REV", env = "TOX_TRIAGE_BASE_REF")]
    pub base_ref: Option<String>,

    /// The command to run, after `--`.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<std::ffi::OsString>,
}

/// When the exit code should say "failed".
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Always exit 0 once the analysis ran.
    Never,
    /// Exit 1 when a target's verdict is regression.
    Regression,
    /// Exit 1 when any target failed or did not run.
    Any,
}

/// Whether to print GitHub annotations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum When {
    /// When running in GitHub Actions (`GITHUB_ACTIONS=true`).
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// `tox-triage analyze`.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// A tox log (plain tox output or a GitHub job log), or a glob; `-` reads stdin. Repeatable.
    #[arg(
        long = "log",
        value_name = "FILE",
        env = "INPUT_TOX-LOG",
        value_delimiter = '\n'
    )]
    pub logs: Vec<String>,

    /// JUnit XML: a file, a directory (searched for *.xml and .junitxml-*), or a glob. Repeatable.
    #[arg(
        long = "junit",
        value_name = "PATH",
        env = "INPUT_JUNIT",
        value_delimiter = '\n'
    )]
    pub junit: Vec<String>,

    /// A JUnit file whose tox target cannot be told from its name or testsuite. Repeatable.
    #[arg(long = "junit-for", value_name = "TARGET=PATH")]
    pub junit_for: Vec<String>,

    /// tox.ini, for the envlist: targets it lists that no log reports are "not-run"
    /// (used only when no log shows tox's `-e` selection). A missing `tox.ini`
    /// (the action's default) is skipped; any other missing file is an error.
    #[arg(long = "tox-ini", value_name = "FILE", env = "INPUT_TOX-INI")]
    pub tox_ini: Option<String>,

    /// The base tox.ini (before the change), to tell which suite versions are newly added.
    #[arg(long = "base-tox-ini", value_name = "FILE")]
    pub base_tox_ini: Option<String>,

    /// The base as a git revision; its tox.ini is read with `git show REV:./tox.ini`.
    /// Defaults to the pull request's base commit from $GITHUB_EVENT_PATH.
    #[arg(long = "base-ref", value_name = "REV", env = "INPUT_BASE-REF")]
    pub base_ref: Option<String>,

    /// Known flaky tests and suites (YAML). Used when it exists.
    #[arg(
        long = "config",
        value_name = "FILE",
        env = "INPUT_CONFIG",
        default_value = ".github/tox-triage.yml"
    )]
    pub config: String,

    /// Look up regressions' release pages on PyPI and a compare link between
    /// release tags on GitHub (a few bounded requests per regression).
    #[arg(long = "online", value_name = "BOOL", env = "INPUT_ONLINE", default_value = "false",
          value_parser = clap::builder::BoolishValueParser::new(), action = clap::ArgAction::Set)]
    pub online: bool,

    /// GitHub token, used for the GitHub API only (never sent elsewhere, never printed).
    /// Falls back to $GITHUB_TOKEN.
    #[arg(
        long = "github-token",
        value_name = "TOKEN",
        env = "INPUT_GITHUB-TOKEN",
        hide_env_values = true
    )]
    pub github_token: Option<String>,

    /// Take exit-4 forensics for targets whose pytest exited 4 (after the fact,
    /// unless `tox-triage run` recorded them at the failure in --forensics-dir).
    #[arg(long = "forensics", value_name = "BOOL", env = "INPUT_FORENSICS", default_value = "false",
          value_parser = clap::builder::BoolishValueParser::new(), action = clap::ArgAction::Set)]
    pub forensics: bool,

    /// Where forensics files are (from `tox-triage run`) and are written.
    #[arg(
        long = "forensics-dir",
        value_name = "DIR",
        env = "INPUT_FORENSICS-DIR",
        default_value = "tox-triage-forensics"
    )]
    pub forensics_dir: String,

    /// API mode: the repository (`OWNER/NAME`); defaults to $GITHUB_REPOSITORY.
    #[arg(long = "repo", value_name = "OWNER/NAME", help_heading = "API mode")]
    pub repo: Option<String>,

    /// API mode: triage this workflow run. In the action, defaults to the
    /// `workflow_run` that triggered it when no tox-log or junit is given.
    #[arg(
        long = "run-id",
        value_name = "ID",
        env = "INPUT_RUN-ID",
        help_heading = "API mode"
    )]
    pub run_id: Option<u64>,

    /// API mode: triage every run of --workflows on this commit.
    #[arg(long = "sha", value_name = "SHA", help_heading = "API mode")]
    pub sha: Option<String>,

    /// API mode: triage every run of --workflows on this pull request's head.
    #[arg(long = "pr", value_name = "N", help_heading = "API mode")]
    pub pr: Option<u64>,

    /// API mode: the newest open pull request whose head branch starts with this (`toxgen/`).
    #[arg(
        long = "pr-head-prefix",
        value_name = "PREFIX",
        help_heading = "API mode"
    )]
    pub pr_head_prefix: Option<String>,

    /// API mode: workflow names to triage for --sha/--pr (glob).
    #[arg(
        long = "workflows",
        value_name = "GLOB",
        env = "INPUT_WORKFLOWS",
        default_value = "Test*",
        help_heading = "API mode"
    )]
    pub workflows: String,

    /// API mode: wait until every run has completed.
    #[arg(long = "wait", help_heading = "API mode")]
    pub wait: bool,

    /// API mode: seconds between polls with --wait and --wait-rerun.
    #[arg(
        long = "poll-interval",
        value_name = "SECONDS",
        default_value_t = 10,
        help_heading = "API mode"
    )]
    pub poll_interval: u64,

    /// API mode: give up waiting after this many seconds.
    #[arg(
        long = "wait-timeout",
        value_name = "SECONDS",
        default_value_t = 3600,
        help_heading = "API mode"
    )]
    pub wait_timeout: u64,

    /// API mode: job logs downloaded at once.
    #[arg(
        long = "concurrency",
        value_name = "N",
        default_value_t = 8,
        help_heading = "API mode"
    )]
    pub concurrency: usize,

    /// API mode: also read JUnit files in the runs' artifacts whose name matches (glob).
    #[arg(long = "artifacts", value_name = "GLOB", help_heading = "API mode")]
    pub artifacts: Option<String>,

    /// API mode: rerun failed jobs whose failing targets are all suspected flakes.
    #[arg(long = "rerun-flakes", value_name = "BOOL", env = "INPUT_RERUN-FLAKES", default_value = "false",
          value_parser = clap::builder::BoolishValueParser::new(), action = clap::ArgAction::Set, help_heading = "API mode")]
    pub rerun_flakes: bool,

    /// API mode: rerun only while the run's attempt is below this (2: one automatic rerun).
    #[arg(
        long = "max-run-attempt",
        value_name = "N",
        env = "INPUT_MAX-RUN-ATTEMPT",
        default_value_t = 2,
        help_heading = "API mode"
    )]
    pub max_run_attempt: u64,

    /// API mode: print the rerun plan, change nothing.
    #[arg(long = "dry-run", help_heading = "API mode")]
    pub dry_run: bool,

    /// API mode: wait for reruns to finish and report whether the flakes cleared.
    #[arg(long = "wait-rerun", help_heading = "API mode")]
    pub wait_rerun: bool,

    /// Write the JSON report here.
    #[arg(long = "json", value_name = "OUT", env = "INPUT_REPORT-PATH")]
    pub json: Option<String>,

    /// Write the markdown summary here (replacing the file).
    #[arg(long = "summary", value_name = "OUT")]
    pub summary: Option<String>,

    /// Append the markdown summary to $GITHUB_STEP_SUMMARY when that is set.
    #[arg(long = "step-summary", value_name = "BOOL", env = "INPUT_SUMMARY", default_value = "true",
          value_parser = clap::builder::BoolishValueParser::new(), action = clap::ArgAction::Set)]
    pub step_summary: bool,

    /// When to exit 1: never, on a regression, or on any failing or not-run target.
    #[arg(
        long = "fail-on",
        value_name = "WHEN",
        env = "INPUT_FAIL-ON",
        value_enum,
        default_value = "never"
    )]
    pub fail_on: FailOn,

    /// Print GitHub annotations (workflow commands) for the most useful failures.
    #[arg(
        long = "annotations",
        value_name = "WHEN",
        value_enum,
        default_value = "auto"
    )]
    pub annotations: When,
}

/// The `INPUT_*` variables `analyze` reads, with the action input each comes from.
/// The contract test checks this list against action.yml.
pub const ACTION_INPUTS: &[(&str, &str)] = &[
    ("tox-log", "--log"),
    ("junit", "--junit"),
    ("tox-ini", "--tox-ini"),
    ("base-ref", "--base-ref"),
    ("config", "--config"),
    ("online", "--online"),
    ("forensics", "--forensics"),
    ("run-id", "--run-id"),
    ("workflows", "--workflows"),
    ("rerun-flakes", "--rerun-flakes"),
    ("max-run-attempt", "--max-run-attempt"),
    ("forensics-dir", "--forensics-dir"),
    ("github-token", "--github-token"),
    ("report-path", "--json"),
    ("summary", "--step-summary"),
    ("fail-on", "--fail-on"),
];

/// The step outputs `analyze` writes to `$GITHUB_OUTPUT`.
pub const ACTION_OUTPUTS: &[&str] = &[
    "failed-targets",
    "regressions",
    "suspected-flakes",
    "report-path",
    "forensics-dir",
    "rerun-jobs",
];
