//! Release links for regressions against a mock PyPI and a mock GitHub
//! (wiremock): which requests are made, where the token goes, what is verified.

use std::path::PathBuf;
use std::time::Duration;

use tox_triage::analyze::{AnalyzeInput, analyze};
use tox_triage::inputs::http::HttpConfig;
use tox_triage::model::{Link, Report, Verdict};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "ghs_release_links_secret";

async fn run(pypi: &MockServer, github: &MockServer, token: Option<&str>) -> Report {
    let config = HttpConfig {
        github_api: github.uri(),
        pypi: pypi.uri(),
        token: token.map(str::to_owned),
        timeout: Duration::from_secs(5),
        attempts: 3,
        backoff: Duration::from_millis(10),
        max_wait: Duration::from_millis(50),
    };
    let input = AnalyzeInput {
        logs: vec!["tests/fixtures/tox4-sequential/tox.log".into()],
        tox_ini: Some(PathBuf::from("tests/toxproject/tox.ini")),
        base_tox_ini: Some(PathBuf::from("tests/toxproject/tox.base.ini")),
        online: Some(config),
        ..Default::default()
    };
    // analyze runs its own runtime for the lookups: call it off this one.
    tokio::task::spawn_blocking(move || analyze(&input).unwrap())
        .await
        .unwrap()
}

fn links(r: &Report) -> Vec<Link> {
    r.targets
        .iter()
        .find(|t| t.name.as_str() == "py3.12-markupsafe-v2.1.5")
        .map(|t| {
            assert_eq!(t.findings().verdict, Some(Verdict::Regression));
            t.findings().links.to_vec()
        })
        .unwrap()
}

async fn pypi_with_markupsafe() -> MockServer {
    let pypi = MockServer::start().await;
    let meta = serde_json::json!({"info": {"name": "MarkupSafe", "project_urls": {
        "Documentation": "https://markupsafe.palletsprojects.com/",
        "Source": "https://github.com/pallets/markupsafe/"}}});
    for v in ["2.1.5", "2.0.1"] {
        Mock::given(method("GET"))
            .and(path(format!("/pypi/markupsafe/{v}/json")))
            .respond_with(ResponseTemplate::new(200).set_body_json(meta.clone()))
            .mount(&pypi)
            .await;
    }
    pypi
}

#[tokio::test(flavor = "multi_thread")]
async fn verified_compare_link_with_a_token_sent_only_to_github() {
    let pypi = pypi_with_markupsafe().await;
    let github = MockServer::start().await;
    for tag in ["2.1.5", "2.0.1"] {
        Mock::given(method("GET"))
            .and(path(format!(
                "/repos/pallets/markupsafe/git/ref/tags/{tag}"
            )))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(serde_json::json!({"ref": format!("refs/tags/{tag}")})),
            )
            .mount(&github)
            .await;
    }
    // Every other tag spelling is unknown.
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&github)
        .await;

    let r = run(&pypi, &github, Some(TOKEN)).await;
    let l = links(&r);
    assert_eq!(l.len(), 3, "{l:?}");
    assert!(
        l[0].verified && l[1].verified,
        "both PyPI pages exist: {l:?}"
    );
    assert_eq!(
        l[2].url,
        "https://github.com/pallets/markupsafe/compare/2.0.1...2.1.5"
    );
    assert!(l[2].verified);

    for req in pypi.received_requests().await.unwrap() {
        assert!(
            !req.headers.contains_key("authorization"),
            "token sent to PyPI: {}",
            req.url
        );
    }
    let gh = github.received_requests().await.unwrap();
    assert!(!gh.is_empty());
    for req in &gh {
        assert_eq!(
            req.headers.get("authorization").unwrap(),
            &format!("Bearer {TOKEN}")
        );
    }
    // `v2.1.5` was tried before `2.1.5`; nothing is asked twice.
    let paths: Vec<String> = gh.iter().map(|r| r.url.path().to_owned()).collect();
    let mut unique = paths.clone();
    unique.dedup();
    assert_eq!(paths, unique);
    assert!(paths.iter().any(|p| p.ends_with("/tags/v2.1.5")));
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_token_the_likely_link_is_given_unverified() {
    let pypi = pypi_with_markupsafe().await;
    let github = MockServer::start().await;
    let r = run(&pypi, &github, None).await;
    let l = links(&r);
    assert_eq!(
        l[2].url,
        "https://github.com/pallets/markupsafe/compare/v2.0.1...v2.1.5"
    );
    assert!(!l[2].verified);
    assert!(l[2].label.contains("not verified"));
    assert!(github.received_requests().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn pypi_failing_keeps_the_offline_links() {
    let pypi = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&pypi)
        .await;
    let github = MockServer::start().await;
    let r = run(&pypi, &github, Some(TOKEN)).await;
    let l = links(&r);
    assert_eq!(
        l.iter()
            .map(|x| (x.url.as_str(), x.verified))
            .collect::<Vec<_>>(),
        vec![
            ("https://pypi.org/project/markupsafe/2.1.5/", false),
            ("https://pypi.org/project/markupsafe/2.0.1/", false)
        ]
    );
    // The GET for 2.1.5 was retried (3 attempts), then 2.0.1 likewise.
    assert_eq!(pypi.received_requests().await.unwrap().len(), 6);
}
