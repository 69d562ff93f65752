//! The one error type of the registry: every failure carries what a q user needs to act on it.

use std::fmt;

/// A failed registry call. `Display` gives the text q shows after `'`.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// An argument of the wrong form: its name and what was expected instead.
    Arg { arg: String, expected: String },
    /// Nothing in the registry satisfies the request.
    NotFound(String),
    /// The request contradicts the registry's state (exists already, ambiguous, ...).
    Conflict(String),
    /// A file-system operation failed.
    Io {
        op: &'static str,
        path: String,
        cause: String,
    },
    /// A stored file could not be understood.
    Corrupt { path: String, why: String },
    /// A storage transport (a cloud CLI) failed.
    Storage(String),
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn arg(arg: &str, expected: impl Into<String>) -> Error {
        Error::Arg {
            arg: arg.to_string(),
            expected: expected.into(),
        }
    }

    pub fn io(op: &'static str, path: impl fmt::Display, e: impl fmt::Display) -> Error {
        Error::Io {
            op,
            path: path.to_string(),
            cause: e.to_string(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Arg { arg, expected } => write!(f, "{arg}: expected {expected}"),
            Error::NotFound(m) | Error::Conflict(m) | Error::Storage(m) => f.write_str(m),
            Error::Io { op, path, cause } => write!(f, "could not {op} {path}: {cause}"),
            Error::Corrupt { path, why } => write!(f, "{path} {why}"),
        }
    }
}

impl std::error::Error for Error {}
