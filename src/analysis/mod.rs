//! Analysis: from input events to the [`crate::model::Report`].
//!
//! - [`aggregate`]: merges logs and JUnit files into one record per target.
//! - [`categories`]: the failure-category pattern table.
//! - [`exit`]: pytest's and tox's exit codes explained (`failure_kind`).
//! - [`forensics`]: exit-4 forensics of the filesystem and git.
//! - [`junit_file`]: one JUnit file read into a mergeable result, files read in parallel.
//! - [`verdict`]: facts across the matrix, regression or suspected flake.

pub mod aggregate;
pub mod categories;
pub mod exit;
pub mod forensics;
pub mod junit_file;
pub mod verdict;
