//! Cloud object stores (AWS S3, Google Cloud Storage, Azure Blob), driven through the
//! vendors' own CLIs: `aws`, `gsutil` and `azcopy` ([`cli`] runs them).
//!
//! A registry in a bucket has the layout it has on disk, under `<bucket>/<prefix>/`. The
//! shared part here maps registry paths to object keys and stages every batch on local disk,
//! so that each [`Storage`] call costs one CLI process (two for a GCS read with its
//! generation): a batch of files goes up in one recursive upload, a folder comes down in one
//! recursive download. Folder keys always end in `/`, so `m/1.1/` never touches `m/1.10/`
//! and `m/` never touches `m2/`. Each vendor module (`aws`, `gcp`, `azure`) implements
//! [`Remote`]: the handful of primitives the mapping needs, with the vendor's preconditions
//! where it has them.
//!
//! The local cache (`MLREGISTRY_CACHE`, default `<temp>/mlregistry-cache-<uid>`) holds the
//! per-call staging folders and the version folders `get.model` fetches. It is never
//! trusted for a decision: every call fetches fresh into a cleaned folder, and the cache can
//! be deleted at any time between calls.

mod aws;
mod azure;
pub mod cli;
mod gcp;
mod os;

use super::{Storage, Token, WriteGuard};
use crate::api::location::{Location, Vendor};
use crate::registry::error::{Error, Result};
use crate::registry::layout::MODEL_STORE;
use std::fs;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The primitives a vendor provides. Keys are full object keys inside the bucket (prefix
/// included); a `dir` is a key prefix that ends in `/` (or is empty: the bucket root).
pub trait Remote {
    /// Downloads one object to the file `dest`. `None` when it does not exist; otherwise
    /// the token naming the version read (`Some(None)` when `versioned` is false or the
    /// vendor has no tokens).
    fn get(&self, key: &str, dest: &Path, versioned: bool) -> Result<Option<Token>>;

    /// Downloads every object below `dir` into the existing folder `dest`, keeping their
    /// paths relative to `dir`. A missing `dir` gives an empty folder.
    fn get_tree(&self, dir: &str, dest: &Path) -> Result<()>;

    /// Downloads the objects `dir` + each of `names` (plain names, no `/`) into the existing
    /// folder `dest`; missing ones are skipped.
    fn get_files(&self, dir: &str, names: &[String], dest: &Path) -> Result<()>;

    /// The keys below `dir`.
    fn list(&self, dir: &str) -> Result<Vec<String>>;

    /// Whether `key` is an object or a folder with objects.
    fn exists(&self, key: &str) -> Result<bool>;

    /// Uploads the folder `stage` so that `stage/<path>` becomes `dir` + `<path>`;
    /// `bytes` is its total size.
    fn put_tree(&self, stage: &Path, dir: &str, bytes: u64) -> Result<()>;

    /// Uploads `src` to `key` only if no object is there; false when one is.
    fn put_new(&self, key: &str, src: &Path) -> Result<bool>;

    /// Uploads `src` to `key` only if the object is still the version `token` names
    /// (unconditionally when the vendor has no tokens); false when it changed.
    fn put_over(&self, key: &str, src: &Path, token: &Token) -> Result<bool>;

    /// Deletes objects; missing ones are not an error.
    fn remove(&self, keys: &[String]) -> Result<()>;

    /// Deletes every object below `dir`.
    fn remove_tree(&self, dir: &str) -> Result<()>;
}

/// A storage transport for a cloud location: `s3://`, `gs://` or an Azure blob URL.
pub fn open(loc: &Location) -> Result<Box<dyn Storage>> {
    let limits = cli::Limits::from_env()?;
    let remote: Box<dyn Remote> = match loc.vendor {
        Vendor::Aws => Box::new(aws::S3::new(loc, limits)),
        Vendor::Gcp => Box::new(gcp::Gcs::new(loc, limits)?),
        Vendor::Azure => Box::new(azure::Blob::new(loc, limits)?),
        Vendor::Local => {
            return Err(Error::Storage(format!(
                "{} is a local folder, not a cloud location",
                loc.text
            )));
        }
    };
    Ok(Box::new(Cloud {
        remote,
        shown: loc.without_token().trim_end_matches('/').to_string(),
        prefix: loc.prefix.clone(),
        cache: Cache::new()?,
    }))
}

/// The registry at one cloud location.
struct Cloud {
    remote: Box<dyn Remote>,
    /// The location as users see it (no token).
    shown: String,
    /// The key prefix, without a leading or trailing `/` (empty: the bucket root).
    prefix: String,
    cache: Cache,
}

impl Cloud {
    /// The object key of a registry path.
    fn key(&self, rel: &str) -> String {
        if self.prefix.is_empty() {
            rel.to_string()
        } else {
            format!("{}/{rel}", self.prefix)
        }
    }

    /// The key prefix of a registry folder: always ends in `/`.
    fn dir(&self, rel: &str) -> String {
        format!("{}/", self.key(rel.trim_end_matches('/')))
    }

    /// The key prefix of the location itself (`""` at the bucket root).
    fn root(&self) -> String {
        if self.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.prefix)
        }
    }

    /// The registry path of a key under this location.
    fn rel<'k>(&self, key: &'k str) -> Option<&'k str> {
        key.strip_prefix(&self.root())
    }

    /// Writes `files` below a fresh staging folder; gives it and the total size.
    fn stage(&self, files: &[(String, Vec<u8>)]) -> Result<(CallDir, u64)> {
        let stage = self.cache.call_dir()?;
        let mut bytes = 0u64;
        for (rel, data) in files {
            let p = stage.path.join(rel);
            if let Some(d) = p.parent() {
                fs::create_dir_all(d).map_err(|e| Error::io("create folder", d.display(), e))?;
            }
            fs::write(&p, data).map_err(|e| Error::io("stage", p.display(), e))?;
            bytes += data.len() as u64;
        }
        Ok((stage, bytes))
    }

    /// One file staged alone, for the single-object calls.
    fn stage_one(&self, bytes: &[u8]) -> Result<(CallDir, PathBuf)> {
        let stage = self.cache.call_dir()?;
        let p = stage.path.join("object");
        fs::write(&p, bytes).map_err(|e| Error::io("stage", p.display(), e))?;
        Ok((stage, p))
    }
}

