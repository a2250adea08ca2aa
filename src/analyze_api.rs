//! API mode of `analyze`: the whole workflow run (or every `Test*` run of a
//! commit or pull request) fetched through the GitHub REST API: failed jobs'
//! logs (bounded concurrency, streamed to disk), optionally JUnit files from
//! artifacts, all fed to the same aggregation as local files.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::analysis::aggregate::Aggregator;
use crate::error::{Error, Result};
use crate::inputs::github::{Job, PullRequest, Repo, Run, python_from_job_name};
use crate::inputs::http::{Http, HttpConfig, HttpError};
use crate::model::{JobRef, RunRef, Warning};
use crate::outputs::escape::terminal;

/// What to triage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// One workflow run.
    RunId(u64),
    /// Every matching run on a commit.
    Sha(String),
    /// Every matching run on a pull request's head commit.
    Pr(u64),
    /// The newest open pull request whose head branch starts with this.
    PrHeadPrefix(String),
}

/// Polling for runs that are not finished.
#[derive(Debug, Clone, Copy)]
pub struct Wait {
    /// Between polls.
    pub interval: Duration,
    /// Give up after.
    pub timeout: Duration,
}

/// API-mode options.
#[derive(Debug, Clone)]
pub struct ApiInput {
    /// `owner/name`.
    pub repo: String,
    /// What to triage.
    pub selector: Selector,
    /// Workflow-name glob for SHA and PR selectors (`Test*`).
    pub workflows: String,
    /// Wait for runs to complete.
    pub wait: Option<Wait>,
    /// Concurrent log downloads.
    pub concurrency: usize,
    /// Artifact-name glob whose zips hold JUnit files.
    pub artifacts: Option<String>,
    /// Client settings (API URL, token).
    pub http: HttpConfig,
}

/// What API mode found besides the targets.
#[derive(Debug, Clone, Default)]
pub struct Collected {
    /// The runs triaged.
    pub runs: Vec<RunRef>,
    /// Jobs of those runs that failed or were cancelled, with their run.
    pub failed_jobs: Vec<Job>,
    /// The pull request, when one was found (base commit for verdicts).
    pub pull: Option<PullRequest>,
}

fn api_err(e: HttpError) -> Error {
    Error::Usage(e.to_string())
}

fn glob_match(pattern: &str, text: &str) -> bool {
    glob::Pattern::new(pattern).is_ok_and(|p| p.matches(text))
}

/// Resolves the selector to runs, waits if asked, downloads failed jobs' logs
/// (and artifacts) and feeds them to `agg`.
pub async fn collect(input: &ApiInput, agg: &mut Aggregator, tmp: &Path) -> Result<Collected> {
    let http = Http::new(input.http.clone()).map_err(api_err)?;
    let repo = Repo::new(http, &input.repo).map_err(api_err)?;
    let mut collected = Collected::default();

    let (mut runs, pull) = resolve(&repo, input).await?;
    collected.pull = pull;
    if let Some(wait) = input.wait {
        runs = wait_for(&repo, runs, wait).await?;
    }
    let mut jobs_to_read: Vec<(Job, Run)> = Vec::new();
    for run in &runs {
        if !run.is_completed() {
            agg.warn(Warning::general(format!(
                "run {} ({}) is {}: its jobs so far are triaged; use --wait to wait for it",
                run.id,
                run.name.as_deref().unwrap_or("?"),
                run.status.as_deref().unwrap_or("?")
            )));
        }
        let jobs = repo.jobs(run.id).await.map_err(api_err)?;
        eprintln!(
            "tox-triage: run {} ({}): {} jobs, {} failed",
            run.id,
            terminal(run.name.as_deref().unwrap_or("?"), 200),
            jobs.len(),
            jobs.iter().filter(|j| j.failed()).count()
        );
        for j in jobs {
            if j.failed() || j.conclusion.as_deref() == Some("cancelled") {
                jobs_to_read.push((j, run.clone()));
            }
        }
        collected.runs.push(RunRef {
            id: run.id,
            workflow: run.name.clone().unwrap_or_default(),
            attempt: run.attempt(),
            status: run.status.clone().unwrap_or_default(),
            conclusion: run.conclusion.clone(),
            url: run.html_url.clone().unwrap_or_default(),
            head_sha: run.head_sha.clone(),
        });
    }

    download_logs(&repo, &jobs_to_read, input.concurrency.max(1), agg, tmp).await;
    collected.failed_jobs = jobs_to_read.into_iter().map(|(j, _)| j).collect();

    if let Some(pattern) = &input.artifacts {
        for run in &runs {
            read_artifacts(&repo, run, pattern, agg, tmp).await;
        }
    }
    Ok(collected)
}

