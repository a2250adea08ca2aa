//! The short report on stdout. Every line starts with a word of ours, and
//! untrusted text is passed through [`escape::terminal`], so no test name can
//! start a line (a workflow command) or move the cursor.

use std::io::{self, Write};

use crate::model::{Report, TargetStatus};
use crate::outputs::escape;

/// Failing tests shown per target.
const SHOWN_FAILURES: usize = 3;

/// Renders the short human report. With `grouped` (in GitHub Actions), the
/// per-target lines are folded into a `::group::`.
pub fn render(report: &Report, grouped: bool) -> String {
    let mut out = Vec::new();
    // Writing to memory cannot fail, and every part written is UTF-8.
    let _ = write(report, grouped, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// [`render`], written to `out` as it is made: a run with tens of thousands
/// of failing targets does not hold its report twice.
pub fn write(report: &Report, grouped: bool, out: &mut impl Write) -> io::Result<()> {
    let counts = report.counts();
    writeln!(
        out,
        "tox-triage: {} failed, {} passed, {} skipped, {} not run ({} targets)",
        counts.failed,
        counts.passed,
        counts.skipped,
        counts.not_run,
        report.targets.len()
    )?;
    let listed = counts.failed + counts.not_run;
    if grouped && listed > 0 {
        writeln!(out, "::group::Failing and not-run targets ({listed})")?;
    }
    for t in &report.targets {
        let label = match t.status {
            TargetStatus::Fail => "FAIL",
            TargetStatus::NotRun => "NOT RUN",
            _ => continue,
        };
        write!(out, "{label} {}", escape::terminal(t.name.as_str(), 200))?;
        if let Some(c) = t.exit_code {
            write!(out, " exit {c}")?;
        }
        if let Some(v) = t.findings().verdict {
            write!(out, " [{}]", v.as_str())?;
        }
        if let Some(r) = t.reproduce() {
            write!(out, "  ->  {r}")?;
        }
        writeln!(out)?;
        for f in t.findings().failures.iter().take(SHOWN_FAILURES) {
            write!(out, "  test {}", escape::terminal(&f.test, 300))?;
            if !f.message.is_empty() {
                write!(out, ": {}", escape::terminal(&f.message, 200))?;
            }
            writeln!(out)?;
        }
        if t.findings().failures.len() > SHOWN_FAILURES {
            writeln!(
                out,
                "  and {} more failing tests",
                t.findings().failures.len() - SHOWN_FAILURES
            )?;
        }
        for p in &t.findings().missing_paths {
            writeln!(
                out,
                "  missing path (pytest exit 4): {}",
                escape::terminal(p, 300)
            )?;
        }
    }
    if grouped && listed > 0 {
        out.write_all(b"::endgroup::\n")?;
    }
    for r in &report.reruns {
        let cleared = match r.cleared {
            Some(true) => ", cleared",
            Some(false) => ", failed again",
            None => "",
        };
        writeln!(
            out,
            "rerun {}: job {} {}: {}{cleared}",
            escape::terminal(&r.action, 20),
            r.job_id,
            escape::terminal(&r.job_name, 200),
            escape::terminal(&r.reason, 400)
        )?;
    }
    if grouped && !report.warnings.is_empty() {
        writeln!(out, "::group::Input warnings ({})", report.warnings.len())?;
    }
    for w in &report.warnings {
        writeln!(out, "warning: {}", escape::terminal(&w.to_string(), 500))?;
    }
    if grouped && !report.warnings.is_empty() {
        out.write_all(b"::endgroup::\n")?;
    }
    Ok(())
}
