//! The GitHub REST API calls API mode needs: workflow runs, their jobs (paginated),
//! job logs (behind a 302 to a short-lived signed URL), artifacts, pull requests,
//! and the job rerun.
//!
//! Models are tox-triage's own, small and lenient: only the fields used, with
//! every field GitHub documents as nullable an `Option` (octocrab's `Run` has
//! no `run_attempt`, which the rerun guard needs, and makes nullable fields
//! such as `name` and `head_branch` required). Transport rules (token scope,
//! retries, rate limits) are [`crate::inputs::http`]'s.

use std::path::Path;

use reqwest::{Method, StatusCode};
use serde::Deserialize;

use crate::inputs::http::{Http, HttpError, strip_query};

/// Largest job log downloaded.
const MAX_LOG_BYTES: u64 = 2 << 30;
/// Largest artifact downloaded.
const MAX_ARTIFACT_BYTES: u64 = 2 << 30;
/// Pages of 100 read at most when listing (jobs, runs, pull requests).
const MAX_PAGES: u32 = 50;

/// A workflow run.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Run {
    /// Run id.
    pub id: u64,
    /// The workflow's name (nullable in the API).
    pub name: Option<String>,
    /// `queued`, `in_progress`, `completed`, ...
    pub status: Option<String>,
    /// `success`, `failure`, `cancelled`, ...
    pub conclusion: Option<String>,
    /// 1 for the first attempt.
    pub run_attempt: Option<u64>,
    /// The commit.
    pub head_sha: String,
    /// The branch.
    pub head_branch: Option<String>,
    /// Its page.
    pub html_url: Option<String>,
}

impl Run {
    /// Completed (the API refuses reruns of runs in progress).
    pub fn is_completed(&self) -> bool {
        self.status.as_deref() == Some("completed")
    }

    /// The attempt, 1 when GitHub omits it.
    pub fn attempt(&self) -> u64 {
        self.run_attempt.unwrap_or(1)
    }
}

#[derive(Deserialize)]
struct Runs {
    workflow_runs: Vec<Run>,
}

/// A job of a run.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Job {
    /// Job id.
    pub id: u64,
    /// Its run.
    pub run_id: u64,
    /// `DBs (3.12, ubuntu-22.04)`.
    pub name: String,
    /// `queued`, `in_progress`, `completed`.
    pub status: Option<String>,
    /// `success`, `failure`, `cancelled`, `skipped`.
    pub conclusion: Option<String>,
    /// Its page.
    pub html_url: Option<String>,
    /// The run attempt it belongs to.
    pub run_attempt: Option<u64>,
    /// Its steps.
    #[serde(default)]
    pub steps: Vec<Step>,
    /// The workflow's name.
    pub workflow_name: Option<String>,
}

/// A step of a job.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Step {
    /// Step name.
    pub name: String,
    /// Its conclusion.
    pub conclusion: Option<String>,
    /// 1-based position.
    pub number: u64,
}

impl Job {
    /// The job failed (failure or timed out).
    pub fn failed(&self) -> bool {
        matches!(self.conclusion.as_deref(), Some("failure" | "timed_out"))
    }

    /// The names of its failed steps.
    pub fn failed_steps(&self) -> Vec<&str> {
        self.steps
            .iter()
            .filter(|s| matches!(s.conclusion.as_deref(), Some("failure" | "timed_out")))
            .map(|s| s.name.as_str())
            .collect()
    }
}

#[derive(Deserialize)]
struct Jobs {
    total_count: u64,
    jobs: Vec<Job>,
}

/// An artifact of a run.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Artifact {
    /// Artifact id.
    pub id: u64,
    /// Name.
    pub name: String,
    /// Size of the zip.
    pub size_in_bytes: Option<u64>,
    /// Expired artifacts cannot be downloaded.
    #[serde(default)]
    pub expired: bool,
    /// API URL of the zip (answers 302).
    pub archive_download_url: String,
}

