//! The `analyze` job: open every input, feed the aggregation, return the report.

use std::collections::HashSet;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::actions::rerun::{self, RerunOptions};
use crate::analysis::aggregate::Aggregator;
use crate::analysis::junit_file::{self, JunitJob};
use crate::analysis::{categories, forensics, verdict};
use crate::analyze_api::{self, ApiInput};
use crate::error::{Error, Result};
use crate::inputs::config::Config;
use crate::inputs::discover;
use crate::inputs::github::Repo;
use crate::inputs::http::{Http, HttpConfig};
use crate::inputs::releases;
use crate::inputs::toxini::ToxIni;
use crate::model::{Report, Signal, Verdict, Warning};
use crate::paths::Workspace;

/// What to analyse.
#[derive(Debug, Clone, Default)]
pub struct AnalyzeInput {
    /// tox logs; `-` is stdin.
    pub logs: Vec<String>,
    /// JUnit arguments: files, directories, globs.
    pub junit: Vec<String>,
    /// JUnit files with an assigned target: `(target, path)`.
    pub junit_for: Vec<(String, String)>,
    /// tox.ini of the change under test: envlist (expected targets) and deps (packages).
    pub tox_ini: Option<PathBuf>,
    /// tox.ini of the base, as a file.
    pub base_tox_ini: Option<PathBuf>,
    /// The base as a git revision: its tox.ini is read with `git show REF:./tox.ini`
    /// next to `tox_ini` (or in the workspace).
    pub base_ref: Option<String>,
    /// `.github/tox-triage.yml`.
    pub config: Option<PathBuf>,
    /// Look up release links on PyPI and GitHub (network); `None` stays offline.
    pub online: Option<HttpConfig>,
    /// Exit-4 forensics for targets whose pytest exited 4; `None` takes none.
    pub forensics: Option<ForensicsOptions>,
    /// API mode: fetch the runs' logs through the GitHub API.
    pub api: Option<ApiInput>,
    /// Rerun suspected flakes (API mode only).
    pub rerun: Option<RerunOptions>,
    /// Where runner paths (`/home/runner/work/<repo>/<repo>/...`) are found here.
    pub workspace: Workspace,
}

/// Where and how to take exit-4 forensics after the fact.
#[derive(Debug, Clone)]
pub struct ForensicsOptions {
    /// The directory `tox-triage run` writes into and the action uploads.
    pub dir: PathBuf,
    /// What HEAD should be (`$GITHUB_SHA`).
    pub expected_head: Option<String>,
    /// Time allowed per target.
    pub budget: std::time::Duration,
}

/// Parses `TARGET=PATH`.
pub fn parse_junit_for(arg: &str) -> Result<(String, String)> {
    match arg.split_once('=') {
        Some((t, p)) if !t.is_empty() && !p.is_empty() => Ok((t.to_owned(), p.to_owned())),
        _ => Err(Error::Usage(format!(
            "--junit-for {arg:?}: expected TARGET=PATH"
        ))),
    }
}

