//! Actions: things tox-triage does besides reporting.
//!
//! - [`wrapper`]: `tox-triage run`, the exit-4 retrying, forensics-taking command wrapper.

pub mod wrapper;
