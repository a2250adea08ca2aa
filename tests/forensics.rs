//! `tox-triage run` and exit-4 forensics with real pytest and real git, in
//! temporary repositories.
//!
//! pytest comes from `$TOX_TRIAGE_TEST_PYTHON` (a Python with pytest), or from
//! a venv this file creates once under Cargo's target tmpdir with
//! `pip install pytest==9.2.0` (PyPI must be reachable the first time).

use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

mod common;

use tox_triage::analyze::{AnalyzeInput, ForensicsOptions, analyze};
use tox_triage::model::TargetStatus;

/// A Python interpreter with pytest.
fn python() -> &'static Path {
    static PY: OnceLock<PathBuf> = OnceLock::new();
    PY.get_or_init(|| {
        if let Ok(p) = std::env::var("TOX_TRIAGE_TEST_PYTHON") {
            return PathBuf::from(p);
        }
        let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pytest-venv");
        let py = venv.join("bin/python");
        let ok = |py: &Path| {
            Command::new(py)
                .args(["-c", "import pytest"])
                .status()
                .is_ok_and(|s| s.success())
        };
        if !ok(&py) {
            let status = Command::new("python3")
                .arg("-m")
                .arg("venv")
                .arg(&venv)
                .status()
                .expect("python3 -m venv");
            assert!(status.success(), "cannot create a venv for pytest");
            let status = Command::new(&py)
                .args(["-m", "pip", "install", "--quiet", "pytest==9.2.0"])
                .status()
                .expect("pip install pytest");
            assert!(
                status.success(),
                "pip install pytest failed (set TOX_TRIAGE_TEST_PYTHON to a Python with pytest)"
            );
        }
        py
    })
}

struct Repo {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Repo {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("workspace");
        fs::create_dir_all(root.join("tests")).unwrap();
        common::git_init(&root);
        Self { _dir: dir, root }
    }

    fn write(&self, path: &str, text: &str) {
        let p = self.root.join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }

    fn git(&self, args: &[&str]) -> String {
        common::git(&self.root, args)
    }

    fn commit(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }

    /// `tox-triage run <opts> -- <python> -m pytest <args>`, as tox would run it.
    fn run(&self, opts: &[&str], pytest_args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_tox-triage"));
        c.current_dir(&self.root)
            .env_remove("GITHUB_WORKSPACE")
            .env_remove("GITHUB_SHA")
            .env_remove("GITHUB_EVENT_PATH")
            .env_remove("GITHUB_BASE_REF")
            .env_remove("TOX_TRIAGE_FORENSICS_DIR")
            .env("TOX_ENV_NAME", "py3.12-unit")
            .arg("run")
            .args(opts)
            .arg("--")
            .arg(python())
            .args(["-m", "pytest", "-p", "no:cacheprovider"])
            .args(pytest_args);
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    }

    fn forensics(&self) -> serde_json::Value {
        let p = self
            .root
            .join("tox-triage-forensics/forensics-py3.12-unit.json");
        serde_json::from_str(
            &fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())),
        )
        .unwrap()
    }
}

const PASSING: &str = "def test_ok():\n    assert True\n";