/// Every file below `dir` on local disk, as (path relative to `dir` with `/`, bytes), sorted.
fn local_files(dir: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    if !dir.exists() {
        return Ok(out);
    }
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.map_err(|e| Error::io("list", dir.display(), e))?;
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = entry
            .path()
            .strip_prefix(dir)
            .unwrap_or(entry.path())
            .to_string_lossy()
            .into_owned();
        let bytes =
            fs::read(entry.path()).map_err(|e| Error::io("read", entry.path().display(), e))?;
        out.push((rel, bytes));
    }
    Ok(out)
}

impl Storage for Cloud {
    fn shown(&self) -> String {
        self.shown.clone()
    }

    fn read(&self, rel: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.read_versioned_as(rel, false)?.map(|(b, _)| b))
    }

    fn read_versioned(&self, rel: &str) -> Result<Option<(Vec<u8>, Token)>> {
        self.read_versioned_as(rel, true)
    }

    fn read_tree(&self, dir: &str) -> Result<Vec<(String, Vec<u8>)>> {
        let call = self.cache.call_dir()?;
        self.remote.get_tree(&self.dir(dir), &call.path)?;
        let base = dir.trim_end_matches('/');
        Ok(local_files(&call.path)?
            .into_iter()
            .map(|(p, b)| (format!("{base}/{p}"), b))
            .collect())
    }

    fn read_files(&self, files: &[String]) -> Result<Vec<(String, Vec<u8>)>> {
        let mut by_dir: Vec<(String, Vec<String>)> = Vec::new();
        for f in files {
            let (d, name) = f.rsplit_once('/').unwrap_or(("", f.as_str()));
            match by_dir.iter_mut().find(|(dir, _)| dir == d) {
                Some((_, names)) => names.push(name.to_string()),
                None => by_dir.push((d.to_string(), vec![name.to_string()])),
            }
        }
        let mut out = Vec::new();
        for (d, names) in by_dir {
            let call = self.cache.call_dir()?;
            let key_dir = if d.is_empty() {
                self.root()
            } else {
                self.dir(&d)
            };
            self.remote.get_files(&key_dir, &names, &call.path)?;
            for name in names {
                let p = call.path.join(&name);
                if p.is_file() {
                    let bytes = fs::read(&p).map_err(|e| Error::io("read", p.display(), e))?;
                    let rel = if d.is_empty() {
                        name
                    } else {
                        format!("{d}/{name}")
                    };
                    out.push((rel, bytes));
                }
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    fn list(&self, dir: &str) -> Result<Vec<String>> {
        let mut rels: Vec<String> = self
            .remote
            .list(&self.dir(dir))?
            .iter()
            .filter_map(|k| self.rel(k).map(str::to_string))
            .collect();
        rels.sort();
        Ok(rels)
    }

    fn exists(&self, rel: &str) -> Result<bool> {
        self.remote.exists(&self.key(rel))
    }

    fn write(&self, files: &[(String, Vec<u8>)]) -> Result<()> {
        if files.is_empty() {
            return Ok(());
        }
        let (stage, bytes) = self.stage(files)?;
        self.remote.put_tree(&stage.path, &self.root(), bytes)
    }

    fn create_only(&self, rel: &str, bytes: &[u8]) -> Result<bool> {
        let (_stage, file) = self.stage_one(bytes)?;
        self.remote.put_new(&self.key(rel), &file)
    }

    fn replace(&self, rel: &str, bytes: &[u8], expected: &Token) -> Result<bool> {
        let (_stage, file) = self.stage_one(bytes)?;
        self.remote.put_over(&self.key(rel), &file, expected)
    }

    fn prune_empty(&self, _dirs: &[String]) -> Result<()> {
        Ok(())
    }

    fn create_registry(&self, files: &[(String, Vec<u8>)]) -> Result<bool> {
        // The modelStore is the registry's claim: whoever creates it first owns the rest.
        let Some((_, store)) = files.iter().find(|(rel, _)| rel == MODEL_STORE) else {
            self.write(files)?;
            return Ok(true);
        };
        if !self.create_only(MODEL_STORE, store)? {
            return Ok(false);
        }
        let rest: Vec<(String, Vec<u8>)> = files
            .iter()
            .filter(|(rel, _)| rel != MODEL_STORE)
            .cloned()
            .collect();
        self.write(&rest)?;
        Ok(true)
    }

    fn remove_files(&self, files: &[String]) -> Result<()> {
        if files.is_empty() {
            return Ok(());
        }
        let keys: Vec<String> = files.iter().map(|f| self.key(f)).collect();
        self.remote.remove(&keys)
    }

    fn remove_dir(&self, dir: &str) -> Result<()> {
        self.remote.remove_tree(&self.dir(dir))
    }

    fn materialize(&self, dir: &str) -> Result<String> {
        let target = self.cache.version_dir(&self.shown, dir)?;
        self.remote.get_tree(&self.dir(dir), &target)?;
        Ok(target.to_string_lossy().into_owned())
    }

    fn lock(&self) -> Result<Option<Box<dyn WriteGuard>>> {
        Ok(None)
    }
}

impl Cloud {
    fn read_versioned_as(&self, rel: &str, versioned: bool) -> Result<Option<(Vec<u8>, Token)>> {
        let call = self.cache.call_dir()?;
        let dest = call.path.join("object");
        let Some(token) = self.remote.get(&self.key(rel), &dest, versioned)? else {
            return Ok(None);
        };
        let bytes = fs::read(&dest).map_err(|e| Error::io("read", dest.display(), e))?;
        Ok(Some((bytes, token)))
    }
}

/// The local cache: `MLREGISTRY_CACHE`, or `<temp>/mlregistry-cache-<uid>`, private to the
/// user. Per process: `<pid>/call-*` staging folders (removed when their call ends) and
/// `<pid>/<location hash>/<version folder>` copies that `get.model` hands to q.
struct Cache {
    mine: PathBuf,
}

/// A staging folder that is removed when dropped.
struct CallDir {
    path: PathBuf,
}

impl Drop for CallDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

fn private_dir(p: &Path) -> Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(p)
        .map_err(|e| Error::io("create the cache folder", p.display(), e))
}

/// The name prefix of each process's folder in the cache (`mlregistry-proc-<pid>`).
const PROCESS_DIR: &str = "mlregistry-proc-";

/// The cache root, as documented in the README.
pub fn cache_root() -> PathBuf {
    match std::env::var_os("MLREGISTRY_CACHE").filter(|v| !v.is_empty()) {
        Some(p) => PathBuf::from(p),
        None => {
            let uid = fs::metadata("/proc/self").map(|m| m.uid()).unwrap_or(0);
            std::env::temp_dir().join(format!("mlregistry-cache-{uid}"))
        }
    }
}

/// A 64-bit FNV-1a hash: a short, stable folder name for a location.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

impl Cache {
    fn new() -> Result<Cache> {
        let root = cache_root();
        let mine = root.join(format!("{PROCESS_DIR}{}", std::process::id()));
        private_dir(&mine)?;
        Ok(Cache { mine })
    }

    /// A fresh, empty staging folder for one call.
    fn call_dir(&self) -> Result<CallDir> {
        static N: AtomicU64 = AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path = self.mine.join(format!("call-{n}-{nanos:08x}"));
        let _ = fs::remove_dir_all(&path);
        private_dir(&path)?;
        Ok(CallDir { path })
    }

    /// The cleaned folder a version of the registry at `location` is fetched into; also
    /// removes the folders of processes that have ended.
    fn version_dir(&self, location: &str, dir: &str) -> Result<PathBuf> {
        self.sweep();
        let target = self
            .mine
            .join(format!("{:016x}", fnv(location)))
            .join(dir.trim_matches('/'));
        if target.exists() {
            fs::remove_dir_all(&target).map_err(|e| Error::io("clean", target.display(), e))?;
        }
        private_dir(&target)?;
        Ok(target)
    }

    /// Removes (a bounded number of) cache folders left by processes that are gone.
    fn sweep(&self) {
        let Some(root) = self.mine.parent() else {
            return;
        };
        let Ok(entries) = fs::read_dir(root) else {
            return;
        };
        for e in entries.flatten().take(256) {
            let name = e.file_name().to_string_lossy().into_owned();
            // Only folders this library made: a user's own folders in a shared
            // MLREGISTRY_CACHE are never touched.
            let Some(Ok(pid)) = name.strip_prefix(PROCESS_DIR).map(str::parse::<u32>) else {
                continue;
            };
            if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
                let _ = fs::remove_dir_all(e.path());
            }
        }
    }
}

/// The error for a bucket or container that does not exist.
pub fn missing_bucket(kind: &str, name: &str, shown: &str) -> String {
    format!(
        "the {kind} {name:?} does not exist ({shown}): create it first; the registry never \
         creates buckets or containers"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_hashes_are_stable_and_distinct() {
        assert_eq!(fnv("s3://a"), fnv("s3://a"));
        assert_ne!(fnv("s3://a/p"), fnv("s3://a/p2"));
    }

    #[test]
    fn the_cache_sweep_removes_only_its_own_dead_folders() {
        let root = std::env::temp_dir().join(format!("mlr-sweep-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let user = root.join("2024");
        let dead = root.join(format!("{PROCESS_DIR}4294967294"));
        fs::create_dir_all(&user).unwrap();
        fs::create_dir_all(&dead).unwrap();
        let cache = Cache {
            mine: root.join(format!("{PROCESS_DIR}{}", std::process::id())),
        };
        cache.sweep();
        assert!(user.exists(), "a user's folder was removed");
        assert!(!dead.exists(), "a dead process's folder was kept");
        let _ = fs::remove_dir_all(&root);
    }
}