async fn resolve(repo: &Repo, input: &ApiInput) -> Result<(Vec<Run>, Option<PullRequest>)> {
    let by_sha = |sha: String| async move {
        let runs = repo.runs_for_sha(&sha).await.map_err(api_err)?;
        let matching: Vec<Run> = runs
            .into_iter()
            .filter(|r| glob_match(&input.workflows, r.name.as_deref().unwrap_or("")))
            .collect();
        if matching.is_empty() {
            return Err(Error::Usage(format!(
                "no workflow run named like {:?} on commit {sha}",
                input.workflows
            )));
        }
        Ok(matching)
    };
    match &input.selector {
        Selector::RunId(id) => {
            let run = repo.run(*id).await.map_err(api_err)?;
            // The pull request of the run's commit (forks included), for the base commit.
            let pull = repo
                .pulls_for_commit(&run.head_sha)
                .await
                .ok()
                .and_then(|p| p.into_iter().next());
            Ok((vec![run], pull))
        }
        Selector::Sha(sha) => {
            let pull = repo
                .pulls_for_commit(sha)
                .await
                .ok()
                .and_then(|p| p.into_iter().next());
            Ok((by_sha(sha.clone()).await?, pull))
        }
        Selector::Pr(n) => {
            let pr = repo.pull(*n).await.map_err(api_err)?;
            Ok((by_sha(pr.head.sha.clone()).await?, Some(pr)))
        }
        Selector::PrHeadPrefix(prefix) => {
            let prs = repo.open_pulls().await.map_err(api_err)?;
            let pr = prs
                .into_iter()
                .find(|p| p.head.git_ref.starts_with(prefix.as_str()))
                .ok_or_else(|| {
                    Error::Usage(format!(
                        "no open pull request whose head branch starts with {prefix:?}"
                    ))
                })?;
            eprintln!(
                "tox-triage: newest open pull request from {prefix}*: #{}",
                pr.number
            );
            Ok((by_sha(pr.head.sha.clone()).await?, Some(pr)))
        }
    }
}

async fn wait_for(repo: &Repo, mut runs: Vec<Run>, wait: Wait) -> Result<Vec<Run>> {
    let start = Instant::now();
    loop {
        let pending: Vec<&Run> = runs.iter().filter(|r| !r.is_completed()).collect();
        if pending.is_empty() {
            return Ok(runs);
        }
        if start.elapsed() >= wait.timeout {
            return Err(Error::Usage(format!(
                "gave up waiting after {:?}: {} run(s) still not completed",
                wait.timeout,
                pending.len()
            )));
        }
        eprintln!(
            "tox-triage: waiting for {} of {} run(s) to complete ({}s so far)",
            pending.len(),
            runs.len(),
            start.elapsed().as_secs()
        );
        tokio::time::sleep(wait.interval).await;
        for r in runs.iter_mut().filter(|r| !r.is_completed()) {
            *r = repo.run(r.id).await.map_err(api_err)?;
        }
    }
}