#[derive(Deserialize)]
struct Artifacts {
    artifacts: Vec<Artifact>,
}

/// A pull request.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct PullRequest {
    /// Number.
    pub number: u64,
    /// `open`, `closed`.
    pub state: Option<String>,
    /// Head branch and commit.
    pub head: GitRef,
    /// Base branch and commit.
    pub base: GitRef,
    /// Creation time (RFC 3339), for "newest".
    pub created_at: Option<String>,
}

/// One side of a pull request.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct GitRef {
    /// Branch.
    #[serde(rename = "ref")]
    pub git_ref: String,
    /// Commit.
    pub sha: String,
}

/// How a rerun request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RerunResult {
    /// GitHub accepted it (201).
    Accepted,
    /// GitHub answered 5xx, but the run is queued or running again: it took effect.
    AcceptedAfterServerError(u16),
    /// GitHub refused or failed; not retried.
    Failed(String),
}

/// The API of one repository.
#[derive(Debug, Clone)]
pub struct Repo {
    http: Http,
    /// `owner/name`.
    pub full_name: String,
}

impl Repo {
    /// `owner/name` on the client's API.
    pub fn new(http: Http, full_name: &str) -> Result<Self, HttpError> {
        let ok = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        match full_name.split_once('/') {
            Some((o, n)) if ok(o) && ok(n) => Ok(Self {
                http,
                full_name: full_name.to_owned(),
            }),
            _ => Err(HttpError::Transport {
                method: "-".into(),
                url: String::new(),
                message: format!("--repo {full_name:?}: expected OWNER/NAME"),
            }),
        }
    }

    /// The HTTP client.
    pub fn http(&self) -> &Http {
        &self.http
    }

    fn url(&self, path: &str) -> String {
        self.http
            .github_url(&format!("/repos/{}{path}", self.full_name))
    }

    /// `GET /repos/{o}/{r}/actions/runs/{id}`.
    pub async fn run(&self, id: u64) -> Result<Run, HttpError> {
        self.http
            .get_json(
                &self.url(&format!("/actions/runs/{id}")),
                Some("actions: read"),
            )
            .await
    }

    /// Every workflow run on `sha` (all pages).
    pub async fn runs_for_sha(&self, sha: &str) -> Result<Vec<Run>, HttpError> {
        let mut out = Vec::new();
        for page in 1..=MAX_PAGES {
            let url = self.url(&format!(
                "/actions/runs?head_sha={sha}&per_page=100&page={page}"
            ));
            let runs: Runs = self.http.get_json(&url, Some("actions: read")).await?;
            let n = runs.workflow_runs.len();
            out.extend(runs.workflow_runs);
            if n < 100 {
                break;
            }
        }
        Ok(out)
    }

    /// Every job of a run's latest attempt, 100 per page.
    pub async fn jobs(&self, run_id: u64) -> Result<Vec<Job>, HttpError> {
        let mut out = Vec::new();
        for page in 1..=MAX_PAGES {
            let url = self.url(&format!(
                "/actions/runs/{run_id}/jobs?per_page=100&page={page}"
            ));
            let jobs: Jobs = self.http.get_json(&url, Some("actions: read")).await?;
            let n = jobs.jobs.len();
            out.extend(jobs.jobs);
            if n < 100 || out.len() as u64 >= jobs.total_count {
                break;
            }
        }
        Ok(out)
    }

    /// Downloads a job's log into `dest`: the API answers 302 to a short-lived
    /// signed URL, fetched without the token; when that URL has expired
    /// (403/404/410 from it), a fresh one is asked for, twice at most.
    /// `Ok(false)` when GitHub has no log any more (404/410 from the API).
    pub async fn job_log(&self, job_id: u64, dest: &Path) -> Result<bool, HttpError> {
        self.follow_to_file(
            &self.url(&format!("/actions/jobs/{job_id}/logs")),
            dest,
            MAX_LOG_BYTES,
        )
        .await
    }

