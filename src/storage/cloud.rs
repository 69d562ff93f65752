//! Cloud object stores, through the vendors' own command-line tools.

use super::Storage;
use crate::api::location::Location;
use crate::registry::error::{Error, Result};

/// A storage transport for a cloud location.
pub fn open(loc: &Location) -> Result<Box<dyn Storage>> {
    Err(Error::Storage(format!(
        "{} storage is not available in this build (location {})",
        loc.vendor.key(),
        loc.shown()
    )))
}
