//! Verdicts on real inputs: sentry-python's toxgen pull requests, the real
//! tox project's regression / network flake / crash, and the failure-category
//! table on real pytest failures.

use std::fs::File;
use std::path::PathBuf;

mod common;

use tox_triage::analysis::verdict::added_suite_versions;
use tox_triage::analyze::{AnalyzeInput, analyze};
use tox_triage::inputs::toxini::ToxIni;
use tox_triage::model::{Category, Report, Target, TargetStatus, Verdict};
use tox_triage::outputs::{json, markdown};

fn ini(path: &str) -> ToxIni {
    ToxIni::parse(File::open(path).unwrap(), path).unwrap()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(s, v)| ((*s).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn toxgen_pr_6100_added_exactly_these_versions() {
    let added = added_suite_versions(
        &ini("tests/fixtures/sentry-python/tox.after-6100.ini"),
        &ini("tests/fixtures/sentry-python/tox.before-6100.ini"),
    );
    // Read off `diff tox.before-6100.ini tox.after-6100.ini` (the envlist lines it changes).
    let want = pairs(&[
        ("anthropic", "0.43.1"),
        ("anthropic", "0.70.0"),
        ("anthropic", "0.96.0"),
        ("arq", "0.28.0"),
        ("beam", "2.73.0rc1"),
        ("boto3", "1.42.91"),
        ("fastapi", "0.136.0"),
        ("fastmcp", "3.2.4"),
        ("google_genai", "1.44.0"),
        ("google_genai", "1.59.0"),
        ("google_genai", "1.73.1"),
        ("huey", "3.0.0"),
        ("huggingface_hub", "1.11.0"),
        ("langgraph", "1.1.8"),
        ("launchdarkly", "9.15.1"),
        ("litellm", "1.83.10"),
        ("openai-base", "2.32.0"),
        ("openai-notiktoken", "2.32.0"),
        ("openai_agents", "0.10.5"),
        ("openai_agents", "0.14.2"),
        ("openai_agents", "0.5.1"),
        ("pydantic_ai", "1.28.0"),
        ("pydantic_ai", "1.57.0"),
        ("pydantic_ai", "1.84.1"),
        ("pyreqwest", "0.11.7"),
        ("ray", "2.55.0"),
        ("redis", "8.0.0b2"),
        ("rq", "2.8.0"),
        ("sqlalchemy", "2.1.0b2"),
        ("trytond", "7.8.7"),
    ]);
    assert_eq!(added.into_iter().collect::<Vec<_>>(), want);
}

#[test]
fn toxgen_pr_7142_added_exactly_these_versions() {
    let added = added_suite_versions(
        &ini("tests/fixtures/sentry-python/tox.after-7142.ini"),
        &ini("tests/fixtures/sentry-python/tox.before-7142.ini"),
    );
    let want = pairs(&[
        ("anthropic", "0.121.0"),
        ("boto3", "1.43.67"),
        ("fastmcp", "3.4.6"),
        ("fastmcp", "4.0.0b2"),
        ("google_genai", "2.17.0"),
        ("httpx2", "2.10.0"),
        ("huey", "3.3.4"),
        ("huggingface_hub", "1.27.0"),
        ("openai_agents", "0.19.4"),
        ("pydantic_ai", "1.107.2"),
        ("pydantic_ai", "2.27.0"),
        ("pyreqwest", "0.12.3"),
        ("starlette", "1.6.0"),
        ("tornado", "6.5.8"),
        ("trytond", "7.8.14"),
        ("trytond", "8.0.8"),
    ]);
    assert_eq!(added.into_iter().collect::<Vec<_>>(), want);
}

#[test]
fn sentry_deps_name_the_package_of_each_suite_version() {
    let head = ini("tests/fixtures/sentry-python/tox.after-6100.ini");
    let pkg = |n: &str| head.package_for(&tox_triage::model::TargetName::parse(n));
    assert_eq!(
        pkg("py3.13-openai_agents-v0.14.2"),
        Some(("openai-agents".into(), Some("0.14.2".into())))
    );
    assert_eq!(
        pkg("py3.13-openai-base-v2.32.0"),
        Some(("openai".into(), Some("2.32.0".into())))
    );
    assert_eq!(
        pkg("py3.12-redis-v8.0.0b2"),
        Some(("redis".into(), Some("8.0.0b2".into())))
    );
}

fn project_report() -> Report {
    analyze(&AnalyzeInput {
        logs: vec!["tests/fixtures/tox4-sequential/tox.log".into()],
        junit: vec!["tests/fixtures/tox4-sequential/junit".into()],
        tox_ini: Some(PathBuf::from("tests/toxproject/tox.ini")),
        base_tox_ini: Some(PathBuf::from("tests/toxproject/tox.base.ini")),
        ..Default::default()
    })
    .unwrap()
}

fn target<'a>(r: &'a Report, name: &str) -> &'a Target {
    r.targets
        .iter()
        .find(|t| t.name.as_str() == name)
        .unwrap_or_else(|| panic!("{name}"))
}

