//! Rerun the jobs whose failures all look like flakes, safely.
//!
//! A failed job is a candidate when every failing target its log reported is
//! a suspected flake and none is a regression. Guards, checked against the
//! run as GitHub reports it just before acting:
//! - the run has completed (GitHub refuses reruns of runs in progress);
//! - the run's attempt is below `max_run_attempt` (so at most one automatic
//!   rerun by default, and no rerun loops);
//! - the job belongs to the run's latest attempt, and no job is rerun twice;
//! - a POST is never retried: on a 5xx the run's state is read to tell
//!   whether it took effect.
//!
//! When every failed job of a run is a candidate, the run's failed jobs are
//! rerun with one request; otherwise the candidates are rerun one by one, and
//! a candidate whose run was restarted by an earlier rerun is left for later.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use crate::inputs::github::{Job, Repo, RerunResult};
use crate::model::{Report, Rerun, TargetStatus, Verdict};

/// How to rerun.
#[derive(Debug, Clone, Copy)]
pub struct RerunOptions {
    /// Print the plan, change nothing.
    pub dry_run: bool,
    /// Rerun only while the run's attempt is below this.
    pub max_run_attempt: u64,
    /// Wait for the reruns to finish and report whether the flakes cleared.
    pub wait: Option<(Duration, Duration)>,
}

/// A decision about one failed job, before the run's state is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Every failing target is a suspected flake.
    Candidate,
    /// Why not.
    Refuse(String),
}

/// Decides, from the report alone, which failed jobs are rerun candidates.
pub fn decide(report: &Report, job: &Job) -> Decision {
    if !job.failed() {
        return Decision::Refuse(format!(
            "job ended {}",
            job.conclusion.as_deref().unwrap_or("?")
        ));
    }
    let failing: Vec<_> = report
        .targets
        .iter()
        .filter(|t| t.status == TargetStatus::Fail && t.jobs.iter().any(|j| j.id == job.id))
        .collect();
    if failing.is_empty() {
        return Decision::Refuse(
            "no failing tox target in its log: nothing says it is a flake".to_owned(),
        );
    }
    if let Some(t) = failing
        .iter()
        .find(|t| t.findings().verdict == Some(Verdict::Regression))
    {
        return Decision::Refuse(format!("it runs a regression ({})", t.name));
    }
    if let Some(t) = failing
        .iter()
        .find(|t| t.findings().verdict != Some(Verdict::SuspectedFlake))
    {
        return Decision::Refuse(format!("{} is not a suspected flake", t.name));
    }
    Decision::Candidate
}

