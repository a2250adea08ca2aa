//! API mode against a local mock GitHub (wiremock) serving real payload shapes
//! (tests/fixtures/github-api) and real job logs (tests/fixtures/github-job):
//! which requests are made, where the token goes, and when jobs are rerun.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
use tox_triage::actions::rerun::RerunOptions;
use tox_triage::analyze::{AnalyzeInput, analyze};
use tox_triage::analyze_api::{ApiInput, Selector};
use tox_triage::inputs::http::HttpConfig;
use tox_triage::model::{Report, Verdict};
use wiremock::matchers::{header_exists, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const TOKEN: &str = "ghs_api_mode_secret_token";
const REPO: &str = "/repos/example/toxproject";
/// Failed jobs in jobs.7000001.page*.json.
const FLAKY_JOB: u64 = 80000037; // DBs (3.9, ...): its log has only flakes
const REGRESSION_JOB: u64 = 80000073; // DBs (3.12, ...): its log has a regression
const EXPIRED_JOB: u64 = 80000109; // DBs (3.14t, ...): its log is gone
const CANCELLED_JOB: u64 = 80000096; // Test / AI (3.13, ...): cancelled; first signed URL expired

fn fixture(name: &str) -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(format!("tests/fixtures/github-api/{name}")).unwrap(),
    )
    .unwrap()
}

fn log(name: &str) -> Vec<u8> {
    std::fs::read(format!("tests/fixtures/github-job/{name}")).unwrap()
}

/// A mock GitHub API and a separate host for the signed log URLs.
struct Mock2 {
    api: MockServer,
    blobs: MockServer,
}

