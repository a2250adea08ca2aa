//! `analyze` on real tox output: every fixture under tests/fixtures was captured
//! from real tox runs of tests/toxproject (see tests/fixtures/SOURCES.md).
//! tox's own `--result-json` is the independent truth the reports are held to.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;
use tox_triage::analyze::{AnalyzeInput, analyze};
use tox_triage::model::{Report, TargetStatus};
use tox_triage::outputs::{human, json, markdown};

const FIX: &str = "tests/fixtures";

fn run(logs: &[&str], junit: &[&str]) -> Report {
    let input = AnalyzeInput {
        logs: logs.iter().map(|s| format!("{FIX}/{s}")).collect(),
        junit: junit.iter().map(|s| format!("{FIX}/{s}")).collect(),
        ..Default::default()
    };
    analyze(&input).expect("analyze")
}

/// `env -> (status, exit code)` as tox's result json records them.
fn tox_truth(result_json: &str) -> BTreeMap<String, (String, Option<i64>)> {
    let text = std::fs::read_to_string(format!("{FIX}/{result_json}")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v["testenvs"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| !k.starts_with('.'))
        .map(|(k, env)| {
            let r = &env["result"];
            let (status, code) = if r["skipped"].as_bool() == Some(true) {
                ("skipped", None)
            } else if r["success"].as_bool() == Some(true) {
                ("pass", Some(0))
            } else {
                ("fail", r["exit_code"].as_i64())
            };
            (k.clone(), (status.to_owned(), code))
        })
        .collect()
}

fn statuses(report: &Report) -> BTreeMap<String, (String, Option<i64>)> {
    report
        .targets
        .iter()
        .map(|t| {
            let code = match t.status {
                TargetStatus::Skipped | TargetStatus::NotRun => None,
                _ => t.exit_code.map(i64::from),
            };
            (
                t.name.as_str().to_owned(),
                (t.status.as_str().to_owned(), code),
            )
        })
        .collect()
}

fn validate_schema(report_json: &str) {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string("schema/report.schema.json").unwrap())
            .unwrap();
    let instance: Value = serde_json::from_str(report_json).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&instance)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "report violates schema/report.schema.json:\n{}",
        errors.join("\n")
    );
}

#[test]
fn tox4_sequential_matches_tox_result_json() {
    let report = run(&["tox4-sequential/tox.log"], &[]);
    assert_eq!(statuses(&report), tox_truth("tox4-sequential/result.json"));
}

#[test]
fn tox4_parallel_matches_tox_result_json() {
    let report = run(&["tox4-parallel/tox.log"], &[]);
    assert_eq!(statuses(&report), tox_truth("tox4-parallel/result.json"));
}

#[test]
fn tox4_parallel_live_matches_tox_result_json() {
    let report = run(&["tox4-parallel-live/tox.log"], &[]);
    assert_eq!(
        statuses(&report),
        tox_truth("tox4-parallel-live/result.json")
    );
}

#[test]
fn tox3_gives_the_same_results_as_tox4_on_the_same_project() {
    // tox 3 prints no exit code in its summary: it comes from `InvocationError ... (exited with code N)`.
    let report = run(&["tox3/tox.log"], &[]);
    assert_eq!(statuses(&report), tox_truth("tox4-sequential/result.json"));
}

#[test]
fn github_job_log_matches_tox_result_json() {
    let report = run(&["github-job/job.log"], &[]);
    assert_eq!(
        statuses(&report),
        tox_truth("tox4-parallel-live/result.json")
    );
}

