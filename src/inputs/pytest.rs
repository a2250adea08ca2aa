//! Recognisers for the lines of pytest's own terminal output that matter when
//! no JUnit file is at hand: the short test summary (`FAILED id - message`),
//! the final counts line, and "file or directory not found" (exit 4).

use crate::model::FailureKind;

/// A `FAILED`/`ERROR` line from pytest's "short test summary info".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SummaryLine<'a> {
    /// Failure (`FAILED`) or error (`ERROR`).
    pub kind: FailureKind,
    /// The node id: `tests/test_x.py::test_y[param]`.
    pub test: &'a str,
    /// The message after ` - `, possibly cut by pytest with `...`.
    pub message: &'a str,
}

/// Parses `FAILED tests/t.py::test - AssertionError: ...` and `ERROR tests/t.py - ...`.
pub fn short_summary(line: &str) -> Option<SummaryLine<'_>> {
    // Every line of output is asked: its first byte rules out almost all.
    if !matches!(line.as_bytes().first(), Some(b'F' | b'E')) {
        return None;
    }
    let (kind, rest) = if let Some(r) = line.strip_prefix("FAILED ") {
        (FailureKind::Failure, r)
    } else if let Some(r) = line.strip_prefix("ERROR ") {
        (FailureKind::Error, r)
    } else {
        return None;
    };
    // A node id has no spaces outside its `[params]`; parameters may hold ` - `.
    let id_end = node_id_end(rest);
    let test = &rest[..id_end];
    if test.is_empty() || !(test.contains("::") || test.ends_with(".py")) {
        return None;
    }
    let message = rest[id_end..].strip_prefix(" - ").unwrap_or("").trim_end();
    Some(SummaryLine {
        kind,
        test,
        message,
    })
}

/// Where a node id at the start of `s` ends: at the first space outside brackets,
/// or, once brackets never close, at the first ` - `.
fn node_id_end(s: &str) -> usize {
    let mut depth = 0usize;
    for (i, b) in s.bytes().enumerate() {
        match b {
            b'[' => depth += 1,
            b']' => depth = depth.saturating_sub(1),
            b' ' if depth == 0 => return i,
            _ => {}
        }
    }
    // Unbalanced brackets: fall back to pytest's own separator.
    match s.find(" - ") {
        Some(i) if depth > 0 => i,
        _ => s.len(),
    }
}

/// The path in `ERROR: file or directory not found: tests/test_x.py`.
pub fn missing_path(line: &str) -> Option<&str> {
    // Every line of output is asked: its first byte rules out almost all
    // before the long prefix is compared.
    if line.as_bytes().first() != Some(&b'E') {
        return None;
    }
    let rest = line.strip_prefix("ERROR: file or directory not found: ")?;
    let path = rest.trim();
    (!path.is_empty()).then_some(path)
}

/// Counts from pytest's final line (`==== 1 failed, 4 passed, 3 rerun in 0.07s ====`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResultCounts {
    /// `passed`.
    pub passed: u64,
    /// `failed`.
    pub failed: u64,
    /// `error` / `errors`.
    pub errors: u64,
    /// `skipped`.
    pub skipped: u64,
    /// `rerun` (pytest-rerunfailures).
    pub rerun: u64,
    /// `no tests ran`.
    pub no_tests: bool,
}

/// Parses pytest's final counts line.
pub fn result_counts(line: &str) -> Option<ResultCounts> {
    // It starts with `=` or whitespace: the first byte rules out almost every
    // line of output without trimming it (a byte past ASCII may begin
    // Unicode whitespace, which `trim` removes).
    match line.as_bytes().first() {
        Some(&b) if b == b'=' || b.is_ascii_whitespace() || b == 0x0b || !b.is_ascii() => {}
        _ => return None,
    }
    let inner = line.trim().strip_prefix('=')?.trim_matches('=').trim();
    let (counts, time) = inner.rsplit_once(" in ")?;
    if !time.trim_end().ends_with('s') {
        return None;
    }
    let mut out = ResultCounts::default();
    if counts == "no tests ran" {
        out.no_tests = true;
        return Some(out);
    }
    let mut any = false;
    for part in counts.split(", ") {
        let (n, word) = part.split_once(' ')?;
        let n: u64 = n.parse().ok()?;
        match word {
            "passed" => out.passed = n,
            "failed" => out.failed = n,
            "error" | "errors" => out.errors = n,
            "skipped" => out.skipped = n,
            "rerun" => out.rerun = n,
            // xfailed, xpassed, warnings, deselected: not needed here.
            _ => {}
        }
        any = true;
    }
    any.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_lines() {
        let l =
            short_summary("FAILED tests/test_packaging.py::test_legacy - ImportErro...").unwrap();
        assert_eq!(l.kind, FailureKind::Failure);
        assert_eq!(l.test, "tests/test_packaging.py::test_legacy");
        assert_eq!(l.message, "ImportErro...");

        let l = short_summary("FAILED tests/test_xdist.py::test_worker_dies").unwrap();
        assert_eq!(
            (l.test, l.message),
            ("tests/test_xdist.py::test_worker_dies", "")
        );

        let l = short_summary("ERROR tests/test_a.py - ModuleNotFoundError: x").unwrap();
        assert_eq!((l.kind, l.test), (FailureKind::Error, "tests/test_a.py"));
    }

    #[test]
    fn parameters_with_spaces_and_dashes() {
        let l = short_summary(
            "FAILED tests/test_hostile.py::test_hostile[a|b</details>`@maintainer #1] - As...",
        )
        .unwrap();
        assert_eq!(
            l.test,
            "tests/test_hostile.py::test_hostile[a|b</details>`@maintainer #1]"
        );
        assert_eq!(l.message, "As...");
        let l = short_summary("FAILED t.py::test[x - y] - boom").unwrap();
        assert_eq!((l.test, l.message), ("t.py::test[x - y]", "boom"));
    }

    #[test]
    fn not_summary_lines() {
        assert!(short_summary("ERROR: file or directory not found: x.py").is_none());
        assert!(short_summary("FAILED").is_none());
        assert!(short_summary("FAILED to connect").is_none());
    }

    #[test]
    fn missing_paths() {
        assert_eq!(
            missing_path("ERROR: file or directory not found: tests/test_added_by_pr.py"),
            Some("tests/test_added_by_pr.py")
        );
        assert_eq!(missing_path("ERROR: something else"), None);
    }

    #[test]
    fn counts() {
        let c = result_counts(
            "===================== 1 failed, 1 passed, 3 rerun in 0.07s =====================",
        )
        .unwrap();
        assert_eq!((c.failed, c.passed, c.rerun), (1, 1, 3));
        let c = result_counts(
            "============================ no tests ran in 0.01s =============================",
        )
        .unwrap();
        assert!(c.no_tests);
        assert!(result_counts("=== FAILURES ===").is_none());
        assert!(
            result_counts(
                "=============================== warnings summary ==============================="
            )
            .is_none()
        );
        // Whitespace before it, ASCII or not, as `trim` takes it; anything
        // else before it is another line.
        for lead in [" ", "\t", "\u{b}", "\u{a0}", "\u{3000} "] {
            let c = result_counts(&format!("{lead}=== 2 passed in 0.1s ===")).unwrap();
            assert_eq!(c.passed, 2, "{lead:?}");
        }
        for lead in ["x", "é", "-", "\u{200b}"] {
            assert!(result_counts(&format!("{lead}=== 2 passed in 0.1s ===")).is_none());
        }
    }
}
