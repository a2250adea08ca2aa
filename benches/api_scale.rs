//! API mode at scale (issue: "fetching all failed jobs' logs takes no more
//! than 1.5x ceil(jobs / concurrency) x latency"). A local mock GitHub answers
//! every request after 100 ms; a run has 120 jobs, all failed, each with a
//! real job log behind a 302. Prints the wall time, the ideal, and the ratio.
//!
//!     cargo bench --bench api_scale
//!
//! Not a test: it measures and prints; BENCHMARKS.md records the result.

use std::time::{Duration, Instant};

use serde_json::Value;
use tox_triage::analyze::{AnalyzeInput, analyze};
use tox_triage::analyze_api::{ApiInput, Selector};
use tox_triage::inputs::http::HttpConfig;
use wiremock::matchers::{method, path, path_regex, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const LATENCY: Duration = Duration::from_millis(100);
const REPO: &str = "/repos/example/toxproject";

fn fixture(name: &str) -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(format!("tests/fixtures/github-api/{name}")).unwrap(),
    )
    .unwrap()
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let (api, blobs) = rt.block_on(async {
        let api = MockServer::start().await;
        let blobs = MockServer::start().await;
        let delayed = |t: ResponseTemplate| t.set_delay(LATENCY);
        Mock::given(method("GET"))
            .and(path(format!("{REPO}/actions/runs/7000001")))
            .respond_with(delayed(
                ResponseTemplate::new(200).set_body_json(fixture("run.7000001.json")),
            ))
            .mount(&api)
            .await;
        for page in ["1", "2"] {
            let mut jobs = fixture(&format!("jobs.7000001.page{page}.json"));
            for j in jobs["jobs"].as_array_mut().unwrap() {
                j["conclusion"] = "failure".into();
            }
            Mock::given(method("GET"))
                .and(path(format!("{REPO}/actions/runs/7000001/jobs")))
                .and(query_param("page", page))
                .respond_with(delayed(ResponseTemplate::new(200).set_body_json(jobs)))
                .mount(&api)
                .await;
        }
        Mock::given(method("GET"))
            .and(path_regex(r"/commits/.*/pulls$"))
            .respond_with(delayed(
                ResponseTemplate::new(200).set_body_json(Value::Array(vec![])),
            ))
            .mount(&api)
            .await;
        Mock::given(method("GET"))
            .and(path_regex(r"/actions/jobs/\d+/logs$"))
            .respond_with(delayed(ResponseTemplate::new(302).insert_header(
                "location",
                format!("{}/log?sig=x", blobs.uri()).as_str(),
            )))
            .mount(&api)
            .await;
        let log = std::fs::read("tests/fixtures/github-job/job.log").unwrap();
        Mock::given(method("GET"))
            .and(path("/log"))
            .respond_with(delayed(ResponseTemplate::new(200).set_body_bytes(log)))
            .mount(&blobs)
            .await;
        (api, blobs)
    });
    for concurrency in [1usize, 8, 16] {
        let input = AnalyzeInput {
            api: Some(ApiInput {
                repo: "example/toxproject".into(),
                selector: Selector::RunId(7000001),
                workflows: "Test*".into(),
                wait: None,
                concurrency,
                artifacts: None,
                http: HttpConfig {
                    github_api: api.uri(),
                    token: Some("bench".into()),
                    ..HttpConfig::default()
                },
            }),
            ..Default::default()
        };
        let start = Instant::now();
        let report = analyze(&input).unwrap();
        let took = start.elapsed();
        let jobs = 120u32;
        // Each log is two sequential requests (the 302, then the signed URL).
        let per_log = 2 * LATENCY;
        let ideal = per_log * jobs.div_ceil(concurrency as u32);
        println!(
            "concurrency {concurrency:>2}: {jobs} failed jobs' logs in {:.2} s; ideal ceil(jobs/concurrency) x latency = {:.2} s; ratio {:.2} ({} targets)",
            took.as_secs_f64(),
            ideal.as_secs_f64(),
            took.as_secs_f64() / ideal.as_secs_f64(),
            report.targets.len()
        );
    }
    drop(blobs);
}
