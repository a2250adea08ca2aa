//! The one HTTP client (reqwest on rustls with ring; no OpenSSL), with the
//! rules every request follows:
//!
//! - the GitHub token goes only to the GitHub API's origin (`$GITHUB_API_URL`),
//!   never to PyPI or to a redirect target, and never into a log line or error;
//! - redirects are not followed automatically (a caller that expects one
//!   follows it itself, without the token);
//! - every request has a timeout; GETs are retried with backoff on 5xx, 429 and
//!   rate-limit 403s, honouring `Retry-After` and `x-ratelimit-reset`; nothing
//!   else is retried (a POST never is).

use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue, USER_AGENT};
use reqwest::{Method, StatusCode, Url};

/// Where the APIs are and what may be sent to them.
#[derive(Clone)]
pub struct HttpConfig {
    /// GitHub REST API base (`https://api.github.com`, or GitHub Enterprise's).
    pub github_api: String,
    /// PyPI base (`https://pypi.org`).
    pub pypi: String,
    /// GitHub token, sent to `github_api` only.
    pub token: Option<String>,
    /// Per-request timeout.
    pub timeout: Duration,
    /// GET attempts (1 = no retry).
    pub attempts: u32,
    /// First backoff delay; doubles each retry.
    pub backoff: Duration,
    /// Longest wait honoured from `Retry-After` / `x-ratelimit-reset`.
    pub max_wait: Duration,
}

impl std::fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpConfig")
            .field("github_api", &self.github_api)
            .field("pypi", &self.pypi)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            github_api: "https://api.github.com".to_owned(),
            pypi: "https://pypi.org".to_owned(),
            token: None,
            timeout: Duration::from_secs(20),
            attempts: 4,
            backoff: Duration::from_millis(500),
            max_wait: Duration::from_secs(60),
        }
    }
}

impl HttpConfig {
    /// Defaults, with `$GITHUB_API_URL` and `$TOX_TRIAGE_PYPI_URL` when set.
    pub fn from_env(token: Option<String>) -> Self {
        let mut c = Self {
            token: token.filter(|t| !t.trim().is_empty()),
            ..Self::default()
        };
        if let Ok(u) = std::env::var("GITHUB_API_URL")
            && !u.is_empty()
        {
            c.github_api = u;
        }
        if let Ok(u) = std::env::var("TOX_TRIAGE_PYPI_URL")
            && !u.is_empty()
        {
            c.pypi = u;
        }
        c
    }
}

/// An HTTP failure, safe to show: it names the URL (never a header or the token).
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The server answered with an error status.
    #[error("{method} {url}: HTTP {status}{hint}")]
    Status {
        /// Method.
        method: String,
        /// URL without credentials.
        url: String,
        /// Status code.
        status: u16,
        /// A hint for permission errors.
        hint: String,
        /// The body, cut short, with the token removed.
        body: String,
    },
    /// The request did not complete (DNS, TLS, connection, timeout, body).
    #[error("{method} {url}: {message}")]
    Transport {
        /// Method.
        method: String,
        /// URL.
        url: String,
        /// What happened, with the token removed.
        message: String,
    },
}

impl HttpError {
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            HttpError::Status { status, .. } => Some(*status),
            HttpError::Transport { .. } => None,
        }
    }
}

/// A response read whole (JSON bodies of API calls are small).
#[derive(Debug)]
pub struct Response {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: Vec<u8>,
}

/// The client.
#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::Client,
    config: HttpConfig,
    github_origin: Option<String>,
}

fn origin(url: &Url) -> String {
    format!(
        "{}://{}:{}",
        url.scheme(),
        url.host_str().unwrap_or(""),
        url.port_or_known_default().unwrap_or(0)
    )
}

