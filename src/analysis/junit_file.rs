//! One JUnit file read into a self-contained result: its test cases grouped by
//! tox target, ready to be merged into the aggregation. Reading needs no
//! shared state, so files are read on several threads (see [`read_all`]) and
//! merged in order, with the same report whatever the thread count.

use std::collections::{BTreeMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::inputs::junit::{JunitCase, JunitSummary, parse_junit, target_from_file_name};
use crate::model::{
    CaseOutcome, Category, Failure, FailureKind, FailureSource, MAX_FAILURES_PER_TARGET,
    MAX_MESSAGE, TargetName, TestCounts, is_plausible_env_name, truncate_str,
};

/// A JUnit file with at most this many test cases is a "run alone" (a test
/// re-run on its own), whose passes are kept as order-or-state evidence.
pub const SMALL_RUN: usize = 20;
/// Traceback bytes one file may hold before its later failures keep only their message.
const DETAILS_PER_FILE: usize = 4 << 20;

/// The test cases of one target in one file.
#[derive(Debug, Default)]
pub struct TargetCases {
    /// The tox target.
    pub target: String,
    /// Counts of its cases' final outcomes.
    pub counts: TestCounts,
    /// Its cases.
    pub cases: u64,
    /// Failing cases (at most [`MAX_FAILURES_PER_TARGET`]).
    pub failures: Vec<Failure>,
    /// Failing cases not kept.
    pub failures_omitted: u64,
    /// Passing test ids, kept when the file is a small run.
    pub passes: Vec<String>,
}

/// What one JUnit file holds.
#[derive(Debug)]
pub struct JunitFileResult {
    /// How the report names the file.
    pub display: String,
    /// Targets in first-seen order.
    pub targets: Vec<TargetCases>,
    /// Cases whose target could not be told.
    pub unmapped: u64,
    /// The testsuite name of the first such case.
    pub first_unmapped_suite: Option<String>,
    /// The target the unmappable cases were put under.
    pub fallback: String,
    /// Problems and facts from reading the file.
    pub summary: JunitSummary,
    /// For a file with no test case: the target it belongs to.
    pub empty_target: Option<String>,
}

/// Which target a test case belongs to: the user's assignment, else a
/// testsuite name that is a conventional target name or one the logs know,
/// else the file name, else a non-default testsuite name.
pub fn pick_target<'a>(
    explicit: Option<&'a str>,
    suite: Option<&'a str>,
    file_target: Option<&'a str>,
    known: &HashSet<String>,
) -> Option<&'a str> {
    if explicit.is_some() {
        return explicit;
    }
    let suite = suite.filter(|s| is_plausible_env_name(s));
    if let Some(s) = suite
        && (TargetName::parse(s).parts().is_some() || known.contains(s))
    {
        return Some(s);
    }
    file_target.or(suite.filter(|s| *s != "pytest"))
}

/// The target for cases no rule places: `junit:<file stem>`.
pub fn fallback_target(file_name: &str) -> String {
    let stem = file_name.strip_suffix(".xml").unwrap_or(file_name);
    let clean: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("junit:{}", clean.trim_start_matches('.'))
}

fn first_line(s: &str) -> Option<&str> {
    s.lines().map(str::trim).find(|l| !l.is_empty())
}

/// pytest tracebacks end with `E   SomeError: ...` lines; the first such line is the message.
fn last_error_line(details: &str) -> Option<&str> {
    details
        .lines()
        .find_map(|l| l.strip_prefix("E ").map(str::trim))
        .filter(|l| !l.is_empty())
}

