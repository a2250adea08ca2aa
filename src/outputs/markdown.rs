//! The GitHub-flavoured markdown summary (the job summary users read first):
//! failing integrations first, each with its failing targets, the first
//! message of each failing test and the command that reproduces it; targets
//! that did not run next; passing and skipped targets folded away.
//!
//! Every piece of untrusted text goes through [`crate::outputs::escape`].
//! The summary is built section by section within a byte budget: GitHub drops
//! a step summary over 1 MiB whole, so when the budget runs out the rest is
//! replaced by a note pointing at the JSON report.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::model::{Report, Target, TargetStatus, Verdict};
use crate::outputs::escape::{html, inline, pre};

/// GitHub's limit for one step's summary.
pub const GITHUB_SUMMARY_LIMIT: usize = 1024 * 1024;

/// Longest test id shown.
const MAX_SHOWN_ID: usize = 300;
/// Longest failure message shown.
const MAX_SHOWN_MESSAGE: usize = 400;
/// Failing tests listed per target.
const MAX_SHOWN_FAILURES: usize = 10;
/// Output lines shown per failing target.
const MAX_SHOWN_OUTPUT: usize = 30;

/// How to render.
#[derive(Debug, Clone)]
pub struct MarkdownOptions {
    /// Upper bound on the summary's size in bytes.
    pub max_bytes: usize,
    /// Where the full JSON report is, for the truncation note.
    pub report_hint: Option<String>,
}

impl Default for MarkdownOptions {
    fn default() -> Self {
        Self {
            max_bytes: GITHUB_SUMMARY_LIMIT - 4 * 1024,
            report_hint: None,
        }
    }
}

/// Renders the summary.
pub fn render(report: &Report, opts: &MarkdownOptions) -> String {
    let mut doc = Budget::new(opts.max_bytes.saturating_sub(600));
    let counts = report.counts();
    let (failed, not_run) = (counts.failed, counts.not_run);
    let total = report.targets.len();

    let mut head = String::new();
    let icon = if failed > 0 {
        "🔴"
    } else if not_run > 0 {
        "🟠"
    } else {
        "🟢"
    };
    let _ = writeln!(
        head,
        "## {icon} tox-triage: {failed} of {total} target{} failed\n",
        plural(total)
    );
    let _ = writeln!(
        head,
        "**{failed} failed** · {} passed · {} skipped · {not_run} not run\n",
        counts.passed, counts.skipped,
    );
    doc.push(&head);

    'suites: for (suite, targets) in failing_by_suite(report) {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "### ❌ {} — {} failing target{}\n",
            html(suite),
            targets.len(),
            plural(targets.len())
        );
        if !doc.push(&s) {
            break;
        }
        for group in by_version(&targets) {
            if !doc.push(&verdict_block(&group)) {
                break 'suites;
            }
            for t in group {
                if !doc.push(&failing_target(t)) {
                    break 'suites;
                }
            }
        }
    }

    if not_run > 0 && !doc.exhausted {
        let mut s = format!("### ⚠️ {not_run} target{} did not run\n\n", plural(not_run));
        s.push_str("Named by the run's `-e` list (or the envlist) but no result was printed: the step may have been cancelled, timed out, or tox crashed.\n\n");
        for t in report.with_status(TargetStatus::NotRun) {
            let why = t
                .findings()
                .reason
                .as_deref()
                .map(|r| format!(" — {}", inline(r, 300)))
                .unwrap_or_default();
            let _ = writeln!(s, "- <code>{}</code>{why}", inline(t.name.as_str(), 200));
        }
        s.push('\n');
        doc.push(&s);
    }

    let passing: Vec<&Target> = report
        .targets
        .iter()
        .filter(|t| matches!(t.status, TargetStatus::Pass | TargetStatus::Skipped))
        .collect();
    if !passing.is_empty() && !doc.exhausted {
        doc.push(&passing_block(&passing));
    }

    if !report.reruns.is_empty() && !doc.exhausted {
        doc.push(&reruns_block(report));
    }

    if !report.warnings.is_empty() && !doc.exhausted {
        let mut s = format!(
            "<details><summary>⚠️ {} input warning{}</summary>\n\n",
            report.warnings.len() as u64 + report.warnings_omitted,
            plural(report.warnings.len())
        );
        for w in &report.warnings {
            let _ = writeln!(s, "- {}", inline(&w.to_string(), 600));
        }
        if report.warnings_omitted > 0 {
            let _ = writeln!(s, "- … and {} more", report.warnings_omitted);
        }
        s.push_str("\n</details>\n");
        doc.push(&s);
    }

    let mut out = doc.text;
    if doc.exhausted {
        let _ = write!(
            out,
            "\n> [!NOTE]\n> This summary was cut to stay under GitHub's 1 MiB limit. The full report, with every target and failure, is in {}.\n",
            opts.report_hint
                .as_deref()
                .map(|h| format!("<code>{}</code>", inline(h, 300)))
                .unwrap_or_else(|| "the JSON report (`--json`)".to_owned())
        );
    }
    out
}