#[test]
fn newly_added_version_failing_on_two_pythons_is_a_regression() {
    let r = project_report();
    for name in ["py3.11-markupsafe-v2.1.5", "py3.12-markupsafe-v2.1.5"] {
        let t = target(&r, name);
        assert_eq!(
            t.findings().verdict,
            Some(Verdict::Regression),
            "{name}: {:?}",
            t.findings().signals
        );
        assert_eq!(t.facts.newly_added, Some(true));
        assert_eq!(*t.facts.failed_on_pythons, ["3.11", "3.12"]);
        assert!(t.facts.passed_on_pythons.is_empty());
        assert_eq!(t.facts.last_working_version.as_deref(), Some("2.0.1"));
        assert_eq!(t.facts.package(), Some("markupsafe"));
        assert_eq!(t.facts.pinned(), Some("2.1.5"));
        assert_eq!(t.findings().failures[0].category, Category::DependencyApi);
        assert!(
            t.findings()
                .signals
                .iter()
                .any(|s| s == "markupsafe 2.1.5 was newly added to tox.ini by this change")
        );
        let urls: Vec<&str> = t.findings().links.iter().map(|l| l.url.as_str()).collect();
        assert_eq!(
            urls,
            vec![
                "https://pypi.org/project/markupsafe/2.1.5/",
                "https://pypi.org/project/markupsafe/2.0.1/"
            ]
        );
    }
    let old = target(&r, "py3.12-markupsafe-v2.0.1");
    assert_eq!(
        (old.status, old.findings().verdict, old.facts.newly_added),
        (TargetStatus::Pass, None, Some(false))
    );
}

#[test]
fn network_failure_on_one_python_is_a_suspected_flake() {
    let r = project_report();
    let t = target(&r, "py3.11-netflake");
    assert_eq!(
        t.findings().verdict,
        Some(Verdict::SuspectedFlake),
        "{:?}",
        t.findings().signals
    );
    assert_eq!(t.findings().failures[0].category, Category::Network);
    assert_eq!(
        t.findings().failures[0].evidence.as_deref(),
        Some("ConnectionRefusedError: [Errno 111] Connection refused")
    );
    assert_eq!(
        (
            t.facts.failed_on_pythons.as_slice(),
            t.facts.passed_on_pythons.as_slice()
        ),
        (&["3.11".to_owned()][..], &["3.12".to_owned()][..])
    );
    assert!(t.findings().signals.contains(&"rerun candidate".into()));
}

#[test]
fn crash_on_a_version_that_is_not_new_is_a_suspected_flake() {
    let r = project_report();
    let t = target(&r, "py3.12-xdist-v3.6.1");
    assert_eq!(
        t.findings().verdict,
        Some(Verdict::SuspectedFlake),
        "{:?}",
        t.findings().signals
    );
    assert_eq!(t.facts.newly_added, Some(false));
    assert_eq!(t.findings().failures[0].category, Category::WorkerCrash);
}

#[test]
fn the_same_failure_on_every_python_is_never_a_flake() {
    let r = project_report();
    let t = target(&r, "py3.11-rerun");
    assert_eq!(t.findings().verdict, Some(Verdict::Regression));
    assert!(
        t.findings().signals[0].contains("fails on 3.11 and 3.12"),
        "{:?}",
        t.findings().signals
    );
}

#[test]
fn single_python_failures_without_comparison_are_undetermined() {
    let r = project_report();
    let t = target(&r, "py3.12-missing");
    assert_eq!(t.findings().verdict, Some(Verdict::Undetermined));
    assert!(
        t.findings()
            .signals
            .iter()
            .any(|s| s.starts_with("filesystem")),
        "{:?}",
        t.findings().signals
    );
}

#[test]
fn regressions_and_flakes_are_listed_in_the_report() {
    let r = project_report();
    assert_eq!(
        r.with_verdict(Verdict::Regression),
        vec![
            "py3.11-markupsafe-v2.1.5",
            "py3.11-rerun",
            "py3.12-markupsafe-v2.1.5",
            "py3.12-rerun"
        ]
    );
    assert_eq!(
        r.with_verdict(Verdict::SuspectedFlake),
        vec!["py3.11-netflake", "py3.12-xdist-v3.6.1"]
    );
    let v: serde_json::Value = serde_json::from_str(&json::to_json(&r)).unwrap();
    assert_eq!(
        v["suspected_flakes"],
        serde_json::json!(["py3.11-netflake", "py3.12-xdist-v3.6.1"])
    );
}

