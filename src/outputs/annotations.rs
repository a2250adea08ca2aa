//! GitHub annotations as workflow commands (`::error file=..,line=..,title=..::msg`).
//!
//! GitHub shows at most 10 error and 10 warning annotations per step, so the
//! useful ones are chosen here: one error per failing suite+version (its
//! targets on every Python folded into one), those with a failing test first,
//! and, when more remain, a last one that counts them. Warnings cover targets
//! that did not run, disagreeing inputs, and input problems.
//!
//! Every property and message goes through [`escape::command_property`] /
//! [`escape::command_data`].

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::model::{Failure, Report, Target, TargetStatus, Verdict};
use crate::outputs::escape;
use crate::paths::Workspace;

/// GitHub's per-step limit for each of errors and warnings.
pub const MAX_PER_LEVEL: usize = 10;
/// Longest annotation message sent.
const MAX_MESSAGE: usize = 4_000;

/// Annotation level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// `::error`
    Error,
    /// `::warning`
    Warning,
}

/// One annotation, before escaping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotation {
    /// Error or warning.
    pub level: Level,
    /// Short title.
    pub title: String,
    /// Body.
    pub message: String,
    /// Repository-relative file.
    pub file: Option<String>,
    /// 1-based line in `file`.
    pub line: Option<u32>,
}

/// Chooses at most [`MAX_PER_LEVEL`] errors and warnings for a report.
pub fn choose(report: &Report, ws: &Workspace) -> Vec<Annotation> {
    let mut out = errors(report, ws);
    out.extend(warnings(report));
    out
}

fn errors(report: &Report, ws: &Workspace) -> Vec<Annotation> {
    // Group failing targets: same suite and version on several Pythons is one problem.
    let mut groups: BTreeMap<String, Vec<&Target>> = BTreeMap::new();
    for t in report.with_status(TargetStatus::Fail) {
        let key = match (t.name.suite(), t.name.version()) {
            (Some(s), Some(v)) => format!("{s} {v}"),
            (Some(s), None) if t.name.parts().is_some_and(|p| p.latest) => format!("{s} latest"),
            (Some(s), None) => s.to_owned(),
            _ => t.name.as_str().to_owned(),
        };
        groups.entry(key).or_default().push(t);
    }
    let mut groups: Vec<(String, Vec<&Target>)> = groups.into_iter().collect();
    // Actionable first (a failing test to point at), then the widest failures.
    groups.sort_by(|a, b| {
        let has_test = |g: &[&Target]| g.iter().any(|t| !t.findings().failures.is_empty());
        let rank = |g: &[&Target]| match g[0].findings().verdict {
            Some(Verdict::Regression) => 0,
            Some(Verdict::Undetermined) | None => 1,
            Some(Verdict::SuspectedFlake) => 2,
        };
        rank(&a.1)
            .cmp(&rank(&b.1))
            .then(has_test(&b.1).cmp(&has_test(&a.1)))
            .then(b.1.len().cmp(&a.1.len()))
            .then(a.0.cmp(&b.0))
    });
    let total = groups.len();
    let room = if total > MAX_PER_LEVEL {
        MAX_PER_LEVEL - 1
    } else {
        total
    };
    let mut out: Vec<Annotation> = groups
        .iter()
        .take(room)
        .map(|(key, targets)| group_error(key, targets, ws))
        .collect();
    if total > room {
        let rest: Vec<&str> = groups[room..].iter().map(|(k, _)| k.as_str()).collect();
        out.push(Annotation {
            level: Level::Error,
            title: format!("{} more failing suites", rest.len()),
            message: format!(
                "Also failing: {}. See the job summary for every target.",
                list(&rest, 30)
            ),
            file: None,
            line: None,
        });
    }
    out
}

