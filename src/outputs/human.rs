//! The short report on stdout. Every line starts with a word of ours, and
//! untrusted text is passed through [`escape::terminal`], so no test name can
//! start a line (a workflow command) or move the cursor.

use std::fmt::Write;

use crate::model::{Report, TargetStatus};
use crate::outputs::escape;

/// Failing tests shown per target.
const SHOWN_FAILURES: usize = 3;

/// Renders the short human report. With `grouped` (in GitHub Actions), the
/// per-target lines are folded into a `::group::`.
pub fn render(report: &Report, grouped: bool) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "tox-triage: {} failed, {} passed, {} skipped, {} not run ({} targets)",
        report.count(TargetStatus::Fail),
        report.count(TargetStatus::Pass),
        report.count(TargetStatus::Skipped),
        report.count(TargetStatus::NotRun),
        report.targets.len()
    );
    let listed = report.count(TargetStatus::Fail) + report.count(TargetStatus::NotRun);
    if grouped && listed > 0 {
        let _ = writeln!(s, "::group::Failing and not-run targets ({listed})");
    }
    for t in &report.targets {
        let label = match t.status {
            TargetStatus::Fail => "FAIL",
            TargetStatus::NotRun => "NOT RUN",
            _ => continue,
        };
        let exit = t
            .exit_code
            .map(|c| format!(" exit {c}"))
            .unwrap_or_default();
        let verdict = t
            .verdict
            .map(|v| format!(" [{}]", v.as_str()))
            .unwrap_or_default();
        let repro = t
            .reproduce()
            .map(|r| format!("  ->  {r}"))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "{label} {}{exit}{verdict}{repro}",
            escape::terminal(t.name.as_str(), 200)
        );
        for f in t.failures.iter().take(SHOWN_FAILURES) {
            let msg = if f.message.is_empty() {
                String::new()
            } else {
                format!(": {}", escape::terminal(&f.message, 200))
            };
            let _ = writeln!(s, "  test {}{msg}", escape::terminal(&f.test, 300));
        }
        if t.failures.len() > SHOWN_FAILURES {
            let _ = writeln!(
                s,
                "  and {} more failing tests",
                t.failures.len() - SHOWN_FAILURES
            );
        }
        for p in &t.missing_paths {
            let _ = writeln!(
                s,
                "  missing path (pytest exit 4): {}",
                escape::terminal(p, 300)
            );
        }
    }
    if grouped && listed > 0 {
        s.push_str("::endgroup::\n");
    }
    for r in &report.reruns {
        let cleared = match r.cleared {
            Some(true) => ", cleared",
            Some(false) => ", failed again",
            None => "",
        };
        let _ = writeln!(
            s,
            "rerun {}: job {} {}: {}{cleared}",
            escape::terminal(&r.action, 20),
            r.job_id,
            escape::terminal(&r.job_name, 200),
            escape::terminal(&r.reason, 400)
        );
    }
    if grouped && !report.warnings.is_empty() {
        let _ = writeln!(s, "::group::Input warnings ({})", report.warnings.len());
    }
    for w in &report.warnings {
        let _ = writeln!(s, "warning: {}", escape::terminal(&w.to_string(), 500));
    }
    if grouped && !report.warnings.is_empty() {
        s.push_str("::endgroup::\n");
    }
    s
}