#[test]
fn base_tox_ini_from_git() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    let git = |args: &[&str]| common::git(repo, args);
    common::git_init(repo);
    std::fs::copy("tests/toxproject/tox.base.ini", repo.join("tox.ini")).unwrap();
    git(&["add", "tox.ini"]);
    git(&["commit", "-q", "-m", "base"]);
    std::fs::copy("tests/toxproject/tox.ini", repo.join("tox.ini")).unwrap();
    git(&["commit", "-q", "-am", "toxgen: add markupsafe 2.1.5"]);
    let r = analyze(&AnalyzeInput {
        logs: vec!["tests/fixtures/tox4-sequential/tox.log".into()],
        tox_ini: Some(repo.join("tox.ini")),
        base_ref: Some("HEAD~1".into()),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(
        target(&r, "py3.12-markupsafe-v2.1.5").facts.newly_added,
        Some(true)
    );
    assert_eq!(target(&r, "py3.11-netflake").facts.newly_added, Some(false));

    // A revision git does not know is a warning, not a failure.
    let r = analyze(&AnalyzeInput {
        logs: vec!["tests/fixtures/tox4-sequential/tox.log".into()],
        tox_ini: Some(repo.join("tox.ini")),
        base_ref: Some("0123456789abcdef0123456789abcdef01234567".into()),
        ..Default::default()
    })
    .unwrap();
    assert!(
        r.warnings
            .iter()
            .any(|w| w.message.contains("cannot read the base tox.ini")),
        "{:?}",
        r.warnings
    );
    assert_eq!(
        target(&r, "py3.12-markupsafe-v2.1.5").facts.newly_added,
        None
    );
}

#[test]
fn known_flaky_config_makes_a_suspected_flake() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("tox-triage.yml");
    std::fs::write(&cfg, "known-flaky:\n  - test: \"tests/test_empty*\"\n    reason: x\n  - suite: missing\n    reason: the file is generated by a later step\n").unwrap();
    let r = analyze(&AnalyzeInput {
        logs: vec!["tests/fixtures/tox4-sequential/tox.log".into()],
        config: Some(cfg),
        ..Default::default()
    })
    .unwrap();
    let t = target(&r, "py3.12-missing");
    assert_eq!(t.findings().verdict, Some(Verdict::SuspectedFlake));
    assert_eq!(
        t.findings().signals[0],
        "known flaky (.github/tox-triage.yml): the file is generated by a later step"
    );
}

/// Every row of the category table, on the real pytest failures of tests/categories.
#[test]
fn category_table_on_real_failures() {
    let dir = "tests/fixtures/categories";
    let r = analyze(&AnalyzeInput {
        junit: vec![
            format!("{dir}/main/junit.xml"),
            format!("{dir}/xdist/junit.xml"),
        ],
        // The order-or-state test run alone, for the same target as the full run.
        junit_for: vec![(
            "py3.12-categories".into(),
            format!("{dir}/order-alone/junit.xml"),
        )],
        ..Default::default()
    })
    .unwrap();
    let mut checked = 0;
    for t in r.targets.iter().filter(|t| t.status == TargetStatus::Fail) {
        for f in &t.findings().failures {
            let name = f.test.rsplit("::").next().unwrap();
            let want = match name {
                n if n.starts_with("test_network") => Category::Network,
                n if n.starts_with("test_timeout") => Category::Timeout,
                n if n.starts_with("test_resource_killed_by_sigkill") => Category::WorkerCrash,
                n if n.starts_with("test_resource") => Category::Resource,
                n if n.starts_with("test_filesystem") => Category::Filesystem,
                n if n.starts_with("test_worker_crash") => Category::WorkerCrash,
                n if n.starts_with("test_dependency") => Category::DependencyApi,
                n if n.starts_with("test_async") => Category::Async,
                n if n.starts_with("test_database") => Category::Database,
                n if n.starts_with("test_time") || n.starts_with("test_randomness") => {
                    Category::TimeOrRandomness
                }
                n if n.starts_with("test_assertion") => Category::Assertion,
                n if n.starts_with("test_order_state") => Category::OrderOrState,
                other => panic!("no expectation for {other}"),
            };
            assert_eq!(f.category, want, "{}: evidence {:?}", f.test, f.evidence);
            assert!(f.evidence.is_some(), "{}", f.test);
            checked += 1;
        }
    }
    assert_eq!(
        checked, 27,
        "25 failures of the main run and 2 crashed xdist workers"
    );
}

