//! The registry in cloud buckets, through the real CLIs (`aws`, `gsutil`, `azcopy`) against
//! the local emulators that `scripts/emulators.sh start` runs on 127.0.0.1 (moto, the GCS
//! emulator with generation preconditions enforced, Azurite).
//!
//! `MLREGISTRY_TEST_ENV` names the emulators' settings file (`.tools/run/emulators.env`);
//! without it these tests say so loudly and pass without doing anything. Every test makes
//! its own bucket (and container) with `scripts/make-buckets.sh`.

use crate::*;
use mlregistry::api::location::{Vendor, parse_vendor};
use mlregistry::qdata::{Data, Value, json, ty};
use mlregistry::storage::{Storage, cloud};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The emulators' settings.
struct Emu {
    /// KEY=VALUE pairs of the settings file.
    vars: Vec<(String, String)>,
    /// The folder of the settings file (`MLR_EMULATORS_RUN_DIR` for make-buckets.sh).
    run_dir: PathBuf,
}

impl Emu {
    fn var(&self, k: &str) -> String {
        self.vars
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("{k} is not in the emulators' settings file"))
    }
}

/// The settings, applied to this process's environment once (the CLIs inherit it); `None`
/// when `MLREGISTRY_TEST_ENV` is unset.
fn emu() -> Option<&'static Emu> {
    static EMU: OnceLock<Option<Emu>> = OnceLock::new();
    let got = EMU.get_or_init(|| {
        let path = std::env::var_os("MLREGISTRY_TEST_ENV")?;
        let path = PathBuf::from(path);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("MLREGISTRY_TEST_ENV={}: {e}", path.display()));
        let vars: Vec<(String, String)> = text
            .lines()
            .filter_map(|l| l.trim().strip_prefix("export "))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let emu = Emu {
            vars,
            run_dir: path.parent().unwrap().to_path_buf(),
        };
        // Set once, before any test thread starts a CLI.
        unsafe {
            for (k, v) in &emu.vars {
                std::env::set_var(k, v);
            }
            std::env::set_var("MLREGISTRY_AWS_CLI", emu.var("MLR_AWS_CLI"));
            std::env::set_var("MLREGISTRY_GSUTIL_CLI", emu.var("MLR_GSUTIL_CLI"));
            std::env::set_var("MLREGISTRY_AZCOPY_CLI", emu.var("MLR_AZCOPY_CLI"));
            if std::env::var_os("MLREGISTRY_VERBOSE").is_none() {
                std::env::set_var("MLREGISTRY_QUIET", "1");
            }
        }
        Some(emu)
    });
    if got.is_none() {
        eprintln!(
            "\n*** SKIPPED: MLREGISTRY_TEST_ENV is not set, so the cloud tests did not run. \
             Start the emulators (scripts/emulators.sh start) and set MLREGISTRY_TEST_ENV to \
             the emulators.env it writes. ***\n"
        );
    }
    got.as_ref()
}

/// A bucket (S3, GCS) and container (Azure) of one name, with container SAS tokens.
struct Bucket {
    name: String,
    sas: String,
    sas_read_only: String,
    sas_expired: String,
}

