//! Outputs: renderers from a [`crate::model::Report`] to text. None of them
//! reads a file; every one escapes untrusted text through [`escape`].
//!
//! - [`json`]: the JSON report (a documented contract).
//! - [`markdown`]: the job summary.
//! - [`human`]: the short stdout report.
//! - [`annotations`]: GitHub workflow-command annotations, chosen and capped.
//! - [`step_outputs`]: `$GITHUB_OUTPUT` entries.
//! - [`forensics`]: exit-4 forensics blocks.

pub mod annotations;
pub mod escape;
pub mod forensics;
pub mod human;
pub mod json;
pub mod markdown;
pub mod step_outputs;