    /// The run's artifacts.
    pub async fn artifacts(&self, run_id: u64) -> Result<Vec<Artifact>, HttpError> {
        let url = self.url(&format!("/actions/runs/{run_id}/artifacts?per_page=100"));
        Ok(self
            .http
            .get_json::<Artifacts>(&url, Some("actions: read"))
            .await?
            .artifacts)
    }

    /// Downloads an artifact's zip into `dest` (same 302 dance as logs).
    pub async fn artifact_zip(&self, a: &Artifact, dest: &Path) -> Result<bool, HttpError> {
        self.follow_to_file(&a.archive_download_url, dest, MAX_ARTIFACT_BYTES)
            .await
    }

    async fn follow_to_file(
        &self,
        api_url: &str,
        dest: &Path,
        limit: u64,
    ) -> Result<bool, HttpError> {
        for _ in 0..3 {
            let r = self.http.get(api_url).await?;
            if matches!(r.status, StatusCode::NOT_FOUND | StatusCode::GONE) {
                return Ok(false);
            }
            if r.status.is_success() {
                // Served directly (no redirect): the body is the content.
                std::fs::write(dest, &r.body).map_err(|e| HttpError::Transport {
                    method: "GET".into(),
                    url: strip_query(api_url),
                    message: format!("cannot write {}: {e}", dest.display()),
                })?;
                return Ok(true);
            }
            if !r.status.is_redirection() {
                return Err(self
                    .http
                    .error_for(&Method::GET, api_url, &r, Some("actions: read")));
            }
            let Some(location) = r.headers.get("location").and_then(|v| v.to_str().ok()) else {
                return Err(HttpError::Transport {
                    method: "GET".into(),
                    url: strip_query(api_url),
                    message: "redirect without a Location".into(),
                });
            };
            let mut file = std::fs::File::create(dest).map_err(|e| HttpError::Transport {
                method: "GET".into(),
                url: strip_query(api_url),
                message: format!("cannot create {}: {e}", dest.display()),
            })?;
            let (status, _) = self
                .http
                .download_unauthenticated(location, &mut file, limit)
                .await?;
            if status.is_success() {
                return Ok(true);
            }
            // An expired or rejected signed URL: ask the API for a new one.
            tracing::info!("signed URL answered {status}; asking for a new one");
        }
        Err(HttpError::Transport {
            method: "GET".into(),
            url: strip_query(api_url),
            message: "the signed download URL kept failing".into(),
        })
    }

    /// A pull request.
    pub async fn pull(&self, number: u64) -> Result<PullRequest, HttpError> {
        self.http
            .get_json(
                &self.url(&format!("/pulls/{number}")),
                Some("pull-requests: read"),
            )
            .await
    }

    /// Open pull requests, newest first.
    pub async fn open_pulls(&self) -> Result<Vec<PullRequest>, HttpError> {
        let mut out: Vec<PullRequest> = Vec::new();
        for page in 1..=MAX_PAGES.min(10) {
            let url = self.url(&format!(
                "/pulls?state=open&sort=created&direction=desc&per_page=100&page={page}"
            ));
            let prs: Vec<PullRequest> = self
                .http
                .get_json(&url, Some("pull-requests: read"))
                .await?;
            let n = prs.len();
            out.extend(prs);
            if n < 100 {
                break;
            }
        }
        out.sort_by(|a, b| b.created_at.cmp(&a.created_at));
        Ok(out)
    }

    /// The pull requests a commit belongs to (how a fork's PR is found from a
    /// `workflow_run` event, whose `pull_requests` is empty for forks).
    pub async fn pulls_for_commit(&self, sha: &str) -> Result<Vec<PullRequest>, HttpError> {
        self.http
            .get_json(
                &self.url(&format!("/commits/{sha}/pulls")),
                Some("pull-requests: read"),
            )
            .await
    }

