//! Azure Blob Storage through `azcopy`. With a SAS token in the location, azcopy gets it on
//! its command line (the only way it takes one); without, azcopy's own login applies
//! (`azcopy login`, `AZCOPY_AUTO_LOGIN_TYPE`). `--from-to` and `--location Blob` are always
//! passed: azcopy cannot tell the storage type of an emulator's IP-address URL, and they are
//! harmless against Azure itself.
//!
//! azcopy has no preconditions: a create-only upload is `--overwrite=false` (checked against
//! the job summary), which two writers can both pass at the same instant, and a replace is
//! unconditional. Reads carry no version token.
//!
//! Every job-mode `copy` or `remove` takes about 2 s (azcopy reports on a 2-second tick), so
//! single blobs are read and replaced through azcopy's pipe mode (stdout / stdin), which
//! takes milliseconds; trees, create-only uploads and deletes stay jobs.
//!
//! azcopy retries for about 16 minutes against an endpoint that refuses connections, so each
//! transport first checks (once) that a TCP connection to the endpoint opens, unless a proxy
//! stands between.

use super::cli::{self, AZCOPY, Cmd, Limits, Moves, Output};
use super::{Remote, missing_bucket};
use crate::api::location::Location;
use crate::registry::error::{Error, Result};
use crate::storage::Token;
use std::cell::OnceCell;
use std::path::Path;
use std::time::Duration;

/// One container.
pub struct Blob {
    /// `scheme://host[:port][/account]`, no trailing `/`.
    endpoint: String,
    container: String,
    /// The SAS token without its `?`.
    sas: Option<String>,
    limits: Limits,
    reachable: OnceCell<std::result::Result<(), String>>,
}

/// How long the reachability check waits for a TCP connection.
const PROBE: Duration = Duration::from_secs(5);
/// Paths named per `azcopy remove --include-path`.
const REMOVE_BATCH: usize = 200;

/// Percent-encodes a key for a URL (`/` kept).
fn encode(key: &str) -> String {
    let mut out = String::new();
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `(host, port)` of an endpoint URL.
fn host_port(endpoint: &str) -> Option<(String, u16)> {
    let (scheme, rest) = endpoint.split_once("://")?;
    let authority = rest.split('/').next()?;
    let default = if scheme == "https" { 443 } else { 80 };
    if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        let port = after.strip_prefix(':').and_then(|p| p.parse().ok());
        return Some((host.to_string(), port.unwrap_or(default)));
    }
    match authority.rsplit_once(':') {
        Some((h, p)) => Some((h.to_string(), p.parse().ok()?)),
        None => Some((authority.to_string(), default)),
    }
}

/// Whether azcopy would reach `host` through a proxy (then a direct check proves nothing).
fn proxied(scheme_https: bool, host: &str) -> bool {
    let var = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| std::env::var(n).ok().filter(|v| !v.is_empty()))
    };
    let proxy = if scheme_https {
        var(&["HTTPS_PROXY", "https_proxy"])
    } else {
        var(&["HTTP_PROXY", "http_proxy"])
    };
    if proxy.is_none() {
        return false;
    }
    let bypass = var(&["NO_PROXY", "no_proxy"]).unwrap_or_default();
    !bypass.split(',').map(str::trim).any(|e| {
        e == "*"
            || e == host
            || (!e.is_empty() && host.ends_with(&format!(".{}", e.trim_start_matches('.'))))
    })
}

impl Blob {
    pub fn new(loc: &Location, limits: Limits) -> Result<Blob> {
        if host_port(&loc.endpoint).is_none() {
            return Err(Error::arg(
                "folderPath",
                format!("an Azure blob URL with a valid host; got {}", loc.shown()),
            ));
        }
        Ok(Blob {
            endpoint: loc.endpoint.trim_end_matches('/').to_string(),
            container: loc.bucket.clone(),
            sas: loc.sas.clone(),
            limits,
            reachable: OnceCell::new(),
        })
    }