/// Appends sections while they fit.
struct Budget {
    text: String,
    max: usize,
    exhausted: bool,
}

impl Budget {
    fn new(max: usize) -> Self {
        Self {
            text: String::new(),
            max,
            exhausted: false,
        }
    }

    fn push(&mut self, section: &str) -> bool {
        if self.exhausted || self.text.len() + section.len() > self.max {
            self.exhausted = true;
            return false;
        }
        self.text.push_str(section);
        true
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Failing targets grouped by suite (targets without one under "other"):
/// suites with a regression first, then those with the most failing targets.
fn failing_by_suite(report: &Report) -> Vec<(&str, Vec<&Target>)> {
    let mut groups: BTreeMap<&str, Vec<&Target>> = BTreeMap::new();
    for t in report.with_status(TargetStatus::Fail) {
        groups
            .entry(t.name.suite().unwrap_or("other"))
            .or_default()
            .push(t);
    }
    let mut groups: Vec<_> = groups.into_iter().collect();
    let rank = |ts: &[&Target]| {
        ts.iter()
            .map(|t| verdict_rank(t.findings().verdict))
            .min()
            .unwrap_or(3)
    };
    groups.sort_by(|a, b| {
        rank(&a.1)
            .cmp(&rank(&b.1))
            .then(b.1.len().cmp(&a.1.len()))
            .then(a.0.cmp(b.0))
    });
    groups
}

fn verdict_rank(v: Option<Verdict>) -> u8 {
    match v {
        Some(Verdict::Regression) => 0,
        Some(Verdict::Undetermined) => 1,
        Some(Verdict::SuspectedFlake) => 2,
        None => 3,
    }
}

/// A suite's failing targets split by version (and verdict): the targets of one
/// suite+version on several Pythons share one verdict block.
fn by_version<'a>(targets: &[&'a Target]) -> Vec<Vec<&'a Target>> {
    let mut groups: Vec<Vec<&'a Target>> = Vec::new();
    for t in targets {
        let key = |x: &Target| {
            (
                x.name.version().map(|v| v.as_str().to_owned()),
                x.findings().verdict,
                x.name.parts().is_some(),
            )
        };
        match groups
            .iter_mut()
            .find(|g| key(g[0]) == key(t) && t.name.parts().is_some())
        {
            Some(g) => g.push(t),
            None => groups.push(vec![t]),
        }
    }
    groups.sort_by_key(|g| verdict_rank(g[0].findings().verdict));
    groups
}

