//! Broken and hostile inputs: each row has its expected outcome (a warning or
//! error naming the file and place, the rest of the report intact, the exit
//! code documented in the README), and none crashes tox-triage.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tox_triage::analysis::aggregate::Aggregator;
use tox_triage::model::{Report, TargetStatus};

fn bin(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tox-triage"))
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("GITHUB_OUTPUT")
        .env_remove("GITHUB_ACTIONS")
        .args(args)
        .output()
        .unwrap()
}

/// Analyses one good log plus the given JUnit file, as the binary would, and returns the JSON.
fn with_junit(file: &Path) -> (Output, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let out = bin(&[
        "analyze",
        "--log",
        "tests/fixtures/tox4-sequential/tox.log",
        "--junit",
        file.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    let v =
        serde_json::from_str(&fs::read_to_string(&json).unwrap_or_else(|_| "null".into())).unwrap();
    (out, v)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    fs::write(&p, bytes).unwrap();
    p
}

fn warnings(v: &serde_json::Value) -> Vec<String> {
    v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.to_string())
        .collect()
}

/// The good log's 17 targets survive whatever the JUnit file is.
fn report_intact(v: &serde_json::Value) {
    assert_eq!(
        v["summary"]["targets"].as_u64().unwrap(),
        17,
        "{}",
        v["summary"]
    );
}

#[test]
fn broken_junit_files_warn_with_file_and_position() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rows: Vec<(&str, Vec<u8>, &str)> = vec![
        (".junitxml-py3.12-common", b"".to_vec(), "not a JUnit report"),
        (
            ".junitxml-py3.11-common",
            br#"<testsuites><testsuite name="py3.11-common"><testcase classname="t" name="a"><failure message="x">trace"#.to_vec(),
            "truncated",
        ),
        (
            ".junitxml-py3.12-empty",
            br#"<testsuites><testsuite name="py3.12-empty"><testcase classname="t" name="a"/><testcase"#.to_vec(),
            "kept the 1 test case(s) read before it",
        ),
        (
            "html.xml",
            b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>".to_vec(),
            "not a JUnit report",
        ),
        (
            ".junitxml-py3.12-hostile",
            br#"<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY x SYSTEM "file:///etc/passwd">]><testsuite name="py3.12-hostile"><testcase classname="t" name="a"><failure message="&c;">&c; &x;</failure></testcase></testsuite>"#.to_vec(),
            "DOCTYPE",
        ),
        (
            ".junitxml-py3.12-missing",
            b"<testsuite name=\"py3.12-missing\"><testcase classname=\"t\" name=\"caf\xe9\"><failure message=\"bad \xff byte\">x\x00y</failure></testcase></testsuite>".to_vec(),
            "invalid UTF-8",
        ),
    ];
    for (name, bytes, expect) in rows {
        let p = write(d, name, &bytes);
        let (out, v) = with_junit(&p);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        report_intact(&v);
        let w = warnings(&v);
        assert!(
            w.iter().any(|w| w.contains(expect) && w.contains(name)),
            "{name}: {w:?}"
        );
    }
}

#[test]
fn entities_from_a_doctype_are_never_expanded() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        ".junitxml-py3.12-hostile",
        br#"<!DOCTYPE l [<!ENTITY a "LOL"><!ENTITY x SYSTEM "file:///etc/hostname">]><testsuite name="py3.12-hostile"><testcase classname="t" name="a"><failure message="&a;">&a; &x;</failure></testcase></testsuite>"#,
    );
    let (_, v) = with_junit(&p);
    let t = v["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "py3.12-hostile")
        .unwrap();
    let f = t["failures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["test"] == "t.py::a")
        .unwrap();
    assert_eq!(f["details"], "&a; &x;");
    let hostname = fs::read_to_string("/etc/hostname").unwrap_or_default();
    assert!(hostname.trim().is_empty() || !v.to_string().contains(hostname.trim()));
}

#[test]
fn invalid_utf8_and_nul_bytes_in_logs() {
    let mut log = fs::read("tests/fixtures/tox4-sequential/tox.log").unwrap();
    log.splice(
        0..0,
        b"garbage \xff\xfe\x00 line\n\x00\x00\x00\n".iter().copied(),
    );
    let mut agg = Aggregator::new();
    agg.add_log("nul.log", &log[..]).unwrap();
    let r = agg.finish(None);
    assert_eq!(r.targets.len(), 17);
    assert_eq!(r.counts().failed, 10);
}

/// A reader producing one 200 MB line, then a tox summary: no 200 MB buffer is ever held.
struct HugeLine {
    left: u64,
    tail: &'static [u8],
}

impl Read for HugeLine {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left > 0 {
            let n = (buf.len() as u64).min(self.left) as usize;
            buf[..n].fill(b'x');
            self.left -= n as u64;
            return Ok(n);
        }
        let n = buf.len().min(self.tail.len());
        buf[..n].copy_from_slice(&self.tail[..n]);
        self.tail = &self.tail[n..];
        Ok(n)
    }
}

