//! AWS S3 through the `aws` CLI: `aws s3` moves trees, `aws s3api` handles single objects,
//! listings and the preconditions (`put-object --if-none-match '*'` to create only,
//! `--if-match <ETag>` to replace only an unchanged object). The endpoint, region and
//! credentials are the CLI's own configuration (profiles, `AWS_*` variables, roles).

use super::cli::{self, AWS, Cmd, Limits, Moves, Output};
use super::{Remote, missing_bucket};
use crate::api::location::Location;
use crate::registry::error::{Error, Result};
use crate::storage::Token;
use std::path::Path;

/// One bucket.
pub struct S3 {
    bucket: String,
    limits: Limits,
}

/// S3 deletes at most this many keys per request.
const DELETE_BATCH: usize = 1000;

impl S3 {
    pub fn new(loc: &Location, limits: Limits) -> S3 {
        S3 {
            bucket: loc.bucket.clone(),
            limits,
        }
    }

    fn url(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }

    fn s3api(&self, op: &str) -> Cmd<'static> {
        Cmd::new(&AWS, &format!("s3api {op}"))
            .arg("s3api")
            .arg(op)
            .args(["--bucket", &self.bucket])
    }

    fn s3(&self, op: &str) -> Cmd<'static> {
        Cmd::new(&AWS, &format!("s3 {op}"))
            .arg("s3")
            .arg(op)
            .arg("--only-show-errors")
    }

    fn run(&self, cmd: Cmd, moves: Moves, target: &str) -> Result<Output> {
        cli::run(cmd, moves, self.limits).map_err(|e| Error::Storage(format!("S3 {target}: {e}")))
    }

    /// A failed command as a clear error: missing bucket, access denied, endpoint down.
    fn failed(&self, what: &str, target: &str, out: &Output) -> Error {
        let text = out.text();
        let gist = cli::gist(out, &[]);
        let why = if text.contains("NoSuchBucket") {
            missing_bucket("S3 bucket", &self.bucket, &self.url(""))
        } else if [
            "AccessDenied",
            "(403)",
            "Forbidden",
            "InvalidAccessKeyId",
            "SignatureDoesNotMatch",
            "ExpiredToken",
            "Unable to locate credentials",
        ]
        .iter()
        .any(|p| text.contains(p))
        {
            format!(
                "access denied to {target}: check the AWS credentials the aws CLI uses \
                 (profile, AWS_* variables, role) and their permissions ({gist})"
            )
        } else if text.contains("Could not connect to the endpoint")
            || text.contains("Connection refused")
            || text.contains("Connect timeout")
        {
            format!(
                "cannot reach the S3 endpoint for {target}: is it up (AWS_ENDPOINT_URL, \
                 region, network)? ({gist})"
            )
        } else {
            format!("{target}: {gist}")
        };
        Error::Storage(format!(
            "aws {what} failed (exit {}): {why}",
            out.code
                .map(|c| c.to_string())
                .unwrap_or("by signal".into())
        ))
    }
}

/// Splits `aws --output text` list output (tabs and lines) into items.
fn text_items(out: &Output) -> Vec<String> {
    out.stdout_text()
        .split(['\t', '\n'])
        .map(|s| s.trim_end_matches('\r'))
        .filter(|s| !s.is_empty() && *s != "None")
        .map(str::to_string)
        .collect()
}

