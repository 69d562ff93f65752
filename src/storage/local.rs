//! Local disk (and shared file systems with working `flock`).
//!
//! Every file is written to a sibling `.<name>.tmp`, flushed with `fsync` and renamed into
//! place, so a reader sees the old file or the new one, never half of one. Temporary names are
//! fixed: all writes happen under the registry's exclusive lock, so no two writers share one.
//! Symbolic links inside the registry are followed like any file.

use super::{Storage, WriteGuard};
use crate::registry::error::{Error, Result};
use crate::registry::layout::{self, LOCK, ROOT};
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

/// A registry location on local disk: the folder that holds (or will hold) `KX_ML_REGISTRY`.
pub struct Local {
    root: String,
}

struct Held(#[allow(dead_code)] File);
impl WriteGuard for Held {}

impl Local {
    pub fn new(root: &str) -> Local {
        Local {
            root: root.to_string(),
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        PathBuf::from(layout::join(&self.root, rel))
    }

    fn shown_path(&self, rel: &str) -> String {
        layout::join(&self.root, rel)
    }
}

fn tmp_sibling(p: &Path) -> PathBuf {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    p.with_file_name(format!(".{name}.tmp"))
}

/// Writes `bytes` to `p` through a temporary sibling, fsync and rename.
pub fn write_atomic(p: &Path, bytes: &[u8]) -> Result<()> {
    let shown = p.display();
    if let Some(dir) = p.parent() {
        fs::create_dir_all(dir).map_err(|e| Error::io("create folder", dir.display(), e))?;
    }
    let tmp = tmp_sibling(p);
    let result = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, p)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(Error::io("write", shown, e));
    }
    Ok(())
}

fn files_below(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    if !dir.exists() {
        return Ok(out);
    }
    for entry in walkdir::WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
    {
        let entry = match entry {
            Ok(entry) => entry,
            // Removed while the walk ran (a merged metric file, say): not part of the tree.
            Err(e) if e.io_error().map(|i| i.kind()) == Some(ErrorKind::NotFound) => continue,
            Err(e) => return Err(Error::io("list", dir.display(), e)),
        };
        let temporary = entry.file_name().to_string_lossy().ends_with(".tmp")
            && entry.file_name().to_string_lossy().starts_with('.');
        if entry.file_type().is_file() && !temporary {
            out.push(entry.into_path());
        }
    }
    Ok(out)
}

impl Local {
    fn relative(&self, p: &Path) -> String {
        let base = if self.root.is_empty() {
            Path::new(".")
        } else {
            Path::new(&self.root)
        };
        let rel = p.strip_prefix(base).unwrap_or(p);
        rel.to_string_lossy().trim_start_matches("./").to_string()
    }
}

impl Storage for Local {
    fn shown(&self) -> String {
        self.root.clone()
    }