/// Runs the analysis. Fails only on unusable arguments or unreadable named inputs;
/// problems inside inputs become warnings in the report.
pub fn analyze(input: &AnalyzeInput) -> Result<Report> {
    let started = std::time::Instant::now();
    let phase = |name: &str| {
        tracing::debug!(
            phase = name,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "analyze"
        )
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads > 1 {
        // The verdicts' pattern table, compiled on a spare core meanwhile.
        std::thread::spawn(categories::prepare);
    }
    let mut agg = Aggregator::new().with_reader_thread(threads > 1);
    let mut warnings = Vec::new();
    // API mode: the runs' failed jobs' logs first, through a temp dir.
    let runtime = if input.api.is_some() {
        Some(
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| Error::Usage(format!("cannot start the async runtime: {e}")))?,
        )
    } else {
        None
    };
    let mut collected = None;
    if let (Some(api), Some(rt)) = (&input.api, &runtime) {
        let tmp = tempfile::tempdir().map_err(|e| Error::Io {
            path: std::env::temp_dir().display().to_string(),
            source: e,
        })?;
        collected = Some(rt.block_on(analyze_api::collect(api, &mut agg, tmp.path()))?);
    }
    let logs = expand_logs(&input.logs, &input.workspace, &mut warnings)?;
    agg.add_logs(logs.into_iter().map(|log| {
        if log == "-" {
            let stdin: Box<dyn std::io::Read + Send> = Box::new(std::io::stdin());
            ("<stdin>".to_owned(), Ok(stdin))
        } else {
            let file = open(Path::new(&log)).map(|f| Box::new(f) as Box<dyn std::io::Read + Send>);
            (log, file)
        }
    }))?;
    phase("logs read");
    let junit: Vec<String> = input
        .junit
        .iter()
        .map(|j| input.workspace.local(j).display().to_string())
        .collect();
    let files = discover::junit_files(&junit, &mut warnings)?;
    for w in warnings {
        agg.warn(w);
    }
    // JUnit files are read on every core, and merged in order.
    let mut jobs: Vec<JunitJob> = files.iter().map(|p| JunitJob::found(p)).collect();
    for (target, path) in &input.junit_for {
        open(Path::new(path))?;
        jobs.push(JunitJob {
            path: PathBuf::from(path),
            display: path.clone(),
            explicit: Some(target.clone()),
        });
    }
    // Names JUnit files can be matched with (none needed without a file).
    let known = if jobs.is_empty() {
        HashSet::new()
    } else {
        agg.target_names()
    };
    junit_file::read_all(&jobs, &known, threads, |job, result| match result {
        Ok(r) => agg.apply_junit(r),
        Err(e) => agg.warn(Warning::in_file(
            &job.display,
            None,
            format!("cannot read: {e}"),
        )),
    });
    phase("JUnit files read");
    let head = match &input.tox_ini {
        Some(p) => Some(ToxIni::parse(open(p)?, &p.display().to_string())?),
        None => None,
    };
    // In API mode the pull request names its base commit.
    let pr_base = collected
        .as_ref()
        .and_then(|c| c.pull.as_ref())
        .map(|p| p.base.sha.clone());
    let base_ref = input.base_ref.clone().or(pr_base);
    let base = match (&input.base_tox_ini, &base_ref) {
        (Some(p), _) => Some(ToxIni::parse(open(p)?, &p.display().to_string())?),
        (None, Some(r)) => match base_from_git(r, input.tox_ini.as_deref(), &input.workspace) {
            Ok(ini) => Some(ini),
            Err(message) => {
                agg.warn(Warning::general(message));
                None
            }
        },
        (None, None) => None,
    };
    let config = match &input.config {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| Error::Io {
                path: p.display().to_string(),
                source: e,
            })?;
            Some(Config::parse(&text, &p.display().to_string())?)
        }
        None => None,
    };
    // In reading order for the verdicts, which are faster in it; they put
    // the targets in the report's order.
    let mut report = agg.finish_unordered(head.as_ref().map(|h| h.envlist.as_slice()));
    phase("targets finished");
    let ctx = verdict::Context {
        head: head.as_ref(),
        base: base.as_ref(),
        config: config.as_ref(),
    };
    // (The cores counted once: counting reads the cgroup's files.)
    verdict::apply_on(&mut report, &ctx, threads);
    phase("verdicts");
    if let Some(opts) = &input.forensics {
        add_forensics(&mut report, opts, &input.workspace, base_ref.as_deref());
    }
    if let (Some(c), Some(api), Some(rt)) = (collected, &input.api, &runtime) {
        report.runs = c.runs;
        if let Some(opts) = input.rerun {
            let http = Http::new(api.http.clone()).map_err(|e| Error::Usage(e.to_string()))?;
            let repo = Repo::new(http, &api.repo).map_err(|e| Error::Usage(e.to_string()))?;
            report.reruns = rt.block_on(rerun::rerun(&report, &repo, &c.failed_jobs, opts));
        }
    }
    if let Some(http) = &input.online {
        add_release_links(&mut report, http);
    }
    Ok(report)
}

/// Most targets given after-the-fact forensics (each takes up to its budget).
const MAX_FORENSICS: usize = 20;