    /// `POST /repos/{o}/{r}/actions/jobs/{id}/rerun`, never retried: on a 5xx
    /// the run's state is read to tell whether it took effect.
    pub async fn rerun_job(&self, job_id: u64, run_id: u64) -> RerunResult {
        let url = self.url(&format!("/actions/jobs/{job_id}/rerun"));
        self.post_once(&url, run_id).await
    }
}

impl Repo {
    /// `POST /repos/{o}/{r}/actions/runs/{id}/rerun-failed-jobs`, never retried.
    pub async fn rerun_failed_jobs(&self, run_id: u64) -> RerunResult {
        let url = self.url(&format!("/actions/runs/{run_id}/rerun-failed-jobs"));
        self.post_once(&url, run_id).await
    }

    /// A POST that is never retried; a 5xx is followed by a read of the run's state.
    async fn post_once(&self, url: &str, run_id: u64) -> RerunResult {
        match self
            .http
            .send(Method::POST, url, Some(b"{}".to_vec()))
            .await
        {
            Ok(r) if r.status.is_success() => RerunResult::Accepted,
            Ok(r) if r.status.is_server_error() => match self.run(run_id).await {
                Ok(run) if !run.is_completed() => {
                    RerunResult::AcceptedAfterServerError(r.status.as_u16())
                }
                Ok(_) => RerunResult::Failed(format!(
                    "GitHub answered {} and the run has not restarted; not retried",
                    r.status.as_u16()
                )),
                Err(e) => RerunResult::Failed(format!(
                    "GitHub answered {}; the run's state could not be read ({e}); not retried",
                    r.status.as_u16()
                )),
            },
            Ok(r) => RerunResult::Failed(
                self.http
                    .error_for(&Method::POST, url, &r, Some("actions: write"))
                    .to_string(),
            ),
            Err(e) => RerunResult::Failed(format!("{e}; not retried")),
        }
    }
}

/// The Python in a matrix job's name: `DBs (3.12, ubuntu-22.04)` → `3.12`,
/// `Test / AI (3.14t, ubuntu-22.04)` → `3.14t`, `pypy3.10` kept as is.
pub fn python_from_job_name(name: &str) -> Option<String> {
    let inside = name.rsplit_once('(')?.1.split(')').next()?;
    inside.split(',').map(str::trim).find_map(|part| {
        let p = part
            .strip_prefix("py")
            .filter(|p| !p.starts_with("py"))
            .unwrap_or(part);
        let digits = p.trim_start_matches("pypy");
        let looks = digits.starts_with(|c: char| c.is_ascii_digit())
            && digits
                .trim_end_matches('t')
                .split('.')
                .all(|x| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit()));
        looks.then(|| part.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_from_job_names() {
        assert_eq!(
            python_from_job_name("DBs (3.12, ubuntu-22.04)").as_deref(),
            Some("3.12")
        );
        assert_eq!(
            python_from_job_name("Test / AI (3.14t, ubuntu-22.04)").as_deref(),
            Some("3.14t")
        );
        assert_eq!(
            python_from_job_name("Web (pypy3.10, ubuntu-22.04)").as_deref(),
            Some("pypy3.10")
        );
        assert_eq!(python_from_job_name("Lint"), None);
        assert_eq!(python_from_job_name("Build (ubuntu-22.04)"), None);
    }

    #[test]
    fn fixture_pages_parse() {
        let p1: Jobs = serde_json::from_str(
            &std::fs::read_to_string("tests/fixtures/github-api/jobs.7000001.page1.json").unwrap(),
        )
        .unwrap();
        assert_eq!((p1.total_count, p1.jobs.len()), (120, 100));
        assert_eq!(p1.jobs.iter().filter(|j| j.failed()).count(), 2);
        let failed = p1.jobs.iter().find(|j| j.failed()).unwrap();
        assert_eq!(failed.failed_steps().len(), 1);
        let run: Run = serde_json::from_str(
            &std::fs::read_to_string("tests/fixtures/github-api/run.7000001.json").unwrap(),
        )
        .unwrap();
        assert!(run.is_completed());
        assert_eq!(run.attempt(), 1);
    }
}
