//! The `tox-triage` binary: parses arguments, runs the library, maps errors to exit codes.
//!
//! Exit codes: 0 the analysis ran (whether or not tests failed); 2 bad usage or
//! an unreadable input, with a one-line message naming the file.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;
use tox_triage::analyze::{AnalyzeInput, analyze, parse_junit_for};
use tox_triage::cli::{AnalyzeArgs, Cli, Command};
use tox_triage::outputs::{human, json, markdown};

fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Analyze(args) => run_analyze(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            let msg = format!("{e:#}");
            eprintln!(
                "tox-triage: error: {}",
                tox_triage::outputs::escape::terminal(&msg, 2000)
            );
            ExitCode::from(2)
        }
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TOX_TRIAGE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}

fn run_analyze(args: AnalyzeArgs) -> Result<ExitCode> {
    let junit_for = args
        .junit_for
        .iter()
        .map(|a| parse_junit_for(a))
        .collect::<Result<Vec<_>, _>>()?;
    if args.logs.is_empty() && args.junit.is_empty() && junit_for.is_empty() {
        anyhow::bail!("nothing to analyse: give --log and/or --junit");
    }
    let input = AnalyzeInput {
        logs: args.logs,
        junit: args.junit,
        junit_for,
        tox_ini: args.tox_ini,
    };
    let report = analyze(&input)?;

    if let Some(path) = &args.json {
        fs::write(path, json::to_json(&report))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let opts = markdown::MarkdownOptions {
        report_hint: args.json.as_ref().map(|p| p.display().to_string()),
        ..Default::default()
    };
    match (&args.summary, std::env::var_os("GITHUB_STEP_SUMMARY")) {
        (Some(path), _) => fs::write(path, markdown::render(&report, &opts))
            .with_context(|| format!("cannot write {}", path.display()))?,
        (None, Some(path)) if !path.is_empty() => {
            append(Path::new(&path), &markdown::render(&report, &opts))?
        }
        _ => {}
    }
    let mut out = std::io::stdout().lock();
    out.write_all(human::render(&report).as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

fn append(path: &Path, text: &str) -> Result<()> {
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    f.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}
