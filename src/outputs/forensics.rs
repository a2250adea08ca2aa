//! Renders exit-4 forensics: a block appended to the command's output (every
//! line starting with `[tox-triage]`, untrusted text escaped for a terminal),
//! and markdown for the `.md` file and the job summary.

use std::fmt::Write;

use crate::model::{Forensics, PathForensics};
use crate::outputs::escape::{inline, terminal};

fn yes_no(b: Option<bool>) -> &'static str {
    match b {
        Some(true) => "yes",
        Some(false) => "no",
        None => "unknown",
    }
}

fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

fn taken(f: &Forensics) -> String {
    let retries = f.attempts.len().saturating_sub(1);
    match f.taken.as_str() {
        "at-failure" => format!(
            "taken right after the failure by `tox-triage run`, after {retries} retr{}",
            if retries == 1 { "y" } else { "ies" }
        ),
        _ => "taken AFTER THE FACT by `tox-triage analyze`: the workspace may have changed since the failure".to_owned(),
    }
}

fn bytes(n: u64) -> String {
    let gib = n as f64 / (1u64 << 30) as f64;
    if gib >= 1.0 {
        format!("{gib:.1} GiB")
    } else {
        format!("{:.0} MiB", n as f64 / (1u64 << 20) as f64)
    }
}

fn path_lines(p: &PathForensics) -> Vec<String> {
    let mut out = vec![format!("missing: {}", p.path)];
    if let Some(why) = &p.escapes {
        out.push(format!("  not inspected: {why}"));
        return out;
    }
    out.push(format!("  exists now: {}", yes_no(p.exists_now)));
    let parent = match (p.parent_exists, p.parent_entries) {
        (Some(true), Some(n)) => format!("exists, {n} entries"),
        (Some(true), None) => "exists".to_owned(),
        (Some(false), _) => "does not exist".to_owned(),
        (None, _) => "unknown".to_owned(),
    };
    out.push(format!("  parent directory: {parent}"));
    if !p.similar.is_empty() {
        out.push(format!("  similar names there: {}", p.similar.join(", ")));
    }
    if let Some(a) = &p.nearest_existing_ancestor {
        out.push(format!("  nearest existing ancestor: {a}"));
    }
    out.push(format!("  tracked at HEAD: {}", yes_no(p.tracked_at_head)));
    if let Some(c) = &p.change_vs_base {
        out.push(format!("  against the base: {c}"));
    }
    out
}

