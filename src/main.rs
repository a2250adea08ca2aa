//! The `tox-triage` binary: parses arguments, runs the library, writes the
//! outputs where GitHub expects them, and maps the result to an exit code.
//!
//! Exit codes: 0 the analysis ran (whether or not tests failed); 1 `--fail-on`
//! matched; 2 bad usage, an unreadable input, or an output that could not be
//! written, with a one-line message naming the file.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Parser;
use std::time::Duration;

use tox_triage::actions::rerun::RerunOptions;
use tox_triage::actions::wrapper::{self, RunOptions};
use tox_triage::analyze::{AnalyzeInput, ForensicsOptions, analyze, parse_junit_for};
use tox_triage::analyze_api::{ApiInput, Selector, Wait};
use tox_triage::cli::{AnalyzeArgs, Cli, Command, FailOn, RunArgs, When};
use tox_triage::inputs::event::Event;
use tox_triage::inputs::http::HttpConfig;
use tox_triage::model::{Report, Verdict};
use tox_triage::outputs::{annotations, escape, human, json, markdown, step_outputs};
use tox_triage::paths::Workspace;

fn main() -> ExitCode {
    clear_empty_inputs();
    limit_malloc_arenas();
    init_logging();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Analyze(args) => run_analyze(*args),
        Command::Run(args) => run_wrapper(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            let msg = format!("{e:#}");
            eprintln!("tox-triage: error: {}", escape::terminal(&msg, 2000));
            ExitCode::from(2)
        }
    }
}

/// GitHub sets every declared input, empty when the workflow gives none: an
/// empty `INPUT_*` means "use the default", so it is removed before clap reads it.
fn clear_empty_inputs() {
    let empty: Vec<_> = std::env::vars_os()
        .filter(|(k, v)| {
            k.to_string_lossy().starts_with("INPUT_") && v.to_string_lossy().trim().is_empty()
        })
        .map(|(k, _)| k)
        .collect();
    for k in empty {
        // SAFETY: called first thing in main, before any other thread exists.
        unsafe { std::env::remove_var(k) };
    }
}

/// glibc gives each thread that allocates its own heap arena, and arenas do
/// not give memory back to each other: the threads that read JUnit files
/// allocate their results, which the main thread keeps. Two arenas keep peak
/// RSS near the heap's size at the same speed (1 GB JUnit file: 69 MB with
/// the default, 58 MB with two; see BENCHMARKS.md).
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
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

fn in_github_actions() -> bool {
    std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true")
}