/// Reads one JUnit file. `known` are target names the logs reported.
pub fn read_junit<R: Read>(
    display: &str,
    file_name: &str,
    explicit: Option<&str>,
    input: R,
    known: &HashSet<String>,
) -> JunitFileResult {
    let file_target = target_from_file_name(file_name);
    let fallback = fallback_target(file_name);
    let mut targets: Vec<TargetCases> = Vec::new();
    let mut unmapped = 0u64;
    let mut first_unmapped_suite = None;
    let mut details_kept = 0usize;
    // The target of the last suite seen: consecutive cases share their suite.
    let mut last_suite: Option<Option<String>> = None;
    let mut current = 0usize;
    let mut mapped = true;
    let summary = parse_junit(input, &mut |case: &JunitCase<'_>| {
        if last_suite
            .as_ref()
            .is_none_or(|s| s.as_deref() != case.suite)
        {
            last_suite = Some(case.suite.map(str::to_owned));
            let target = match pick_target(explicit, case.suite, file_target, known) {
                Some(t) => {
                    mapped = true;
                    t.to_owned()
                }
                None => {
                    mapped = false;
                    if first_unmapped_suite.is_none() {
                        first_unmapped_suite = Some(truncate_str(case.suite.unwrap_or(""), 200));
                    }
                    fallback.clone()
                }
            };
            current = match targets.iter().position(|t| t.target == target) {
                Some(i) => i,
                None => {
                    targets.push(TargetCases {
                        target,
                        ..TargetCases::default()
                    });
                    targets.len() - 1
                }
            };
        }
        if !mapped {
            unmapped += 1;
        }
        let t = &mut targets[current];
        t.counts.add(case.outcome, case.attempts);
        t.cases += 1;
        if case.outcome == CaseOutcome::Passed && t.passes.len() <= SMALL_RUN {
            t.passes.push(case.test_id());
        }
        let kind = match case.outcome {
            CaseOutcome::Failed => FailureKind::Failure,
            CaseOutcome::Errored => FailureKind::Error,
            CaseOutcome::Passed | CaseOutcome::Skipped => return,
        };
        if t.failures.len() >= MAX_FAILURES_PER_TARGET {
            t.failures_omitted += 1;
            return;
        }
        let message = first_line(case.message)
            .or_else(|| last_error_line(case.details))
            .unwrap_or("");
        let details = if details_kept + case.details.len() <= DETAILS_PER_FILE {
            details_kept += case.details.len();
            case.details.to_owned()
        } else {
            String::new()
        };
        t.failures.push(Failure {
            test: case.test_id(),
            kind,
            message: truncate_str(message, MAX_MESSAGE),
            details,
            attempts: case.attempts,
            source: FailureSource::Junit,
            category: Category::Unknown,
            evidence: None,
        });
    });
    let empty_target = (summary.cases == 0 && summary.is_junit).then(|| {
        let suite = summary.suite_names.first().map(String::as_str);
        pick_target(explicit, suite, file_target, known)
            .map(str::to_owned)
            .unwrap_or_else(|| fallback.clone())
    });
    if summary.cases as usize > SMALL_RUN {
        for t in &mut targets {
            t.passes.clear();
        }
    }
    JunitFileResult {
        display: display.to_owned(),
        targets,
        unmapped,
        first_unmapped_suite,
        fallback,
        summary,
        empty_target,
    }
}

/// A file to read: its path, how the report names it, and its assigned target.
#[derive(Debug, Clone)]
pub struct JunitJob {
    /// Where it is.
    pub path: PathBuf,
    /// How the report names it.
    pub display: String,
    /// The target the user assigned to it.
    pub explicit: Option<String>,
}

impl JunitJob {
    /// A file found by a path, glob or directory walk: named by its path.
    pub fn found(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
            display: path.display().to_string(),
            explicit: None,
        }
    }
}

/// Reads files on `threads` threads and hands each result to `apply` in the
/// files' order (the report does not depend on the thread count). A file
/// that cannot be opened gives `Err` with the OS's message.
pub fn read_all(
    jobs: &[JunitJob],
    known: &HashSet<String>,
    threads: usize,
    mut apply: impl FnMut(&JunitJob, Result<JunitFileResult, std::io::Error>),
) {
    let read_one = |job: &JunitJob| {
        let file_name = job
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        std::fs::File::open(&job.path)
            .map(|f| read_junit(&job.display, &file_name, job.explicit.as_deref(), f, known))
    };
    let threads = threads.clamp(1, 16).min(jobs.len().max(1));
    if threads == 1 {
        for job in jobs {
            apply(job, read_one(job));
        }
        return;
    }
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        // Bounded: a worker waits when results pile up ahead of the one applied next.
        let (tx, rx) = std::sync::mpsc::sync_channel(threads * 2);
        for _ in 0..threads {
            let tx = tx.clone();
            let next = &next;
            let read_one = &read_one;
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(job) = jobs.get(i) else { break };
                    if tx.send((i, read_one(job))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut waiting = BTreeMap::new();
        let mut expected = 0;
        for (i, result) in rx {
            waiting.insert(i, result);
            while let Some(result) = waiting.remove(&expected) {
                apply(&jobs[expected], result);
                expected += 1;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_arrive_in_file_order_whatever_the_thread_count() {
        let mut paths: Vec<PathBuf> = std::fs::read_dir("tests/fixtures/tox4-sequential/junit")
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        paths.sort();
        let jobs: Vec<JunitJob> = paths.iter().map(|p| JunitJob::found(p)).collect();
        let run = |threads| {
            let mut seen = Vec::new();
            read_all(&jobs, &HashSet::new(), threads, |job, r| {
                let r = r.unwrap();
                seen.push((
                    job.display.clone(),
                    r.targets
                        .iter()
                        .map(|t| (t.target.clone(), t.cases))
                        .collect::<Vec<_>>(),
                ));
            });
            seen
        };
        let one = run(1);
        assert_eq!(one.len(), jobs.len());
        assert_eq!(run(4), one);
    }

    #[test]
    fn fallback_names() {
        assert_eq!(fallback_target("report.xml"), "junit:report");
        assert_eq!(fallback_target(".junitxml-x y"), "junit:junitxml-x_y");
    }
}
