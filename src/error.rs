//! The library's error type. Input problems that do not stop the analysis are
//! [`crate::model::Warning`]s instead; these are the ones that do.

use std::io;

/// An error that stops the analysis. Messages name the file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The file, as the user named it.
        path: String,
        /// What the OS said.
        #[source]
        source: io::Error,
    },
    /// An argument or input value is unusable.
    #[error("{0}")]
    Usage(String),
    /// An output file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The output file.
        path: String,
        /// What the OS said.
        #[source]
        source: io::Error,
    },
}

/// Result with the library's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