    fn secrets(&self) -> Vec<&str> {
        self.sas.as_deref().into_iter().collect()
    }

    /// The URL of a key (or of a folder, for a key ending in `/`), with the SAS if any.
    fn url(&self, key: &str) -> String {
        self.url_then(key, "")
    }

    /// The URL of a key followed by `raw` (such as azcopy's `*`, which must stay unencoded).
    fn url_then(&self, key: &str, raw: &str) -> String {
        let base = format!("{}/{}/{}{raw}", self.endpoint, self.container, encode(key));
        match &self.sas {
            Some(s) => format!("{base}?{s}"),
            None => base,
        }
    }

    /// The URL as errors show it: never the token.
    fn shown(&self, key: &str) -> String {
        format!("{}/{}/{key}", self.endpoint, self.container)
    }

    fn check_reachable(&self) -> Result<()> {
        let verdict = self.reachable.get_or_init(|| {
            let (host, port) = host_port(&self.endpoint).unwrap_or_default();
            if proxied(self.endpoint.starts_with("https"), &host) {
                return Ok(());
            }
            cli::reachable(&host, port, PROBE)
        });
        verdict.clone().map_err(|why| {
            Error::Storage(format!(
                "cannot reach the Azure endpoint {} ({why}): is the service (or emulator) up, \
                 and the URL right?",
                self.endpoint
            ))
        })
    }

    fn run(&self, cmd: Cmd, moves: Moves, key: &str) -> Result<Output> {
        self.check_reachable()?;
        cli::run(cmd, moves, self.limits).map_err(|e| {
            Error::Storage(cli::redact(
                &format!("Azure {}: {e}", self.shown(key)),
                &self.secrets(),
            ))
        })
    }

    /// The `ERR:` lines of the job log azcopy names in its output (transfer failures are
    /// told only there), redacted.
    fn job_errors(&self, out: &Output) -> String {
        let text = out.stdout_text();
        let Some(path) = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("Log file is located at:"))
            .map(str::trim)
        else {
            return String::new();
        };
        let Ok(log) = std::fs::read(path) else {
            return String::new();
        };
        let log = String::from_utf8_lossy(&log[log.len().saturating_sub(1 << 20)..]).into_owned();
        let errs: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("ERR:") || l.contains("ERROR CODE:") || l.contains("Code>"))
            .take(3)
            .collect();
        cli::redact(&errs.join(" | "), &self.secrets())
    }

    /// A failed command as a clear error: missing container, access denied, unreachable.
    fn failed(&self, what: &str, key: &str, out: &Output) -> Error {
        let errors = self.job_errors(out);
        let text = format!("{}\n{errors}", out.text());
        let mut gist = cli::gist(out, &self.secrets());
        if !errors.is_empty() {
            gist = format!("{gist} | {errors}");
        }
        let target = self.shown(key);
        let why = if text.contains("ContainerNotFound") || text.contains("container does not exist")
        {
            missing_bucket("Azure container", &self.container, &self.shown(""))
        } else if [
            "AuthorizationPermissionMismatch",
            "AuthorizationFailure",
            "AuthenticationFailed",
            "AuthorizationResourceTypeMismatch",
            "RESPONSE 403",
            ": 403 :",
        ]
        .iter()
        .any(|p| text.contains(p))
        {
            let hint = if self.sas.is_some() {
                "the SAS token may be expired, read-only or for another container"
            } else {
                "no SAS token was given, so azcopy's own login applies (azcopy login)"
            };
            format!("access denied to {target}: {hint} ({gist})")
        } else if [
            "connection refused",
            "no such host",
            "dial tcp",
            "i/o timeout",
        ]
        .iter()
        .any(|p| text.to_lowercase().contains(p))
        {
            format!(
                "cannot reach the Azure endpoint {}: ({gist})",
                self.endpoint
            )
        } else if self.sas.is_none() && text.to_lowercase().contains("login") {
            format!(
                "azcopy has no credentials for {target}: add a SAS token to the location or \
                 run azcopy login ({gist})"
            )
        } else {
            format!("{target}: {gist}")
        };
        Error::Storage(cli::redact(
            &format!(
                "azcopy {what} failed (exit {}): {why}",
                out.code
                    .map(|c| c.to_string())
                    .unwrap_or("by signal".into())
            ),
            &self.secrets(),
        ))
    }

    /// Whether a job ran to the end: exit 0 and a final status of `Completed`.
    fn completed(out: &Output) -> bool {
        out.success() && final_status(out).is_none_or(|s| s.starts_with("Completed"))
    }

    fn copy(&self, what: &str) -> Cmd<'static> {
        Cmd::new(&AZCOPY, what).arg("copy")
    }

    fn remove_cmd(&self, what: &str) -> Cmd<'static> {
        Cmd::new(&AZCOPY, what).arg("remove")
    }
}

