//! The `tox-triage` binary: exit codes, files written, messages.

use std::process::Command;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tox-triage"));
    c.env_remove("GITHUB_STEP_SUMMARY");
    c
}

#[test]
fn analyze_exits_0_when_tests_failed_and_writes_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let summary = dir.path().join("summary.md");
    let out = bin()
        .args([
            "analyze",
            "--log",
            "tests/fixtures/github-job/job.log",
            "--junit",
            "tests/fixtures/tox4-parallel-live/junit",
        ])
        .arg("--json")
        .arg(&json)
        .arg("--summary")
        .arg(&summary)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.starts_with("tox-triage: 10 failed, 6 passed, 1 skipped, 0 not run (17 targets)"),
        "{stdout}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["summary"]["failed"], 10);
    assert!(
        std::fs::read_to_string(&summary)
            .unwrap()
            .starts_with("## 🔴 tox-triage: 10 of 17 targets failed")
    );
}

#[test]
fn summary_defaults_to_appending_to_github_step_summary() {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("step_summary.md");
    std::fs::write(&summary, "earlier step output\n").unwrap();
    let out = bin()
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args(["analyze", "--log", "tests/fixtures/tox4-sequential/tox.log"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = std::fs::read_to_string(&summary).unwrap();
    assert!(
        text.starts_with("earlier step output\n## 🔴 tox-triage"),
        "{text}"
    );
}

#[test]
fn missing_input_exits_2_naming_the_file() {
    let out = bin()
        .args(["analyze", "--log", "no/such/tox.log"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("no/such/tox.log"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one-line message: {err}");
}

#[test]
fn directory_given_as_log_exits_2() {
    let out = bin()
        .args(["analyze", "--log", "tests/fixtures"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("tests/fixtures: is a directory"));
}

#[test]
fn no_inputs_is_bad_usage() {
    let out = bin().args(["analyze"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = bin().args(["analyze", "--bogus"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn log_from_stdin() {
    use std::io::Write;
    let mut child = bin()
        .args(["analyze", "--log", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let log = std::fs::read("tests/fixtures/tox3/tox.log").unwrap();
    child.stdin.take().unwrap().write_all(&log).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("tox-triage: 10 failed"));
}