fn group_error(key: &str, targets: &[&Target], ws: &Workspace) -> Annotation {
    let first = targets[0];
    let pythons: Vec<&str> = targets.iter().filter_map(|t| t.name.python()).collect();
    let prefix = match first.findings().verdict {
        Some(Verdict::Regression) => "Regression: ",
        Some(Verdict::SuspectedFlake) => "Suspected flake: ",
        _ => "",
    };
    let title = if targets.len() > 1 && pythons.len() == targets.len() {
        format!("{prefix}{key} fails on {}", pythons.join(", "))
    } else if targets.len() > 1 {
        format!("{prefix}{key}: {} targets fail", targets.len())
    } else {
        format!("{prefix}{} failed", first.name)
    };
    let mut message = String::new();
    let failure = targets.iter().find_map(|t| t.findings().failures.first());
    if let Some(f) = failure {
        let _ = write!(message, "{}", f.test);
        if !f.message.is_empty() {
            let _ = write!(message, ": {}", f.message);
        }
        message.push('\n');
    } else if let Some(p) = targets
        .iter()
        .find_map(|t| t.findings().missing_paths.first())
    {
        let _ = writeln!(message, "pytest: file or directory not found: {p} (exit 4)");
    } else if let Some(e) = targets
        .iter()
        .find_map(|t| t.findings().exit.as_ref().filter(|e| e.setup_step))
    {
        let _ = writeln!(
            message,
            "setup failed (exit {}) while installing dependencies",
            e.code
        );
    } else if let Some(code) = first.exit_code {
        let _ = writeln!(message, "exit {code}");
    }
    let names: Vec<&str> = targets.iter().map(|t| t.name.as_str()).collect();
    let _ = write!(message, "Reproduce: tox -e {}", names.join(","));
    let (file, line) = failure.map(|f| location(f, ws)).unwrap_or((None, None));
    Annotation {
        level: Level::Error,
        title,
        message,
        file,
        line,
    }
}

fn warnings(report: &Report) -> Vec<Annotation> {
    let mut out = Vec::new();
    let not_run: Vec<&str> = report
        .with_status(TargetStatus::NotRun)
        .map(|t| t.name.as_str())
        .collect();
    if !not_run.is_empty() {
        out.push(Annotation {
            level: Level::Warning,
            title: format!("{} target(s) did not run", not_run.len()),
            message: format!(
                "Named by the run but no result was printed (cancelled, timed out, or tox crashed): {}",
                list(&not_run, 30)
            ),
            file: None,
            line: None,
        });
    }
    let conflicting: Vec<&str> = report
        .targets
        .iter()
        .filter(|t| t.conflicting)
        .map(|t| t.name.as_str())
        .collect();
    if !conflicting.is_empty() {
        out.push(Annotation {
            level: Level::Warning,
            title: "Inputs disagree".to_owned(),
            message: format!(
                "Passed in one log and failed in another: {}",
                list(&conflicting, 30)
            ),
            file: None,
            line: None,
        });
    }
    let total_warnings = report.warnings.len() as u64 + report.warnings_omitted;
    let room = MAX_PER_LEVEL - out.len();
    let shown = if total_warnings as usize > room {
        room - 1
    } else {
        room
    };
    for w in report.warnings.iter().take(shown) {
        out.push(Annotation {
            level: Level::Warning,
            title: "tox-triage input warning".to_owned(),
            message: w.to_string(),
            file: None,
            line: None,
        });
    }
    let omitted = total_warnings.saturating_sub(shown as u64);
    if omitted > 0 && (total_warnings as usize) > shown {
        out.push(Annotation {
            level: Level::Warning,
            title: format!("{omitted} more input warnings"),
            message: "See the job summary or the JSON report for every warning.".to_owned(),
            file: None,
            line: None,
        });
    }
    out
}

fn list(names: &[&str], max: usize) -> String {
    let mut s = names
        .iter()
        .take(max)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > max {
        let _ = write!(s, " and {} more", names.len() - max);
    }
    s
}