/// Downloads logs `concurrency` at a time, parsing each as it arrives.
async fn download_logs(
    repo: &Repo,
    jobs: &[(Job, Run)],
    concurrency: usize,
    agg: &mut Aggregator,
    tmp: &Path,
) {
    let semaphore = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, (job, _)) in jobs.iter().enumerate() {
        let repo = repo.clone();
        let sem = Arc::clone(&semaphore);
        let path = tmp.join(format!("job-{}.log", job.id));
        let job_id = job.id;
        tasks.spawn(async move {
            let _permit = sem.acquire().await;
            let result = repo.job_log(job_id, &path).await;
            (i, path, result)
        });
    }
    let total = jobs.len();
    let mut done = 0;
    while let Some(joined) = tasks.join_next().await {
        let Ok((i, path, result)) = joined else {
            continue;
        };
        done += 1;
        let (job, run) = &jobs[i];
        let label = format!("job {} {}", job.id, job.name);
        eprintln!("tox-triage: log {done}/{total}: {}", terminal(&label, 300));
        match result {
            Ok(true) => {
                let job_ref = JobRef {
                    id: job.id,
                    name: crate::model::truncate_str(&job.name, 300),
                    url: job.html_url.clone().unwrap_or_default(),
                    attempt: job.run_attempt.unwrap_or_else(|| run.attempt()),
                    run_id: run.id,
                    workflow: job
                        .workflow_name
                        .clone()
                        .or_else(|| run.name.clone())
                        .unwrap_or_default(),
                    python: python_from_job_name(&job.name),
                    conclusion: job.conclusion.clone(),
                };
                match std::fs::File::open(&path) {
                    Ok(f) => {
                        if let Err(e) = agg.add_job_log(&label, &job_ref, f) {
                            agg.warn(Warning::in_file(
                                &label,
                                None,
                                format!("cannot read the log: {e}"),
                            ));
                        }
                    }
                    Err(e) => agg.warn(Warning::in_file(
                        &label,
                        None,
                        format!("cannot read the log: {e}"),
                    )),
                }
                if !agg.job_has_targets(job.id) {
                    let steps = job.failed_steps();
                    agg.warn(Warning::in_file(
                        &label,
                        None,
                        if steps.is_empty() {
                            format!(
                                "job {} ended {}; no tox result in its log",
                                job.name,
                                job.conclusion.as_deref().unwrap_or("?")
                            )
                        } else {
                            format!(
                                "job {} failed in step {:?} before any tox target reported",
                                job.name,
                                steps.join(", ")
                            )
                        },
                    ));
                }
                let _ = std::fs::remove_file(&path);
            }
            Ok(false) => agg.warn(Warning::in_file(
                &label,
                None,
                "the log is no longer available (expired or deleted)",
            )),
            Err(e) => agg.warn(Warning::in_file(
                &label,
                None,
                format!("log not downloaded: {e}"),
            )),
        }
    }
}

/// Downloads matching artifacts and reads the JUnit files inside (without
/// writing entries to disk by their names: no zip-slip, bounded sizes).
async fn read_artifacts(repo: &Repo, run: &Run, pattern: &str, agg: &mut Aggregator, tmp: &Path) {
    let artifacts = match repo.artifacts(run.id).await {
        Ok(a) => a,
        Err(e) => {
            agg.warn(Warning::general(format!(
                "artifacts of run {}: {e}",
                run.id
            )));
            return;
        }
    };
    for a in artifacts.iter().filter(|a| glob_match(pattern, &a.name)) {
        let label = format!("artifact {}", a.name);
        if a.expired {
            agg.warn(Warning::in_file(&label, None, "expired"));
            continue;
        }
        let zip_path: PathBuf = tmp.join(format!("artifact-{}.zip", a.id));
        match repo.artifact_zip(a, &zip_path).await {
            Ok(true) => read_zip(&zip_path, &label, agg),
            Ok(false) => agg.warn(Warning::in_file(&label, None, "no longer available")),
            Err(e) => agg.warn(Warning::in_file(
                &label,
                None,
                format!("not downloaded: {e}"),
            )),
        }
        let _ = std::fs::remove_file(&zip_path);
    }
}

/// Largest JUnit entry read from a zip (uncompressed).
const MAX_ENTRY: u64 = 1 << 30;

fn read_zip(path: &Path, label: &str, agg: &mut Aggregator) {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => return agg.warn(Warning::in_file(label, None, format!("cannot open: {e}"))),
    };
    let mut zip = match zip::ZipArchive::new(file) {
        Ok(z) => z,
        Err(e) => {
            return agg.warn(Warning::in_file(
                label,
                None,
                format!("not a readable zip: {e}"),
            ));
        }
    };
    for i in 0..zip.len() {
        let entry = match zip.by_index(i) {
            Ok(e) => e,
            Err(e) => {
                agg.warn(Warning::in_file(label, None, format!("entry {i}: {e}")));
                break;
            }
        };
        if !entry.is_file() {
            continue;
        }
        let name = match entry.name() {
            Ok(n) => n.into_owned(),
            Err(e) => {
                agg.warn(Warning::in_file(label, None, format!("entry {i}: {e}")));
                continue;
            }
        };
        let file_name = name.rsplit('/').next().unwrap_or(&name).to_owned();
        if !crate::inputs::discover::is_junit_file_name(&file_name) {
            continue;
        }
        let display = format!("{label}/{name}");
        agg.add_junit(&display, &file_name, None, entry.take(MAX_ENTRY));
    }
}