/// A new bucket and container for one test.
fn bucket(e: &Emu, tag: &str) -> Bucket {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let name = format!("t{}-{tag}-{n}", std::process::id());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/make-buckets.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg(&name)
        .env("MLR_EMULATORS_RUN_DIR", &e.run_dir)
        .output()
        .expect("run scripts/make-buckets.sh");
    assert!(
        out.status.success(),
        "make-buckets.sh {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let get = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .unwrap_or_else(|| panic!("make-buckets.sh printed no {k}"))
            .to_string()
    };
    Bucket {
        name: get("MLR_BUCKET"),
        sas: get("MLR_AZURE_SAS"),
        sas_read_only: get("MLR_AZURE_SAS_RO"),
        sas_expired: get("MLR_AZURE_SAS_EXPIRED"),
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Cloud {
    Aws,
    Gcp,
    Azure,
}

const CLOUDS: [Cloud; 3] = [Cloud::Aws, Cloud::Gcp, Cloud::Azure];

/// The clouds to test: all, or those `MLR_TEST_CLOUDS` names (`aws,gcp,azure`), for
/// measuring one cloud alone or chasing a failure.
fn clouds() -> Vec<Cloud> {
    let only = std::env::var("MLR_TEST_CLOUDS").unwrap_or_default();
    CLOUDS
        .into_iter()
        .filter(|c| only.is_empty() || only.split(',').any(|o| o.trim() == tool_key(*c)))
        .collect()
}

fn tool_key(c: Cloud) -> &'static str {
    match c {
        Cloud::Aws => "aws",
        Cloud::Gcp => "gcp",
        Cloud::Azure => "azure",
    }
}

/// The folderPath of `prefix` in bucket `b` (Azure: with the full SAS token).
fn location(e: &Emu, c: Cloud, b: &Bucket, prefix: &str) -> String {
    match c {
        Cloud::Aws => format!("s3://{}/{prefix}", b.name),
        Cloud::Gcp => format!("gs://{}/{prefix}", b.name),
        Cloud::Azure => format!("{}/{}/{prefix}?{}", e.var("MLR_AZURE_URL"), b.name, b.sas),
    }
}

fn vendor(c: Cloud) -> Vendor {
    match c {
        Cloud::Aws => Vendor::Aws,
        Cloud::Gcp => Vendor::Gcp,
        Cloud::Azure => Vendor::Azure,
    }
}

/// The storage transport of a location, for looking at objects directly.
fn storage(c: Cloud, loc: &str) -> Box<dyn Storage> {
    cloud::open(&parse_vendor(vendor(c), loc, "test").unwrap()).unwrap()
}

/// Runs `f` once per cloud, each in its own thread (they share nothing but the machine).
fn on_every_cloud<T: Send>(f: impl Fn(Cloud) -> T + Sync) -> Vec<(Cloud, T)> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = clouds()
            .into_iter()
            .map(|c| {
                let f = &f;
                let job = move || {
                    let t0 = Instant::now();
                    let v = f(c);
                    println!("{c:?}: {:.1} s", t0.elapsed().as_secs_f64());
                    v
                };
                (c, scope.spawn(job))
            })
            .collect();
        handles
            .into_iter()
            .map(|(c, h)| match h.join() {
                Ok(v) => (c, v),
                Err(p) => std::panic::resume_unwind(p),
            })
            .collect()
    })
}

/// Sets environment variables for the life of the guard (tests run one at a time).
struct EnvGuard(Vec<(String, Option<std::ffi::OsString>)>);

impl EnvGuard {
    fn set(vars: &[(&str, &str)]) -> EnvGuard {
        let saved = vars
            .iter()
            .map(|(k, _)| (k.to_string(), std::env::var_os(k)))
            .collect();
        for (k, v) in vars {
            unsafe { std::env::set_var(k, v) };
        }
        EnvGuard(saved)
    }
}

impl Drop for EnvGuard {
    fn drop(&mut self) {
        for (k, v) in &self.0 {
            match v {
                Some(v) => unsafe { std::env::set_var(k, v) },
                None => unsafe { std::env::remove_var(k) },
            }
        }
    }
}

/// A port on 127.0.0.1 where nothing listens.
fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A boto config like the emulators' one but pointing at `port`.
fn boto_config_at(e: &Emu, port: u16, dir: &Path) -> String {
    let text = std::fs::read_to_string(e.var("BOTO_CONFIG")).unwrap();
    let gcs = e.var("MLR_GCS_PORT");
    let moved = text.replace(&format!("= {gcs}"), &format!("= {port}"));
    let p = dir.join("boto.cfg");
    std::fs::write(&p, moved).unwrap();
    p.to_string_lossy().into_owned()
}