/// Forensics for every failing target whose pytest exited 4: those `tox-triage
/// run` wrote at the failure when present, else taken now against the
/// workspace (and said to be after the fact); written into the forensics dir.
fn add_forensics(report: &mut Report, opts: &ForensicsOptions, ws: &Workspace, base: Option<&str>) {
    let mut taken = 0;
    for t in report.targets.iter_mut() {
        let exit_4 = t.exit_code == Some(4) || !t.findings().missing_paths.is_empty();
        if t.status != crate::model::TargetStatus::Fail || !exit_4 {
            continue;
        }
        let at_failure = opts.dir.join(format!("forensics-{}.json", t.name.as_str()));
        let recorded = std::fs::read_to_string(&at_failure)
            .ok()
            .and_then(|text| serde_json::from_str::<crate::model::Forensics>(&text).ok())
            .filter(|f| f.taken == "at-failure");
        let f = match recorded {
            Some(f) => {
                t.findings_mut().signals.push(
                    format!(
                        "exit-4 forensics taken at the failure by `tox-triage run` ({})",
                        at_failure.display()
                    )
                    .into(),
                );
                f
            }
            None if taken < MAX_FORENSICS => {
                taken += 1;
                let cwd = t
                    .findings()
                    .exit
                    .as_ref()
                    .map(|e| ws.local(&e.cwd.expand(t.name.as_str())))
                    .filter(|p| p.is_dir())
                    .unwrap_or_else(|| ws.root().to_path_buf());
                let f = forensics::collect(&forensics::Request {
                    taken: "after-the-fact",
                    target: Some(t.name.as_str().to_owned()),
                    command: t
                        .command_line()
                        .map(|c| vec![c.into_owned()])
                        .unwrap_or_default(),
                    exit_code: t.exit_code,
                    attempts: Vec::new(),
                    missing: t.findings().missing_paths.to_vec(),
                    cwd,
                    workspace: ws.root().to_path_buf(),
                    expected_head: opts.expected_head.clone(),
                    base: base.map(str::to_owned),
                    budget: opts.budget,
                });
                crate::actions::wrapper::write_files(&opts.dir, &f);
                t.findings_mut().signals.push("exit-4 forensics taken after the fact: the workspace may have changed since the failure".into());
                f
            }
            None => continue,
        };
        let findings = t.findings_mut();
        findings
            .signals
            .extend(forensics_signals(&f).into_iter().map(Signal::from));
        findings.forensics = Some(Box::new(f));
    }
}

/// What forensics say, as signals.
fn forensics_signals(f: &crate::model::Forensics) -> Vec<String> {
    let mut out = Vec::new();
    for p in &f.paths {
        if p.exists_now == Some(true) {
            let added = if p.change_vs_base.as_deref() == Some("added") {
                ", added by this change"
            } else {
                ""
            };
            out.push(format!(
                "{} exists now{added}: it was missing only while the tests ran",
                p.path
            ));
        } else if p.exists_now == Some(false) && p.tracked_at_head == Some(false) {
            out.push(format!(
                "{} does not exist and is not tracked at HEAD",
                p.path
            ));
        }
    }
    if let Some(g) = &f.git {
        if g.head_as_expected == Some(false) {
            out.push(format!(
                "HEAD is {} but {} was expected: something checked out another commit in the workspace",
                g.head.as_deref().unwrap_or("?"),
                g.expected_head.as_deref().unwrap_or("?")
            ));
        }
        if let Some(r) = g
            .reflog
            .iter()
            .find(|r| r.contains("checkout: moving from"))
        {
            out.push(format!("reflog: {r}"));
        }
    }
    out
}

/// Most regressions whose release links are looked up.
const MAX_LOOKUPS: usize = 10;

