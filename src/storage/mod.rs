//! The storage seam: where the registry's files live. The registry logic speaks only in paths
//! relative to a location's root (see `registry::layout`) and moves whole batches of files, so
//! that a cloud transport can do one CLI call per batch rather than one per file.
//!
//! A transport never knows what the files mean.

pub mod cloud;
pub mod local;

use crate::registry::error::Result;

/// A token naming one stored state of a file (a generation, an ETag), used by transports that
/// can replace an object only if it is unchanged. Local disk uses the writers' lock instead.
pub type Token = Option<String>;

/// Held while a writer works; dropping it releases the registry to other writers.
pub trait WriteGuard {}

/// A place that holds a registry: a local folder or a cloud bucket/prefix.
pub trait Storage {
    /// The location as shown to users (never with a secret in it).
    fn shown(&self) -> String;

    /// A file's bytes, or `None` when it does not exist.
    fn read(&self, rel: &str) -> Result<Option<Vec<u8>>>;

    /// Every file below `dir` with its bytes, paths relative to the root, sorted.
    fn read_tree(&self, dir: &str) -> Result<Vec<(String, Vec<u8>)>>;

    /// Every file below `dir`, paths relative to the root, sorted.
    fn list(&self, dir: &str) -> Result<Vec<String>>;

    /// The bytes of each of `files` that exists, sorted by path: one batch (one CLI process
    /// per folder in the cloud) rather than one read per file.
    fn read_files(&self, files: &[String]) -> Result<Vec<(String, Vec<u8>)>> {
        let mut out = Vec::new();
        for f in files {
            if let Some(bytes) = self.read(f)? {
                out.push((f.clone(), bytes));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// A file's bytes and a token naming this state of it (`None` where the transport has no
    /// such tokens), or `None` when it does not exist.
    fn read_versioned(&self, rel: &str) -> Result<Option<(Vec<u8>, Token)>> {
        Ok(self.read(rel)?.map(|b| (b, None)))
    }

    /// Creates a file only if nothing exists at `rel`; false when something does.
    fn create_only(&self, rel: &str, bytes: &[u8]) -> Result<bool>;

    /// Replaces a file only if it is still in the state `expected` names (transports without
    /// tokens replace unconditionally: they rely on the writers' lock). False when it changed.
    fn replace(&self, rel: &str, bytes: &[u8], expected: &Token) -> Result<bool>;

    /// Removes the now-empty folders among `dirs` (local disk; object stores have none).
    fn prune_empty(&self, dirs: &[String]) -> Result<()>;

    /// Whether a file or a folder with files exists at `rel`.
    fn exists(&self, rel: &str) -> Result<bool>;

    /// Writes a batch of files; each one appears whole or not at all.
    fn write(&self, files: &[(String, Vec<u8>)]) -> Result<()>;

    /// Creates the registry from `files` all at once; false when one exists already.
    fn create_registry(&self, files: &[(String, Vec<u8>)]) -> Result<bool>;

    /// Removes files (missing ones are not an error).
    fn remove_files(&self, files: &[String]) -> Result<()>;

    /// Removes a folder and everything below it (a missing one is not an error).
    fn remove_dir(&self, dir: &str) -> Result<()>;

    /// Makes the files below `dir` available on local disk; gives that local folder (a cache
    /// copy for the cloud, the folder itself on disk).
    fn materialize(&self, dir: &str) -> Result<String>;

    /// Takes the registry's exclusive writer lock (blocking) for the life of the guard;
    /// `None` for transports without locks, which rely on [`Storage::create_only`] and
    /// [`Storage::replace`] preconditions instead.
    fn lock(&self) -> Result<Option<Box<dyn WriteGuard>>>;
}