impl Http {
    /// Builds the client.
    pub fn new(config: HttpConfig) -> Result<Self, HttpError> {
        // One crypto provider for rustls in the whole process; a second install is a no-op.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.timeout)
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("tox-triage/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| HttpError::Transport {
                method: "INIT".into(),
                url: String::new(),
                message: e.to_string(),
            })?;
        let github_origin = Url::parse(&config.github_api).ok().map(|u| origin(&u));
        Ok(Self {
            client,
            config,
            github_origin,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &HttpConfig {
        &self.config
    }

    /// Whether a token is configured.
    pub fn has_token(&self) -> bool {
        self.config.token.is_some()
    }

    /// A GitHub API URL from a path (`/repos/o/r/...`).
    pub fn github_url(&self, path: &str) -> String {
        format!("{}{}", self.config.github_api.trim_end_matches('/'), path)
    }

    /// A PyPI URL from a path.
    pub fn pypi_url(&self, path: &str) -> String {
        format!("{}{}", self.config.pypi.trim_end_matches('/'), path)
    }

    /// Removes the token from text that might echo a request.
    pub fn redact(&self, text: &str) -> String {
        match &self.config.token {
            Some(t) if !t.is_empty() => text.replace(t.as_str(), "<redacted>"),
            _ => text.to_owned(),
        }
    }

    fn headers_for(&self, url: &Url, auth: bool) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            USER_AGENT,
            HeaderValue::from_static(concat!("tox-triage/", env!("CARGO_PKG_VERSION"))),
        );
        let is_github = self.github_origin.as_deref() == Some(origin(url).as_str());
        if is_github {
            h.insert(
                ACCEPT,
                HeaderValue::from_static("application/vnd.github+json"),
            );
            h.insert(
                "X-GitHub-Api-Version",
                HeaderValue::from_static("2022-11-28"),
            );
            if auth
                && let Some(t) = &self.config.token
                && let Ok(mut v) = HeaderValue::from_str(&format!("Bearer {t}"))
            {
                v.set_sensitive(true);
                h.insert(AUTHORIZATION, v);
            }
        }
        h
    }

    /// One request, no retry. Any status is returned as a response.
    pub async fn send(
        &self,
        method: Method,
        url: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Response, HttpError> {
        let resp = self.start(method.clone(), url, body, true).await?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp
            .bytes()
            .await
            .map_err(|e| self.transport(&method, url, e))?
            .to_vec();
        Ok(Response {
            status,
            headers,
            body,
        })
    }

    /// Sends a request and returns once the headers are in. `auth: false`
    /// never sends the token, whatever the host (signed redirect targets).
    async fn start(
        &self,
        method: Method,
        url: &str,
        body: Option<Vec<u8>>,
        auth: bool,
    ) -> Result<reqwest::Response, HttpError> {
        let parsed = Url::parse(url).map_err(|e| HttpError::Transport {
            method: method.to_string(),
            url: strip_query(url),
            message: format!("bad URL: {e}"),
        })?;
        let mut req = self
            .client
            .request(method.clone(), parsed.clone())
            .headers(self.headers_for(&parsed, auth));
        if let Some(b) = body {
            req = req.header("Content-Type", "application/json").body(b);
        }
        req.send()
            .await
            .map_err(|e| self.transport(&method, url, e))
    }

    /// GETs `url` without the token and streams the body into `dest`, at most
    /// `limit` bytes. Returns the status and the bytes written (0 on an error status).
    pub async fn download_unauthenticated(
        &self,
        url: &str,
        dest: &mut std::fs::File,
        limit: u64,
    ) -> Result<(StatusCode, u64), HttpError> {
        use std::io::Write;
        let mut resp = self.start(Method::GET, url, None, false).await?;
        let status = resp.status();
        if !status.is_success() {
            return Ok((status, 0));
        }
        let fail = |message: String| HttpError::Transport {
            method: "GET".into(),
            url: strip_query(url),
            message,
        };
        let mut written = 0u64;
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| self.transport(&Method::GET, url, e))?
        {
            written += chunk.len() as u64;
            if written > limit {
                return Err(fail(format!("larger than the {limit}-byte limit")));
            }
            dest.write_all(&chunk)
                .map_err(|e| fail(format!("cannot write the download: {e}")))?;
        }
        Ok((status, written))
    }