/// The `Final Job Status:` azcopy prints at the end of a job.
fn final_status(out: &Output) -> Option<String> {
    out.stdout_text().lines().find_map(|l| {
        l.trim()
            .strip_prefix("Final Job Status:")
            .map(|s| s.trim().to_string())
    })
}

/// The number azcopy gives after `label` in its job summary.
fn summary_count(out: &Output, label: &str) -> Option<u64> {
    out.stdout_text().lines().find_map(|l| {
        l.trim()
            .strip_prefix(label)
            .and_then(|n| n.trim().parse().ok())
    })
}

/// The names `azcopy list` prints, relative to the listed URL.
fn listed(out: &Output) -> Vec<String> {
    out.stdout_text()
        .lines()
        .filter_map(|l| {
            l.rsplit_once("; Content Length:")
                .map(|(n, _)| n.to_string())
        })
        .collect()
}

fn not_found(text: &str) -> bool {
    !text.contains("ContainerNotFound")
        && (text.contains("The specified file was not found")
            || text.contains("BlobNotFound")
            || text.contains("RESPONSE 404"))
}

/// The folder all `keys` share (ends in `/`, or empty).
fn common_dir(keys: &[String]) -> String {
    let first = keys.first().map(String::as_str).unwrap_or("");
    let mut dir = match first.rfind('/') {
        Some(i) => first[..=i].to_string(),
        None => String::new(),
    };
    while !keys.iter().all(|k| k.starts_with(&dir)) {
        let trimmed = dir.trim_end_matches('/');
        dir = match trimmed.rfind('/') {
            Some(i) => trimmed[..=i].to_string(),
            None => String::new(),
        };
    }
    dir
}

impl Remote for Blob {
    fn get(&self, key: &str, dest: &Path, _versioned: bool) -> Result<Option<Token>> {
        // A blob piped to stdout skips azcopy's job machinery (40 ms rather than 2 s), but a
        // failed pipe says nothing: then a listing (as fast) tells a missing blob from a
        // problem, and a job-mode copy names the problem.
        let pipe = Cmd::new(&AZCOPY, "copy --from-to BlobPipe")
            .arg("copy")
            .arg(self.url(key))
            .args(["--from-to", "BlobPipe"]);
        let out = self.run(pipe, Moves::Bytes(0), key)?;
        if out.success() {
            std::fs::write(dest, &out.stdout).map_err(|e| Error::io("write", dest.display(), e))?;
            return Ok(Some(None));
        }
        if !self.exists(key)? {
            return Ok(None);
        }
        let cmd = self
            .copy("copy (download)")
            .arg(self.url(key))
            .arg(dest)
            .args(["--from-to", "BlobLocal", "--overwrite", "true"]);
        let out = self.run(cmd, Moves::Into(dest.to_path_buf()), key)?;
        if Self::completed(&out) && dest.is_file() {
            return Ok(Some(None));
        }
        if not_found(&format!("{}\n{}", out.text(), self.job_errors(&out))) {
            return Ok(None);
        }
        Err(self.failed("copy (download)", key, &out))
    }

