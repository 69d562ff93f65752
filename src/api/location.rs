//! Where a registry is: `folderPath` values, vendor flags and the cloud config file.
//!
//! Accepted cloud forms:
//! - AWS: `s3://bucket[/prefix]`
//! - GCP: `gs://bucket[/prefix]`
//! - Azure: `https://<account>.blob.core.<cloud suffix>/<container>[/prefix][?SAS]`,
//!   `ms://<account>/<container>[/prefix]` (the public endpoint, `windows.net`), and
//!   `http(s)://<host>[:port]/<account>/<container>[/prefix][?SAS]` for emulators and custom
//!   endpoints (the account is the first path segment).

use super::args::{describe, is_empty_list};
use crate::qdata::{Value, json};
use crate::registry::error::{Error, Result};

/// Storage kinds, with the key `.ml.registry.location` uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Vendor {
    Local,
    Aws,
    Gcp,
    Azure,
}

impl Vendor {
    pub fn key(&self) -> &'static str {
        match self {
            Vendor::Local => "local",
            Vendor::Aws => "aws",
            Vendor::Gcp => "gcp",
            Vendor::Azure => "azure",
        }
    }

    pub fn flag(&self) -> &'static str {
        self.key()
    }

    fn from_key(k: &str) -> Option<Vendor> {
        [Vendor::Local, Vendor::Aws, Vendor::Gcp, Vendor::Azure]
            .into_iter()
            .find(|v| v.key() == k)
    }

    fn form(&self) -> &'static str {
        match self {
            Vendor::Local => "a folder path",
            Vendor::Aws => "s3://bucket[/prefix]",
            Vendor::Gcp => "gs://bucket[/prefix]",
            Vendor::Azure => {
                "https://<account>.blob.core.windows.net/<container>[/prefix][?SAS], \
                 ms://<account>/<container>[/prefix] or \
                 http(s)://<host>[:port]/<account>/<container>[/prefix][?SAS]"
            }
        }
    }
}

/// A parsed location. For the cloud, `bucket` is the bucket (AWS, GCP) or container (Azure)
/// and `prefix` has no leading or trailing `/`.
#[derive(Clone, Debug, PartialEq)]
pub struct Location {
    pub vendor: Vendor,
    /// The local folder, or the cloud URL as given (token included).
    pub text: String,
    pub bucket: String,
    pub prefix: String,
    /// Azure: the blob service endpoint, e.g. `https://acct.blob.core.windows.net` or
    /// `http://127.0.0.1:10000/devstoreaccount1`.
    pub endpoint: String,
    /// Azure: the SAS token without its `?`, if any.
    pub sas: Option<String>,
}

/// What `.ml.registry.location` shows in place of a SAS token.
pub const REDACTED: &str = "<SAS redacted>";

impl Location {
    pub fn local(folder: &str) -> Location {
        Location {
            vendor: Vendor::Local,
            text: folder.to_string(),
            bucket: String::new(),
            prefix: String::new(),
            endpoint: String::new(),
            sas: None,
        }
    }

    /// The text shown to users and returned in configs: the token redacted.
    pub fn shown(&self) -> String {
        match (&self.sas, self.text.split_once('?')) {
            (Some(_), Some((base, _))) => format!("{base}?{REDACTED}"),
            _ => self.text.clone(),
        }
    }

    /// The text without any token (returned as `folderPath` in configs).
    pub fn without_token(&self) -> String {
        self.text
            .split_once('?')
            .map(|(b, _)| b.to_string())
            .unwrap_or(self.text.clone())
    }
}

fn bad(vendor: Vendor, arg: &str, text: &str) -> Error {
    let shown = text.split_once('?').map(|(b, _)| format!("{b}?{REDACTED}"));
    Error::arg(
        arg,
        format!(
            "a {} location of the form {}; got {:?}",
            vendor.key(),
            vendor.form(),
            shown.unwrap_or(text.to_string())
        ),
    )
}

fn split_bucket(rest: &str) -> Option<(String, String)> {
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let bad = |c: char| c.is_control() || c.is_whitespace();
    if bucket.is_empty()
        || bucket.contains(bad)
        || prefix.contains(bad)
        || (!prefix.is_empty() && prefix.split('/').any(|s| s.is_empty() || s == ".."))
    {
        return None;
    }
    Some((bucket.to_string(), prefix.to_string()))
}