#[test]
fn genuinely_missing_path() {
    let repo = Repo::new();
    repo.write("tests/test_added.py", PASSING);
    repo.write("tests/test_adder.py", PASSING);
    repo.write("tests/test_other.py", PASSING);
    let head = repo.commit("tests");
    let out = repo.run(
        &["--retries", "1", "--retry-delay", "0.05"],
        &["tests/test_added_by_pr.py"],
        &[("GITHUB_SHA", &head)],
    );
    assert_eq!(out.status.code(), Some(4));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("[tox-triage] exit-4 forensics for py3.12-unit (exit 4)"),
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("ERROR: file or directory not found: tests/test_added_by_pr.py"),
        "stderr passes through"
    );
    assert!(
        stderr.contains("retrying in 0.1 s (attempt 2 of 2)")
            || stderr.contains("retrying in 0.0 s"),
        "{stderr}"
    );

    let f = repo.forensics();
    assert_eq!(f["taken"], "at-failure");
    assert_eq!(f["attempts"].as_array().unwrap().len(), 2);
    let p = &f["paths"][0];
    assert_eq!(p["resolved"], "tests/test_added_by_pr.py");
    assert_eq!(p["exists_now"], false);
    assert_eq!(p["parent_exists"], true);
    assert_eq!(p["parent_entries"], 3);
    assert_eq!(
        p["similar"],
        serde_json::json!(["test_added.py", "test_adder.py"])
    );
    assert_eq!(p["nearest_existing_ancestor"], "tests");
    assert_eq!(p["tracked_at_head"], false);
    assert_eq!(f["git"]["head"], head.as_str());
    assert_eq!(f["git"]["head_as_expected"], true);
    assert_eq!(f["git"]["branch"], "main");
    assert_eq!(f["git"]["dirty_count"], 0);
    assert!(
        repo.root
            .join("tox-triage-forensics/forensics-py3.12-unit.md")
            .is_file()
    );
}

/// A conftest that hides `tests/test_flaky.py` until the end of attempt N
/// (pytest's sessionfinish hook runs even when it exits 4), like a sibling
/// process that moves the file away and back.
fn vanishing_repo(restore_after_attempt: u32) -> Repo {
    let repo = Repo::new();
    repo.write("tests/test_flaky.py", PASSING);
    repo.write(
        "conftest.py",
        &format!(
            r#"import os, pathlib
STATE = pathlib.Path(__file__).parent / ".attempts"
HIDDEN = pathlib.Path(__file__).parent / ".hidden_test_flaky.py"

def pytest_sessionfinish(session, exitstatus):
    n = int(STATE.read_text()) + 1 if STATE.exists() else 1
    STATE.write_text(str(n))
    if n == {restore_after_attempt} and HIDDEN.exists():
        os.rename(HIDDEN, pathlib.Path(__file__).parent / "tests" / "test_flaky.py")
"#
        ),
    );
    repo.commit("tests");
    fs::rename(
        repo.root.join("tests/test_flaky.py"),
        repo.root.join(".hidden_test_flaky.py"),
    )
    .unwrap();
    repo
}

#[test]
fn a_file_that_comes_back_before_the_retries_run_out() {
    let repo = vanishing_repo(1);
    let out = repo.run(&["--retry-delay", "0.05"], &["tests/test_flaky.py"], &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("the missing path came back"), "{stderr}");
    assert!(
        !repo.root.join("tox-triage-forensics").exists(),
        "no forensics when the retry passed"
    );
}

#[test]
fn a_file_that_comes_back_after_the_last_attempt() {
    let repo = vanishing_repo(3);
    let out = repo.run(
        &["--retries", "2", "--retry-delay", "0.05"],
        &["tests/test_flaky.py"],
        &[],
    );
    assert_eq!(out.status.code(), Some(4));
    let f = repo.forensics();
    let attempts = f["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 3, "retries used");
    assert_eq!(attempts[0]["existed_after"], serde_json::json!([false]));
    assert_eq!(attempts[2]["existed_after"], serde_json::json!([true]));
    assert_eq!(f["paths"][0]["exists_now"], true);
    assert_eq!(f["paths"][0]["tracked_at_head"], true);
}

#[test]
fn a_sibling_test_that_checks_out_another_branch() {
    let repo = Repo::new();
    repo.write("tests/test_base.py", PASSING);
    let base = repo.commit("base");
    repo.git(&["checkout", "-q", "-b", "pr"]);
    repo.write("tests/test_new.py", PASSING);
    repo.write(
        "tests/test_sibling.py",
        "import subprocess\n\ndef test_switches_branch():\n    subprocess.run(['git', 'checkout', '-q', 'main'], check=True)\n",
    );
    let head = repo.commit("add tests");
    // The sibling runs first and switches the checkout to main; then pytest is asked for the PR's file.
    let sibling = Command::new(python())
        .current_dir(&repo.root)
        .args([
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_sibling.py",
        ])
        .output()
        .unwrap();
    assert!(
        sibling.status.success(),
        "{}",
        String::from_utf8_lossy(&sibling.stdout)
    );
    let out = repo.run(
        &["--retries", "0", "--base-ref", &base],
        &["tests/test_new.py"],
        &[("GITHUB_SHA", &head)],
    );
    assert_eq!(out.status.code(), Some(4));
    let f = repo.forensics();
    assert_eq!(f["git"]["head"], base.as_str());
    assert_eq!(f["git"]["head_as_expected"], false);
    assert_eq!(f["git"]["branch"], "main");
    let reflog: Vec<String> = serde_json::from_value(f["git"]["reflog"].clone()).unwrap();
    assert!(
        reflog[0].ends_with("checkout: moving from pr to main"),
        "{reflog:?}"
    );
    assert_eq!(f["paths"][0]["exists_now"], false);
    assert_eq!(f["paths"][0]["tracked_at_head"], false);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("HEAD has moved"), "{stdout}");
}

