//! The GitHub Action contract: action.yml's inputs and outputs match what the
//! binary reads and writes, and the binary behaves as a Docker action step
//! when run with the environment GitHub gives one (`INPUT_*`, `GITHUB_*`,
//! file-command files).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_yaml_ng::Value;
use tox_triage::cli::{ACTION_INPUTS, ACTION_OUTPUTS};

fn action() -> Value {
    serde_yaml_ng::from_str(&fs::read_to_string("action.yml").unwrap()).unwrap()
}

fn section(v: &Value, key: &str) -> BTreeMap<String, Value> {
    v[key]
        .as_mapping()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.as_str().unwrap().to_owned(), v.clone()))
        .collect()
}

#[test]
fn action_yml_is_a_docker_action_running_analyze() {
    let a = action();
    assert_eq!(a["runs"]["using"].as_str(), Some("docker"));
    assert_eq!(a["runs"]["image"].as_str(), Some("Dockerfile"));
    assert_eq!(a["runs"]["args"][0].as_str(), Some("analyze"));
    for key in ["name", "description", "author"] {
        assert!(a[key].as_str().is_some_and(|s| !s.is_empty()), "{key}");
    }
    assert!(a["branding"]["icon"].is_string() && a["branding"]["color"].is_string());
}

#[test]
fn every_input_is_read_and_every_output_written() {
    let a = action();
    let inputs = section(&a, "inputs");
    let declared: Vec<&str> = inputs.keys().map(String::as_str).collect();
    let mut read: Vec<&str> = ACTION_INPUTS.iter().map(|(i, _)| *i).collect();
    read.sort();
    assert_eq!(
        declared, read,
        "action.yml inputs vs the INPUT_* variables the binary reads"
    );
    for (name, spec) in &inputs {
        assert!(
            name.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
            "{name} is not kebab-case"
        );
        assert!(
            spec["description"].as_str().is_some_and(|d| d.len() > 10),
            "{name} needs a description"
        );
        assert!(spec.get("default").is_some(), "{name} needs a default");
    }
    let outputs = section(&a, "outputs");
    let declared: Vec<&str> = outputs.keys().map(String::as_str).collect();
    let mut written: Vec<&str> = ACTION_OUTPUTS.to_vec();
    written.sort();
    assert_eq!(declared, written);
    for (name, spec) in &outputs {
        assert!(
            spec["description"].as_str().is_some_and(|d| !d.is_empty()),
            "{name}"
        );
    }
}

#[test]
fn readme_tables_match_action_yml() {
    let readme = fs::read_to_string("README.md").unwrap();
    let a = action();
    for (name, spec) in section(&a, "inputs") {
        let default = match &spec["default"] {
            Value::String(s) => s.clone(),
            other => serde_yaml_ng::to_string(other).unwrap().trim().to_owned(),
        };
        let shown = if default.is_empty() {
            "—".to_owned()
        } else {
            format!("`{default}`")
        };
        let row = format!("| `{name}` | {shown} |");
        assert!(
            readme.contains(&row),
            "README inputs table lacks the row starting {row:?}"
        );
    }
    for name in section(&a, "outputs").keys() {
        assert!(
            readme.contains(&format!("| `{name}` |")),
            "README outputs table lacks {name}"
        );
    }
}

/// A temp GitHub workspace with the fixture logs and JUnit files in it, and
/// the environment GitHub gives a Docker action step.
struct Step {
    dir: tempfile::TempDir,
    env: BTreeMap<String, String>,
}

impl Step {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ws = dir.path().join("workspace");
        fs::create_dir_all(ws.join("results/junit")).unwrap();
        fs::copy(
            "tests/fixtures/github-job/job.log",
            ws.join("results/job.log"),
        )
        .unwrap();
        fs::copy(
            "tests/fixtures/tox4-colored/tox.log",
            ws.join("results/colored.log"),
        )
        .unwrap();
        for e in fs::read_dir("tests/fixtures/tox4-parallel-live/junit").unwrap() {
            let e = e.unwrap();
            fs::copy(e.path(), ws.join("results/junit").join(e.file_name())).unwrap();
        }
        let files = dir.path().join("file_commands");
        fs::create_dir_all(&files).unwrap();
        fs::write(files.join("set_output"), "").unwrap();
        fs::write(files.join("step_summary"), "").unwrap();
        let mut env = BTreeMap::new();
        // As GitHub passes them: every declared input, with its default unless given.
        for (name, spec) in section(&action(), "inputs") {
            let default = spec["default"].as_str().unwrap_or_default().to_owned();
            env.insert(format!("INPUT_{}", name.to_uppercase()), default);
        }
        // GitHub substitutes `${{ github.token }}`; these tests stay off the network.
        env.insert(
            "INPUT_GITHUB-TOKEN".into(),
            "ghs_contract_test_token".into(),
        );
        env.insert("INPUT_ONLINE".into(), "false".into());
        let p = |x: &Path| x.display().to_string();
        env.insert("GITHUB_ACTIONS".into(), "true".into());
        env.insert("GITHUB_WORKSPACE".into(), p(&ws));
        env.insert("GITHUB_OUTPUT".into(), p(&files.join("set_output")));
        env.insert("GITHUB_STEP_SUMMARY".into(), p(&files.join("step_summary")));
        env.insert("GITHUB_REPOSITORY".into(), "example/toxproject".into());
        env.insert("GITHUB_EVENT_NAME".into(), "pull_request".into());
        env.insert(
            "GITHUB_EVENT_PATH".into(),
            p(
                &Path::new("tests/fixtures/github-api/event.pull_request.opened.json")
                    .canonicalize()
                    .unwrap(),
            ),
        );
        env.insert("RUNNER_TEMP".into(), p(dir.path()));
        Self { dir, env }
    }

    fn workspace(&self) -> PathBuf {
        self.dir.path().join("workspace")
    }

    fn env(mut self, name: &str, value: &str) -> Self {
        self.env.insert(name.to_owned(), value.to_owned());
        self
    }

    fn input(mut self, name: &str, value: &str) -> Self {
        self.env
            .insert(format!("INPUT_{}", name.to_uppercase()), value.to_owned());
        self
    }

    fn run(&self) -> Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_tox-triage"));
        c.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .arg("analyze");
        c.current_dir(self.workspace());
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c.output().unwrap()
    }

    fn file(&self, key: &str) -> String {
        fs::read_to_string(&self.env[key]).unwrap()
    }
}