/// Replaces the offline links of regressions with looked-up ones (PyPI pages
/// checked, compare link from the package's GitHub repository). Failures of
/// the lookups leave the offline links and add a warning.
fn add_release_links(report: &mut Report, config: &HttpConfig) {
    let mut wanted: Vec<(Box<str>, String, Option<Arc<str>>)> = Vec::new();
    for t in report
        .targets
        .iter()
        .filter(|t| t.findings().verdict == Some(Verdict::Regression))
    {
        if let (Some(p), Some(v)) = (t.facts.package(), t.name.version()) {
            let key = (
                p.into(),
                v.as_str().to_owned(),
                t.facts.last_working_version.clone(),
            );
            if !wanted.contains(&key) && wanted.len() < MAX_LOOKUPS {
                wanted.push(key);
            }
        }
    }
    if wanted.is_empty() {
        return;
    }
    let setup = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
        .and_then(|rt| Ok((rt, Http::new(config.clone()).map_err(|e| e.to_string())?)));
    let (runtime, http) = match setup {
        Ok(pair) => pair,
        Err(e) => {
            report.warnings.push(Warning::general(format!(
                "release links not looked up: {e}"
            )));
            return;
        }
    };
    let found = runtime.block_on(async {
        let mut found = Vec::new();
        for (package, version, last) in &wanted {
            let links = releases::look_up(&http, package, version, last.as_deref()).await;
            found.push(((package.clone(), version.clone()), links));
        }
        found
    });
    for t in report
        .targets
        .iter_mut()
        .filter(|t| t.findings().verdict == Some(Verdict::Regression))
    {
        let (Some(p), Some(v)) = (t.facts.package(), t.name.version()) else {
            continue;
        };
        if let Some((_, links)) = found
            .iter()
            .find(|((fp, fv), _)| **fp == *p && fv == v.as_str())
        {
            t.findings_mut().links = links
                .pypi
                .iter()
                .cloned()
                .chain(links.compare.clone())
                .collect();
        }
    }
}

/// The base tox.ini from git: `git show REF:./tox.ini` in tox.ini's directory.
fn base_from_git(
    rev: &str,
    tox_ini: Option<&Path>,
    ws: &Workspace,
) -> std::result::Result<ToxIni, String> {
    if rev.starts_with('-') || rev.contains(char::is_whitespace) {
        return Err(format!("--base-ref {rev:?}: not a git revision"));
    }
    let (dir, file) = match tox_ini {
        Some(p) => (
            p.parent()
                .filter(|d| !d.as_os_str().is_empty())
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from(".")),
            p.file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_else(|| "tox.ini".to_owned()),
        ),
        None => (ws.root().to_path_buf(), "tox.ini".to_owned()),
    };
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(&dir)
        .args(["show", &format!("{rev}:./{file}")])
        .output()
        .map_err(|e| format!("cannot run git to read the base tox.ini: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!(
            "cannot read the base tox.ini with `git show {rev}:./{file}` (is the base fetched? use fetch-depth: 0): {}",
            err.trim()
        ));
    }
    ToxIni::parse(&out.stdout[..], &format!("{rev}:{file}")).map_err(|e| e.to_string())
}

/// Log arguments: `-`, files (runner paths mapped onto the workspace), and globs.
fn expand_logs(
    args: &[String],
    ws: &Workspace,
    warnings: &mut Vec<Warning>,
) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for arg in args {
        if arg == "-" {
            out.push(arg.clone());
        } else if arg.contains(['*', '?', '[']) {
            let pattern = ws.local(arg).display().to_string();
            let paths = discover::glob_paths(&pattern, warnings)
                .map_err(|e| Error::Usage(format!("--log {arg}: {e}")))?;
            let before = out.len();
            out.extend(
                paths
                    .iter()
                    .filter(|p| p.is_file())
                    .map(|p| p.display().to_string()),
            );
            if out.len() == before {
                warnings.push(Warning::general(format!(
                    "--log {arg}: the pattern matched no file"
                )));
            }
        } else {
            out.push(ws.local(arg).display().to_string());
        }
    }
    Ok(out)
}

fn open(path: &Path) -> Result<File> {
    let meta = std::fs::metadata(path).map_err(|e| Error::Io {
        path: path.display().to_string(),
        source: e,
    })?;
    if meta.is_dir() {
        return Err(Error::Io {
            path: path.display().to_string(),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "is a directory, expected a file",
            ),
        });
    }
    File::open(path).map_err(|e| Error::Io {
        path: path.display().to_string(),
        source: e,
    })
}