#[test]
fn paths_outside_the_workspace_are_named_not_inspected() {
    let repo = Repo::new();
    repo.write("tests/test_ok.py", PASSING);
    repo.commit("tests");
    let outside = repo.root.parent().unwrap().join("outside_test.py");
    fs::write(&outside, PASSING).unwrap();
    fs::remove_file(&outside).unwrap();
    std::os::unix::fs::symlink("/etc", repo.root.join("etc-link")).unwrap();
    // pytest stops at the first path it cannot find: one run per path.
    for (path, why) in [
        ("../outside_test.py", "is outside the workspace"),
        ("etc-link/nope_test.py", "leads outside the workspace"),
    ] {
        let out = repo.run(&["--retries", "0"], &[path], &[]);
        assert_eq!(out.status.code(), Some(4));
        let f = repo.forensics();
        let p = &f["paths"][0];
        assert_eq!(p["path"], path);
        assert!(p["escapes"].as_str().unwrap().contains(why), "{p}");
        assert!(p["exists_now"].is_null(), "not inspected: {p}");
        assert!(p["similar"].as_array().unwrap().is_empty());
    }
}

#[test]
fn exit_codes_and_signals_pass_through() {
    let repo = Repo::new();
    repo.write("tests/test_pass.py", PASSING);
    repo.write("tests/test_fail.py", "def test_no():\n    assert 1 == 2\n");
    repo.write("tests/test_empty.py", "\"\"\"no tests\"\"\"\n");
    repo.write(
        "tests/test_kill.py",
        "import os, signal\n\ndef test_kill():\n    os.kill(os.getpid(), signal.SIGKILL)\n",
    );
    repo.commit("tests");
    for (file, code) in [
        ("tests/test_pass.py", 0),
        ("tests/test_fail.py", 1),
        ("tests/nope.py", 4),
        ("tests/test_empty.py", 5),
    ] {
        let out = repo.run(&["--retries", "0"], &[file], &[]);
        assert_eq!(out.status.code(), Some(code), "{file}");
    }
    let out = repo.run(&[], &["tests/test_kill.py"], &[]);
    assert_eq!(out.status.code(), None);
    assert_eq!(
        out.status.signal(),
        Some(9),
        "killed by the same signal as the child"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("killed by signal 9 (SIGKILL)"));
}