#[test]
fn crlf_log_gives_the_same_report() {
    let lf = std::fs::read(format!("{FIX}/tox4-sequential/tox.log")).unwrap();
    let mut crlf = Vec::with_capacity(lf.len() * 2);
    for b in lf {
        if b == b'\n' {
            crlf.push(b'\r');
        }
        crlf.push(b);
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crlf.log");
    std::fs::write(&path, crlf).unwrap();
    let report = analyze(&AnalyzeInput {
        logs: vec![path.display().to_string()],
        ..Default::default()
    })
    .unwrap();
    let reference = run(&["tox4-sequential/tox.log"], &[]);
    assert_eq!(statuses(&report), statuses(&reference));
    for (a, b) in report.targets.iter().zip(&reference.targets) {
        assert_eq!(a.findings().failures, b.findings().failures, "{}", a.name);
        assert_eq!(a.output, b.output, "{}", a.name);
    }
}

#[test]
fn colored_log_is_read_like_a_plain_one() {
    let report = run(&["tox4-colored/tox.log"], &[]);
    let s = statuses(&report);
    assert_eq!(s["py3.11-common"], ("pass".into(), Some(0)));
    assert_eq!(s["py3.12-markupsafe-v2.1.5"], ("fail".into(), Some(1)));
    assert_eq!(s["py3.12-brokendeps"], ("fail".into(), Some(1)));
    assert_eq!(s["py3.99-common"], ("skipped".into(), None));
    let t = report
        .targets
        .iter()
        .find(|t| t.name.as_str() == "py3.12-markupsafe-v2.1.5")
        .unwrap();
    assert_eq!(
        t.command_line().as_deref(),
        Some(
            "python -m pytest tests/test_markupsafe.py -o junit_suite_name=py3.12-markupsafe-v2.1.5 --junitxml=/home/runner/work/toxproject/toxproject/junit/.junitxml-py3.12-markupsafe-v2.1.5"
        )
    );
    assert!(t.output.lines().all(|l| !l.contains('\u{1b}')));
}

#[test]
fn cancelled_job_reports_unreached_targets_as_not_run() {
    let report = run(&["github-job/job-cancelled.log"], &[]);
    let truth = tox_truth("tox4-parallel-live/result.json");
    let not_run: Vec<&str> = report
        .with_status(TargetStatus::NotRun)
        .map(|t| t.name.as_str())
        .collect();
    assert!(!not_run.is_empty());
    // Every env of the -e list is in the report, and whatever did report agrees with tox.
    assert_eq!(report.targets.len(), truth.len());
    for (name, (status, code)) in statuses(&report) {
        if status != "not-run" {
            assert_eq!((status, code), truth[&name], "{name}");
        }
    }
}

#[test]
fn failure_details_per_target_from_the_log() {
    let report = run(&["tox4-sequential/tox.log"], &[]);
    let t = |n: &str| {
        report
            .targets
            .iter()
            .find(|t| t.name.as_str() == n)
            .unwrap()
    };

    let m = t("py3.11-markupsafe-v2.1.5");
    assert_eq!(m.findings().failures.len(), 1);
    assert_eq!(
        m.findings().failures[0].test,
        "tests/test_markupsafe.py::test_soft_unicode_still_available"
    );
    assert!(
        m.findings()
            .exit
            .as_ref()
            .is_some_and(|e| e.code == 1 && !e.setup_step)
    );
    assert!(m.durations.setup().is_some() && m.durations.commands().is_some());
    assert!(
        m.output
            .lines()
            .any(|l| l.contains("ImportError: cannot import name 'soft_unicode'"))
    );
    assert_eq!(
        m.reproduce().as_deref(),
        Some("tox -e py3.11-markupsafe-v2.1.5")
    );

    let missing = t("py3.12-missing");
    assert_eq!(missing.exit_code, Some(4));
    assert_eq!(
        missing.findings().missing_paths,
        vec!["tests/test_added_by_pr.py"]
    );

    let broken = t("py3.12-brokendeps");
    assert!(
        broken
            .findings()
            .exit
            .as_ref()
            .is_some_and(|e| e.setup_step),
        "{:?}",
        broken.findings().exit
    );
    assert!(broken.last_command.is_none());

    let skipped = t("py3.99-common");
    assert!(
        skipped
            .findings()
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("python3.99"))
    );

    // Passing targets keep no output.
    assert!(t("py3.12-common").output.is_empty());
}

#[test]
fn junit_only_analysis() {
    let report = run(&[], &["tox4-sequential/junit"]);
    let t = |n: &str| {
        report
            .targets
            .iter()
            .find(|t| t.name.as_str() == n)
            .unwrap()
    };
    let rerun = t("py3.12-rerun");
    assert_eq!(rerun.status, TargetStatus::Fail);
    assert_eq!(
        (rerun.tests.total, rerun.tests.flaky, rerun.tests.failed),
        (2, 1, 1)
    );
    assert_eq!(
        rerun.findings().failures[0].test,
        "tests/test_rerun.py::test_always_fails"
    );
    assert_eq!(rerun.findings().failures[0].attempts, 3);
    assert!(
        rerun.findings().failures[0]
            .details
            .contains("AssertionError")
    );

    let crash = t("py3.12-xdist-v3.6.1");
    assert_eq!(
        crash.findings().failures[0].kind,
        tox_triage::model::FailureKind::Error
    );
    assert!(
        crash.findings().failures[0]
            .message
            .contains("crashed while running")
    );

    // An empty JUnit file (pytest exit 4 or 5) is a failure, not a pass.
    assert_eq!(t("py3.12-missing").status, TargetStatus::Fail);
    assert_eq!(t("py3.12-common").status, TargetStatus::Pass);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
}