/// Replaces the random heredoc delimiters with a fixed word.
fn redact_delimiters(s: &str) -> String {
    let mut out = String::new();
    for line in s.lines() {
        let redacted = match line.find("ghadelimiter_") {
            Some(i) => format!("{}ghadelimiter_<random>", &line[..i]),
            None => line.to_owned(),
        };
        out.push_str(&redacted);
        out.push('\n');
    }
    out
}

#[test]
fn runs_as_a_docker_action_step() {
    let step = Step::new()
        .input("tox-log", "results/*.log")
        .input("junit", "results/junit");
    let out = step.run();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Every output action.yml declares is written.
    let written = step.file("GITHUB_OUTPUT");
    for name in ACTION_OUTPUTS {
        assert!(
            written.contains(&format!("{name}<<ghadelimiter_")),
            "output {name} not written"
        );
    }
    insta::assert_snapshot!(
        "action_github_output",
        redact_delimiters(&step.file("GITHUB_OUTPUT"))
    );
    insta::assert_snapshot!("action_stdout", String::from_utf8(out.stdout).unwrap());
    let summary = step.file("GITHUB_STEP_SUMMARY");
    assert!(summary.starts_with("## 🔴 tox-triage: 10 of 17 targets failed"));
    insta::assert_snapshot!("action_step_summary", summary);
    let report: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(step.workspace().join("tox-triage-report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(report["summary"]["failed"], 10);
}

#[test]
fn github_output_delimiters_are_random_and_absent_from_values() {
    let step = Step::new().input("tox-log", "results/job.log");
    assert_eq!(step.run().status.code(), Some(0));
    let text = step.file("GITHUB_OUTPUT");
    let delims: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_once("<<").map(|(_, d)| d))
        .collect();
    assert_eq!(delims.len(), ACTION_OUTPUTS.len());
    let distinct: std::collections::BTreeSet<&&str> = delims.iter().collect();
    assert_eq!(distinct.len(), delims.len(), "every delimiter is new");
    for d in &delims {
        assert!(d.len() > 40, "{d}");
        assert_eq!(
            text.matches(d).count(),
            2,
            "each delimiter opens and closes one value"
        );
    }
}

#[test]
fn runner_paths_in_inputs_map_onto_the_workspace() {
    // `${{ github.workspace }}/results/job.log` as the runner spells it.
    let step = Step::new().input(
        "tox-log",
        "/home/runner/work/toxproject/toxproject/results/job.log",
    );
    let out = step.run();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("tox-triage: 10 failed"));
}