    fn transport(&self, method: &Method, url: &str, e: reqwest::Error) -> HttpError {
        let e = e.without_url();
        let kind = if e.is_timeout() {
            "timed out"
        } else if e.is_connect() {
            "connection failed"
        } else if e.is_body() || e.is_decode() {
            "the response body was cut off"
        } else {
            "request failed"
        };
        HttpError::Transport {
            method: method.to_string(),
            url: strip_query(url),
            message: self.redact(&format!("{kind}: {e}")),
        }
    }

    /// Turns a non-2xx response into an error (with a permissions hint for 403/404 on GitHub).
    pub fn error_for(
        &self,
        method: &Method,
        url: &str,
        r: &Response,
        permission: Option<&str>,
    ) -> HttpError {
        let body = self.redact(&String::from_utf8_lossy(&r.body[..r.body.len().min(500)]));
        let hint = match (r.status.as_u16(), permission) {
            (403, Some(p)) if !is_rate_limited(r) => {
                format!(" (the token lacks permission: give the workflow `permissions: {p}`)")
            }
            (401, _) => " (the token is missing or invalid)".to_owned(),
            _ => String::new(),
        };
        HttpError::Status {
            method: method.to_string(),
            url: strip_query(url),
            status: r.status.as_u16(),
            hint,
            body,
        }
    }

    /// GET with retries on 5xx, 429 and rate limits; any other status is returned.
    pub async fn get(&self, url: &str) -> Result<Response, HttpError> {
        let mut delay = self.config.backoff;
        let mut last_err = None;
        for attempt in 1..=self.config.attempts.max(1) {
            match self.send(Method::GET, url, None).await {
                Ok(r) if retryable(&r) && attempt < self.config.attempts => {
                    let wait = wait_hint(&r).unwrap_or(delay).min(self.config.max_wait);
                    tracing::info!("GET {url}: HTTP {}; retrying in {:?}", r.status, wait);
                    tokio::time::sleep(wait).await;
                }
                Ok(r) => return Ok(r),
                Err(e) if attempt < self.config.attempts => {
                    tracing::info!("{e}; retrying in {delay:?}");
                    last_err = Some(e);
                    tokio::time::sleep(delay).await;
                }
                Err(e) => return Err(e),
            }
            delay *= 2;
        }
        Err(last_err.unwrap_or_else(|| HttpError::Transport {
            method: "GET".into(),
            url: strip_query(url),
            message: "no attempt made".into(),
        }))
    }

    /// GET and decode JSON; non-2xx is an error.
    pub async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
        permission: Option<&str>,
    ) -> Result<T, HttpError> {
        let r = self.get(url).await?;
        if !r.status.is_success() {
            return Err(self.error_for(&Method::GET, url, &r, permission));
        }
        serde_json::from_slice(&r.body).map_err(|e| HttpError::Transport {
            method: "GET".into(),
            url: strip_query(url),
            message: format!("unexpected response: {e}"),
        })
    }
}

/// A URL without its query: signed URLs carry their signature there.
pub fn strip_query(url: &str) -> String {
    url.split(['?', '#']).next().unwrap_or(url).to_owned()
}

/// 5xx, 429, and GitHub's rate-limit 403.
fn retryable(r: &Response) -> bool {
    r.status.is_server_error() || r.status == StatusCode::TOO_MANY_REQUESTS || is_rate_limited(r)
}

/// A 403 that is a rate limit rather than a permission problem.
pub fn is_rate_limited(r: &Response) -> bool {
    r.status == StatusCode::FORBIDDEN
        && (r
            .headers
            .get("x-ratelimit-remaining")
            .is_some_and(|v| v == "0")
            || r.headers.contains_key("retry-after")
            || String::from_utf8_lossy(&r.body)
                .to_ascii_lowercase()
                .contains("rate limit"))
}

/// How long the server asks us to wait: `Retry-After` seconds, or until `x-ratelimit-reset`.
fn wait_hint(r: &Response) -> Option<Duration> {
    if let Some(secs) = r
        .headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        return Some(Duration::from_secs(secs));
    }
    let reset = r
        .headers
        .get("x-ratelimit-reset")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs();
    Some(Duration::from_secs(reset.saturating_sub(now) + 1))
}
