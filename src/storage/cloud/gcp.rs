//! Google Cloud Storage through `gsutil`. Generations are GCS's version tokens: a create-only
//! upload sends `x-goog-if-generation-match: 0`, a replace sends the generation it read.
//! Reading an object together with its generation takes `gsutil stat` and `gsutil cat`, run
//! side by side and checked against each other (size and CRC32C), so the pair costs the wall
//! time of one process. The endpoint and credentials are gsutil's own configuration
//! (`BOTO_CONFIG`, `~/.boto`, gcloud credentials).

use super::cli::{self, Cmd, GSUTIL, Limits, Moves, Output};
use super::{Remote, missing_bucket};
use crate::api::location::Location;
use crate::registry::error::{Error, Result};
use crate::storage::Token;
use std::fs;
use std::path::Path;

/// One bucket.
pub struct Gcs {
    bucket: String,
    limits: Limits,
}

/// Objects named per `gsutil rm` process.
const REMOVE_BATCH: usize = 500;
/// Attempts at reading an object and its generation while other writers replace it.
const VERSIONED_READS: usize = 3;

/// Messages gsutil prints for a URL that matches nothing.
const NO_MATCH: [&str; 2] = ["No URLs matched", "matched no objects"];

fn no_match(text: &str) -> bool {
    NO_MATCH.iter().any(|p| text.contains(p))
}

impl Gcs {
    pub fn new(loc: &Location, limits: Limits) -> Result<Gcs> {
        // gsutil expands these characters as wildcards in every URL.
        if loc.prefix.contains(['*', '?', '[', ']', '#']) || loc.bucket.contains(['*', '?']) {
            return Err(Error::arg(
                "folderPath",
                format!(
                    "a gs:// location without the characters * ? [ ] # (gsutil reads them as \
                     wildcards or versions); got {:?}",
                    loc.text
                ),
            ));
        }
        Ok(Gcs {
            bucket: loc.bucket.clone(),
            limits,
        })
    }

    fn url(&self, key: &str) -> String {
        format!("gs://{}/{key}", self.bucket)
    }

    fn gsutil(&self, what: &str) -> Cmd<'static> {
        Cmd::new(&GSUTIL, what).arg("-q")
    }

    fn run(&self, cmd: Cmd, moves: Moves, target: &str) -> Result<Output> {
        cli::run(cmd, moves, self.limits).map_err(|e| Error::Storage(format!("GCS {target}: {e}")))
    }

    /// A failed command as a clear error: missing bucket, access denied, endpoint down.
    fn failed(&self, what: &str, target: &str, out: &Output) -> Error {
        let text = out.text();
        let gist = cli::gist(out, &[]);
        let why = if bucket_missing(&text) {
            missing_bucket("GCS bucket", &self.bucket, &self.url(""))
        } else if [
            "AccessDeniedException",
            "403 ",
            "401 ",
            "Anonymous caller",
            "does not have storage.",
            "Login Required",
        ]
        .iter()
        .any(|p| text.contains(p))
        {
            format!(
                "access denied to {target}: check the credentials gsutil uses (BOTO_CONFIG, \
                 ~/.boto, gcloud auth) and their permissions ({gist})"
            )
        } else if [
            "Connection refused",
            "Errno 111",
            "Failed to establish",
            "Name or service not known",
            "Temporary failure in name resolution",
            "Max retries exceeded",
        ]
        .iter()
        .any(|p| text.contains(p))
        {
            format!(
                "cannot reach the GCS endpoint for {target}: is it up (gs_json_host in the boto \
                 config, network)? ({gist})"
            )
        } else {
            format!("{target}: {gist}")
        };
        Error::Storage(format!(
            "gsutil {what} failed (exit {}): {why}",
            out.code
                .map(|c| c.to_string())
                .unwrap_or("by signal".into())
        ))
    }

    /// Whether a failed command only reported URLs that matched nothing.
    fn only_missing(out: &Output) -> bool {
        let text = out.text();
        no_match(&text)
            && text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .all(|l| {
                    no_match(l) || l.contains("could not be transferred") || l.contains("Skipping")
                })
    }

    /// One attempt at an object with its generation: `stat` and a download side by side.
    fn get_with_generation(&self, key: &str, dest: &Path) -> Result<Attempt> {
        let url = self.url(key);
        // Not `-q`: that makes `stat` print nothing.
        let stat = cli::spawn(
            Cmd::new(&GSUTIL, "stat").arg("stat").arg(&url),
            Moves::Bytes(0),
            self.limits,
        );
        let copy = cli::spawn(
            self.gsutil("cat").arg("cat").arg(&url),
            Moves::Bytes(0),
            self.limits,
        );
        let wrap = |e: Error| Error::Storage(format!("GCS {url}: {e}"));
        let stat = stat.and_then(|r| r.wait()).map_err(wrap)?;
        let copy = copy.and_then(|r| r.wait()).map_err(wrap)?;
        if !stat.success() {
            if no_match(&stat.text()) {
                return Ok(if copy.success() {
                    Attempt::Raced
                } else {
                    Attempt::Missing
                });
            }
            return Err(self.failed("stat", &url, &stat));
        }
        let meta = Stat::parse(&stat.stdout_text())
            .ok_or_else(|| self.failed("stat (no generation shown)", &url, &stat))?;
        if copy.success() {
            if meta.matches(&copy.stdout) {
                write(dest, &copy.stdout)?;
                return Ok(Attempt::Read(meta.generation));
            }
        } else if !no_match(&copy.text()) {
            return Err(self.failed("cat", &url, &copy));
        }
        // The object changed between the two: fetch exactly the generation stat saw.
        let pinned = format!("{url}#{}", meta.generation);
        let out = self.run(
            self.gsutil("cat").arg("cat").arg(&pinned),
            Moves::Bytes(0),
            &url,
        )?;
        if out.success() {
            write(dest, &out.stdout)?;
            Ok(Attempt::Read(meta.generation))
        } else if no_match(&out.text()) || out.text().contains("NotFoundException") {
            Ok(Attempt::Raced)
        } else {
            Err(self.failed("cat", &url, &out))
        }
    }
}

