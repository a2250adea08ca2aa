//! tox-triage: reads the output of tox test runs (tox logs, GitHub job logs,
//! JUnit XML) and reports, per tox target, what failed, where, and how to
//! reproduce it.
//!
//! The data flows one way:
//!
//! - [`inputs`]: bytes → events (tox log lines, JUnit test cases, tox.ini settings);
//! - [`model`]: the plain types everything else speaks (no I/O);
//! - [`analysis`]: events → [`model::Report`];
//! - [`outputs`]: report → JSON, markdown, terminal text;
//! - [`actions`]: the `run` wrapper (exit-4 retries and forensics).
//!
//! [`analyze`] wires them for the `analyze` command.

pub mod actions;
pub mod analysis;
pub mod analyze;
pub mod analyze_api;
pub mod cli;
pub mod error;
pub mod inputs;
pub mod model;
pub mod outputs;
pub mod paths;

#[cfg(test)]
pub(crate) mod testing;

pub use error::{Error, Result};