fn size(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

/// A JSON string literal.
fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl Remote for S3 {
    fn get(&self, key: &str, dest: &Path, versioned: bool) -> Result<Option<Token>> {
        let target = self.url(key);
        let cmd = self
            .s3api("get-object")
            .args(["--key", key])
            .arg(dest)
            .args(["--query", "ETag", "--output", "text"]);
        let out = self.run(cmd, Moves::Into(dest.to_path_buf()), &target)?;
        if !out.success() {
            let text = out.text();
            if !text.contains("NoSuchBucket")
                && (text.contains("NoSuchKey") || text.contains("(404)"))
            {
                return Ok(None);
            }
            return Err(self.failed("s3api get-object", &target, &out));
        }
        let etag = out.stdout_text().trim().to_string();
        Ok(Some(if versioned && !etag.is_empty() {
            Some(etag)
        } else {
            None
        }))
    }

    fn get_tree(&self, dir: &str, dest: &Path) -> Result<()> {
        let target = self.url(dir);
        let cmd = self.s3("cp").arg("--recursive").arg(&target).arg(dest);
        let out = self.run(cmd, Moves::Into(dest.to_path_buf()), &target)?;
        if out.success() {
            Ok(())
        } else {
            Err(self.failed("s3 cp --recursive", &target, &out))
        }
    }

    fn get_files(&self, dir: &str, names: &[String], dest: &Path) -> Result<()> {
        if names.is_empty() {
            return Ok(());
        }
        let target = self.url(dir);
        // Names hold no wildcard characters (checked where they enter), so each include
        // pattern matches exactly one key.
        let mut cmd = self
            .s3("cp")
            .arg("--recursive")
            .arg(&target)
            .arg(dest)
            .args(["--exclude", "*"]);
        for n in names {
            cmd = cmd.args(["--include", n.as_str()]);
        }
        let out = self.run(cmd, Moves::Into(dest.to_path_buf()), &target)?;
        if out.success() {
            Ok(())
        } else {
            Err(self.failed("s3 cp --recursive", &target, &out))
        }
    }

    fn list(&self, dir: &str) -> Result<Vec<String>> {
        let target = self.url(dir);
        let cmd = self.s3api("list-objects-v2").args([
            "--prefix",
            dir,
            "--query",
            "Contents[].Key",
            "--output",
            "text",
        ]);
        let out = self.run(cmd, Moves::Bytes(0), &target)?;
        if !out.success() {
            return Err(self.failed("s3api list-objects-v2", &target, &out));
        }
        Ok(text_items(&out)
            .into_iter()
            .filter(|k| k.starts_with(dir))
            .collect())
    }

    fn exists(&self, key: &str) -> Result<bool> {
        let target = self.url(key);
        // With `/` as delimiter, a folder shows up once as the common prefix `key/`.
        let cmd = self.s3api("list-objects-v2").args([
            "--prefix",
            key,
            "--delimiter",
            "/",
            "--query",
            "[Contents[].Key, CommonPrefixes[].Prefix][]",
            "--output",
            "text",
        ]);
        let out = self.run(cmd, Moves::Bytes(0), &target)?;
        if !out.success() {
            return Err(self.failed("s3api list-objects-v2", &target, &out));
        }
        let folder = format!("{key}/");
        Ok(text_items(&out).iter().any(|k| *k == key || *k == folder))
    }

    fn put_tree(&self, stage: &Path, dir: &str, bytes: u64) -> Result<()> {
        let target = self.url(dir);
        let cmd = self.s3("cp").arg("--recursive").arg(stage).arg(&target);
        let out = self.run(cmd, Moves::Bytes(bytes), &target)?;
        if out.success() {
            Ok(())
        } else {
            Err(self.failed("s3 cp --recursive", &target, &out))
        }
    }

    fn put_new(&self, key: &str, src: &Path) -> Result<bool> {
        let target = self.url(key);
        let cmd = self
            .s3api("put-object")
            .args(["--key", key, "--body"])
            .arg(src)
            .args([
                "--if-none-match",
                "*",
                "--query",
                "ETag",
                "--output",
                "text",
            ]);
        let out = self.run(cmd, Moves::Bytes(size(src)), &target)?;
        if out.success() {
            return Ok(true);
        }
        let text = out.text();
        if text.contains("PreconditionFailed") || text.contains("ConditionalRequestConflict") {
            return Ok(false);
        }
        Err(self.failed("s3api put-object --if-none-match", &target, &out))
    }

    fn put_over(&self, key: &str, src: &Path, token: &Token) -> Result<bool> {
        let target = self.url(key);
        let mut cmd = self
            .s3api("put-object")
            .args(["--key", key, "--body"])
            .arg(src);
        if let Some(etag) = token {
            cmd = cmd.args(["--if-match", etag.as_str()]);
        }
        let cmd = cmd.args(["--query", "ETag", "--output", "text"]);
        let out = self.run(cmd, Moves::Bytes(size(src)), &target)?;
        if out.success() {
            return Ok(true);
        }
        let text = out.text();
        let changed = [
            "PreconditionFailed",
            "ConditionalRequestConflict",
            "NoSuchKey",
        ];
        if token.is_some() && changed.iter().any(|p| text.contains(p)) {
            return Ok(false);
        }
        Err(self.failed("s3api put-object --if-match", &target, &out))
    }

    fn remove(&self, keys: &[String]) -> Result<()> {
        for chunk in keys.chunks(DELETE_BATCH) {
            let objects: Vec<String> = chunk
                .iter()
                .map(|k| format!("{{\"Key\":{}}}", json_string(k)))
                .collect();
            let spec = format!("{{\"Objects\":[{}],\"Quiet\":true}}", objects.join(","));
            let target = self.url(&chunk[0]);
            let cmd = self
                .s3api("delete-objects")
                .args(["--delete", &spec, "--output", "json"]);
            let out = self.run(cmd, Moves::Bytes(0), &target)?;
            // With Quiet, only failures are listed; a missing key is not one.
            if !out.success() || out.stdout_text().contains("\"Errors\"") {
                return Err(self.failed("s3api delete-objects", &target, &out));
            }
        }
        Ok(())
    }

    fn remove_tree(&self, dir: &str) -> Result<()> {
        let target = self.url(dir);
        let cmd = self.s3("rm").arg("--recursive").arg(&target);
        let out = self.run(cmd, Moves::Bytes(0), &target)?;
        if out.success() {
            Ok(())
        } else {
            Err(self.failed("s3 rm --recursive", &target, &out))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(json_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
    }
}