/// Where in the repository a failure points: the test file from the node id,
/// with the line of its frame in the traceback (`tests/t.py:14: AssertionError`).
fn location(f: &Failure, ws: &Workspace) -> (Option<String>, Option<u32>) {
    let file = f.test.split("::").next().filter(|p| p.ends_with(".py"));
    let Some(file) = file.and_then(|p| ws.relative(p)) else {
        return (None, None);
    };
    let line = f.details.lines().rev().find_map(|l| {
        let rest = l.strip_prefix(file.as_str())?.strip_prefix(':')?;
        let (n, _) = rest.split_once(':')?;
        n.parse::<u32>().ok()
    });
    (Some(file), line)
}

/// Renders annotations as workflow commands, one per line.
pub fn render(annotations: &[Annotation]) -> String {
    let mut out = String::new();
    for a in annotations {
        out.push_str(match a.level {
            Level::Error => "::error ",
            Level::Warning => "::warning ",
        });
        let mut props = Vec::new();
        if let Some(f) = &a.file {
            props.push(format!("file={}", escape::command_property(f)));
            if let Some(l) = a.line {
                props.push(format!("line={l}"));
            }
        }
        props.push(format!(
            "title={}",
            escape::command_property(&crate::model::truncate_str(&a.title, 200))
        ));
        out.push_str(&props.join(","));
        out.push_str("::");
        out.push_str(&escape::command_data(&crate::model::truncate_str(
            &a.message,
            MAX_MESSAGE,
        )));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Category, FailureKind, FailureSource, TargetName};

    fn failing(name: &str, test: &str, details: &str) -> Target {
        let mut t = Target::new(TargetName::parse(name));
        t.status = TargetStatus::Fail;
        t.exit_code = Some(1);
        if !test.is_empty() {
            t.add_failure(Failure {
                test: test.to_owned(),
                kind: FailureKind::Failure,
                message: "AssertionError: x".to_owned(),
                details: details.to_owned(),
                attempts: 1,
                source: FailureSource::Junit,
                category: Category::Unknown,
                evidence: None,
            });
        }
        t
    }

    #[test]
    fn same_suite_and_version_on_several_pythons_is_one_error() {
        let report = Report {
            targets: vec![
                failing(
                    "py3.11-redis-v6.4.0",
                    "tests/t.py::test_a",
                    "x\ntests/t.py:14: AssertionError",
                ),
                failing("py3.12-redis-v6.4.0", "tests/t.py::test_a", ""),
            ],
            ..Default::default()
        };
        let a = choose(&report, &Workspace::new("/w"));
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].title, "redis 6.4.0 fails on 3.11, 3.12");
        assert_eq!(
            (a[0].file.as_deref(), a[0].line),
            (Some("tests/t.py"), Some(14))
        );
        assert!(
            a[0].message
                .ends_with("Reproduce: tox -e py3.11-redis-v6.4.0,py3.12-redis-v6.4.0")
        );
    }

    #[test]
    fn at_most_ten_errors_with_a_count_of_the_rest() {
        let report = Report {
            targets: (0..25)
                .map(|i| failing(&format!("py3.12-s{i}-v1.0"), "", ""))
                .collect(),
            ..Default::default()
        };
        let a = choose(&report, &Workspace::new("/w"));
        assert_eq!(a.len(), 10);
        assert_eq!(a[9].title, "16 more failing suites");
    }

    #[test]
    fn rendering_escapes_properties_and_data() {
        let a = Annotation {
            level: Level::Error,
            title: "a:b,c\n::warning::x".to_owned(),
            message: "50%\nnext::error::y".to_owned(),
            file: Some("t,1.py".to_owned()),
            line: Some(3),
        };
        let s = render(&[a]);
        assert_eq!(
            s,
            "::error file=t%2C1.py,line=3,title=a%3Ab%2Cc%0A%3A%3Awarning%3A%3Ax::50%25%0Anext::error::y\n"
        );
        assert_eq!(s.lines().count(), 1);
    }
}