fn write(dest: &Path, bytes: &[u8]) -> Result<()> {
    fs::write(dest, bytes).map_err(|e| Error::io("write", dest.display(), e))
}

/// One try at a versioned read.
enum Attempt {
    Read(String),
    Missing,
    Raced,
}

/// What `gsutil stat` says about an object.
struct Stat {
    generation: String,
    crc32c: Option<String>,
    length: Option<u64>,
}

impl Stat {
    fn parse(text: &str) -> Option<Stat> {
        let field = |name: &str| {
            text.lines()
                .map(str::trim)
                .find_map(|l| l.strip_prefix(name))
                .map(|v| v.trim().to_string())
        };
        Some(Stat {
            generation: field("Generation:").filter(|g| g.chars().all(|c| c.is_ascii_digit()))?,
            crc32c: field("Hash (crc32c):"),
            length: field("Content-Length:").and_then(|l| l.parse().ok()),
        })
    }

    /// Whether `bytes` are the content this stat describes.
    fn matches(&self, bytes: &[u8]) -> bool {
        self.length.is_none_or(|n| n == bytes.len() as u64)
            && self
                .crc32c
                .as_ref()
                .is_some_and(|c| *c == base64(&crc32c(bytes).to_be_bytes()))
    }
}

/// CRC-32C (Castagnoli), the checksum GCS keeps for every object.
fn crc32c(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for b in bytes {
        crc ^= *b as u32;
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0x82f6_3b78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (*b as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

impl Remote for Gcs {
    fn get(&self, key: &str, dest: &Path, versioned: bool) -> Result<Option<Token>> {
        let url = self.url(key);
        if versioned {
            for _ in 0..VERSIONED_READS {
                match self.get_with_generation(key, dest)? {
                    Attempt::Read(generation) => return Ok(Some(Some(generation))),
                    Attempt::Missing => return Ok(None),
                    Attempt::Raced => continue,
                }
            }
            return Err(Error::Storage(format!(
                "GCS {url} kept changing while it was read ({VERSIONED_READS} attempts); try \
                 again"
            )));
        }
        // `cat` to stdout costs a little less than `cp` to a file.
        let cmd = self.gsutil("cat").arg("cat").arg(&url);
        let out = self.run(cmd, Moves::Bytes(0), &url)?;
        if out.success() {
            write(dest, &out.stdout)?;
            Ok(Some(None))
        } else if no_match(&out.text()) {
            Ok(None)
        } else {
            Err(self.failed("cat", &url, &out))
        }
    }

    fn get_tree(&self, dir: &str, dest: &Path) -> Result<()> {
        let url = self.url(dir);
        // `cp -r gs://b/a/dir/ into/` lands in `into/dir/`: download beside, then move in.
        let landing = dest.join(".gsutil-download");
        fs::create_dir_all(&landing)
            .map_err(|e| Error::io("create folder", landing.display(), e))?;
        let cmd = self
            .gsutil("cp -r")
            .args(["-m", "cp", "-r"])
            .arg(&url)
            .arg(&landing);
        let out = self.run(cmd, Moves::Into(landing.clone()), &url)?;
        if !out.success() && !no_match(&out.text()) {
            let _ = fs::remove_dir_all(&landing);
            return Err(self.failed("cp -r", &url, &out));
        }
        let name = dir.trim_end_matches('/').rsplit('/').next().unwrap_or("");
        let got = landing.join(name);
        if let Ok(entries) = fs::read_dir(&got) {
            for e in entries.flatten() {
                let to = dest.join(e.file_name());
                fs::rename(e.path(), &to).map_err(|err| Error::io("move", to.display(), err))?;
            }
        }
        let _ = fs::remove_dir_all(&landing);
        Ok(())
    }

    fn get_files(&self, dir: &str, names: &[String], dest: &Path) -> Result<()> {
        if names.is_empty() {
            return Ok(());
        }
        let url = self.url(dir);
        let mut cmd = self.gsutil("cp").args(["-m", "cp"]);
        for n in names {
            cmd = cmd.arg(self.url(&format!("{dir}{n}")));
        }
        let mut into = dest.as_os_str().to_owned();
        into.push("/");
        let out = self.run(cmd.arg(into), Moves::Into(dest.to_path_buf()), &url)?;
        if out.success() || Self::only_missing(&out) {
            Ok(())
        } else {
            Err(self.failed("cp", &url, &out))
        }
    }

    fn list(&self, dir: &str) -> Result<Vec<String>> {
        let url = self.url(dir);
        let cmd = self.gsutil("ls").arg("ls").arg(format!("{url}**"));
        let out = self.run(cmd, Moves::Bytes(0), &url)?;
        if !out.success() {
            if no_match(&out.text()) && !bucket_missing(&out.text()) {
                return Ok(vec![]);
            }
            return Err(self.failed("ls", &url, &out));
        }
        let base = self.url("");
        Ok(out
            .stdout_text()
            .lines()
            .filter_map(|l| l.trim_end().strip_prefix(&base))
            .filter(|k| k.starts_with(dir) && !k.ends_with('/'))
            .map(str::to_string)
            .collect())
    }

    fn exists(&self, key: &str) -> Result<bool> {
        let url = self.url(key);
        let cmd = self.gsutil("ls").arg("ls").arg(&url);
        let out = self.run(cmd, Moves::Bytes(0), &url)?;
        if !out.success() {
            if no_match(&out.text()) && !bucket_missing(&out.text()) {
                return Ok(false);
            }
            return Err(self.failed("ls", &url, &out));
        }
        let folder = format!("{url}/");
        Ok(out
            .stdout_text()
            .lines()
            .map(str::trim_end)
            .any(|l| l == url || l.starts_with(&folder)))
    }

    fn put_tree(&self, stage: &Path, dir: &str, bytes: u64) -> Result<()> {
        let url = self.url(dir);
        let mut tops: Vec<_> = fs::read_dir(stage)
            .map_err(|e| Error::io("list", stage.display(), e))?
            .flatten()
            .map(|e| e.path())
            .collect();
        tops.sort();
        // The destination ends in `/`, so `cp -r stage/X gs://b/dir/` always gives
        // `dir/X/...`, whether `dir/X/` exists already or not.
        let cmd = self
            .gsutil("cp -r")
            .args(["-m", "cp", "-r"])
            .args(tops)
            .arg(&url);
        let out = self.run(cmd, Moves::Bytes(bytes), &url)?;
        if out.success() {
            Ok(())
        } else {
            Err(self.failed("cp -r", &url, &out))
        }
    }

    fn put_new(&self, key: &str, src: &Path) -> Result<bool> {
        let url = self.url(key);
        let cmd = self
            .gsutil("cp (if-generation-match 0)")
            .args(["-h", "x-goog-if-generation-match:0", "cp"])
            .arg(src)
            .arg(&url);
        let out = self.run(cmd, Moves::Bytes(size(src)), &url)?;
        if out.success() {
            Ok(true)
        } else if precondition_failed(&out) {
            Ok(false)
        } else {
            Err(self.failed("cp (create only)", &url, &out))
        }
    }

    fn put_over(&self, key: &str, src: &Path, token: &Token) -> Result<bool> {
        let url = self.url(key);
        let mut cmd = self.gsutil("cp (if-generation-match)");
        if let Some(generation) = token {
            cmd = cmd.args(["-h", &format!("x-goog-if-generation-match:{generation}")]);
        }
        let cmd = cmd.arg("cp").arg(src).arg(&url);
        let out = self.run(cmd, Moves::Bytes(size(src)), &url)?;
        if out.success() {
            Ok(true)
        } else if token.is_some() && precondition_failed(&out) {
            Ok(false)
        } else {
            Err(self.failed("cp (replace)", &url, &out))
        }
    }

    fn remove(&self, keys: &[String]) -> Result<()> {
        for chunk in keys.chunks(REMOVE_BATCH) {
            let urls: Vec<String> = chunk.iter().map(|k| self.url(k)).collect();
            let cmd = self.gsutil("rm").args(["-m", "rm"]).args(&urls);
            let out = self.run(cmd, Moves::Bytes(0), &urls[0])?;
            if out.success() {
                continue;
            }
            let text = out.text();
            if !(no_match(&text) || text.contains("could not be removed")) {
                return Err(self.failed("rm", &urls[0], &out));
            }
            // gsutil -m does not say why an object was not removed: it was already gone
            // unless it is still listed.
            let check = self.run(
                self.gsutil("ls").arg("ls").args(&urls),
                Moves::Bytes(0),
                &urls[0],
            )?;
            let left: Vec<String> = check
                .stdout_text()
                .lines()
                .map(|l| l.trim().to_string())
                .filter(|l| urls.contains(l))
                .collect();
            if !left.is_empty() {
                return Err(self.failed(&format!("rm ({} still there)", left[0]), &urls[0], &out));
            }
        }
        Ok(())
    }

    fn remove_tree(&self, dir: &str) -> Result<()> {
        let url = self.url(dir);
        let cmd = self.gsutil("rm -r").args(["-m", "rm", "-r"]).arg(&url);
        let out = self.run(cmd, Moves::Bytes(0), &url)?;
        if out.success() || (no_match(&out.text()) && !bucket_missing(&out.text())) {
            Ok(())
        } else {
            Err(self.failed("rm -r", &url, &out))
        }
    }
}

fn bucket_missing(text: &str) -> bool {
    [
        "BucketNotFoundException",
        "bucket does not exist",
        "non-existent bucket",
    ]
    .iter()
    .any(|p| text.contains(p))
}

fn precondition_failed(out: &Output) -> bool {
    let t = out.text();
    t.contains("PreconditionException") || t.contains("412 ")
}

fn size(p: &Path) -> u64 {
    fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_and_base64_match_what_gcs_shows() {
        // gsutil stat shows "uM5I1Q==" for the two bytes "x\n".
        assert_eq!(base64(&crc32c(b"x\n").to_be_bytes()), "uM5I1Q==");
        assert_eq!(crc32c(b"123456789"), 0xe306_9283);
        assert_eq!(base64(b"ab"), "YWI=");
    }

    #[test]
    fn stat_output_gives_generation_and_checksum() {
        let text = "gs://b/k:\n    Content-Length:         2\n    Hash (crc32c):          \
                    uM5I1Q==\n    Generation:             1796403529660135\n";
        let s = Stat::parse(text).unwrap();
        assert_eq!(s.generation, "1796403529660135");
        assert!(s.matches(b"x\n"));
        assert!(!s.matches(b"y\n"));
    }
}