/// Decides and acts. Every failed job gets an entry.
pub async fn rerun(
    report: &Report,
    repo: &Repo,
    failed_jobs: &[Job],
    opts: RerunOptions,
) -> Vec<Rerun> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    let mut by_run: BTreeMap<u64, Vec<&Job>> = BTreeMap::new();
    for job in failed_jobs.iter().filter(|j| j.failed()) {
        if seen.insert(job.id) {
            by_run.entry(job.run_id).or_default().push(job);
        }
    }
    for (run_id, jobs) in by_run {
        let mut candidates = Vec::new();
        for job in &jobs {
            match decide(report, job) {
                Decision::Candidate => candidates.push(*job),
                Decision::Refuse(reason) => out.push(entry(job, "refused", reason)),
            }
        }
        if candidates.is_empty() {
            continue;
        }
        let run = match repo.run(run_id).await {
            Ok(r) => r,
            Err(e) => {
                for j in candidates {
                    out.push(entry(
                        j,
                        "refused",
                        format!("the run's state could not be read: {e}"),
                    ));
                }
                continue;
            }
        };
        let refuse_all = |reason: String, out: &mut Vec<Rerun>| {
            for j in &candidates {
                out.push(entry(j, "refused", reason.clone()));
            }
        };
        if !run.is_completed() {
            refuse_all(
                format!(
                    "run {run_id} is {}: GitHub reruns only completed runs",
                    run.status.as_deref().unwrap_or("?")
                ),
                &mut out,
            );
            continue;
        }
        if run.attempt() >= opts.max_run_attempt {
            refuse_all(
                format!(
                    "run {run_id} is at attempt {} and the limit is {} (no rerun loops)",
                    run.attempt(),
                    opts.max_run_attempt
                ),
                &mut out,
            );
            continue;
        }
        let (current, stale): (Vec<&Job>, Vec<&Job>) = candidates
            .iter()
            .partition(|j| j.run_attempt.unwrap_or(1) == run.attempt());
        for j in stale {
            out.push(entry(
                j,
                "refused",
                format!(
                    "it belongs to attempt {} but the run is at attempt {}",
                    j.run_attempt.unwrap_or(1),
                    run.attempt()
                ),
            ));
        }
        if current.is_empty() {
            continue;
        }
        if opts.dry_run {
            for j in current {
                out.push(entry(
                    j,
                    "planned",
                    "every failing target is a suspected flake (dry run: nothing changed)"
                        .to_owned(),
                ));
            }
            continue;
        }
        let all_failed_are_candidates = current.len() == jobs.len();
        if all_failed_are_candidates && current.len() > 1 {
            let result = repo.rerun_failed_jobs(run_id).await;
            for j in current {
                out.push(result_entry(
                    j,
                    &result,
                    "every failed job of the run is a suspected flake: reran the run's failed jobs",
                ));
            }
        } else {
            let mut first = true;
            for j in current {
                if !first {
                    out.push(entry(j, "refused", format!("run {run_id} was restarted by the rerun above; rerun this job after it completes")));
                    continue;
                }
                first = false;
                let result = repo.rerun_job(j.id, run_id).await;
                out.push(result_entry(
                    j,
                    &result,
                    "every failing target is a suspected flake",
                ));
            }
        }
    }
    if let Some((interval, timeout)) = opts.wait {
        wait_and_check(repo, &mut out, interval, timeout).await;
    }
    out
}

fn entry(job: &Job, action: &str, reason: String) -> Rerun {
    Rerun {
        job_id: job.id,
        job_name: crate::model::truncate_str(&job.name, 300),
        run_id: job.run_id,
        action: action.to_owned(),
        reason,
        cleared: None,
    }
}

fn result_entry(job: &Job, result: &RerunResult, why: &str) -> Rerun {
    match result {
        RerunResult::Accepted => entry(job, "rerun", why.to_owned()),
        RerunResult::AcceptedAfterServerError(code) => entry(
            job,
            "rerun",
            format!("{why} (GitHub answered {code}, but the run restarted)"),
        ),
        RerunResult::Failed(e) => entry(job, "failed", e.clone()),
    }
}

/// Polls rerun runs to completion and records whether each job passed.
async fn wait_and_check(repo: &Repo, reruns: &mut [Rerun], interval: Duration, timeout: Duration) {
    let runs: BTreeSet<u64> = reruns
        .iter()
        .filter(|r| r.action == "rerun")
        .map(|r| r.run_id)
        .collect();
    let start = Instant::now();
    for run_id in runs {
        loop {
            match repo.run(run_id).await {
                Ok(run) if run.is_completed() => break,
                Ok(_) if start.elapsed() < timeout => {
                    eprintln!(
                        "tox-triage: waiting for the rerun of run {run_id} ({}s so far)",
                        start.elapsed().as_secs()
                    );
                    tokio::time::sleep(interval).await;
                }
                _ => break,
            }
        }
        let Ok(jobs) = repo.jobs(run_id).await else {
            continue;
        };
        for r in reruns
            .iter_mut()
            .filter(|r| r.run_id == run_id && r.action == "rerun")
        {
            if let Some(j) = jobs
                .iter()
                .find(|j| j.name == r.job_name && j.status.as_deref() == Some("completed"))
            {
                r.cleared = Some(j.conclusion.as_deref() == Some("success"));
            }
        }
    }
}
