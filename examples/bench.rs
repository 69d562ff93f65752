//! Benchmarks of the registry on local disk, through the Rust library (no q needed):
//! `cargo run --release --example bench`. Prints figures and ratios; asserts nothing.

use mlregistry::qdata::Value;
use mlregistry::registry::lookup::Query;
use mlregistry::registry::metrics::Metric;
use mlregistry::registry::versions::Rule;
use mlregistry::registry::{NewModel, Registry, info};
use mlregistry::storage::local::Local;
use std::time::Instant;

fn registry(tag: &str) -> (Registry, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("mlr-bench-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let reg = Registry::new(Box::new(Local::new(dir.to_str().unwrap())));
    reg.create_new().unwrap();
    (reg, dir)
}

fn model(name: &str) -> NewModel {
    let m = Value::dict_general(vec![("predict", Value::symbol("f"))]);
    NewModel {
        experiment: None,
        model: name.into(),
        model_type: "q".into(),
        description: String::new(),
        rule: Rule::Next {
            major: false,
            major_version: None,
        },
        files: vec![("model/mdl".into(), mlregistry::qdata::file::write(&m))],
        always: vec![],
        extra: info::Extra {
            requirements: Value::boolean(false),
            axis: Value::string(""),
        },
        version_info: info::version_info("Version: 4.1 | Release Date: 2024.05.31", "q", &[]),
        keys: vec![],
    }
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.partial_cmp(b).unwrap());
    xs[xs.len() / 2]
}

/// Median seconds of one log.metric with `history` metrics already stored.
fn log_metric(history: usize, reps: usize) -> f64 {
    let (reg, dir) = registry(&format!("log{history}"));
    reg.set_model(model("m")).unwrap();
    let q = Query {
        experiment: None,
        model: Some("m".into()),
        version: None,
    };
    let key = reg.find(&q).unwrap().key();
    let rows = (0..history)
        .map(|i| Metric {
            time: i as i64,
            name: "loss".into(),
            value: Value::float(i as f64),
        })
        .collect();
    reg.import_metrics(&key, rows).unwrap();
    let times = (0..reps)
        .map(|i| {
            let t = Instant::now();
            reg.log_metric(&key, "loss", Value::float(i as f64))
                .unwrap();
            t.elapsed().as_secs_f64()
        })
        .collect();
    let _ = std::fs::remove_dir_all(dir);
    median(times)
}

/// Median seconds of one set.model with `models` rows already in the modelStore.
fn set_model(models: usize, reps: usize) -> f64 {
    let (reg, dir) = registry(&format!("set{models}"));
    for i in 0..models {
        reg.set_model(model(&format!("m{i}"))).unwrap();
    }
    let times = (0..reps)
        .map(|_| {
            let t = Instant::now();
            reg.set_model(model("timed")).unwrap();
            t.elapsed().as_secs_f64()
        })
        .collect();
    let _ = std::fs::remove_dir_all(dir);
    median(times)
}

fn main() {
    // Info lines would interleave with the figures.
    unsafe { std::env::set_var("MLREGISTRY_QUIET", "1") };
    let small = log_metric(10, 31);
    let large = log_metric(100_000, 31);
    println!(
        "log.metric, 10 metrics stored:      {:>9.3} ms",
        small * 1e3
    );
    println!(
        "log.metric, 100000 metrics stored:  {:>9.3} ms",
        large * 1e3
    );
    println!("ratio (100000 / 10):                {:>9.2}", large / small);
    let s10 = set_model(10, 15);
    let s1000 = set_model(1000, 15);
    println!("set.model, 10 rows in modelStore:   {:>9.3} ms", s10 * 1e3);
    println!(
        "set.model, 1000 rows in modelStore: {:>9.3} ms",
        s1000 * 1e3
    );
    println!("ratio (1000 / 10):                  {:>9.2}", s1000 / s10);
}
