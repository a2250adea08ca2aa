//! What a failing target's exit code says happened (pytest's and tox's codes),
//! refined by its failures: the `failure_kind` of the report.

use crate::model::{Category, ExitReason, Target, TargetStatus};

/// The reason a failing target failed; `None` for targets that did not fail.
pub fn failure_kind(t: &Target) -> Option<ExitReason> {
    if t.status != TargetStatus::Fail {
        return None;
    }
    if t.findings().exit.as_ref().is_some_and(|e| e.setup_step) {
        return Some(ExitReason::SetupFailed);
    }
    let has = |c: Category| t.findings().failures.iter().any(|f| f.category == c);
    Some(match t.exit_code {
        Some(-9 | 137) => ExitReason::Killed,
        Some(124 | -15 | 143) => ExitReason::Timeout,
        _ if has(Category::Timeout) => ExitReason::Timeout,
        _ if has(Category::WorkerCrash) => ExitReason::WorkerCrash,
        Some(1) => ExitReason::TestsFailed,
        Some(2) => ExitReason::Interrupted,
        Some(3) => ExitReason::InternalError,
        Some(4) => ExitReason::MissingPath,
        Some(5) => ExitReason::NoTests,
        None if !t.findings().missing_paths.is_empty() => ExitReason::MissingPath,
        None if !t.findings().failures.is_empty() => ExitReason::TestsFailed,
        _ => ExitReason::Unknown,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CommandLine, ExitLine, TargetName};

    fn failing(code: Option<i32>) -> Target {
        let mut t = Target::new(TargetName::parse("py3.12-x"));
        t.status = TargetStatus::Fail;
        t.exit_code = code;
        t
    }

    #[test]
    fn pytest_and_tox_exit_codes() {
        let cases = [
            (Some(1), ExitReason::TestsFailed),
            (Some(2), ExitReason::Interrupted),
            (Some(3), ExitReason::InternalError),
            (Some(4), ExitReason::MissingPath),
            (Some(5), ExitReason::NoTests),
            (Some(-9), ExitReason::Killed),
            (Some(137), ExitReason::Killed),
            (Some(124), ExitReason::Timeout),
            (Some(42), ExitReason::Unknown),
        ];
        for (code, want) in cases {
            assert_eq!(failure_kind(&failing(code)), Some(want), "{code:?}");
        }
        let mut setup = failing(Some(1));
        setup.findings_mut().exit = Some(ExitLine {
            code: 1,
            seconds: None,
            cwd: CommandLine::Own("".into()),
            command: CommandLine::Own("pip install x".into()),
            setup_step: true,
        });
        assert_eq!(failure_kind(&setup), Some(ExitReason::SetupFailed));
        let mut pass = failing(Some(0));
        pass.status = TargetStatus::Pass;
        assert_eq!(failure_kind(&pass), None);
    }
}
