//! Several q processes writing one registry at once, and metric logging that costs the same
//! whatever the history.

use crate::*;
use mlregistry::api::location::Location;
use mlregistry::qdata::Value;
use mlregistry::registry::Registry;
use mlregistry::registry::lookup::Query;
use mlregistry::registry::metrics::Metric;
use mlregistry::storage::local::Local;
use std::collections::BTreeMap;
use std::process::Command;

const WRITERS: usize = 4;
const EACH: usize = 12;

/// Run in a child process: adds EACH versions of one model and logs a metric to each.
#[test]
fn concurrent_writer_child() {
    let Ok(dir) = std::env::var("MLR_CHILD_REGISTRY") else {
        return;
    };
    let ext = k::ext();
    let folder = s(&dir);
    for _ in 0..EACH {
        let args = [
            default_location(),
            folder.clone(),
            null(),
            qmodel("shared"),
            s("shared"),
            s("q"),
            null(),
            null(),
        ];
        ext.call("mlr_set_model", &args)
            .expect("set.model in a child");
        let log = [
            default_location(),
            folder.clone(),
            null(),
            s("shared"),
            null(),
            sym("n"),
            Value::long(1),
        ];
        ext.call("mlr_log_metric", &log)
            .expect("log.metric in a child");
    }
}

#[test]
fn concurrent_writers_lose_and_duplicate_nothing() {
    let r = Reg::new("concurrent");
    r.new_registry();
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..WRITERS)
        .map(|_| {
            Command::new(&exe)
                .args([
                    "--exact",
                    "concurrency::concurrent_writer_child",
                    "--test-threads=1",
                ])
                .env("MLR_CHILD_REGISTRY", r.scratch.path())
                .env("MLREGISTRY_QUIET", "1")
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success(), "a writer process failed");
    }
    let rows = r.rows();
    assert_eq!(rows.len(), WRITERS * EACH);
    let mut versions: Vec<(i64, i64)> = rows.iter().map(|x| x.2).collect();
    versions.sort();
    let expected: Vec<(i64, i64)> = (0..(WRITERS * EACH) as i64).map(|i| (1, i)).collect();
    assert_eq!(versions, expected, "every version exactly once");
    // Each row's uniqueID is the one in its own modelInfo.json.
    let store = r.store();
    let ids = column(&store, "uniqueID").items();
    let vers = column(&store, "version").items();
    for (id, v) in ids.iter().zip(vers) {
        let pair = mlregistry::api::args::pair(&v).unwrap();
        let path = r.scratch.join(&format!(
            "KX_ML_REGISTRY/unnamedExperiments/shared/{}.{}/config/modelInfo.json",
            pair.0, pair.1
        ));
        let info = std::fs::read_to_string(path).unwrap();
        let text = mlregistry::qdata::json::to_json(id);
        assert!(info.contains(&text), "{text} not in {info}");
    }
    let metrics = r.metrics("shared");
    assert_eq!(column(&metrics, "metricName").count(), 1);
}

/// Path → (size, modification time) of every file below `dir`.
fn snapshot(dir: &std::path::Path) -> BTreeMap<String, (u64, std::time::SystemTime)> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let m = e.metadata().unwrap();
            (
                e.path().to_string_lossy().into_owned(),
                (m.len(), m.modified().unwrap()),
            )
        })
        .collect()
}

/// Bytes a log.metric call writes: the sizes of files it creates or changes.
fn bytes_of_one_log(history: usize) -> u64 {
    let r = Reg::new("o1");
    r.new_registry();
    r.set(null(), "m", null());
    let reg = Registry::new(Box::new(Local::new(&r.scratch.path())));
    let q = Query {
        experiment: None,
        model: Some("m".into()),
        version: None,
    };
    let rows: Vec<Metric> = (0..history)
        .map(|i| Metric {
            time: i as i64,
            name: "loss".into(),
            value: Value::float(i as f64),
        })
        .collect();
    mlregistry::api::import_metrics(&reg, &q, rows).unwrap();
    let _ = Location::local(".");

    let before = snapshot(&r.scratch.dir);
    r.log_metric("m", "loss", Value::float(0.5));
    let after = snapshot(&r.scratch.dir);
    let t = r.metrics("m");
    assert_eq!(column(&t, "metricName").count(), history + 1);
    after
        .iter()
        .filter(|(p, meta)| before.get(*p) != Some(meta))
        .filter(|(p, _)| !p.ends_with("/.lock"))
        .map(|(_, (len, _))| *len)
        .sum()
}

#[test]
fn logging_a_metric_writes_the_same_bytes_at_10_and_100000_metrics() {
    let small = bytes_of_one_log(10);
    let large = bytes_of_one_log(100_000);
    assert!(small > 0);
    assert_eq!(
        small, large,
        "log.metric rewrote history: {small} vs {large} bytes"
    );
}

#[test]
fn full_levels_of_metric_files_are_merged_by_a_later_write() {
    let r = Reg::new("merge");
    r.new_registry();
    r.set(null(), "m", null());
    let n = mlregistry::registry::metrics::FANOUT + 5;
    for i in 0..n {
        r.log_metric("m", "step", Value::long(i as i64));
    }
    let dir = r
        .scratch
        .join("KX_ML_REGISTRY/unnamedExperiments/m/1.0/metrics");
    let files = std::fs::read_dir(&dir).unwrap().count();
    assert_eq!(files, 6, "one merged file plus five new ones");
    let t = r.metrics("m");
    let values: Vec<i64> = column(&t, "metricValue")
        .items()
        .iter()
        .map(|v| v.as_integer().unwrap())
        .collect();
    assert_eq!(values, (0..n as i64).collect::<Vec<_>>());
}