#[test]
fn each_input_has_an_effect() {
    // tox-log and junit: what is read.
    let out = Step::new().input("junit", "results/junit").run();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("tox-triage: 9 failed, 6 passed, 0 skipped, 0 not run (15 targets)"),
        "{stdout}"
    );
    // tox-ini: a named file that is missing is an error naming it.
    let out = Step::new()
        .input("tox-log", "results/job.log")
        .input("tox-ini", "ci/tox.ini")
        .run();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ci/tox.ini"));
    // report-path: where the JSON goes.
    let step = Step::new()
        .input("tox-log", "results/job.log")
        .input("report-path", "out/r.json");
    assert_eq!(step.run().status.code(), Some(0));
    assert!(step.workspace().join("out/r.json").is_file());
    assert!(step.file("GITHUB_OUTPUT").contains("\nout/r.json\n"));
    // summary: false writes no job summary.
    let step = Step::new()
        .input("tox-log", "results/job.log")
        .input("summary", "false");
    assert_eq!(step.run().status.code(), Some(0));
    assert_eq!(step.file("GITHUB_STEP_SUMMARY"), "");
    // fail-on: any fails the step when a target failed; regression when a verdict is regression.
    let out = Step::new()
        .input("tox-log", "results/job.log")
        .input("fail-on", "any")
        .run();
    assert_eq!(out.status.code(), Some(1));
    let out = Step::new()
        .input("tox-log", "results/job.log")
        .input("fail-on", "regression")
        .run();
    assert_eq!(
        out.status.code(),
        Some(1),
        "markupsafe 2.1.5 fails on 3.11 and 3.12"
    );
    let out = Step::new()
        .input("tox-log", "results/colored.log")
        .input("fail-on", "regression")
        .run();
    assert_eq!(
        out.status.code(),
        Some(0),
        "failures on one Python only: no regression"
    );
    // base-ref: the base tox.ini is read from git at that revision.
    let out = Step::new()
        .input("tox-log", "results/job.log")
        .input("base-ref", "no-such-revision")
        .run();
    assert!(String::from_utf8_lossy(&out.stdout).contains("git show no-such-revision:./tox.ini"));
    // config: a named config file that is missing is an error.
    let out = Step::new()
        .input("tox-log", "results/job.log")
        .input("config", "ci/flaky.yml")
        .run();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ci/flaky.yml: config file not found"));
    // forensics and forensics-dir: exit-4 targets get forensics files there.
    let step = Step::new()
        .input("tox-log", "results/job.log")
        .input("forensics-dir", "out/forensics");
    assert_eq!(step.run().status.code(), Some(0));
    let f = step
        .workspace()
        .join("out/forensics/forensics-py3.12-missing.json");
    let f: serde_json::Value = serde_json::from_str(&fs::read_to_string(&f).unwrap()).unwrap();
    assert_eq!(f["taken"], "after-the-fact");
    assert_eq!(f["paths"][0]["path"], "tests/test_added_by_pr.py");
    assert!(step.file("GITHUB_OUTPUT").contains("\nout/forensics\n"));
    let step = Step::new()
        .input("tox-log", "results/job.log")
        .input("forensics", "false");
    assert_eq!(step.run().status.code(), Some(0));
    assert!(!step.workspace().join("tox-triage-forensics").exists());
    // online and github-token: tests/releases.rs checks them against a mock PyPI and GitHub.
    // run-id: API mode, against the GitHub API (here one that is not there).
    let out = Step::new()
        .input("run-id", "7000001")
        .env("GITHUB_API_URL", "http://127.0.0.1:9")
        .run();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("/repos/example/toxproject/actions/runs/7000001")
    );
    // rerun-flakes needs API mode; workflows and max-run-attempt act in it (tests/api.rs).
    let out = Step::new()
        .input("tox-log", "results/job.log")
        .input("rerun-flakes", "true")
        .run();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs API mode"));
    let out = Step::new()
        .input("tox-log", "results/job.log")
        .input("fail-on", "sometimes")
        .run();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn no_input_at_all_is_a_clear_error() {
    let out = Step::new().run();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("inputs tox-log, junit"));
}

#[test]
fn annotations_are_capped_and_escaped() {
    let step = Step::new()
        .input("tox-log", "results/job.log")
        .input("junit", "results/junit");
    let out = String::from_utf8(step.run().stdout).unwrap();
    let errors = out.lines().filter(|l| l.starts_with("::error ")).count();
    let warnings = out.lines().filter(|l| l.starts_with("::warning ")).count();
    assert!((1..=10).contains(&errors), "{errors} errors");
    assert!(warnings <= 10);
    // Commands we emit are the only lines starting with `::`.
    for line in out.lines().filter(|l| l.starts_with("::")) {
        let cmd = line.split([' ', ':']).nth(2).unwrap_or("");
        assert!(
            ["error", "warning", "group", "endgroup"].contains(&cmd),
            "unexpected workflow command: {line}"
        );
    }
}

#[test]
fn oversized_summary_stays_under_one_mib_and_still_names_failing_targets() {
    // 3000 failing targets with long messages: far more than 1 MiB of markdown.
    let step = Step::new();
    let dir = step.workspace().join("big");
    fs::create_dir_all(&dir).unwrap();
    let long = "x".repeat(900);
    for i in 0..3000 {
        let xml = format!(
            r#"<testsuites><testsuite name="py3.12-suite{i}-v1.0"><testcase classname="tests.test_big" name="test_{i}"><failure message="AssertionError: {long}">{long}</failure></testcase></testsuite></testsuites>"#
        );
        fs::write(dir.join(format!(".junitxml-py3.12-suite{i}-v1.0")), xml).unwrap();
    }
    let step = step.input("junit", "big");
    let out = step.run();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = step.file("GITHUB_STEP_SUMMARY");
    assert!(summary.len() < 1024 * 1024, "{} bytes", summary.len());
    assert!(summary.starts_with("## 🔴 tox-triage: 3000 of 3000 targets failed"));
    assert!(summary.contains("<code>py3.12-suite0-v1.0</code>"));
    assert!(summary.contains("cut to stay under GitHub's 1 MiB limit"));
    assert!(summary.contains("tox-triage-report.json"));
}
