//! Inputs: everything that reads bytes and produces events for the analysis.
//!
//! - [`lines`]: fixed-memory line splitting.
//! - [`ghlog`]: GitHub job-log framing, ANSI codes, CRLF, invalid UTF-8.
//! - [`toxlog`]: tox 3 / tox 4 output → [`toxlog::LogEvent`]s.
//! - [`logpipe`]: a log read and parsed on a second thread, its events handed over in batches.
//! - [`pytest`]: pytest's own summary lines inside that output.
//! - [`junit`]: JUnit XML → test cases.
//! - [`toxini`]: tox.ini settings and the expanded envlist.
//! - [`utf8`]: a lossy UTF-8 reader adapter.
//! - [`discover`]: finding JUnit files from paths, directories and globs.
//! - [`config`]: `.github/tox-triage.yml` (known-flaky tests and suites).
//! - [`event`]: the GitHub event payload (`$GITHUB_EVENT_PATH`).
//! - [`github`]: the GitHub REST calls of API mode (runs, jobs, logs, artifacts, reruns).
//! - [`http`]: the HTTP client and its rules (token scope, retries, timeouts).
//! - [`releases`]: PyPI release pages and GitHub compare links for regressions.

pub mod config;
pub mod discover;
pub mod event;
pub mod ghlog;
pub mod github;
pub mod http;
pub mod junit;
pub mod lines;
pub mod logpipe;
pub mod pytest;
pub mod releases;
pub mod toxini;
pub mod toxlog;
pub mod utf8;
