//! Actions: things tox-triage does besides reporting.
//!
//! - [`rerun`]: rerun jobs whose failures are all suspected flakes, with guards.
//! - [`wrapper`]: `tox-triage run`, the exit-4 retrying, forensics-taking command wrapper.

pub mod rerun;
pub mod wrapper;
