//! Step outputs in `$GITHUB_OUTPUT`'s format: `name<<DELIMITER`, the value,
//! `DELIMITER`. The delimiter is random and checked against the value, so no
//! value (a test name included) can end its block early and forge another output.

use std::collections::hash_map::RandomState;
use std::fmt::Write;
use std::hash::{BuildHasher, Hasher};

use crate::model::{Report, TargetStatus, Verdict};

/// The outputs tox-triage sets, as `(name, value)` pairs.
pub fn outputs(
    report: &Report,
    report_path: Option<&str>,
    forensics_dir: Option<&str>,
) -> Vec<(&'static str, String)> {
    let json = |names: &[&str]| serde_json::to_string(names).unwrap_or_else(|_| "[]".to_owned());
    let failed: Vec<&str> = report
        .with_status(TargetStatus::Fail)
        .map(|t| t.name.as_str())
        .collect();
    vec![
        ("failed-targets", json(&failed)),
        (
            "regressions",
            json(&report.with_verdict(Verdict::Regression)),
        ),
        (
            "suspected-flakes",
            json(&report.with_verdict(Verdict::SuspectedFlake)),
        ),
        ("report-path", report_path.unwrap_or("").to_owned()),
        ("forensics-dir", forensics_dir.unwrap_or("").to_owned()),
        (
            "rerun-jobs",
            serde_json::to_string(
                &report
                    .reruns
                    .iter()
                    .filter(|r| r.action == "rerun")
                    .map(|r| r.job_id)
                    .collect::<Vec<_>>(),
            )
            .unwrap_or_else(|_| "[]".to_owned()),
        ),
    ]
}

/// 128 random bits from the OS-seeded hasher keys, as hex.
fn random_token() -> String {
    let mut s = String::with_capacity(32);
    for _ in 0..2 {
        let mut h = RandomState::new().build_hasher();
        h.write_u64(std::process::id().into());
        let _ = write!(s, "{:016x}", h.finish());
    }
    s
}

/// Renders outputs for appending to `$GITHUB_OUTPUT`.
pub fn render(outputs: &[(&str, String)]) -> String {
    let mut s = String::new();
    for (name, value) in outputs {
        let delimiter = loop {
            let d = format!("ghadelimiter_{}", random_token());
            if !value.contains(&d) {
                break d;
            }
        };
        let _ = write!(s, "{name}<<{delimiter}\n{value}\n{delimiter}\n");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heredoc_blocks_with_distinct_random_delimiters() {
        let s = render(&[("a", "x\ny".to_owned()), ("b", String::new())]);
        let lines: Vec<&str> = s.lines().collect();
        assert!(lines[0].starts_with("a<<ghadelimiter_"));
        let d1 = lines[0].trim_start_matches("a<<");
        assert_eq!(&lines[1..4], &["x", "y", d1]);
        let d2 = lines[4].trim_start_matches("b<<");
        assert_ne!(d1, d2);
        assert_eq!(lines[5], "");
        assert_eq!(lines[6], d2);
    }
}