#[test]
fn missing_path_run_is_filesystem() {
    let r = analyze(&AnalyzeInput {
        logs: vec!["tests/fixtures/tox4-sequential/tox.log".into()],
        ..Default::default()
    })
    .unwrap();
    let t = target(&r, "py3.12-missing");
    assert!(
        t.findings()
            .signals
            .iter()
            .any(|s| s.starts_with("filesystem: ERROR: file or directory not found")),
        "{:?}",
        t.findings().signals
    );
}

#[test]
fn snapshot_grouped_summary() {
    let r = project_report();
    insta::assert_snapshot!(
        "verdict_summary.md",
        markdown::render(&r, &Default::default())
    );
}

/// Verdicts on a large matrix are computed on several threads; the report
/// must be the one a single thread computes. The matrix: every target of
/// sentry-python's tox.ini after toxgen PR 6100 and later versions, on six Pythons, failing and
/// passing in a pattern that gives regressions, flakes and undetermined
/// verdicts, with real failure messages of several categories.
#[test]
fn verdicts_do_not_depend_on_the_number_of_threads() {
    use tox_triage::analysis::verdict::{Context, apply_on};
    use tox_triage::model::{Failure, FailureKind, FailureSource, TargetName};
    let head = ini("tests/fixtures/sentry-python/tox.after-6100.ini");
    let base = ini("tests/fixtures/sentry-python/tox.before-6100.ini");
    let messages = [
        "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='pypi.org', port=443): Max retries exceeded",
        "AssertionError: assert 2 == 1",
        "Failed: Timeout >10.0s",
        "ModuleNotFoundError: No module named 'openai.types.responses'",
        "worker 'gw1' crashed while running 'tests/test_basics.py::test_x'",
    ];
    // Each suite+version, and three later versions that are in neither tox.ini.
    let suites: std::collections::BTreeSet<String> = head
        .envlist
        .iter()
        .map(|env| env.split_once('-').map_or(env.as_str(), |(_, r)| r))
        .flat_map(|r| {
            [
                r.to_owned(),
                format!("{r}.1"),
                format!("{r}.2"),
                format!("{r}.3"),
            ]
        })
        .collect();
    let mut targets = Vec::new();
    for (i, rest) in suites.into_iter().enumerate() {
        for (p, py) in ["py3.8", "py3.10", "py3.11", "py3.12", "py3.13", "py3.14t"]
            .iter()
            .enumerate()
        {
            let mut t = Target::new(TargetName::parse(&format!("{py}-{rest}")));
            // A third of the suites fail on one Python, a third on two.
            t.status = match (i % 3, (i + p) % 6) {
                (0, 0) | (1, 0 | 1) => TargetStatus::Fail,
                (_, 5) => TargetStatus::Skipped,
                _ => TargetStatus::Pass,
            };
            if t.status == TargetStatus::Fail {
                t.findings_mut().failures.push(Failure {
                    test: format!("tests/integrations/x/test_{i}.py::test_{p}"),
                    kind: FailureKind::Failure,
                    message: messages[(i + p) % messages.len()].to_owned(),
                    details: String::new(),
                    attempts: 1,
                    source: FailureSource::Log,
                    category: Category::Unknown,
                    evidence: None,
                });
            }
            targets.push(t);
        }
    }
    assert!(
        targets.len() > 4096,
        "{} targets: too few to split",
        targets.len()
    );
    let report = Report {
        targets,
        ..Report::default()
    };
    let ctx = Context {
        head: Some(&head),
        base: Some(&base),
        config: None,
    };
    let mut one = report.clone();
    apply_on(&mut one, &ctx, 1);
    let mut many = report;
    apply_on(&mut many, &ctx, 4);
    assert_eq!(json::to_json(&one), json::to_json(&many));
    // And in the report's order, which was worked out on another thread.
    let mut sorted = many.clone();
    sorted.sort_targets();
    assert_eq!(sorted, many);
    assert_ne!(many.targets[0].status, TargetStatus::Pass);
    let count = |v: Verdict| {
        one.targets
            .iter()
            .filter(|t| t.findings().verdict == Some(v))
            .count()
    };
    assert!(
        count(Verdict::Regression) > 100,
        "{}",
        count(Verdict::Regression)
    );
    assert!(
        count(Verdict::SuspectedFlake) > 100,
        "{}",
        count(Verdict::SuspectedFlake)
    );
    let categories: std::collections::BTreeSet<Category> = one
        .targets
        .iter()
        .flat_map(|t| t.findings().failures.iter().map(|f| f.category))
        .collect();
    assert!(categories.len() >= 4, "{categories:?}");
}