    fn read(&self, rel: &str) -> Result<Option<Vec<u8>>> {
        let p = self.path(rel);
        match fs::read(&p) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io("read", self.shown_path(rel), e)),
        }
    }

    fn read_tree(&self, dir: &str) -> Result<Vec<(String, Vec<u8>)>> {
        // A file that vanishes between the listing and its read was replaced by a writer
        // (a metric merge, say): list again, a bounded number of times.
        for _ in 0..8 {
            let mut out = Vec::new();
            let mut vanished = false;
            for p in files_below(&self.path(dir))? {
                match fs::read(&p) {
                    Ok(bytes) => out.push((self.relative(&p), bytes)),
                    Err(e) if e.kind() == ErrorKind::NotFound => vanished = true,
                    Err(e) => return Err(Error::io("read", p.display(), e)),
                }
            }
            if !vanished {
                return Ok(out);
            }
        }
        Err(Error::io(
            "read",
            self.shown_path(dir),
            "its files kept changing (8 attempts)",
        ))
    }

    fn list(&self, dir: &str) -> Result<Vec<String>> {
        Ok(files_below(&self.path(dir))?
            .iter()
            .map(|p| self.relative(p))
            .collect())
    }

    fn exists(&self, rel: &str) -> Result<bool> {
        Ok(self.path(rel).exists())
    }

    fn write(&self, files: &[(String, Vec<u8>)]) -> Result<()> {
        for (rel, bytes) in files {
            write_atomic(&self.path(rel), bytes)?;
        }
        Ok(())
    }

    fn create_registry(&self, files: &[(String, Vec<u8>)]) -> Result<bool> {
        let target = self.path(ROOT);
        if target.exists() {
            return Ok(false);
        }
        let parent = target.parent().map(Path::to_path_buf).unwrap_or_default();
        let parent = if parent.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            parent
        };
        fs::create_dir_all(&parent).map_err(|e| Error::io("create folder", parent.display(), e))?;
        let stage = parent.join(format!(
            ".{ROOT}.new-{}-{:08x}",
            std::process::id(),
            crate::registry::rand_u32()
        ));
        let _ = fs::remove_dir_all(&stage);
        let staged = (|| {
            for (rel, bytes) in files {
                let inner = rel
                    .strip_prefix(ROOT)
                    .unwrap_or(rel)
                    .trim_start_matches('/');
                write_atomic(&stage.join(inner), bytes)?;
            }
            Ok::<(), Error>(())
        })();
        if let Err(e) = staged {
            let _ = fs::remove_dir_all(&stage);
            return Err(e);
        }
        // rename(2) refuses a non-empty target, so of two racing creators exactly one wins.
        match fs::rename(&stage, &target) {
            Ok(()) => Ok(true),
            Err(e) => {
                let _ = fs::remove_dir_all(&stage);
                if target.exists() {
                    Ok(false)
                } else {
                    Err(Error::io("create", target.display(), e))
                }
            }
        }
    }

    fn remove_files(&self, files: &[String]) -> Result<()> {
        for rel in files {
            match fs::remove_file(self.path(rel)) {
                Err(e) if e.kind() != ErrorKind::NotFound => {
                    return Err(Error::io("delete", self.shown_path(rel), e));
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn remove_dir(&self, dir: &str) -> Result<()> {
        match fs::remove_dir_all(self.path(dir)) {
            Err(e) if e.kind() != ErrorKind::NotFound => {
                Err(Error::io("delete", self.shown_path(dir), e))
            }
            _ => Ok(()),
        }
    }

    fn create_only(&self, rel: &str, bytes: &[u8]) -> Result<bool> {
        let p = self.path(rel);
        if let Some(dir) = p.parent() {
            fs::create_dir_all(dir).map_err(|e| Error::io("create folder", dir.display(), e))?;
        }
        let mut f = match OpenOptions::new().write(true).create_new(true).open(&p) {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::AlreadyExists => return Ok(false),
            Err(e) => return Err(Error::io("create", self.shown_path(rel), e)),
        };
        let written = f.write_all(bytes).and_then(|_| f.sync_all());
        if let Err(e) = written {
            let _ = fs::remove_file(&p);
            return Err(Error::io("write", self.shown_path(rel), e));
        }
        Ok(true)
    }

    fn replace(&self, rel: &str, bytes: &[u8], _expected: &super::Token) -> Result<bool> {
        write_atomic(&self.path(rel), bytes)?;
        Ok(true)
    }

    fn prune_empty(&self, dirs: &[String]) -> Result<()> {
        for d in dirs {
            // Fails harmlessly when the folder is not empty or not there.
            let _ = fs::remove_dir(self.path(d));
        }
        Ok(())
    }

    fn materialize(&self, dir: &str) -> Result<String> {
        Ok(self.shown_path(dir))
    }

    fn lock(&self) -> Result<Option<Box<dyn WriteGuard>>> {
        let p = self.path(LOCK);
        let f = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&p)
            .map_err(|e| Error::io("open the lock file", p.display(), e))?;
        f.lock().map_err(|e| Error::io("lock", p.display(), e))?;
        Ok(Some(Box::new(Held(f))))
    }
}
