//! Analysis: from input events to the [`crate::model::Report`].
//!
//! - [`aggregate`]: merges logs and JUnit files into one record per target.
//! - [`categories`]: the failure-category pattern table.
//! - [`verdict`]: facts across the matrix, regression or suspected flake.

pub mod aggregate;
pub mod categories;
pub mod verdict;