/// A registry location of cloud `c` with its endpoint moved to `port` (by environment for
/// aws and gsutil, in the URL for Azure); the guard restores the environment.
fn at_port(e: &Emu, c: Cloud, b: &Bucket, port: u16, dir: &Path) -> (String, EnvGuard) {
    match c {
        Cloud::Aws => (
            location(e, c, b, "p"),
            EnvGuard::set(&[("AWS_ENDPOINT_URL", &format!("http://127.0.0.1:{port}"))]),
        ),
        Cloud::Gcp => {
            let cfg = boto_config_at(e, port, dir);
            (
                location(e, c, b, "p"),
                EnvGuard::set(&[("BOTO_CONFIG", &cfg)]),
            )
        }
        Cloud::Azure => (
            format!(
                "http://127.0.0.1:{port}/devstoreaccount1/{}/p?{}",
                b.name, b.sas
            ),
            EnvGuard::set(&[]),
        ),
    }
}

#[test]
fn the_walkthrough_gives_the_same_results_on_disk_and_on_every_cloud() {
    let Some(e) = emu() else { return };
    let b = bucket(e, "walk");
    let local = walkthrough::run(&Reg::new("walk-local"));
    for (c, transcript) in on_every_cloud(|c| {
        let r = Reg::at("walk", &location(e, c, &b, "reg/a"));
        let t0 = Instant::now();
        let t = walkthrough::run(&r);
        println!("{c:?} walkthrough: {:.1} s", t0.elapsed().as_secs_f64());
        t
    }) {
        assert_eq!(transcript, local, "{c:?} differs from local disk");
    }
}

/// Counts the CLI processes and the wall time of API calls on one cloud, from the lines
/// its tool adds to the shared `MLREGISTRY_CLI_LOG` (each cloud runs in its own thread, and
/// each log line names its tool).
struct Meter {
    log: PathBuf,
    tool: &'static str,
    /// (call, processes, seconds) of the first call of each name.
    seen: std::cell::RefCell<Vec<(&'static str, usize, f64)>>,
}

impl Meter {
    fn new(log: &Path, c: Cloud) -> Meter {
        let tool = match c {
            Cloud::Aws => "aws",
            Cloud::Gcp => "gsutil",
            Cloud::Azure => "azcopy",
        };
        Meter {
            log: log.to_path_buf(),
            tool,
            seen: Default::default(),
        }
    }

    fn lines(&self) -> usize {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let tag = format!("{}\t", self.tool);
        text.lines().filter(|l| l.starts_with(&tag)).count()
    }