async fn github(run_attempt: u64) -> Mock2 {
    let api = MockServer::start().await;
    let blobs = MockServer::start().await;
    let mut run = fixture("run.7000001.json");
    run["run_attempt"] = run_attempt.into();
    for id in [7000001u64, 7000021] {
        let mut run = run.clone();
        if id == 7000021 {
            // The fork's run (event.workflow_run.completed.fork.json).
            run["id"] = id.into();
            run["head_sha"] = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d".into();
        }
        Mock::given(method("GET"))
            .and(path(format!("{REPO}/actions/runs/{id}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(run))
            .mount(&api)
            .await;
        for page in ["1", "2"] {
            let mut jobs = fixture(&format!("jobs.7000001.page{page}.json"));
            for j in jobs["jobs"].as_array_mut().unwrap() {
                j["run_attempt"] = run_attempt.into();
            }
            Mock::given(method("GET"))
                .and(path(format!("{REPO}/actions/runs/{id}/jobs")))
                .and(query_param("page", page))
                .respond_with(ResponseTemplate::new(200).set_body_json(jobs))
                .mount(&api)
                .await;
        }
    }
    Mock::given(method("GET"))
        .and(path(format!(
            "{REPO}/commits/4f1c3d2e9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e/pulls"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(Value::Array(vec![])))
        .mount(&api)
        .await;
    Mock::given(method("GET"))
        .and(path(format!(
            "{REPO}/commits/9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d/pulls"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("pulls.for-commit.json")))
        .mount(&api)
        .await;
    // Logs: the API redirects to a signed URL on another host.
    for (job, file) in [
        (FLAKY_JOB, "job-flakes.log"),
        (REGRESSION_JOB, "job-regression.log"),
        (CANCELLED_JOB, "job-regression.log"),
    ] {
        Mock::given(method("GET"))
            .and(path(format!("{REPO}/actions/jobs/{job}/logs")))
            .respond_with(ResponseTemplate::new(302).insert_header(
                "location",
                format!("{}/logs/{job}?sig=abc&se=2026-11-23", blobs.uri()).as_str(),
            ))
            .mount(&api)
            .await;
        Mock::given(method("GET"))
            .and(path(format!("/logs/{job}")))
            .respond_with(ResponseTemplate::new(200).set_body_bytes(log(file)))
            .mount(&blobs)
            .await;
    }
    Mock::given(method("GET"))
        .and(path(format!("{REPO}/actions/jobs/{EXPIRED_JOB}/logs")))
        .respond_with(
            ResponseTemplate::new(410).set_body_json(serde_json::json!({"message": "Gone"})),
        )
        .mount(&api)
        .await;
    Mock2 { api, blobs }
}

/// The first signed URL for the cancelled job has expired (403 from the blob host).
async fn expire_first_signed_url(m: &Mock2) {
    Mock::given(method("GET"))
        .and(path(format!("/logs/{CANCELLED_JOB}")))
        .respond_with(ResponseTemplate::new(403).set_body_string(
            "AuthenticationFailed: Signature not valid in the specified time frame",
        ))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&m.blobs)
        .await;
}

fn config(m: &Mock2) -> HttpConfig {
    HttpConfig {
        github_api: m.api.uri(),
        pypi: "http://127.0.0.1:9".into(),
        token: Some(TOKEN.into()),
        timeout: Duration::from_secs(5),
        attempts: 3,
        backoff: Duration::from_millis(10),
        max_wait: Duration::from_secs(2),
    }
}

/// API mode on run 7000001 (or `selector`) of the mock repository.
fn api_mode(selector: Selector, http: HttpConfig) -> ApiInput {
    ApiInput {
        repo: "example/toxproject".into(),
        selector,
        workflows: "Test*".into(),
        wait: None,
        concurrency: 8,
        artifacts: None,
        http,
    }
}

async fn triage(m: &Mock2, selector: Selector, rerun: Option<RerunOptions>) -> Report {
    let input = AnalyzeInput {
        api: Some(api_mode(selector, config(m))),
        tox_ini: Some(PathBuf::from("tests/toxproject/tox.ini")),
        base_tox_ini: Some(PathBuf::from("tests/toxproject/tox.base.ini")),
        rerun,
        ..Default::default()
    };
    tokio::task::spawn_blocking(move || analyze(&input).unwrap())
        .await
        .unwrap()
}

fn rerun_opts() -> Option<RerunOptions> {
    Some(RerunOptions {
        dry_run: false,
        max_run_attempt: 2,
        wait: None,
    })
}

async fn mount_rerun(m: &Mock2, job: u64, status: u16) {
    Mock::given(method("POST"))
        .and(path(format!("{REPO}/actions/jobs/{job}/rerun")))
        .respond_with(ResponseTemplate::new(status))
        .mount(&m.api)
        .await;
}

fn requests_to<'a>(reqs: &'a [Request], method_name: &str, suffix: &str) -> Vec<&'a Request> {
    reqs.iter()
        .filter(|r| r.method.as_str() == method_name && r.url.path().ends_with(suffix))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_whole_run_is_fetched_paginated_and_the_token_stays_on_the_api() {
    let m = github(1).await;
    expire_first_signed_url(&m).await;
    let r = triage(&m, Selector::RunId(7000001), None).await;

    let api = m.api.received_requests().await.unwrap();
    // Both pages of jobs.
    let pages: Vec<String> = requests_to(&api, "GET", "/actions/runs/7000001/jobs")
        .iter()
        .map(|r| r.url.query().unwrap_or("").to_owned())
        .collect();
    assert_eq!(pages, vec!["per_page=100&page=1", "per_page=100&page=2"]);
    // Logs only for the failed and cancelled jobs; the expired signed URL was asked for again.
    assert_eq!(
        requests_to(&api, "GET", &format!("/jobs/{FLAKY_JOB}/logs")).len(),
        1
    );
    assert_eq!(
        requests_to(&api, "GET", &format!("/jobs/{CANCELLED_JOB}/logs")).len(),
        2
    );
    assert_eq!(requests_to(&api, "GET", "/logs").len(), 5);
    for req in &api {
        assert_eq!(
            req.headers.get("authorization").unwrap(),
            &format!("Bearer {TOKEN}"),
            "{}",
            req.url
        );
    }
    for req in m.blobs.received_requests().await.unwrap() {
        assert!(
            !req.headers.contains_key("authorization"),
            "token sent to the log host: {}",
            req.url
        );
    }

    // The report: targets from both jobs, with their jobs attached.
    let t = r
        .targets
        .iter()
        .find(|t| t.name.as_str() == "py3.11-netflake")
        .unwrap();
    assert_eq!(t.jobs[0].id, FLAKY_JOB);
    assert_eq!(t.jobs[0].python.as_deref(), Some("3.9"));
    assert_eq!(
        t.jobs[0].url,
        "https://github.com/example/toxproject/actions/runs/7000001/job/80000037"
    );
    assert_eq!(t.findings().verdict, Some(Verdict::SuspectedFlake));
    let reg = r
        .targets
        .iter()
        .find(|t| t.name.as_str() == "py3.12-markupsafe-v2.1.5")
        .unwrap();
    assert_eq!(reg.findings().verdict, Some(Verdict::Regression));
    assert!(reg.jobs.iter().any(|j| j.id == REGRESSION_JOB));
    assert!(
        r.warnings.iter().any(|w| w.file.as_deref()
            == Some(&format!("job {EXPIRED_JOB} DBs (3.14t, ubuntu-22.04)")[..])
            && w.message.contains("no longer available")),
        "{:?}",
        r.warnings
    );
    assert_eq!(r.runs.len(), 1);
    assert_eq!(r.runs[0].attempt, 1);
    assert!(r.reruns.is_empty(), "no rerun unless asked");
}

#[tokio::test(flavor = "multi_thread")]
async fn only_jobs_whose_failures_are_all_flakes_are_rerun_once() {
    let m = github(1).await;
    mount_rerun(&m, FLAKY_JOB, 201).await;
    mount_rerun(&m, REGRESSION_JOB, 201).await;
    let r = triage(&m, Selector::RunId(7000001), rerun_opts()).await;
    let api = m.api.received_requests().await.unwrap();
    let posts: Vec<String> = api
        .iter()
        .filter(|r| r.method.as_str() == "POST")
        .map(|r| r.url.path().to_owned())
        .collect();
    assert_eq!(
        posts,
        vec![format!("{REPO}/actions/jobs/{FLAKY_JOB}/rerun")],
        "one POST, for the flaky job only"
    );
    let by_job = |id: u64| r.reruns.iter().find(|x| x.job_id == id).unwrap();
    assert_eq!(by_job(FLAKY_JOB).action, "rerun");
    assert_eq!(by_job(REGRESSION_JOB).action, "refused");
    assert!(
        by_job(REGRESSION_JOB).reason.contains("regression"),
        "{}",
        by_job(REGRESSION_JOB).reason
    );
    assert_eq!(by_job(EXPIRED_JOB).action, "refused");
}

#[tokio::test(flavor = "multi_thread")]
async fn no_rerun_once_the_attempt_limit_is_reached() {
    let m = github(2).await;
    mount_rerun(&m, FLAKY_JOB, 201).await;
    let r = triage(&m, Selector::RunId(7000001), rerun_opts()).await;
    let api = m.api.received_requests().await.unwrap();
    assert!(api.iter().all(|r| r.method.as_str() != "POST"));
    let flaky = r.reruns.iter().find(|x| x.job_id == FLAKY_JOB).unwrap();
    assert_eq!(flaky.action, "refused");
    assert!(
        flaky.reason.contains("attempt 2 and the limit is 2"),
        "{}",
        flaky.reason
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_plans_and_posts_nothing() {
    let m = github(1).await;
    let r = triage(
        &m,
        Selector::RunId(7000001),
        Some(RerunOptions {
            dry_run: true,
            max_run_attempt: 2,
            wait: None,
        }),
    )
    .await;
    assert!(
        m.api
            .received_requests()
            .await
            .unwrap()
            .iter()
            .all(|r| r.method.as_str() != "POST")
    );
    assert_eq!(
        r.reruns
            .iter()
            .find(|x| x.job_id == FLAKY_JOB)
            .unwrap()
            .action,
        "planned"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_403_on_rerun_names_the_permission_and_is_not_retried() {
    let m = github(1).await;
    mount_rerun(&m, FLAKY_JOB, 403).await;
    let r = triage(&m, Selector::RunId(7000001), rerun_opts()).await;
    let api = m.api.received_requests().await.unwrap();
    assert_eq!(requests_to(&api, "POST", "/rerun").len(), 1);
    let flaky = r.reruns.iter().find(|x| x.job_id == FLAKY_JOB).unwrap();
    assert_eq!(flaky.action, "failed");
    assert!(
        flaky.reason.contains("permissions: actions: write"),
        "{}",
        flaky.reason
    );
    assert!(!flaky.reason.contains(TOKEN));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_5xx_on_rerun_reads_the_run_state_instead_of_posting_again() {
    let m = github(1).await;
    mount_rerun(&m, FLAKY_JOB, 502).await;
    let r = triage(&m, Selector::RunId(7000001), rerun_opts()).await;
    let api = m.api.received_requests().await.unwrap();
    assert_eq!(
        requests_to(&api, "POST", "/rerun").len(),
        1,
        "a POST is never retried"
    );
    let flaky = r.reruns.iter().find(|x| x.job_id == FLAKY_JOB).unwrap();
    // The mock run is still `completed`: the rerun did not take effect.
    assert_eq!(flaky.action, "failed");
    assert!(
        flaky.reason.contains("502") && flaky.reason.contains("not retried"),
        "{}",
        flaky.reason
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn gets_are_retried_on_500_and_on_429_with_retry_after() {
    let m = github(1).await;
    Mock::given(method("GET"))
        .and(path(format!("{REPO}/actions/runs/7000001/jobs")))
        .and(query_param("page", "1"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&m.api)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{REPO}/actions/runs/7000001")))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&m.api)
        .await;
    let start = std::time::Instant::now();
    let r = triage(&m, Selector::RunId(7000001), None).await;
    assert!(
        start.elapsed() >= Duration::from_secs(1),
        "Retry-After honoured"
    );
    assert!(
        r.targets
            .iter()
            .any(|t| t.name.as_str() == "py3.11-netflake")
    );
    let api = m.api.received_requests().await.unwrap();
    assert_eq!(requests_to(&api, "GET", "/actions/runs/7000001").len(), 2);
    assert_eq!(
        requests_to(&api, "GET", "/actions/runs/7000001/jobs")
            .iter()
            .filter(|r| r.url.query() == Some("per_page=100&page=1"))
            .count(),
        2
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_read_permission_is_named() {
    let m = github(1).await;
    let api = MockServer::start().await;
    Mock::given(header_exists("authorization"))
        .respond_with(ResponseTemplate::new(403).set_body_json(fixture("error.403.json")))
        .mount(&api)
        .await;
    let m2 = Mock2 {
        api,
        blobs: m.blobs,
    };
    let input = AnalyzeInput {
        api: Some(api_mode(Selector::RunId(7000001), config(&m2))),
        ..Default::default()
    };
    let err = tokio::task::spawn_blocking(move || analyze(&input).unwrap_err())
        .await
        .unwrap();
    let msg = err.to_string();
    assert!(
        msg.contains("403") && msg.contains("actions: read"),
        "{msg}"
    );
    assert!(!msg.contains(TOKEN));
}

/// End to end: the binary, a `workflow_run` event from a fork (empty
/// `pull_requests`), step outputs, and the rerun call.
#[tokio::test(flavor = "multi_thread")]
async fn fork_workflow_run_event_end_to_end() {
    let m = github(1).await;
    mount_rerun(&m, FLAKY_JOB, 201).await;
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("output");
    std::fs::write(&output, "").unwrap();
    let uri = m.api.uri();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_tox-triage"))
            .arg("analyze")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_REPOSITORY", "example/toxproject")
            .env("GITHUB_API_URL", uri)
            .env("GITHUB_EVENT_NAME", "workflow_run")
            .env(
                "GITHUB_EVENT_PATH",
                "tests/fixtures/github-api/event.workflow_run.completed.fork.json",
            )
            .env("GITHUB_OUTPUT", &output)
            .env("INPUT_GITHUB-TOKEN", TOKEN)
            .env("INPUT_RERUN-FLAKES", "true")
            .env("INPUT_TOX-INI", "tests/toxproject/tox.ini")
            .env("INPUT_FORENSICS", "false")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stdout.contains(TOKEN) && !stderr.contains(TOKEN));
    assert!(
        stdout.contains(&format!("rerun rerun: job {FLAKY_JOB}")),
        "{stdout}"
    );
    let api = m.api.received_requests().await.unwrap();
    // The fork's PR was found by its head commit.
    assert_eq!(
        requests_to(
            &api,
            "GET",
            "/commits/9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d/pulls"
        )
        .len(),
        1
    );
    assert_eq!(requests_to(&api, "GET", "/actions/runs/7000021").len(), 1);
    assert_eq!(requests_to(&api, "POST", "/rerun").len(), 1);
    let outputs = std::fs::read_to_string(dir.path().join("output")).unwrap();
    let value = |name: &str| {
        let start = outputs.find(&format!("{name}<<")).unwrap();
        outputs[start..].lines().nth(1).unwrap().to_owned()
    };
    assert_eq!(value("rerun-jobs"), format!("[{FLAKY_JOB}]"));
    assert!(value("suspected-flakes").contains("py3.11-netflake"));
    assert!(value("regressions").contains("py3.12-markupsafe-v2.1.5"));
}

#[tokio::test(flavor = "multi_thread")]
async fn wait_rerun_reports_whether_the_flake_cleared() {
    let m = github(1).await;
    mount_rerun(&m, FLAKY_JOB, 201).await;
    let page1 = fixture("jobs.7000001.page1.json");
    Mock::given(method("GET"))
        .and(path(format!("{REPO}/actions/runs/7000001/jobs")))
        .and(query_param("page", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page1.clone()))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&m.api)
        .await;
    // After the rerun, the job passed.
    let mut after = page1;
    for j in after["jobs"].as_array_mut().unwrap() {
        if j["id"] == FLAKY_JOB {
            j["conclusion"] = "success".into();
        }
    }
    Mock::given(method("GET"))
        .and(path(format!("{REPO}/actions/runs/7000001/jobs")))
        .and(query_param("page", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(after))
        .with_priority(2)
        .mount(&m.api)
        .await;
    let opts = RerunOptions {
        dry_run: false,
        max_run_attempt: 2,
        wait: Some((Duration::from_millis(10), Duration::from_secs(5))),
    };
    let r = triage(&m, Selector::RunId(7000001), Some(opts)).await;
    let flaky = r.reruns.iter().find(|x| x.job_id == FLAKY_JOB).unwrap();
    assert_eq!(
        (flaky.action.as_str(), flaky.cleared),
        ("rerun", Some(true))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn wait_polls_until_the_run_completes() {
    let m = github(1).await;
    Mock::given(method("GET"))
        .and(path(format!("{REPO}/actions/runs/7000001")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(fixture("run.7000001.in-progress.json")),
        )
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&m.api)
        .await;
    let input = AnalyzeInput {
        api: Some(ApiInput {
            wait: Some(tox_triage::analyze_api::Wait {
                interval: Duration::from_millis(20),
                timeout: Duration::from_secs(10),
            }),
            ..api_mode(Selector::RunId(7000001), config(&m))
        }),
        ..Default::default()
    };
    let r = tokio::task::spawn_blocking(move || analyze(&input).unwrap())
        .await
        .unwrap();
    assert_eq!(r.runs[0].status, "completed");
    let api = m.api.received_requests().await.unwrap();
    assert_eq!(
        requests_to(&api, "GET", "/actions/runs/7000001").len(),
        3,
        "in progress twice, then completed"
    );
    assert!(
        r.warnings
            .iter()
            .all(|w| !w.message.contains("in_progress"))
    );
}

async fn triage_with(config: HttpConfig, artifacts: Option<&str>) -> Report {
    let input = AnalyzeInput {
        api: Some(ApiInput {
            artifacts: artifacts.map(str::to_owned),
            ..api_mode(Selector::RunId(7000001), config)
        }),
        ..Default::default()
    };
    tokio::task::spawn_blocking(move || analyze(&input).unwrap())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_log_that_times_out_is_a_warning_and_the_rest_is_reported() {
    let m = github(1).await;
    Mock::given(method("GET"))
        .and(path(format!("/logs/{FLAKY_JOB}")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_bytes(log("job-flakes.log"))
                .set_delay(Duration::from_secs(3)),
        )
        .with_priority(1)
        .mount(&m.blobs)
        .await;
    let mut config = config(&m);
    config.timeout = Duration::from_millis(500);
    config.attempts = 1;
    let r = triage_with(config, None).await;
    assert!(
        r.warnings
            .iter()
            .any(|w| w.message.contains("log not downloaded") && w.message.contains("timed out")),
        "{:?}",
        r.warnings
    );
    assert!(
        r.targets
            .iter()
            .any(|t| t.name.as_str() == "py3.12-markupsafe-v2.1.5"),
        "the other logs are reported"
    );
}

fn zip_with(name: &str, content: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        z.start_file(name, opts).unwrap();
        z.write_all(content).unwrap();
        z.start_file("../../evil/.junitxml-py3.12-evil", opts)
            .unwrap();
        z.write_all(
            br#"<testsuite name="py3.12-evil"><testcase classname="t" name="x"/></testsuite>"#,
        )
        .unwrap();
        z.finish().unwrap();
    }
    buf.into_inner()
}

async fn mount_artifacts(m: &Mock2, zip_bytes: Vec<u8>) {
    let mut list = fixture("artifacts.7000001.json");
    for a in list["artifacts"].as_array_mut().unwrap() {
        let id = a["id"].as_u64().unwrap();
        a["archive_download_url"] =
            format!("{}{REPO}/actions/artifacts/{id}/zip", m.api.uri()).into();
        Mock::given(method("GET"))
            .and(path(format!("{REPO}/actions/artifacts/{id}/zip")))
            .respond_with(ResponseTemplate::new(302).insert_header(
                "location",
                format!("{}/zip/{id}?sig=x", m.blobs.uri()).as_str(),
            ))
            .mount(&m.api)
            .await;
        Mock::given(method("GET"))
            .and(path(format!("/zip/{id}")))
            .respond_with(ResponseTemplate::new(200).set_body_bytes(zip_bytes.clone()))
            .mount(&m.blobs)
            .await;
    }
    Mock::given(method("GET"))
        .and(path(format!("{REPO}/actions/runs/7000001/artifacts")))
        .respond_with(ResponseTemplate::new(200).set_body_json(list))
        .mount(&m.api)
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn junit_files_inside_artifacts_are_read_in_place() {
    let m = github(1).await;
    let junit =
        std::fs::read("tests/fixtures/tox4-job-flakes/junit/.junitxml-py3.11-netflake").unwrap();
    mount_artifacts(&m, zip_with("junit/.junitxml-py3.11-netflake", &junit)).await;
    let r = triage_with(config(&m), Some("junit-*")).await;
    let t = r
        .targets
        .iter()
        .find(|t| t.name.as_str() == "py3.11-netflake")
        .unwrap();
    assert_eq!(t.junit_files.len(), 1, "{:?}", t.junit_files);
    assert!(t.junit_files[0].starts_with("artifact junit-py3.12/"));
    assert!(
        !t.findings().failures[0].details.is_empty(),
        "the traceback came from the JUnit file"
    );
    // An entry named with `..` is read like any other and never written to disk.
    assert!(!std::path::Path::new("../evil").exists());
    for req in m.blobs.received_requests().await.unwrap() {
        assert!(!req.headers.contains_key("authorization"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_truncated_artifact_zip_is_a_warning() {
    let m = github(1).await;
    let mut z = zip_with("junit/.junitxml-py3.11-netflake", b"<testsuite/>");
    z.truncate(z.len() / 2);
    mount_artifacts(&m, z).await;
    let r = triage_with(config(&m), Some("*")).await;
    assert!(
        r.warnings
            .iter()
            .any(|w| w.message.contains("not a readable zip")),
        "{:?}",
        r.warnings
    );
    assert!(
        r.targets
            .iter()
            .any(|t| t.name.as_str() == "py3.11-netflake"),
        "the logs are still reported"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_connection_reset_mid_log_is_a_warning() {
    use std::io::{Read, Write};
    let m = github(1).await;
    // A log host that promises 100000 bytes, sends a few, and hangs up.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(4) {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\n2026-11-20T10:11:12.1Z py3.11-netflake: commands[0]> pytest\n");
            let _ = s.flush();
        }
    });
    Mock::given(method("GET"))
        .and(path(format!("{REPO}/actions/jobs/{FLAKY_JOB}/logs")))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("location", format!("http://{addr}/log").as_str()),
        )
        .with_priority(1)
        .mount(&m.api)
        .await;
    let r = triage_with(config(&m), None).await;
    assert!(
        r.warnings.iter().any(|w| w
            .file
            .as_deref()
            .is_some_and(|f| f.contains(&FLAKY_JOB.to_string()))
            && w.message.contains("cut off")),
        "{:?}",
        r.warnings
    );
    assert!(
        r.targets
            .iter()
            .any(|t| t.name.as_str() == "py3.12-markupsafe-v2.1.5")
    );
}