fn env_path(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn run_analyze(args: AnalyzeArgs) -> Result<ExitCode> {
    let ws = Workspace::from_env();
    let junit_for = args
        .junit_for
        .iter()
        .map(|a| parse_junit_for(a))
        .collect::<Result<Vec<_>, _>>()?;
    let clean = |v: &[String]| -> Vec<String> {
        v.iter()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    };
    let logs = clean(&args.logs);
    let junit = clean(&args.junit);
    let event = Event::from_env();
    let local_inputs = !(logs.is_empty() && junit.is_empty() && junit_for.is_empty());
    let selector = match (&args.run_id, &args.sha, &args.pr, &args.pr_head_prefix) {
        (Some(id), None, None, None) => Some(Selector::RunId(*id)),
        (None, Some(s), None, None) => Some(Selector::Sha(s.clone())),
        (None, None, Some(n), None) => Some(Selector::Pr(*n)),
        (None, None, None, Some(p)) => Some(Selector::PrHeadPrefix(p.clone())),
        (None, None, None, None) if !local_inputs => {
            // The action on a `workflow_run` event: the run that triggered it.
            event.as_ref().and_then(|e| e.run_id).map(Selector::RunId)
        }
        (None, None, None, None) => None,
        _ => bail!("give one of --run-id, --sha, --pr, --pr-head-prefix"),
    };
    if !local_inputs && selector.is_none() {
        bail!(
            "nothing to analyse: give --log and/or --junit (inputs tox-log, junit), or a run to fetch (--run-id, --sha, --pr, --pr-head-prefix)"
        );
    }
    if args.rerun_flakes && selector.is_none() {
        bail!(
            "--rerun-flakes (input rerun-flakes) needs API mode: a run to fetch (--run-id, --sha, --pr, --pr-head-prefix)"
        );
    }
    let token = args
        .github_token
        .clone()
        .or_else(|| env_path("GITHUB_TOKEN"));
    let api = match selector {
        Some(selector) => {
            let repo = args
                .repo
                .clone()
                .or_else(|| env_path("GITHUB_REPOSITORY"))
                .ok_or_else(|| {
                    anyhow::anyhow!("API mode needs --repo OWNER/NAME (or $GITHUB_REPOSITORY)")
                })?;
            Some(ApiInput {
                repo,
                selector,
                workflows: args.workflows.clone(),
                wait: args.wait.then(|| Wait {
                    interval: Duration::from_secs(args.poll_interval.max(1)),
                    timeout: Duration::from_secs(args.wait_timeout),
                }),
                concurrency: args.concurrency.clamp(1, 64),
                artifacts: args.artifacts.clone(),
                http: HttpConfig::from_env(token.clone()),
            })
        }
        None => None,
    };
    let tox_ini = match args.tox_ini.as_deref().map(str::trim) {
        Some("tox.ini") if !ws.local("tox.ini").exists() => None,
        Some(p) if !p.is_empty() => Some(ws.local(p)),
        _ => None,
    };
    let base_ref = args
        .base_ref
        .clone()
        .filter(|r| !r.trim().is_empty())
        .or_else(|| event.as_ref().and_then(|e| e.base_sha.clone()));
    let config = {
        let p = ws.local(args.config.trim());
        let is_default = args.config.trim() == ".github/tox-triage.yml";
        match (p.exists(), is_default) {
            (true, _) => Some(p),
            (false, true) => None,
            (false, false) => bail!("{}: config file not found", args.config.trim()),
        }
    };
    let input = AnalyzeInput {
        logs,
        junit,
        junit_for,
        tox_ini,
        base_tox_ini: args.base_tox_ini.as_deref().map(|p| ws.local(p)),
        base_ref,
        config,
        forensics: args.forensics.then(|| ForensicsOptions {
            dir: ws.local(&args.forensics_dir),
            expected_head: env_path("GITHUB_SHA"),
            budget: Duration::from_secs(5),
        }),
        online: args.online.then(|| HttpConfig::from_env(token.clone())),
        rerun: args.rerun_flakes.then_some(RerunOptions {
            dry_run: args.dry_run,
            max_run_attempt: args.max_run_attempt,
            wait: args.wait_rerun.then(|| {
                (
                    Duration::from_secs(args.poll_interval.max(1)),
                    Duration::from_secs(args.wait_timeout),
                )
            }),
        }),
        api,
        workspace: ws.clone(),
    };
    let report = analyze(&input)?;
    tracing::debug!("analyzed");

    let json_path = args.json.as_deref().map(|p| ws.local(p));
    if let Some(path) = &json_path {
        create_parent(path)?;
        let file =
            fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
        json::write_json(&report, file)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let report_hint = args.json.clone();
    if let Some(path) = &args.summary {
        let opts = markdown::MarkdownOptions {
            report_hint: report_hint.clone(),
            ..Default::default()
        };
        write_file(Path::new(path), &markdown::render(&report, &opts))?;
    }
    if args.step_summary
        && let Some(path) = env_path("GITHUB_STEP_SUMMARY")
    {
        append_summary(Path::new(&path), &report, report_hint)?;
    }
    if let Some(path) = env_path("GITHUB_OUTPUT") {
        let forensics_dir = args.forensics.then_some(args.forensics_dir.as_str());
        let outputs = step_outputs::outputs(&report, args.json.as_deref(), forensics_dir);
        append(Path::new(&path), &step_outputs::render(&outputs))?;
    }

    let actions = in_github_actions();
    // Buffered: stdout flushes at every newline, a write per line.
    let mut out = std::io::BufWriter::with_capacity(64 << 10, std::io::stdout().lock());
    human::write(&report, actions, &mut out)?;
    let annotate = match args.annotations {
        When::Always => true,
        When::Never => false,
        When::Auto => actions,
    };
    if annotate {
        let chosen = annotations::choose(&report, &ws);
        out.write_all(annotations::render(&chosen).as_bytes())?;
    }
    out.flush()?;
    tracing::debug!("report written");
    let code = exit_code(&report, args.fail_on);
    // The process ends next, and its memory with it: freeing a large report
    // allocation by allocation would take longer than writing it (60 ms for
    // 26,000 targets).
    std::mem::forget(report);
    Ok(code)
}

/// `tox-triage run`: never returns; ends as the command ended.
fn run_wrapper(args: RunArgs) -> Result<ExitCode> {
    if !(0.0..=60.0).contains(&args.retry_delay) || !(0.0..=600.0).contains(&args.forensics_timeout)
    {
        bail!("--retry-delay must be 0..60 s and --forensics-timeout 0..600 s");
    }
    let workspace = env_path("GITHUB_WORKSPACE")
        .map(std::path::PathBuf::from)
        .or_else(git_toplevel)
        .unwrap_or_else(|| std::env::current_dir().unwrap_or_default());
    let base = args
        .base_ref
        .clone()
        .filter(|b| !b.trim().is_empty())
        .or_else(|| Event::from_env().and_then(|e| e.base_sha))
        .or_else(|| env_path("GITHUB_BASE_REF").map(|b| format!("origin/{b}")));
    let forensics_dir = std::path::Path::new(&args.forensics_dir);
    let opts = RunOptions {
        command: args.command,
        retry_delays: (1..=args.retries)
            .map(|i| Duration::from_secs_f64(args.retry_delay * f64::from(i)))
            .collect(),
        forensics_dir: Some(if forensics_dir.is_absolute() {
            forensics_dir.to_path_buf()
        } else {
            workspace.join(forensics_dir)
        }),
        forensics_budget: Duration::from_secs_f64(args.forensics_timeout),
        workspace,
        expected_head: env_path("GITHUB_SHA"),
        base,
        target: env_path("TOX_ENV_NAME"),
    };
    let outcome = wrapper::run(&opts)?;
    wrapper::exit_like(outcome.status)
}

fn git_toplevel() -> Option<std::path::PathBuf> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "--show-toplevel"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| std::path::PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

fn exit_code(report: &Report, fail_on: FailOn) -> ExitCode {
    let counts = report.counts();
    let failed = counts.failed + counts.not_run > 0;
    let regression = !report.with_verdict(Verdict::Regression).is_empty();
    match fail_on {
        FailOn::Any if failed => ExitCode::from(1),
        FailOn::Regression if regression => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    }
}

/// Appends the summary to `$GITHUB_STEP_SUMMARY` within what is left of GitHub's
/// 1 MiB per-step limit (a larger file is dropped whole).
fn append_summary(path: &Path, report: &Report, report_hint: Option<String>) -> Result<()> {
    let existing = fs::metadata(path).map(|m| m.len() as usize).unwrap_or(0);
    let room = markdown::GITHUB_SUMMARY_LIMIT.saturating_sub(existing + 1024);
    let opts = markdown::MarkdownOptions {
        max_bytes: room.min(markdown::MarkdownOptions::default().max_bytes),
        report_hint,
    };
    append(path, &markdown::render(report, &opts))
}

fn create_parent(path: &Path) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    Ok(())
}

fn write_file(path: &Path, text: &str) -> Result<()> {
    create_parent(path)?;
    fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

fn append(path: &Path, text: &str) -> Result<()> {
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.flush())
        .with_context(|| format!("cannot write {}", path.display()))
}