#[test]
fn log_and_junit_merge_into_one_record_per_test() {
    let report = run(&["tox4-sequential/tox.log"], &["tox4-sequential/junit"]);
    assert_eq!(statuses(&report), tox_truth("tox4-sequential/result.json"));
    let t = report
        .targets
        .iter()
        .find(|t| t.name.as_str() == "py3.12-hostile")
        .unwrap();
    assert_eq!(
        t.findings().failures.len(),
        3,
        "log and JUnit records of the same test are merged"
    );
    assert!(
        t.findings()
            .failures
            .iter()
            .all(|f| f.source == tox_triage::model::FailureSource::Junit)
    );
    assert_eq!(t.junit_files.len(), 1);
    assert_eq!(t.sources.len(), 2);
}

#[test]
fn the_same_log_twice_counts_each_target_once() {
    let once = run(&["tox4-sequential/tox.log"], &[]);
    let twice = run(&["tox4-sequential/tox.log", "tox4-sequential/tox.log"], &[]);
    assert_eq!(statuses(&once), statuses(&twice));
    assert!(twice.targets.iter().all(|t| !t.conflicting));
}

#[test]
fn reports_follow_the_schema() {
    for (logs, junit) in [
        (
            vec!["tox4-sequential/tox.log"],
            vec!["tox4-sequential/junit"],
        ),
        (vec!["github-job/job-cancelled.log"], vec![]),
        (vec!["tox3/tox.log"], vec!["tox3/junit"]),
    ] {
        validate_schema(&json::to_json(&run(&logs, &junit)));
    }
}

#[test]
fn snapshot_json_report() {
    let report = run(&["tox4-sequential/tox.log"], &["tox4-sequential/junit"]);
    insta::assert_snapshot!("sequential_with_junit.json", json::to_json(&report));
}

#[test]
fn snapshot_markdown_summary() {
    let report = run(&["tox4-sequential/tox.log"], &["tox4-sequential/junit"]);
    insta::assert_snapshot!(
        "sequential_with_junit.md",
        markdown::render(&report, &Default::default())
    );
}

#[test]
fn snapshot_markdown_summary_of_a_cancelled_job() {
    let report = run(&["github-job/job-cancelled.log"], &[]);
    insta::assert_snapshot!(
        "cancelled_job.md",
        markdown::render(&report, &Default::default())
    );
}

#[test]
fn snapshot_human_report() {
    let report = run(&["github-job/job.log"], &["tox4-parallel-live/junit"]);
    insta::assert_snapshot!("github_job.txt", human::render(&report, false));
}

#[test]
fn hostile_test_names_are_inert_in_every_output() {
    let report = run(&["tox4-sequential/tox.log"], &["tox4-sequential/junit"]);
    let md = markdown::render(&report, &Default::default());
    // Inside <pre> blocks GitHub renders raw HTML text (no markdown, no mentions):
    // only tags matter there. Everywhere else, markdown syntax and mentions matter too.
    let mut outside = String::new();
    let mut rest = md.as_str();
    while let Some(start) = rest.find("<pre>") {
        outside.push_str(&rest[..start]);
        let end = rest[start..].find("</pre>").expect("every <pre> is closed") + start;
        let inside = &rest[start + 5..end];
        assert!(!inside.contains('<'), "a tag inside <pre>: {inside}");
        rest = &rest[end + 6..];
    }
    outside.push_str(rest);
    for bad in [
        "<img",
        "</details><script",
        "<script",
        "@maintainer",
        "#1]",
        "```",
        "::error file",
        "|b",
    ] {
        assert!(
            !outside.contains(bad),
            "{bad:?} reached the markdown summary"
        );
    }
    let text = human::render(&report, false);
    for line in text.lines() {
        assert!(
            !line.trim_start().starts_with("::"),
            "stdout line could be a workflow command: {line}"
        );
    }
}

#[test]
fn sentry_envlist_expands_to_every_target() {
    let path = Path::new("tests/fixtures/sentry-python/tox.current.ini");
    let names =
        tox_triage::inputs::toxini::envlist(std::fs::File::open(path).unwrap(), "tox.current.ini")
            .unwrap();
    assert!(names.len() > 800, "{}", names.len());
    for n in [
        "py3.6-common",
        "py3.14t-common",
        "py3.14t-openai_agents-v0.19.4",
        "py3.10-fastmcp-v4.0.0b2",
        "py3.13-mcp-latest",
    ] {
        assert!(names.iter().any(|x| x == n), "{n} missing");
    }
    // Every sentry target name follows the py{python}-{suite}[-v{version}] convention.
    let opaque: Vec<&String> = names
        .iter()
        .filter(|n| tox_triage::model::TargetName::parse(n).parts().is_none())
        .collect();
    assert!(opaque.is_empty(), "{opaque:?}");
}
