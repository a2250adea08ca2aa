//! The GitHub event that started the workflow (`$GITHUB_EVENT_PATH`): the few
//! fields tox-triage uses, read leniently (a field that is absent is `None`).

use std::path::Path;

use serde::Deserialize;

use crate::error::Error;

/// What tox-triage takes from an event payload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Event {
    /// The pull request's base commit (`pull_request.base.sha`, or the first of
    /// `workflow_run.pull_requests`).
    pub base_sha: Option<String>,
    /// The pull request's base branch.
    pub base_ref: Option<String>,
    /// The commit under test (`pull_request.head.sha` / `workflow_run.head_sha`).
    pub head_sha: Option<String>,
    /// The pull request number, when the event names one.
    pub pr_number: Option<u64>,
    /// `workflow_run.id`.
    pub run_id: Option<u64>,
    /// `workflow_run.run_attempt`.
    pub run_attempt: Option<u64>,
    /// `workflow_run.name` (the workflow's name).
    pub workflow_name: Option<String>,
    /// `workflow_run.head_branch` or `pull_request.head.ref`.
    pub head_branch: Option<String>,
}

#[derive(Deserialize)]
struct Raw {
    pull_request: Option<RawPr>,
    workflow_run: Option<RawRun>,
}

#[derive(Deserialize)]
struct RawPr {
    number: Option<u64>,
    base: Option<RawRef>,
    head: Option<RawRef>,
}

#[derive(Deserialize)]
struct RawRef {
    sha: Option<String>,
    #[serde(rename = "ref")]
    git_ref: Option<String>,
}

#[derive(Deserialize)]
struct RawRun {
    id: Option<u64>,
    run_attempt: Option<u64>,
    name: Option<String>,
    head_sha: Option<String>,
    head_branch: Option<String>,
    #[serde(default)]
    pull_requests: Vec<RawPr>,
}

impl Event {
    /// Parses an event payload.
    pub fn parse(text: &str, path: &str) -> Result<Self, Error> {
        let raw: Raw = serde_json::from_str(text).map_err(|e| {
            Error::Usage(format!(
                "{path}:{}: not a GitHub event payload: {e}",
                e.line()
            ))
        })?;
        let mut ev = Event::default();
        if let Some(pr) = &raw.pull_request {
            ev.pr_number = pr.number;
            ev.base_sha = pr.base.as_ref().and_then(|b| b.sha.clone());
            ev.base_ref = pr.base.as_ref().and_then(|b| b.git_ref.clone());
            ev.head_sha = pr.head.as_ref().and_then(|h| h.sha.clone());
            ev.head_branch = pr.head.as_ref().and_then(|h| h.git_ref.clone());
        }
        if let Some(run) = raw.workflow_run {
            ev.run_id = run.id;
            ev.run_attempt = run.run_attempt;
            ev.workflow_name = run.name;
            ev.head_sha = ev.head_sha.or(run.head_sha);
            ev.head_branch = ev.head_branch.or(run.head_branch);
            if let Some(pr) = run.pull_requests.first() {
                ev.pr_number = ev.pr_number.or(pr.number);
                ev.base_sha = ev
                    .base_sha
                    .or_else(|| pr.base.as_ref().and_then(|b| b.sha.clone()));
                ev.base_ref = ev
                    .base_ref
                    .or_else(|| pr.base.as_ref().and_then(|b| b.git_ref.clone()));
            }
        }
        Ok(ev)
    }

    /// Reads `$GITHUB_EVENT_PATH` when set; `None` when unset or unreadable.
    pub fn from_env() -> Option<Self> {
        let path = std::env::var("GITHUB_EVENT_PATH")
            .ok()
            .filter(|p| !p.is_empty())?;
        let text = std::fs::read_to_string(Path::new(&path)).ok()?;
        match Self::parse(&text, &path) {
            Ok(ev) => Some(ev),
            Err(e) => {
                tracing::warn!("{e}");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(name: &str) -> Event {
        let path = format!("tests/fixtures/github-api/{name}");
        Event::parse(&std::fs::read_to_string(&path).unwrap(), &path).unwrap()
    }

    #[test]
    fn pull_request_event() {
        let ev = load("event.pull_request.opened.json");
        assert_eq!(
            ev.base_sha.as_deref(),
            Some("0a1b2c3d4e5f60718293a4b5c6d7e8f901234567")
        );
        assert_eq!(ev.pr_number, Some(42));
        assert_eq!(ev.head_branch.as_deref(), Some("toxgen/update"));
    }

    #[test]
    fn workflow_run_event_with_and_without_pull_requests() {
        let ev = load("event.workflow_run.completed.json");
        assert_eq!(
            (ev.run_id, ev.run_attempt, ev.pr_number),
            (Some(7000001), Some(1), Some(42))
        );
        assert_eq!(
            ev.base_sha.as_deref(),
            Some("0a1b2c3d4e5f60718293a4b5c6d7e8f901234567")
        );
        let fork = load("event.workflow_run.completed.fork.json");
        assert_eq!(fork.pr_number, None, "fork PRs: empty pull_requests");
        assert_eq!(fork.base_sha, None);
        assert_eq!(
            fork.head_sha.as_deref(),
            Some("9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d")
        );
    }

    #[test]
    fn not_an_event() {
        assert!(
            Event::parse("[1,2", "e.json")
                .unwrap_err()
                .to_string()
                .contains("e.json:1")
        );
    }
}