/// Parses a cloud location for `vendor`; `arg` names the argument in errors.
pub fn parse_vendor(vendor: Vendor, text: &str, arg: &str) -> Result<Location> {
    let text = text.trim();
    // URL schemes are case-insensitive: `S3://b` is `s3://b`.
    let lowered;
    let text = match text.split_once("://") {
        Some((scheme, rest)) if vendor != Vendor::Local => {
            lowered = format!("{}://{rest}", scheme.to_ascii_lowercase());
            lowered.as_str()
        }
        _ => text,
    };
    let mut loc = Location::local(text);
    loc.vendor = vendor;
    match vendor {
        Vendor::Local => {
            if text.is_empty() {
                return Err(Error::arg(arg, "a folder path, not an empty string"));
            }
            return Ok(Location::local(text));
        }
        Vendor::Aws | Vendor::Gcp => {
            let scheme = if vendor == Vendor::Aws {
                "s3://"
            } else {
                "gs://"
            };
            let rest = text
                .strip_prefix(scheme)
                .ok_or_else(|| bad(vendor, arg, text))?;
            if rest.contains('?') {
                return Err(bad(vendor, arg, text));
            }
            let (b, p) = split_bucket(rest).ok_or_else(|| bad(vendor, arg, text))?;
            loc.bucket = b;
            loc.prefix = p;
        }
        Vendor::Azure => {
            let (base, sas) = match text.split_once('?') {
                Some((b, s)) if !s.is_empty() => (b, Some(s.to_string())),
                Some((b, _)) => (b, None),
                None => (text, None),
            };
            loc.sas = sas;
            if let Some(rest) = base.strip_prefix("ms://") {
                let (account, rest) = rest.split_once('/').ok_or_else(|| bad(vendor, arg, text))?;
                let (c, p) = split_bucket(rest).ok_or_else(|| bad(vendor, arg, text))?;
                if account.is_empty() {
                    return Err(bad(vendor, arg, text));
                }
                loc.endpoint = format!("https://{account}.blob.core.windows.net");
                loc.bucket = c;
                loc.prefix = p;
            } else {
                let (scheme, rest) = if let Some(r) = base.strip_prefix("https://") {
                    ("https", r)
                } else if let Some(r) = base.strip_prefix("http://") {
                    ("http", r)
                } else {
                    return Err(bad(vendor, arg, text));
                };
                let (host, path) = rest.split_once('/').ok_or_else(|| bad(vendor, arg, text))?;
                if host.is_empty() {
                    return Err(bad(vendor, arg, text));
                }
                if host.contains(".blob.core.") {
                    let (c, p) = split_bucket(path).ok_or_else(|| bad(vendor, arg, text))?;
                    loc.endpoint = format!("{scheme}://{host}");
                    loc.bucket = c;
                    loc.prefix = p;
                } else {
                    let (account, rest) =
                        path.split_once('/').ok_or_else(|| bad(vendor, arg, text))?;
                    let (c, p) = split_bucket(rest).ok_or_else(|| bad(vendor, arg, text))?;
                    if account.is_empty() {
                        return Err(bad(vendor, arg, text));
                    }
                    loc.endpoint = format!("{scheme}://{host}/{account}");
                    loc.bucket = c;
                    loc.prefix = p;
                }
            }
        }
    }
    Ok(loc)
}

/// A vendor flag's value (start-up).
pub fn parse_cloud(vendor: Vendor, text: &str) -> Result<Location> {
    parse_vendor(vendor, text, &format!("-{}", vendor.flag()))
}

/// The vendor a folderPath string names by its form; other strings are local folders.
pub fn vendor_of(text: &str) -> Vendor {
    let text = text.to_ascii_lowercase();
    if text.starts_with("s3://") {
        Vendor::Aws
    } else if text.starts_with("gs://") {
        Vendor::Gcp
    } else if text.starts_with("ms://")
        || text.starts_with("https://")
        || text.starts_with("http://")
    {
        Vendor::Azure
    } else {
        Vendor::Local
    }
}

/// Resolves `folderPath`: `::`/`()` is the session default (the q variable
/// `.ml.registry.location`, passed in as `default`), a string names a folder or a cloud URL, a
/// dictionary maps a vendor to a location.
pub fn resolve(folder: &Value, default: &Value, real: &Location) -> Result<Location> {
    const EXPECTED: &str = "::, a folder path or cloud URL as a string, or a dictionary such \
                            as enlist[`local]!enlist\"path\"";
    if folder.is_null() || is_empty_list(folder) {
        return resolve_default(default, real);
    }
    if let Some(text) = folder.as_str() {
        if text.is_empty() {
            return Err(Error::arg(
                "folderPath",
                "a folder path, not an empty string",
            ));
        }
        return parse_vendor(vendor_of(&text), &text, "folderPath");
    }
    if folder.is_dict() {
        let entries = folder.dict_entries().unwrap_or_default();
        let Some((k, v)) = entries.first() else {
            return Err(Error::arg("folderPath", EXPECTED));
        };
        let vendor = Vendor::from_key(k).ok_or_else(|| {
            Error::arg(
                "folderPath",
                format!("a key among `local`aws`gcp`azure; got `{k}"),
            )
        })?;
        let text = v.as_text().ok_or_else(|| {
            Error::arg(
                "folderPath",
                format!("a string value for `{k}; got {}", describe(v)),
            )
        })?;
        return parse_vendor(vendor, &text, "folderPath");
    }
    Err(Error::arg(
        "folderPath",
        format!("{EXPECTED}; got {}", describe(folder)),
    ))
}

