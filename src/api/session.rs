//! Session state set once by `init.q`: the command-line flags, q's version, the default
//! location (the real one, secrets included, kept here; q shows a redacted copy).

use super::location::{self, Location, Vendor};
use crate::qdata::Value;
use crate::registry::error::{Error, Result};
use std::sync::Mutex;

/// What `init.q` established.
#[derive(Clone, Debug)]
pub struct Session {
    /// `Version: <.z.K> | Release Date: <.z.k>` for `.version.info`.
    pub q_version: String,
    /// The default location, as the library uses it.
    pub location: Location,
    /// `-bins`: the number of bins for csi/psi.
    pub bins: i64,
    /// The folder `init.q` and the library live in.
    pub lib_dir: String,
}

static SESSION: Mutex<Option<Session>> = Mutex::new(None);

/// The current session (a default one when `init.q` has not run, as in Rust-only use).
pub fn current() -> Session {
    let guard = SESSION.lock().unwrap_or_else(|p| p.into_inner());
    guard.clone().unwrap_or_else(|| Session {
        q_version: "Version: unknown | Release Date: unknown".into(),
        location: Location::local("."),
        bins: 10,
        lib_dir: ".".into(),
    })
}

pub fn set(s: Session) {
    *SESSION.lock().unwrap_or_else(|p| p.into_inner()) = Some(s);
}

/// Parsed command-line options (`.Q.opt .z.x` style: `-name value...`).
pub fn options(args: &[String]) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for a in args {
        if let Some(flag) = a
            .strip_prefix('-')
            .filter(|f| !f.is_empty() && !is_number(a))
        {
            out.push((flag.to_string(), vec![]));
        } else if let Some(last) = out.last_mut() {
            last.1.push(a.clone());
        }
    }
    out
}

fn is_number(s: &str) -> bool {
    s.parse::<f64>().is_ok()
}

/// Builds the session from `.z.x`, `.z.K`, `.z.k` and the library folder; gives the
/// location dictionary q shows as `.ml.registry.location`.
pub fn init(zx: &[String], zk_version: f64, zk_date: i64, lib_dir: &str) -> Result<Session> {
    let opts = options(zx);
    let get = |name: &str| opts.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());

    let vendors: Vec<(Vendor, Vec<String>)> = [Vendor::Aws, Vendor::Gcp, Vendor::Azure]
        .into_iter()
        .filter_map(|v| get(v.flag()).map(|vals| (v, vals)))
        .collect();
    if vendors.len() > 1 {
        let flags: Vec<String> = vendors
            .iter()
            .map(|(v, _)| format!("-{}", v.flag()))
            .collect();
        return Err(Error::arg(
            "command line",
            format!("at most one cloud vendor flag, got {}", flags.join(" ")),
        ));
    }
    let location = match vendors.into_iter().next() {
        Some((vendor, vals)) => {
            let given = vals.join(" ");
            let text = if given.is_empty() {
                location::from_config_file(vendor, lib_dir)?
            } else {
                given
            };
            location::parse_cloud(vendor, &text)?
        }
        None => match get("local") {
            Some(v) if v.len() == 1 => Location::local(&v[0]),
            Some(_) => {
                return Err(Error::arg(
                    "-local",
                    "exactly one folder, as in -local /data/reg",
                ));
            }
            None => Location::local("."),
        },
    };
    let bins = match get("bins") {
        None => 10,
        Some(v) => match v.first().and_then(|b| b.parse::<f64>().ok()) {
            Some(b) if b >= 1.0 && b.fract() == 0.0 && v.len() == 1 => b as i64,
            _ => return Err(Error::arg("-bins", "a whole number of bins of at least 1")),
        },
    };
    let q_version = format!(
        "Version: {} | Release Date: {}",
        crate::registry::info::q_float_text(zk_version),
        crate::registry::info::q_date_text(zk_date)
    );
    let s = Session {
        q_version,
        location,
        bins,
        lib_dir: lib_dir.to_string(),
    };
    set(s.clone());
    Ok(s)
}

/// The location as `.ml.registry.location` shows it: `` enlist[`vendor]!enlist"text" ``.
pub fn location_value(loc: &Location) -> Value {
    Value::dict_general(vec![(loc.vendor.key(), Value::string(&loc.shown()))])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn flags_and_values_are_grouped() {
        let o = options(&s(&["-local", "/x", "-debug", "-bins", "5"]));
        assert_eq!(o[0], ("local".into(), s(&["/x"])));
        assert_eq!(o[1], ("debug".into(), vec![]));
        assert_eq!(o[2], ("bins".into(), s(&["5"])));
    }

    #[test]
    fn two_vendor_flags_stop_loading() {
        let e = init(&s(&["-aws", "s3://a", "-gcp", "gs://b"]), 4.1, 0, ".").unwrap_err();
        assert!(e.to_string().contains("-aws -gcp"), "{e}");
    }

    #[test]
    fn local_flag_sets_the_location() {
        let sess = init(&s(&["-local", "/tmp/reg"]), 4.0, 8917, ".").unwrap();
        assert_eq!(sess.location, Location::local("/tmp/reg"));
        assert_eq!(sess.q_version, "Version: 4 | Release Date: 2024.05.31");
    }
}