    /// Runs export `name` on `r` (folderPath first), recording it as `call`.
    fn ok(&self, call: &'static str, r: &Reg, name: &str, args: &[Value]) -> Value {
        let before = self.lines();
        let t0 = Instant::now();
        let v = r.ok(name, args);
        let took = t0.elapsed().as_secs_f64();
        let n = self.lines() - before;
        let mut seen = self.seen.borrow_mut();
        if !seen.iter().any(|(c, _, _)| *c == call) {
            seen.push((call, n, took));
        }
        v
    }
}

/// The most CLI processes each measured call may start (a read 2, a write 4); GCS reads
/// the modelStore and its generation with two processes side by side.
fn budget(c: Cloud, call: &str) -> usize {
    match call {
        "get.model" | "get.metric" | "get.modelStore" => 2,
        "set.model" if c == Cloud::Gcp => 5,
        _ => 4,
    }
}

/// Versions 1.1 and 1.10 of `m` and version 1.1 of `m2` (and experiments `e` and `e2`)
/// side by side: every delete removes what it names and nothing else, which the objects
/// listed before and after each delete show. Also measures what each call costs (processes,
/// wall time with the three clouds running at once) and holds it to its budget.
#[test]
fn names_and_versions_side_by_side_survive_every_delete() {
    let Some(e) = emu() else { return };
    let b = bucket(e, "side");
    let dir = Scratch::new("side");
    let log = dir.join("cli.log");
    let _env = EnvGuard::set(&[("MLREGISTRY_CLI_LOG", &log.to_string_lossy())]);
    let costs = on_every_cloud(|c| {
        let meter = Meter::new(&log, c);
        let loc = location(e, c, &b, "side");
        let r = Reg::at("side", &loc);
        let f = r.folder();
        r.new_registry();
        let at = |v: (i64, i64)| dict(vec![("version", ver(v.0, v.1))]);
        for (m, v) in [("m", (1, 1)), ("m", (1, 10)), ("m2", (1, 1))] {
            let set = [f.clone(), null(), qmodel(m), s(m), s("q"), at(v), null()];
            meter.ok("set.model", &r, "mlr_set_model", &set);
            if m == "m2" {
                continue;
            }
            let mut a = vec![f.clone(), null(), s(m), ver(v.0, v.1), s("p")];
            a.push(dict(vec![("k", Value::long(1))]));
            meter.ok("set.parameters", &r, "mlr_set_parameters", &a);
            let mut a = vec![f.clone(), null(), s(m), ver(v.0, v.1), sym("acc")];
            a.push(Value::float(0.5));
            meter.ok("log.metric", &r, "mlr_log_metric", &a);
        }
        r.set(s("e"), "x", null());
        r.set(s("e2"), "y", null());

        // Each delete may change what is below `prefix`, and nothing else.
        let st = storage(c, &loc);
        let mut before = st.list("KX_ML_REGISTRY").unwrap();
        let mut only_below = |prefix: &str, left_empty: bool| {
            let after = st.list("KX_ML_REGISTRY").unwrap();
            let outside = |v: &[String]| -> Vec<String> {
                v.iter()
                    .filter(|p| !p.starts_with(prefix) && !p.ends_with("/modelStore"))
                    .cloned()
                    .collect()
            };
            assert_eq!(
                outside(&before),
                outside(&after),
                "{c:?}: more than {prefix} changed"
            );
            assert!(
                before.iter().any(|p| p.starts_with(prefix)),
                "{c:?}: no {prefix}"
            );
            let inside = after.iter().filter(|p| p.starts_with(prefix)).count();
            assert_eq!(inside == 0, left_empty, "{c:?}: {prefix} after the delete");
            before = after;
        };
        let u = "KX_ML_REGISTRY/unnamedExperiments";
        let m11 = |extra: Vec<Value>| {
            let mut a = vec![f.clone(), null(), s("m"), ver(1, 1)];
            a.extend(extra);
            a
        };
        r.ok("mlr_delete_parameters", &m11(vec![s("p")]));
        only_below(&format!("{u}/m/1.1/params/p.json"), true);
        r.ok("mlr_delete_metric", &m11(vec![sym("acc")]));
        only_below(&format!("{u}/m/1.1/metrics/"), false);
        let t = meter.ok("get.metric", &r, "mlr_get_metric", &m11(vec![null()]));
        assert_eq!(column(&t, "metricName").count(), 0, "{c:?}");
        r.ok("mlr_delete_metrics", &m11(vec![]));
        only_below(&format!("{u}/m/1.1/metrics/"), true);
        meter.ok("delete.model", &r, "mlr_delete_model", &m11(vec![]));
        only_below(&format!("{u}/m/1.1/"), true);
        r.ok("mlr_delete_model", &[f.clone(), null(), s("m"), null()]);
        only_below(&format!("{u}/m/"), true);
        r.ok("mlr_delete_experiment", &[f.clone(), s("e")]);
        only_below("KX_ML_REGISTRY/namedExperiments/e/", true);

        let store = meter.ok(
            "get.modelStore",
            &r,
            "mlr_get_model_store",
            &[f.clone(), null()],
        );
        assert_eq!(
            rows_of(&store.get("result").unwrap()),
            vec![
                ("undefined".into(), "m2".into(), (1, 1)),
                ("e2".into(), "y".into(), (1, 0))
            ],
            "{c:?}"
        );
        let m2 = [f.clone(), null(), s("m2"), ver(1, 1), null()];
        meter.ok("get.model", &r, "mlr_get_model", &m2);
        meter.seen.into_inner()
    });

    let mut head = format!("{:<16}", "call");
    for (c, _) in &costs {
        head.push_str(&format!("{:>16}", Meter::new(&log, *c).tool));
    }
    let mut table = vec![head];
    for (i, (call, _, _)) in costs[0].1.iter().enumerate() {
        let mut line = format!("{call:<16}");
        for (c, seen) in &costs {
            let (name, n, secs) = seen[i];
            assert_eq!(name, *call);
            assert!(n <= budget(*c, call), "{c:?} {call}: {n} CLI processes");
            line.push_str(&format!("{:>16}", format!("{n} / {secs:.2} s")));
        }
        table.push(line);
    }
    println!(
        "\nCLI processes / wall time per call:\n{}",
        table.join("\n")
    );
}

#[test]
fn a_missing_bucket_is_an_error_that_says_to_create_it() {
    let Some(e) = emu() else { return };
    let b = bucket(e, "nob");
    let missing = Bucket {
        name: format!("{}-missing", b.name),
        sas: sas_for_missing_container(e, &format!("{}-missing", b.name)),
        sas_read_only: String::new(),
        sas_expired: String::new(),
    };
    for c in clouds() {
        let r = Reg::at("nob", &location(e, c, &missing, "p"));
        for call in ["read", "write"] {
            let err = if call == "read" {
                r.err("mlr_get_model_store", &[r.folder(), null()])
            } else {
                r.err("mlr_new_registry", &[r.folder(), null()])
            };
            assert!(
                err.contains("does not exist") && err.contains("create it first"),
                "{c:?} {call}: {err}"
            );
            assert!(!err.contains("sig="), "{c:?}: {err}");
        }
    }
}

/// A full-rights SAS for a container that does not exist (made with the Azurite dev key).
fn sas_for_missing_container(e: &Emu, name: &str) -> String {
    let code = format!(
        "import datetime as d, os\n\
         from azure.storage.blob import generate_container_sas as g, ContainerSasPermissions as P\n\
         n = d.datetime.now(d.timezone.utc)\n\
         print(g(os.environ['MLR_AZURE_ACCOUNT'], '{name}', \
         account_key=os.environ['MLR_AZURE_KEY'], \
         permission=P(read=True, add=True, create=True, write=True, delete=True, list=True), \
         start=n - d.timedelta(minutes=5), expiry=n + d.timedelta(hours=1)))"
    );
    let python = Path::new(&e.var("MLR_TOOLS_BIN")).join("python");
    let out = Command::new(python).arg("-c").arg(code).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn a_stopped_endpoint_fails_fast_with_a_clear_error() {
    let Some(e) = emu() else { return };
    let b = bucket(e, "down");
    let dir = Scratch::new("down");
    for c in clouds() {
        let (loc, _env) = at_port(e, c, &b, closed_port(), &dir.dir);
        let r = Reg::at("down", &loc);
        let t0 = Instant::now();
        let err = r.err("mlr_get_model_store", &[r.folder(), null()]);
        let took = t0.elapsed();
        assert!(took < Duration::from_secs(20), "{c:?} took {took:?}: {err}");
        assert!(err.contains("cannot reach"), "{c:?}: {err}");
        assert!(!err.contains(&b.sas), "{c:?}: {err}");
    }
}

#[test]
fn a_missing_cli_is_named_with_the_variable_that_sets_its_path() {
    let Some(e) = emu() else { return };
    let b = bucket(e, "nocli");
    for (c, var) in [
        (Cloud::Aws, "MLREGISTRY_AWS_CLI"),
        (Cloud::Gcp, "MLREGISTRY_GSUTIL_CLI"),
        (Cloud::Azure, "MLREGISTRY_AZCOPY_CLI"),
    ] {
        let _env = EnvGuard::set(&[(var, "/nonexistent/bin/cli")]);
        let r = Reg::at("nocli", &location(e, c, &b, "p"));
        let err = r.err("mlr_get_model_store", &[r.folder(), null()]);
        assert!(
            err.contains("not installed") && err.contains(var),
            "{c:?}: {err}"
        );
    }
}

#[test]
fn malformed_locations_say_which_form_is_expected() {
    let r = Reg::new("malformed");
    let cases = [
        ("s3://", "folderPath: expected"),
        ("s3://", "s3://bucket[/prefix]"),
        ("s3://b?x=1", "s3://bucket[/prefix]"),
        ("gs://", "gs://bucket[/prefix]"),
        ("gs://b/../x", "gs://bucket[/prefix]"),
        ("https://host-only", "blob"),
        ("ms://account", "ms://<account>/<container>"),
    ];
    for (text, want) in cases {
        let err = r.err("mlr_get_model_store", &[s(text), null()]);
        assert!(err.contains(want), "{text}: {err}");
    }
    let wrong = dict(vec![("aws", s("gs://b"))]);
    let err = r.err("mlr_get_model_store", &[wrong, null()]);
    assert!(err.contains("s3://bucket[/prefix]"), "{err}");
    let err = r.err(
        "mlr_get_model_store",
        &[s("https://h:1/acct/c/p?sv=1&sig=SECRETSIG"), null()],
    );
    assert!(!err.contains("SECRETSIG"), "{err}");
}

#[test]
fn a_sas_token_is_redacted_in_the_location_and_left_out_of_configs() {
    let Some(e) = emu() else { return };
    let b = bucket(e, "sas");
    let loc = location(e, Cloud::Azure, &b, "p");
    let sig = b
        .sas
        .split("sig=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let ext = k::ext();
    let zx = Value::List(vec![s("-azure"), s(&loc)]);
    let date = Value::atom(ty::DATE, Data::Int(vec![8917]));
    let shown = ext
        .call("mlr_init", &[zx, Value::float(4.1), date.clone(), s(".")])
        .unwrap();
    let text = shown.get("azure").unwrap().as_text().unwrap();
    assert!(!text.contains(sig) && text.contains("redacted"), "{text}");
    // The session default (`::`) still reaches the container with the real token.
    let cfg = ext
        .call("mlr_new_registry", &[shown.clone(), null(), null()])
        .unwrap();
    assert!(!json::to_json(&cfg).contains(sig), "{cfg:?}");
    let store = ext.call("mlr_get_model_store", &[shown, null(), null()]);
    assert!(store.is_ok(), "{store:?}");
    let reset = Value::List(vec![]);
    ext.call("mlr_init", &[reset, Value::float(4.1), date, s(".")])
        .unwrap();
}

#[test]
fn read_only_and_expired_sas_tokens_are_access_denied() {
    let Some(e) = emu() else { return };
    let b = bucket(e, "ro");
    let base = format!("{}/{}/p", e.var("MLR_AZURE_URL"), b.name);
    let full = Reg::at("ro", &format!("{base}?{}", b.sas));
    full.new_registry();
    full.set(null(), "m", null());

    let ro = Reg::at("ro", &format!("{base}?{}", b.sas_read_only));
    assert_eq!(ro.rows().len(), 1, "a read-only token still reads");
    let err = ro.set_model(null(), qmodel("m"), "m", null()).unwrap_err();
    assert!(err.contains("access denied"), "{err}");
    for token in [&b.sas_read_only, &b.sas, &b.sas_expired] {
        let sig = token
            .split("sig=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap();
        assert!(!err.contains(sig), "{err}");
    }
    assert_eq!(full.rows().len(), 1, "the refused write left no row");

    let expired = Reg::at("ro", &format!("{base}?{}", b.sas_expired));
    let err = expired.err("mlr_get_model_store", &[expired.folder(), null()]);
    assert!(err.contains("access denied"), "{err}");
    assert!(
        !err.contains("sig=") || err.contains("sig=<redacted>"),
        "{err}"
    );
}

/// A TCP listener on 127.0.0.1 that accepts connections and never answers; stops when
/// dropped (and after a minute in any case).
struct Hung {
    port: u16,
    stop: std::sync::Arc<AtomicBool>,
}

impl Hung {
    fn start() -> Hung {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        let port = l.local_addr().unwrap().port();
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            let t0 = Instant::now();
            while !flag.load(Ordering::SeqCst) && t0.elapsed() < Duration::from_secs(60) {
                if let Ok((sock, _)) = l.accept() {
                    held.push(sock);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        Hung { port, stop }
    }
}

impl Drop for Hung {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

#[test]
fn a_hung_endpoint_times_out_and_the_cli_is_stopped() {
    let Some(e) = emu() else { return };
    let b = bucket(e, "hung");
    let dir = Scratch::new("hung");
    let hung = Hung::start();
    let _limit = EnvGuard::set(&[("MLREGISTRY_CLI_TIMEOUT", "2")]);
    for c in clouds() {
        let (loc, _env) = at_port(e, c, &b, hung.port, &dir.dir);
        let r = Reg::at("hung", &loc);
        let t0 = Instant::now();
        let err = r.err("mlr_get_model_store", &[r.folder(), null()]);
        let took = t0.elapsed();
        assert!(err.contains("timed out"), "{c:?}: {err}");
        assert!(took < Duration::from_secs(15), "{c:?} took {took:?}");
        assert!(!err.contains(&b.sas), "{c:?}: {err}");
    }
}

/// A stand-in for `real` that runs it and then fails every recursive upload, as if the
/// connection dropped at the end: whatever landed must not become visible.
fn failing_upload_cli(dir: &Path, c: Cloud, real: &str) -> String {
    let test = match c {
        Cloud::Aws => r#"[ "$1" = s3 ] && [ "$2" = cp ] && [ "$4" = --recursive ] && [ -d "$5" ]"#,
        Cloud::Gcp => r#"case " $* " in *" cp -r "*" gs://"*) true;; *) false;; esac"#,
        Cloud::Azure => {
            r#"case " $* " in *"--recursive --from-to LocalBlob"*) true;; *) false;; esac"#
        }
    };
    let script = format!(
        "#!/bin/sh\nif {test}; then\n  \"{real}\" \"$@\"\n  echo 'simulated: connection \
         reset during upload' >&2\n  exit 1\nfi\nexec \"{real}\" \"$@\"\n"
    );
    let p = dir.join(format!("{c:?}-cli"));
    std::fs::write(&p, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p.to_string_lossy().into_owned()
}

#[test]
fn a_failed_upload_leaves_nothing_visible() {
    let Some(e) = emu() else { return };
    let b = bucket(e, "fail");
    let dir = Scratch::new("fail");
    let regs = on_every_cloud(|c| {
        let loc = location(e, c, &b, "fail");
        Reg::at("fail", &loc).new_registry();
        loc
    });
    let wrappers: Vec<(String, String)> = [
        (Cloud::Aws, "MLREGISTRY_AWS_CLI", "MLR_AWS_CLI"),
        (Cloud::Gcp, "MLREGISTRY_GSUTIL_CLI", "MLR_GSUTIL_CLI"),
        (Cloud::Azure, "MLREGISTRY_AZCOPY_CLI", "MLR_AZCOPY_CLI"),
    ]
    .iter()
    .map(|(c, var, real)| {
        (
            var.to_string(),
            failing_upload_cli(&dir.dir, *c, &e.var(real)),
        )
    })
    .collect();
    let loc_of = |c: Cloud| regs.iter().find(|(x, _)| *x == c).unwrap().1.clone();
    {
        let vars: Vec<(&str, &str)> = wrappers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let _env = EnvGuard::set(&vars);
        on_every_cloud(|c| {
            let r = Reg::at("fail", &loc_of(c));
            let err = r.set_model(s("exp"), qmodel("m"), "m", null()).unwrap_err();
            assert!(err.contains("simulated"), "{c:?}: {err}");
        });
    }
    on_every_cloud(|c| {
        let loc = loc_of(c);
        let r = Reg::at("fail", &loc);
        assert!(r.rows().is_empty(), "{c:?}: a row became visible");
        let left = storage(c, &loc)
            .list("KX_ML_REGISTRY/namedExperiments")
            .unwrap();
        let made_by_new_registry = vec!["KX_ML_REGISTRY/namedExperiments/.hidden".to_string()];
        assert_eq!(left, made_by_new_registry, "{c:?}: left behind");
        r.set(s("exp"), "m", null());
        assert_eq!(r.rows(), vec![("exp".into(), "m".into(), (1, 0))], "{c:?}");
    });
}

const RACE_EACH: usize = 3;

/// Run in a child process by the S3 race test: adds RACE_EACH versions of one model.
#[test]
fn s3_race_child() {
    let Ok(loc) = std::env::var("MLR_RACE_LOCATION") else {
        return;
    };
    if emu().is_none() {
        panic!("the race child needs MLREGISTRY_TEST_ENV");
    }
    let r = Reg::at("race", &loc);
    for _ in 0..RACE_EACH {
        r.set(null(), "shared", null());
    }
}

#[test]
fn two_processes_racing_on_s3_keep_every_version_and_its_own_id() {
    let Some(e) = emu() else { return };
    let b = bucket(e, "race");
    let loc = location(e, Cloud::Aws, &b, "race");
    let r = Reg::at("race", &loc);
    r.new_registry();
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..2)
        .map(|_| {
            Command::new(&exe)
                .args(["--exact", "cloud::s3_race_child", "--test-threads=1"])
                .env("MLR_RACE_LOCATION", &loc)
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success(), "a racing writer failed");
    }
    let store = r.store();
    let mut versions: Vec<(i64, i64)> = rows_of(&store).iter().map(|x| x.2).collect();
    versions.sort();
    let expected: Vec<(i64, i64)> = (0..2 * RACE_EACH as i64).map(|i| (1, i)).collect();
    assert_eq!(versions, expected, "every version exactly once");
    // Each row's uniqueID is the one in its own modelInfo.json (read in one fetch).
    let tree = storage(Cloud::Aws, &loc)
        .read_tree("KX_ML_REGISTRY/unnamedExperiments/shared")
        .unwrap();
    let ids = column(&store, "uniqueID").items();
    for (id, row) in ids.iter().zip(&rows_of(&store)) {
        let info = format!(
            "KX_ML_REGISTRY/unnamedExperiments/shared/{}.{}/config/modelInfo.json",
            row.2.0, row.2.1
        );
        let (_, bytes) = tree
            .iter()
            .find(|(p, _)| *p == info)
            .expect("modelInfo.json");
        let text = String::from_utf8_lossy(bytes);
        assert!(text.contains(&json::to_json(id)), "{:?}: {text}", row.2);
    }
}

#[test]
fn preconditions_refuse_stale_writes_where_the_vendor_has_them() {
    let Some(e) = emu() else { return };
    let b = bucket(e, "pre");
    on_every_cloud(|c| {
        let st = storage(c, &location(e, c, &b, "pre"));
        assert!(st.create_only("a/claim", b"one").unwrap(), "{c:?}");
        assert!(
            !st.create_only("a/claim", b"two").unwrap(),
            "{c:?}: created twice"
        );
        let (bytes, token) = st.read_versioned("a/claim").unwrap().unwrap();
        assert_eq!(bytes, b"one");
        if c == Cloud::Azure {
            assert_eq!(token, None, "azcopy has no version tokens");
            return;
        }
        assert!(token.is_some(), "{c:?}: no version token");
        assert!(st.replace("a/claim", b"three", &token).unwrap(), "{c:?}");
        assert!(
            !st.replace("a/claim", b"four", &token).unwrap(),
            "{c:?}: stale write won"
        );
        assert_eq!(st.read("a/claim").unwrap().unwrap(), b"three");
        assert_eq!(st.read("a/none").unwrap(), None);
    });
}