/// The default location: the q variable's value, with the redacted form standing for the
/// real location kept by the session.
fn resolve_default(default: &Value, real: &Location) -> Result<Location> {
    if default.is_null() {
        return Ok(real.clone());
    }
    let entries = default.dict_entries().unwrap_or_default();
    if let Some((k, v)) = entries.first()
        && k == real.vendor.key()
        && v.as_text().as_deref() == Some(&real.shown())
    {
        return Ok(real.clone());
    }
    resolve(default, &Value::null(), real)
        .map_err(|e| Error::arg(".ml.registry.location", format!("a valid location ({e})")))
}

/// The location a bare vendor flag takes from the JSON config file: `MLREGISTRY_CONFIG`, or
/// `config/cloud.json` next to the library.
pub fn from_config_file(vendor: Vendor, lib_dir: &str) -> Result<String> {
    let path = std::env::var("MLREGISTRY_CONFIG")
        .unwrap_or_else(|_| format!("{lib_dir}/config/cloud.json"));
    let text = std::fs::read_to_string(&path).map_err(|e| {
        Error::arg(
            &format!("-{}", vendor.flag()),
            format!("a location, or a readable config file {path} ({e})"),
        )
    })?;
    let cfg = json::from_json(&text).map_err(|why| Error::Corrupt {
        path: path.clone(),
        why: format!("is not JSON: {why}"),
    })?;
    let get = |a: &str, b: &str| {
        cfg.get(a)
            .and_then(|d| d.get(b))
            .and_then(|v| v.as_text())
            .unwrap_or_default()
    };
    let (text, key) = match vendor {
        Vendor::Aws => (get("aws", "bucket"), "aws.bucket"),
        Vendor::Gcp => (get("gcp", "bucket"), "gcp.bucket"),
        Vendor::Azure => {
            let blob = get("azure", "blob");
            let token = get("azure", "token");
            let token = token.trim_start_matches('?');
            let t = if blob.is_empty() || token.is_empty() {
                blob
            } else {
                format!("{blob}?{token}")
            };
            (t, "azure.blob")
        }
        Vendor::Local => (String::new(), "local"),
    };
    if text.is_empty() {
        return Err(Error::arg(
            &format!("-{}", vendor.flag()),
            format!("a location after the flag, or a non-empty {key} in {path}"),
        ));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_and_gcp_forms() {
        let l = parse_cloud(Vendor::Aws, "s3://bkt/a/b/").unwrap();
        assert_eq!((l.bucket.as_str(), l.prefix.as_str()), ("bkt", "a/b"));
        assert!(parse_cloud(Vendor::Aws, "gs://bkt").is_err());
        assert!(parse_cloud(Vendor::Gcp, "gs://").is_err());
        assert_eq!(parse_cloud(Vendor::Gcp, "gs://b").unwrap().prefix, "");
    }

    #[test]
    fn azure_forms() {
        let l = parse_cloud(
            Vendor::Azure,
            "https://acct.blob.core.windows.net/c/p?sv=1&sig=x",
        )
        .unwrap();
        assert_eq!(l.endpoint, "https://acct.blob.core.windows.net");
        assert_eq!((l.bucket.as_str(), l.prefix.as_str()), ("c", "p"));
        assert_eq!(l.sas.as_deref(), Some("sv=1&sig=x"));
        assert!(!l.shown().contains("sig"));
        let e = parse_cloud(Vendor::Azure, "http://127.0.0.1:10000/devstoreaccount1/c").unwrap();
        assert_eq!(e.endpoint, "http://127.0.0.1:10000/devstoreaccount1");
        let m = parse_cloud(Vendor::Azure, "ms://acct/cont/x").unwrap();
        assert_eq!(m.endpoint, "https://acct.blob.core.windows.net");
        assert!(parse_cloud(Vendor::Azure, "ftp://x/y").is_err());
        let err = parse_cloud(Vendor::Azure, "https://h/?sig=secret")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("secret"), "{err}");
    }

    #[test]
    fn odd_cloud_forms_are_refused_and_schemes_ignore_case() {
        for bad in [
            "s3://b//x",
            "s3://b/x//",
            "s3://b/x\ny",
            "s3:// /x",
            "gs://b/a b",
        ] {
            let v = vendor_of(bad);
            assert!(parse_vendor(v, bad, "folderPath").is_err(), "{bad:?}");
        }
        assert_eq!(vendor_of("S3://b/x"), Vendor::Aws);
        assert_eq!(
            parse_vendor(Vendor::Aws, "S3://b/x", "f").unwrap().bucket,
            "b"
        );
        assert_eq!(
            parse_vendor(Vendor::Aws, "s3://b/x/", "f").unwrap().prefix,
            "x"
        );
    }
}
