//! Analysis: from input events to the [`crate::model::Report`].
//!
//! - [`aggregate`]: merges logs and JUnit files into one record per target.

pub mod aggregate;