    fn get_tree(&self, dir: &str, dest: &Path) -> Result<()> {
        let src = self.url_then(dir, "*");
        let cmd = self
            .copy("copy --recursive (download)")
            .arg(src)
            .arg(dest)
            .args([
                "--recursive",
                "--from-to",
                "BlobLocal",
                "--overwrite",
                "true",
            ]);
        let out = self.run(cmd, Moves::Into(dest.to_path_buf()), dir)?;
        if Self::completed(&out) {
            Ok(())
        } else {
            Err(self.failed("copy --recursive (download)", dir, &out))
        }
    }

    fn get_files(&self, dir: &str, names: &[String], dest: &Path) -> Result<()> {
        // azcopy splits --include-path on `;`, so such names come one by one.
        let (odd, plain): (Vec<&String>, Vec<&String>) =
            names.iter().partition(|n| n.contains(';'));
        for n in odd {
            self.get(&format!("{dir}{n}"), &dest.join(n.as_str()), false)?;
        }
        if plain.is_empty() {
            return Ok(());
        }
        let list: Vec<&str> = plain.iter().map(|n| n.as_str()).collect();
        let cmd = self
            .copy("copy --include-path (download)")
            .arg(self.url_then(dir, "*"))
            .arg(dest)
            .args(["--include-path", &list.join(";")])
            .args([
                "--recursive",
                "--from-to",
                "BlobLocal",
                "--overwrite",
                "true",
            ]);
        let out = self.run(cmd, Moves::Into(dest.to_path_buf()), dir)?;
        if Self::completed(&out) {
            Ok(())
        } else {
            Err(self.failed("copy --include-path (download)", dir, &out))
        }
    }

    fn list(&self, dir: &str) -> Result<Vec<String>> {
        let cmd = Cmd::new(&AZCOPY, "list")
            .arg("list")
            .arg(self.url(dir))
            .args(["--location", "Blob"]);
        let out = self.run(cmd, Moves::Bytes(0), dir)?;
        if !out.success() {
            return Err(self.failed("list", dir, &out));
        }
        Ok(listed(&out)
            .into_iter()
            .map(|n| format!("{dir}{n}"))
            .collect())
    }

    fn exists(&self, key: &str) -> Result<bool> {
        let cmd = Cmd::new(&AZCOPY, "list")
            .arg("list")
            .arg(self.url(key))
            .args(["--location", "Blob"]);
        let out = self.run(cmd, Moves::Bytes(0), key)?;
        if !out.success() {
            return Err(self.failed("list", key, &out));
        }
        Ok(!listed(&out).is_empty())
    }

    fn put_tree(&self, stage: &Path, dir: &str, bytes: u64) -> Result<()> {
        let mut contents = stage.as_os_str().to_owned();
        contents.push("/*");
        let cmd = self
            .copy("copy --recursive (upload)")
            .arg(contents)
            .arg(self.url(dir))
            .args([
                "--recursive",
                "--from-to",
                "LocalBlob",
                "--overwrite",
                "true",
            ]);
        let out = self.run(cmd, Moves::Bytes(bytes), dir)?;
        if Self::completed(&out) {
            Ok(())
        } else {
            Err(self.failed("copy --recursive (upload)", dir, &out))
        }
    }

    fn put_new(&self, key: &str, src: &Path) -> Result<bool> {
        let cmd = self
            .copy("copy --overwrite=false (upload)")
            .arg(src)
            .arg(self.url(key))
            .args(["--from-to", "LocalBlob", "--overwrite", "false"]);
        let out = self.run(cmd, Moves::Bytes(size(src)), key)?;
        if !Self::completed(&out) {
            return Err(self.failed("copy --overwrite=false (upload)", key, &out));
        }
        let skipped = summary_count(&out, "Number of File Transfers Skipped:").unwrap_or(0);
        let skipped = skipped > 0 || final_status(&out).is_some_and(|s| s.contains("Skipped"));
        Ok(!skipped)
    }