/// The lines of the block, unescaped.
fn lines(f: &Forensics) -> Vec<String> {
    let mut out = Vec::new();
    let target = f.target.as_deref().unwrap_or("(unknown target)");
    let exit = f
        .exit_code
        .map(|c| c.to_string())
        .unwrap_or_else(|| "?".to_owned());
    out.push(format!(
        "exit-4 forensics for {target} (exit {exit}), {}",
        taken(f)
    ));
    for a in &f.attempts {
        let seen: Vec<String> = a
            .missing
            .iter()
            .zip(
                a.existed_after
                    .iter()
                    .map(Some)
                    .chain(std::iter::repeat(None)),
            )
            .map(|(m, e)| match e {
                Some(true) => format!("{m} (there right after)"),
                Some(false) => format!("{m} (still missing right after)"),
                None => m.clone(),
            })
            .collect();
        let exit = a
            .exit_code
            .map(|c| c.to_string())
            .unwrap_or_else(|| "signal".to_owned());
        out.push(format!(
            "attempt {}: exit {exit}; not found: {}",
            a.number,
            if seen.is_empty() {
                "-".to_owned()
            } else {
                seen.join(", ")
            }
        ));
    }
    for p in &f.paths {
        out.extend(path_lines(p));
    }
    match &f.git {
        Some(g) => {
            let head = g.head.as_deref().map(short).unwrap_or("?");
            let expected = match (&g.expected_head, g.head_as_expected) {
                (Some(e), Some(true)) => format!(" (as expected: {})", short(e)),
                (Some(e), _) => format!(" (EXPECTED {}: HEAD has moved)", short(e)),
                (None, _) => String::new(),
            };
            let branch = match (&g.branch, g.detached) {
                (Some(b), _) => format!("branch {b}"),
                (None, true) => "detached HEAD".to_owned(),
                (None, false) => "branch unknown".to_owned(),
            };
            out.push(format!("git HEAD {head}{expected}, {branch}"));
            match g.dirty_count {
                Some(0) => out.push("git status: clean".to_owned()),
                Some(n) => out.push(format!(
                    "git status: {n} changed: {}",
                    g.dirty
                        .iter()
                        .map(|d| format!("{d:?}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
                None => {}
            }
            for r in &g.reflog {
                out.push(format!("reflog: {r}"));
            }
            if let Some(n) = g.stash_count {
                out.push(format!("stashes: {n}"));
            }
        }
        None => out.push("git: not read".to_owned()),
    }
    let disk = f
        .disk_free_bytes
        .map(bytes)
        .unwrap_or_else(|| "?".to_owned());
    out.push(format!(
        "cwd {}, free disk {disk}, at {}, collected in {} ms",
        f.cwd, f.timestamp, f.duration_ms
    ));
    for p in &f.problems {
        out.push(format!("could not collect: {p}"));
    }
    out
}

/// The block appended to the wrapped command's output.
pub fn text_block(f: &Forensics, files: &[String]) -> String {
    let mut s = String::from(
        "[tox-triage] ======================== exit-4 forensics ========================\n",
    );
    for l in lines(f) {
        let _ = writeln!(s, "[tox-triage] {}", terminal(&l, 2_000));
    }
    for file in files {
        let _ = writeln!(s, "[tox-triage] written: {}", terminal(file, 500));
    }
    s.push_str(
        "[tox-triage] ===================================================================\n",
    );
    s
}

/// Markdown for the `.md` file.
pub fn markdown(f: &Forensics) -> String {
    let mut s = format!(
        "## Exit-4 forensics: {}\n\n",
        inline(f.target.as_deref().unwrap_or("unknown target"), 200)
    );
    for l in lines(f) {
        let _ = writeln!(s, "- {}", inline(&l, 2_000));
    }
    s
}

/// The short block per target in the job summary: exists now? added by the
/// PR? HEAD as expected? tree dirty?
pub fn summary_block(f: &Forensics) -> String {
    let mut s = String::new();
    let when = if f.taken == "at-failure" {
        "taken at the failure by `tox-triage run`"
    } else {
        "taken after the fact: the workspace may have changed since the failure"
    };
    let _ = writeln!(s, "<details><summary>Exit-4 forensics ({when})</summary>\n");
    for p in &f.paths {
        let mut parts = vec![format!("exists now: **{}**", yes_no(p.exists_now))];
        if let Some(why) = &p.escapes {
            parts = vec![format!("not inspected: {}", inline(why, 300))];
        } else {
            if let Some(c) = &p.change_vs_base {
                parts.push(format!("vs base: **{}**", inline(c, 40)));
            }
            parts.push(format!("tracked at HEAD: {}", yes_no(p.tracked_at_head)));
            if !p.similar.is_empty() {
                parts.push(format!("similar: {}", inline(&p.similar.join(", "), 300)));
            }
        }
        let _ = writeln!(
            s,
            "- <code>{}</code>: {}",
            inline(&p.path, 300),
            parts.join(" · ")
        );
    }
    if let Some(g) = &f.git {
        let head = match (g.head_as_expected, &g.head) {
            (Some(true), _) => "HEAD as expected".to_owned(),
            (Some(false), Some(h)) => format!("**HEAD moved** to {}", inline(short(h), 20)),
            _ => "HEAD not checked".to_owned(),
        };
        let dirty = match g.dirty_count {
            Some(0) => "tree clean".to_owned(),
            Some(n) => format!("**tree dirty** ({n} changes)"),
            None => "tree state unknown".to_owned(),
        };
        let branch = match (&g.branch, g.detached) {
            (Some(b), _) => format!("branch <code>{}</code>", inline(b, 100)),
            (None, true) => "detached".to_owned(),
            _ => String::new(),
        };
        let _ = writeln!(s, "- git: {head} · {dirty} · {branch}");
        if let Some(r) = g.reflog.first() {
            let _ = writeln!(s, "- last reflog entry: {}", inline(r, 300));
        }
    }
    s.push_str("\n</details>\n\n");
    s
}