#[test]
fn a_200_mb_single_line_is_cut_not_buffered() {
    let mut agg = Aggregator::new();
    let stats = agg
        .add_log(
            "huge.log",
            HugeLine {
                left: 200 << 20,
                tail: b"\n  py3.12-common: OK (1.00=setup[0.50]+cmd[0.50] seconds)\n",
            },
        )
        .unwrap();
    assert_eq!(stats.truncated_lines, 1);
    let r: Report = agg.finish(None);
    assert_eq!(r.targets[0].status, TargetStatus::Pass);
    assert!(
        r.warnings
            .iter()
            .any(|w| w.file.as_deref() == Some("huge.log")
                && w.line == Some(1)
                && w.message.contains("longer than 64 KiB"))
    );
}

#[test]
fn a_summary_cut_mid_line_keeps_what_came_before() {
    let log = fs::read_to_string("tests/fixtures/tox4-sequential/tox.log").unwrap();
    let cut = log.find("  py3.12-empty: FAIL code 5").unwrap() + 12;
    let mut agg = Aggregator::new();
    agg.add_log("cut.log", &log.as_bytes()[..cut]).unwrap();
    let r = agg.finish(None);
    let t = |n: &str| r.targets.iter().find(|t| t.name.as_str() == n).unwrap();
    assert_eq!(t("py3.11-common").status, TargetStatus::Pass);
    // The progress line already said py3.12-empty failed; the cut summary line adds nothing wrong.
    assert_eq!(t("py3.12-empty").status, TargetStatus::Fail);
}

#[test]
fn duplicated_targets_with_conflicting_results_are_flagged() {
    let fail = "py3.12-x: commands[0]> pytest\npy3.12-x: exit 1 (0.10 seconds) /w> pytest pid=1\n  py3.12-x: FAIL code 1 (1.00=setup[0.90]+cmd[0.10] seconds)\n";
    let pass =
        "py3.12-x: commands[0]> pytest\n  py3.12-x: OK (1.00=setup[0.90]+cmd[0.10] seconds)\n";
    let mut agg = Aggregator::new();
    agg.add_log("attempt-1.log", fail.as_bytes()).unwrap();
    agg.add_log("attempt-2.log", pass.as_bytes()).unwrap();
    let r = agg.finish(None);
    assert_eq!(r.targets.len(), 1, "one record, not two");
    assert_eq!(r.targets[0].status, TargetStatus::Fail);
    assert!(r.targets[0].conflicting);
}

#[test]
fn missing_paths_and_directories_exit_2_naming_them() {
    for (args, expect) in [
        (vec!["analyze", "--log", "nope/tox.log"], "nope/tox.log"),
        (
            vec!["analyze", "--junit", "nope/junit.xml"],
            "nope/junit.xml",
        ),
        (vec!["analyze", "--log", "tests"], "tests: is a directory"),
        (
            vec![
                "analyze",
                "--log",
                "tests/fixtures/tox3/tox.log",
                "--tox-ini",
                "nope.ini",
            ],
            "nope.ini",
        ),
    ] {
        let out = bin(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expect), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    }
}

#[test]
fn a_write_failure_on_github_output_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    // A directory where the file should be.
    let out = Command::new(env!("CARGO_BIN_EXE_tox-triage"))
        .env("GITHUB_OUTPUT", dir.path())
        .env_remove("GITHUB_STEP_SUMMARY")
        .args(["analyze", "--log", "tests/fixtures/tox3/tox.log"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&dir.path().display().to_string()), "{err}");
    let out = Command::new(env!("CARGO_BIN_EXE_tox-triage"))
        .env("GITHUB_STEP_SUMMARY", dir.path())
        .env_remove("GITHUB_OUTPUT")
        .args(["analyze", "--log", "tests/fixtures/tox3/tox.log"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_glob_matching_100000_files_keeps_few_file_handles_open() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("junit");
    fs::create_dir_all(&d).unwrap();
    let xml = br#"<testsuite name="py3.12-many"><testcase classname="t" name="a"/></testsuite>"#;
    for i in 0..100_000 {
        fs::write(d.join(format!("r{i}.xml")), xml).unwrap();
    }
    // 64 open files at most: if each match held a handle, this would fail with EMFILE.
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -n 64 && exec {} analyze --junit '{}/*.xml'",
            env!("CARGO_BIN_EXE_tox-triage"),
            d.display()
        ))
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("GITHUB_OUTPUT")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("tox-triage: 0 failed, 1 passed"));
}