/// The verdict line of a suite+version and the signals behind it.
fn verdict_block(group: &[&Target]) -> String {
    let first = group[0];
    let Some(verdict) = first.findings().verdict else {
        return String::new();
    };
    let what = first.name.subject(first.facts.package());
    let pythons: Vec<&str> = group.iter().filter_map(|t| t.name.python()).collect();
    let mut line = match verdict {
        Verdict::Regression => format!("**Regression:** {}", inline(&what, 200)),
        Verdict::SuspectedFlake => format!("**Suspected flake:** {}", inline(&what, 200)),
        Verdict::Undetermined => format!("**Undetermined:** {}", inline(&what, 200)),
    };
    if first.facts.newly_added == Some(true) {
        line.push_str(", newly added");
    }
    if !pythons.is_empty() {
        let on = if verdict == Verdict::Regression {
            ", fails on"
        } else {
            " on"
        };
        let _ = write!(line, "{on} {}", inline(&pythons.join(" and "), 200));
    }
    if verdict == Verdict::Regression
        && let Some(last) = &first.facts.last_working_version
    {
        let _ = write!(line, "; last working {}", inline(last, 100));
    }
    if verdict == Verdict::SuspectedFlake {
        // The first failure's own words say best what kind of noise it is.
        let what = first
            .findings()
            .failures
            .first()
            .map(|f| f.message.as_str())
            .filter(|m| !m.is_empty())
            .map(str::to_owned)
            .or_else(|| {
                first
                    .findings()
                    .failures
                    .first()
                    .map(|f| f.category.as_str().to_owned())
            });
        if let Some(w) = what {
            let _ = write!(line, ", {}", inline(&w, 160));
        }
        line.push_str("; rerun candidate");
    }
    for l in &first.findings().links {
        if l.url
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ":/._-~+%".contains(c))
        {
            let _ = write!(line, " · [{}]({})", inline(&l.label, 120), l.url);
        }
    }
    let mut s = format!("{line}\n\n");
    for sig in &first.findings().signals {
        let _ = writeln!(s, "- {}", inline(sig, 400));
    }
    s.push('\n');
    s
}

/// A URL that can go into a markdown link as it is.
fn safe_url(url: &str) -> bool {
    url.starts_with("https://")
        && url
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ":/._-~+%=&?".contains(c))
}

fn reruns_block(report: &Report) -> String {
    let mut s =
        String::from("### 🔁 Reruns\n\n| Job | Action | Why | Cleared |\n|---|---|---|---|\n");
    for r in &report.reruns {
        let cleared = match r.cleared {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "",
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {cleared} |",
            inline(&format!("{} ({})", r.job_name, r.job_id), 200),
            inline(&r.action, 20),
            inline(&r.reason, 300)
        );
    }
    s.push('\n');
    s
}