    fn put_over(&self, key: &str, src: &Path, _token: &Token) -> Result<bool> {
        // Piped from stdin: no job, so 40 ms rather than 2 s. A failed pipe says nothing, so
        // the job-mode upload runs next and either succeeds or names the problem.
        let bytes = std::fs::read(src).map_err(|e| Error::io("read", src.display(), e))?;
        let n = bytes.len() as u64;
        let pipe = Cmd::new(&AZCOPY, "copy --from-to PipeBlob")
            .arg("copy")
            .arg(self.url(key))
            .args(["--from-to", "PipeBlob"])
            .input(bytes);
        if self.run(pipe, Moves::Bytes(n), key)?.success() {
            return Ok(true);
        }
        let cmd = self
            .copy("copy (upload)")
            .arg(src)
            .arg(self.url(key))
            .args(["--from-to", "LocalBlob", "--overwrite", "true"]);
        let out = self.run(cmd, Moves::Bytes(n), key)?;
        if Self::completed(&out) {
            Ok(true)
        } else {
            Err(self.failed("copy (upload)", key, &out))
        }
    }

    fn remove(&self, keys: &[String]) -> Result<()> {
        let (odd, plain): (Vec<&String>, Vec<&String>) = keys.iter().partition(|k| k.contains(';'));
        for k in odd {
            let cmd = self
                .remove_cmd("remove")
                .arg(self.url(k))
                .args(["--from-to", "BlobTrash"]);
            let out = self.run(cmd, Moves::Bytes(0), k)?;
            if !Self::completed(&out) && !not_found(&out.text()) {
                return Err(self.failed("remove", k, &out));
            }
        }
        let plain: Vec<String> = plain.into_iter().cloned().collect();
        for chunk in plain.chunks(REMOVE_BATCH) {
            let dir = common_dir(chunk);
            let rels: Vec<&str> = chunk.iter().map(|k| &k[dir.len()..]).collect();
            let cmd = self
                .remove_cmd("remove --include-path")
                .arg(self.url(&dir))
                .args(["--include-path", &rels.join(";")])
                .args(["--recursive", "--from-to", "BlobTrash"]);
            let out = self.run(cmd, Moves::Bytes(0), &dir)?;
            if !Self::completed(&out) {
                return Err(self.failed("remove --include-path", &dir, &out));
            }
        }
        Ok(())
    }

    fn remove_tree(&self, dir: &str) -> Result<()> {
        let cmd = self
            .remove_cmd("remove --recursive")
            .arg(self.url(dir))
            .args(["--recursive", "--from-to", "BlobTrash"]);
        let out = self.run(cmd, Moves::Bytes(0), dir)?;
        if Self::completed(&out) {
            Ok(())
        } else {
            Err(self.failed("remove --recursive", dir, &out))
        }
    }
}

fn size(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_percent_encoded() {
        assert_eq!(encode("a b/c%d"), "a%20b/c%25d");
    }

    #[test]
    fn endpoints_give_host_and_port() {
        let hp = host_port("http://127.0.0.1:10000/devstoreaccount1");
        assert_eq!(hp, Some(("127.0.0.1".into(), 10000)));
        let hp = host_port("https://acct.blob.core.windows.net");
        assert_eq!(hp, Some(("acct.blob.core.windows.net".into(), 443)));
    }

    #[test]
    fn the_common_folder_of_keys_ends_in_a_slash() {
        let k = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(common_dir(&k(&["a/b/c", "a/b/d"])), "a/b/");
        assert_eq!(common_dir(&k(&["a/b/c", "a/bb/d"])), "a/");
        assert_eq!(common_dir(&k(&["x", "a/b"])), "");
    }
}