#[test]
fn a_terminating_signal_is_forwarded_to_the_command() {
    let repo = Repo::new();
    repo.write(
        "tests/test_slow.py",
        "import time\n\ndef test_slow():\n    time.sleep(30)\n",
    );
    repo.commit("tests");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tox-triage"))
        .current_dir(&repo.root)
        .args(["run", "--"])
        .arg(python())
        .args([
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "tests/test_slow.py",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let started = std::time::Instant::now();
    let status = child.wait().unwrap();
    assert!(
        started.elapsed().as_secs() < 10,
        "pytest got the SIGTERM and stopped"
    );
    assert_eq!(status.signal(), Some(15), "{status:?}");
}

#[test]
fn snapshot_forensics_block() {
    let repo = Repo::new();
    repo.write("tests/test_added.py", PASSING);
    let head = repo.commit("tests");
    repo.write("scratch.txt", "untracked\n");
    let out = repo.run(
        &["--retries", "1", "--retry-delay", "0.01"],
        &["tests/test_added_by_pr.py"],
        &[("GITHUB_SHA", &head)],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let block: String = stdout
        .lines()
        .filter(|l| l.starts_with("[tox-triage]"))
        .collect::<Vec<_>>()
        .join("\n");
    let root = repo.root.canonicalize().unwrap().display().to_string();
    let short = &head[..12];
    let mut redacted = Vec::new();
    for line in block
        .replace(&root, "<workspace>")
        .replace(short, "<head>")
        .lines()
    {
        let line = if line.starts_with("[tox-triage] cwd ") {
            "[tox-triage] cwd <workspace>, free disk <redacted>, at <timestamp>, collected in <ms> ms".to_owned()
        } else if let Some((keep, _)) = line.split_once("reflog: ") {
            format!("{keep}reflog: <sha> <message>")
        } else {
            line.to_owned()
        };
        redacted.push(line);
    }
    insta::assert_snapshot!("forensics_block", redacted.join("\n"));
}

#[test]
fn analyze_uses_the_forensics_run_wrote_and_takes_others_after_the_fact() {
    let repo = Repo::new();
    repo.write("tests/test_added.py", PASSING);
    repo.commit("tests");
    // `run` records forensics for py3.12-missing at the failure.
    let out = repo.run(
        &["--retries", "0"],
        &["tests/test_added_by_pr.py"],
        &[("TOX_ENV_NAME", "py3.12-missing")],
    );
    assert_eq!(out.status.code(), Some(4));
    let dir = repo.root.join("tox-triage-forensics");
    // The sequential log has py3.12-missing (pytest exit 4); the workspace is this repo.
    let analyze_with_forensics = || {
        analyze(&AnalyzeInput {
            logs: vec![format!(
                "{}/tests/fixtures/tox4-sequential/tox.log",
                env!("CARGO_MANIFEST_DIR")
            )],
            forensics: Some(ForensicsOptions {
                dir: dir.clone(),
                expected_head: None,
                budget: std::time::Duration::from_secs(5),
            }),
            workspace: tox_triage::paths::Workspace::new(&repo.root),
            ..Default::default()
        })
        .unwrap()
    };
    assert!(dir.join("forensics-py3.12-missing.json").is_file());
    let report = analyze_with_forensics();
    let t = report
        .targets
        .iter()
        .find(|t| t.name.as_str() == "py3.12-missing")
        .unwrap();
    assert_eq!(t.status, TargetStatus::Fail);
    assert_eq!(
        t.findings().failure_kind,
        Some(tox_triage::model::ExitReason::MissingPath)
    );
    let f = t.findings().forensics.as_ref().unwrap();
    assert_eq!(f.taken, "at-failure");
    assert!(
        t.findings()
            .signals
            .iter()
            .any(|s| s.starts_with("exit-4 forensics taken at the failure")),
        "{:?}",
        t.findings().signals
    );

    // Without a recording, they are taken now and said to be after the fact.
    fs::remove_dir_all(&dir).unwrap();
    let report = analyze_with_forensics();
    let t = report
        .targets
        .iter()
        .find(|t| t.name.as_str() == "py3.12-missing")
        .unwrap();
    let f = t.findings().forensics.as_ref().unwrap();
    assert_eq!(f.taken, "after-the-fact");
    assert_eq!(f.paths[0].exists_now, Some(false));
    assert_eq!(f.paths[0].similar, vec!["test_added.py"]);
    assert!(
        dir.join("forensics-py3.12-missing.json").is_file(),
        "written for the artifact"
    );
}