fn failing_target(t: &Target) -> String {
    let mut s = String::new();
    let exit = match (t.exit_code, &t.findings().exit) {
        (Some(code), Some(e)) if e.setup_step => format!("setup failed, exit {code}"),
        (Some(code), _) => format!("exit {code}"),
        (None, _) => "failed".to_owned(),
    };
    let _ = writeln!(
        s,
        "#### <code>{}</code> — {}\n",
        inline(t.name.as_str(), 200),
        exit
    );
    if let Some(cmd) = t.reproduce() {
        let _ = writeln!(s, "Reproduce: <code>{}</code>\n", inline(&cmd, 250));
    }
    if !t.jobs.is_empty() {
        let jobs: Vec<String> = t
            .jobs
            .iter()
            .take(5)
            .map(|j| {
                let label = inline(&format!("{} (attempt {})", j.name, j.attempt), 200);
                if safe_url(&j.url) {
                    format!("[{label}]({})", j.url)
                } else {
                    label
                }
            })
            .collect();
        let _ = writeln!(s, "Job: {}\n", jobs.join(" · "));
    }
    if t.conflicting {
        s.push_str("Inputs disagree: this target passed in one log and failed in another.\n\n");
    }
    for path in &t.findings().missing_paths {
        let _ = writeln!(
            s,
            "- pytest: file or directory not found: <code>{}</code> (exit 4)",
            inline(path, MAX_SHOWN_ID)
        );
    }
    if let Some(reason) = &t.findings().reason {
        let _ = writeln!(s, "- tox: {}", inline(reason, MAX_SHOWN_MESSAGE));
    }
    for f in t.findings().failures.iter().take(MAX_SHOWN_FAILURES) {
        let attempts = if f.attempts > 1 {
            format!(" (after {} attempts)", f.attempts)
        } else {
            String::new()
        };
        let message = if f.message.is_empty() {
            String::new()
        } else {
            format!(" — {}", inline(&f.message, MAX_SHOWN_MESSAGE))
        };
        let category = if f.category == crate::model::Category::Unknown {
            String::new()
        } else {
            format!(" `{}`", f.category.as_str())
        };
        let _ = writeln!(
            s,
            "- <code>{}</code>{category}{attempts}{message}",
            inline(&f.test, MAX_SHOWN_ID)
        );
    }
    let more = (t
        .findings()
        .failures
        .len()
        .saturating_sub(MAX_SHOWN_FAILURES)) as u64
        + t.findings().failures_omitted;
    if more > 0 {
        let _ = writeln!(
            s,
            "- … and {more} more failing test{}",
            if more == 1 { "" } else { "s" }
        );
    }
    if t.findings().failures.is_empty()
        && t.findings().missing_paths.is_empty()
        && t.findings().reason.is_none()
    {
        match &t.findings().exit {
            Some(e) if e.setup_step => {
                s.push_str("- failed while setting up the environment (installing dependencies)\n")
            }
            _ => s.push_str("- no failing test was reported; see the output below\n"),
        }
    }
    s.push('\n');
    if let Some(f) = &t.findings().forensics {
        s.push_str(&crate::outputs::forensics::summary_block(f));
    }
    if !t.output.is_empty() {
        let skipped = t.output.len().saturating_sub(MAX_SHOWN_OUTPUT);
        let shown = t.output.lines().skip(skipped);
        let _ = writeln!(
            s,
            "<details><summary>Output (last {} of {} lines)</summary>\n\n<pre>",
            t.output.len() - skipped,
            t.output.total_lines
        );
        for line in shown {
            s.push_str(&pre(line));
            s.push('\n');
        }
        s.push_str("</pre>\n</details>\n\n");
    }
    s
}

fn passing_block(targets: &[&Target]) -> String {
    let passed = targets
        .iter()
        .filter(|t| t.status == TargetStatus::Pass)
        .count();
    let skipped = targets.len() - passed;
    let tests: u64 = targets.iter().map(|t| u64::from(t.tests.total)).sum();
    let mut s = format!(
        "<details><summary>✅ {passed} passing target{}{}{}</summary>\n\n",
        plural(passed),
        if skipped > 0 {
            format!(", {skipped} skipped")
        } else {
            String::new()
        },
        if tests > 0 {
            format!(" · {tests} tests")
        } else {
            String::new()
        },
    );
    s.push_str("| Target | Result | Tests | Time |\n|---|---|---:|---:|\n");
    for t in targets {
        let result = match t.status {
            TargetStatus::Skipped => match &t.findings().reason {
                Some(r) => format!("skipped: {}", inline(r, 120)),
                None => "skipped".to_owned(),
            },
            _ => "pass".to_owned(),
        };
        let tests = if t.tests.total > 0 {
            let flaky = if t.tests.flaky > 0 {
                format!(" ({} flaky)", t.tests.flaky)
            } else {
                String::new()
            };
            format!("{}{flaky}", t.tests.total)
        } else {
            String::new()
        };
        let time = t
            .durations
            .total()
            .map(|d| format!("{d:.1}s"))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "| <code>{}</code> | {result} | {tests} | {time} |",
            inline(t.name.as_str(), 200)
        );
    }
    s.push_str("\n</details>\n\n");
    s
}
