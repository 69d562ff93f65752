//! Monitoring statistics and the `update.*` calls, through the extension. The host cannot
//! run q lambdas, so it passes what the q wrappers (q/update.q) would measure by calling
//! the model: the seconds per row (`latency`) and the predictions. Reference §15 cases
//! 29-36 and 52-60 are named where they are covered.

use crate::*;
use mlregistry::qdata::{Data, Value, json, ty};

const LONG_NULL: i64 = i64::MIN;
const LONG_INF: i64 = i64::MAX;

fn table(cols: Vec<(&str, Value)>) -> Value {
    Value::Table {
        columns: cols.iter().map(|(n, _)| n.to_string()).collect(),
        data: cols.into_iter().map(|(_, c)| c).collect(),
    }
}

/// The reference's `configData`: `([] 0N,0W,0N,til 50)`.
fn config_data() -> Value {
    let mut x = vec![LONG_NULL, LONG_INF, LONG_NULL];
    x.extend(0..50);
    table(vec![("x", Value::longs(&x))])
}

/// `n` floats in [0,1) from a fixed linear congruential sequence (a stand-in for `n?1f`).
fn uniform(n: usize) -> Vec<f64> {
    let mut state: u64 = 42;
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        })
        .collect()
}

/// What the q wrapper measures for one model: 30 timings and the predictions.
fn measured(predictions: Value) -> Value {
    dict(vec![
        ("latency", Value::floats(&[0.25; 30])),
        ("predictions", predictions),
    ])
}

/// A failed model call as the q wrapper passes it.
fn failed(msg: &str) -> Value {
    dict(vec![("error", s(msg))])
}

/// The JSON file at `rel` below `KX_ML_REGISTRY`, read as q's `.j.k` would.
fn json_file(r: &Reg, rel: &str) -> Value {
    let p = r.scratch.join(&format!("KX_ML_REGISTRY/{rel}"));
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    json::from_json(&text).unwrap()
}

/// The modelInfo.json of a version folder (below `KX_ML_REGISTRY`).
fn info_at(r: &Reg, version_dir: &str) -> Value {
    json_file(r, &format!("{version_dir}/config/modelInfo.json"))
}

fn unnamed_info(r: &Reg, model: &str, version: &str) -> Value {
    info_at(r, &format!("unnamedExperiments/{model}/{version}"))
}

/// `monitoring.<stat>` as (monitor, values).
fn stat(info: &Value, name: &str) -> (bool, Value) {
    let s = info.get("monitoring").unwrap().get(name).unwrap();
    (
        s.get("monitor").unwrap().as_bool().unwrap(),
        s.get("values").unwrap(),
    )
}

fn keys(v: &Value) -> Vec<String> {
    v.dict_entries()
        .unwrap_or_else(|| panic!("not a dictionary: {v:?}"))
        .into_iter()
        .map(|(k, _)| k)
        .collect()
}

fn lookup(name: &str, v: (i64, i64)) -> Vec<Value> {
    vec![null(), s(name), ver(v.0, v.1)]
}

/// Calls an update export on `name` `version` of the registry `r`.
fn update(r: &Reg, export: &str, name: &str, v: (i64, i64), rest: Vec<Value>) -> k::Outcome {
    let mut a = vec![r.folder()];
    a.extend(lookup(name, v));
    a.extend(rest);
    if ["mlr_update_config", "mlr_update_requirements"].contains(&export) {
        // The wrapper's Python environment: `::`, no bridge.
        a.push(null());
    }
    r.call(export, &a)
}

fn update_ok(r: &Reg, export: &str, name: &str, rest: Vec<Value>) {
    update(r, export, name, (1, 0), rest).unwrap_or_else(|e| panic!("{export}: {e}"));
}

fn update_err(r: &Reg, export: &str, name: &str, rest: Vec<Value>) -> String {
    match update(r, export, name, (1, 0), rest) {
        Ok(v) => panic!("{export} should have failed, gave {v:?}"),
        Err(e) => e,
    }
}

/// A registry holding "config-model" 1.0, as the reference's update cases start.
fn config_model() -> Reg {
    let r = Reg::new("monitor");
    r.set(null(), "config-model", null());
    r
}

// --- set.model with data and supervise -------------------------------------------------

/// Cases 29-32: `set.model` with `data` fills every statistic; values worked out by hand
/// from the method in `registry::monitor`.
#[test]
fn set_model_with_data_stores_every_statistic() {
    let r = Reg::new("setdata");
    let cfg = dict(vec![
        ("data", config_data()),
        ("mlr_monitor", measured(Value::longs(&[0, 1, 1, 0]))),
    ]);
    r.set(null(), "basic-model", cfg);
    let info = unnamed_info(&r, "basic-model", "1.0");

    let (on, latency) = stat(&info, "latency");
    assert!(on);
    assert_eq!(keys(&latency), ["avg", "std"]);
    assert_eq!(latency.get("avg"), Some(Value::float(0.25)));
    assert_eq!(latency.get("std"), Some(Value::float(0.0)));

    let (on, schema) = stat(&info, "schema");
    assert!(on);
    assert_eq!(schema.get("x"), Some(s("j")));

    // 0W becomes 49; sorted 0N 0N 0 1 .. 49 49: both middle positions (26) hold 24.
    let (on, nulls) = stat(&info, "nulls");
    assert!(on);
    assert_eq!(keys(&nulls), ["x"]);
    assert_eq!(nulls.get("x"), Some(Value::float(24.0)));

    let (on, inf) = stat(&info, "infinity");
    assert!(on);
    assert_eq!(keys(&inf), ["negInfReplace", "posInfReplace"]);
    assert_eq!(
        inf.get("negInfReplace").unwrap().get("x"),
        Some(Value::float(0.0))
    );
    assert_eq!(
        inf.get("posInfReplace").unwrap().get("x"),
        Some(Value::float(49.0))
    );

    // 53 rows, 10 bins: splits 5 10 .. 45 0w; the first bin holds the two nulls and 0..5.
    let (on, csi) = stat(&info, "csi");
    assert!(on);
    let x = csi.get("x").unwrap();
    assert_eq!(
        keys(&x),
        ["5", "10", "15", "20", "25", "30", "35", "40", "45", "0w"]
    );
    assert_eq!(x.get("5"), Some(Value::float(8.0 / 53.0)));
    assert_eq!(x.get("0w"), Some(Value::float(5.0 / 53.0)));

    // Predictions 0 1 1 0 in min(53,10) = 10 bins: splits at p*3 for p = 0.1 .. 0.9.
    let (on, psi) = stat(&info, "psi");
    assert!(on);
    assert_eq!(keys(&psi).len(), 10);
    assert_eq!(keys(&psi).last().unwrap(), "0w");
}

#[test]
fn set_model_without_measurements_stores_latency_and_psi_as_null() {
    let r = Reg::new("nomeasure");
    r.set(null(), "m", dict(vec![("data", config_data())]));
    let info = unnamed_info(&r, "m", "1.0");
    for name in ["latency", "psi"] {
        let (on, values) = stat(&info, name);
        assert!(on, "{name} monitor");
        assert!(
            values.as_f64().is_some_and(f64::is_nan),
            "{name}: {values:?}"
        );
    }
    assert_eq!(stat(&info, "nulls").1.get("x"), Some(Value::float(24.0)));
}

#[test]
fn a_failed_model_call_stores_null_and_the_other_statistics() {
    let r = Reg::new("failcall");
    let m = dict(vec![
        ("latency", failed("type")),
        ("predictions", failed("rank")),
    ]);
    let cfg = dict(vec![("data", config_data()), ("mlr_monitor", m)]);
    r.set(null(), "m", cfg);
    let info = unnamed_info(&r, "m", "1.0");
    assert!(stat(&info, "latency").1.as_f64().is_some_and(f64::is_nan));
    assert!(stat(&info, "psi").1.as_f64().is_some_and(f64::is_nan));
    assert!(stat(&info, "csi").0);
    assert_eq!(stat(&info, "schema").1.get("x"), Some(s("j")));
}

#[test]
fn set_model_with_data_that_is_no_table_leaves_the_template() {
    let r = Reg::new("notable");
    r.set(null(), "m", dict(vec![("data", Value::longs(&[1, 2, 3]))]));
    let info = unnamed_info(&r, "m", "1.0");
    let (on, values) = stat(&info, "schema");
    assert!(!on);
    assert!(keys(&values).is_empty());
    let (on, latency) = stat(&info, "latency");
    assert!(!on);
    assert_eq!(latency.get("avg"), Some(Value::float(f64::INFINITY)));
}

/// "Our decisions" 28: a q dictionary model with `predict` plus table data is one model.
#[test]
fn a_q_dictionary_model_with_predict_gets_statistics_for_table_data() {
    let r = Reg::new("dictmodel");
    let cfg = dict(vec![
        ("data", table(vec![("x", Value::floats(&[1.0, 2.0]))])),
        ("mlr_monitor", measured(Value::floats(&[1.5, 2.5]))),
    ]);
    r.set_model(null(), qmodel("p"), "dm", cfg).unwrap();
    let info = unnamed_info(&r, "dm", "1.0");
    assert_eq!(stat(&info, "nulls").1.get("x"), Some(Value::float(1.5)));
    assert_eq!(
        keys(&stat(&info, "psi").1),
        ["2", "0w"],
        "two rows, two bins: the split is the median of 1.5 and 2.5"
    );
}

#[test]
fn keyed_models_get_statistics_per_key_present_in_the_data() {
    let r = Reg::new("keyed");
    let model = dict(vec![("EURUSD", qmodel("a")), ("GBPUSD", qmodel("b"))]);
    let data = dict(vec![
        ("EURUSD", table(vec![("x", Value::floats(&[4.0, 2.0]))])),
        ("OTHER", table(vec![("x", Value::floats(&[9.0]))])),
    ]);
    let m = dict(vec![("EURUSD", measured(Value::floats(&[1.0, 0.0])))]);
    let cfg = dict(vec![
        ("data", data),
        ("mlr_monitor", m),
        ("supervise", Value::List(vec![s(".ml.mse")])),
    ]);
    r.set_model(null(), model, "forex", cfg).unwrap();
    let eur = json_file(
        &r,
        "unnamedExperiments/forex/1.0/config/EURUSD/modelInfo.json",
    );
    assert_eq!(stat(&eur, "nulls").1.get("x"), Some(Value::float(3.0)));
    assert!(stat(&eur, "latency").0);
    let gbp = json_file(
        &r,
        "unnamedExperiments/forex/1.0/config/GBPUSD/modelInfo.json",
    );
    assert!(!stat(&gbp, "schema").0, "no data for GBPUSD");
    assert_eq!(
        stat(&gbp, "supervised"),
        (true, Value::List(vec![s(".ml.mse")]))
    );
}

/// q turns `` k!measure'[...] `` (a list of dictionaries with the same keys) into a
/// dictionary whose values are a table; so does `` `latency`predictions!2#enlist err ``.
#[test]
fn measurements_whose_values_q_made_a_table_are_read() {
    let r = Reg::new("collapsed");
    let model = dict(vec![("A", qmodel("a")), ("B", qmodel("b"))]);
    let data = dict(vec![
        ("A", table(vec![("x", Value::floats(&[1.0, 2.0]))])),
        ("B", table(vec![("x", Value::floats(&[3.0, 4.0]))])),
    ]);
    let per_key = Value::Dict {
        keys: Box::new(Value::symbols(&["A", "B"])),
        values: Box::new(table(vec![
            (
                "latency",
                Value::List(vec![Value::floats(&[0.5; 30]), failed("type")]),
            ),
            (
                "predictions",
                Value::List(vec![Value::floats(&[1.0, 0.0]), failed("rank")]),
            ),
        ])),
        sorted: false,
    };
    let cfg = dict(vec![("data", data), ("mlr_monitor", per_key)]);
    r.set_model(null(), model, "k", cfg).unwrap();
    let a = json_file(&r, "unnamedExperiments/k/1.0/config/A/modelInfo.json");
    assert_eq!(stat(&a, "latency").1.get("avg"), Some(Value::float(0.5)));
    assert_eq!(keys(&stat(&a, "psi").1), ["0.5", "0w"]);
    let b = json_file(&r, "unnamedExperiments/k/1.0/config/B/modelInfo.json");
    assert!(stat(&b, "latency").1.as_f64().is_some_and(f64::is_nan));
    assert_eq!(stat(&b, "nulls").1.get("x"), Some(Value::float(3.5)));

    // A model update.config could not load: the same failure for both measurements.
    r.set(null(), "single", null());
    let both = Value::Dict {
        keys: Box::new(Value::symbols(&["latency", "predictions"])),
        values: Box::new(table(vec![(
            "error",
            Value::List(vec![s("gone"), s("gone")]),
        )])),
        sorted: false,
    };
    let cfg = dict(vec![("data", config_data()), ("mlr_monitor", both)]);
    update_ok(&r, "mlr_update_config", "single", vec![cfg]);
    let info = unnamed_info(&r, "single", "1.0");
    assert!(stat(&info, "latency").0);
    assert!(stat(&info, "psi").1.as_f64().is_some_and(f64::is_nan));
    assert_eq!(stat(&info, "nulls").1.get("x"), Some(Value::float(24.0)));
}

#[test]
fn keyed_models_need_keyed_data_and_nothing_is_stored_otherwise() {
    let r = Reg::new("keyedbad");
    r.new_registry();
    let model = dict(vec![("EURUSD", qmodel("a"))]);
    let cfg = dict(vec![("data", config_data())]);
    let e = r.set_model(null(), model, "forex", cfg).unwrap_err();
    assert!(e.starts_with("config`data: expected a dictionary"), "{e}");
    assert!(r.rows().is_empty());
    assert!(
        !r.scratch
            .join("KX_ML_REGISTRY/unnamedExperiments/forex")
            .exists()
    );
}

#[test]
fn supervise_at_set_time_sets_the_supervised_metrics() {
    let r = Reg::new("supervise");
    let cfg = dict(vec![(
        "supervise",
        Value::List(vec![s(".ml.mse"), s(".ml.mae")]),
    )]);
    r.set(null(), "m", cfg);
    let info = unnamed_info(&r, "m", "1.0");
    assert_eq!(
        stat(&info, "supervised"),
        (true, Value::List(vec![s(".ml.mse"), s(".ml.mae")]))
    );
    assert!(!stat(&info, "schema").0, "no data, no statistics");
}

#[test]
fn resetting_an_existing_version_with_data_recomputes_the_statistics() {
    let r = Reg::new("reset");
    r.set(null(), "m", null());
    let cfg = dict(vec![
        ("version", ver(1, 0)),
        ("data", table(vec![("y", Value::floats(&[7.0]))])),
    ]);
    r.set(null(), "m", cfg);
    assert_eq!(r.rows().len(), 1);
    let info = unnamed_info(&r, "m", "1.0");
    assert_eq!(stat(&info, "nulls").1.get("y"), Some(Value::float(7.0)));
}

// --- update.config -------------------------------------------------------------------

/// Cases 33-36: update.config with requirements, data and supervise on skAPmodel 2.0 of
/// experiment "cluster" (the model as the q wrapper loaded and measured it).
#[test]
fn update_config_writes_requirements_statistics_and_supervise() {
    let r = Reg::new("updcfg");
    r.set(s("cluster"), "skAPmodel", null());
    r.set(
        s("cluster"),
        "skAPmodel",
        dict(vec![("major", Value::boolean(true))]),
    );
    let reqs = Value::List(vec![
        s("numpy"),
        s("pandas==2.0.0"),
        s("scikit-learn>=1.0.0"),
    ]);
    let cfg = dict(vec![
        ("requirements", reqs),
        ("data", config_data()),
        ("supervise", Value::boolean(true)),
        ("mlr_monitor", measured(Value::longs(&[0, 1]))),
    ]);
    let a = vec![
        r.folder(),
        s("cluster"),
        s("skAPmodel"),
        null(),
        cfg,
        null(),
    ];
    assert_eq!(r.ok("mlr_update_config", &a), null());

    let dir = "namedExperiments/cluster/skAPmodel/2.0";
    let info = info_at(&r, dir);
    assert_eq!(keys(&stat(&info, "latency").1), ["avg", "std"]);
    assert_eq!(stat(&info, "schema").1.get("x"), Some(s("j")));
    assert_eq!(keys(&stat(&info, "nulls").1), ["x"]);
    assert_eq!(
        keys(&stat(&info, "infinity").1),
        ["negInfReplace", "posInfReplace"]
    );
    // "Our decisions" 7: supervise is applied.
    assert_eq!(stat(&info, "supervised"), (true, Value::boolean(true)));
    let req = std::fs::read_to_string(
        r.scratch
            .join(&format!("KX_ML_REGISTRY/{dir}/requirements.txt")),
    );
    assert_eq!(req.unwrap(), "numpy\npandas==2.0.0\nscikit-learn>=1.0.0\n");
    // 1.0 is untouched.
    let old = info_at(&r, "namedExperiments/cluster/skAPmodel/1.0");
    assert!(!stat(&old, "schema").0);
}

#[test]
fn update_config_keeps_the_rest_of_model_info() {
    let r = config_model();
    let before = unnamed_info(&r, "config-model", "1.0");
    update_ok(
        &r,
        "mlr_update_config",
        "config-model",
        vec![dict(vec![("data", config_data())])],
    );
    let after = unnamed_info(&r, "config-model", "1.0");
    assert_eq!(before.get("registry"), after.get("registry"));
    assert_eq!(before.get("model"), after.get("model"));
    assert_eq!(keys(&after), ["registry", "model", "monitoring"]);
    assert_eq!(
        keys(&after.get("monitoring").unwrap()),
        [
            "nulls",
            "infinity",
            "schema",
            "latency",
            "psi",
            "csi",
            "supervised"
        ]
    );
}

#[test]
fn update_config_of_a_keyed_model_takes_data_per_key() {
    let r = Reg::new("updkeyed");
    let model = dict(vec![("A", qmodel("a")), ("B", qmodel("b"))]);
    r.set_model(null(), model, "k", null()).unwrap();
    let data = dict(vec![("B", table(vec![("z", Value::floats(&[1.0, 3.0]))]))]);
    update_ok(
        &r,
        "mlr_update_config",
        "k",
        vec![dict(vec![("data", data)])],
    );
    let b = json_file(&r, "unnamedExperiments/k/1.0/config/B/modelInfo.json");
    assert_eq!(stat(&b, "nulls").1.get("z"), Some(Value::float(2.0)));
    let a = json_file(&r, "unnamedExperiments/k/1.0/config/A/modelInfo.json");
    assert!(!stat(&a, "schema").0);
    let e = update_err(
        &r,
        "mlr_update_config",
        "k",
        vec![dict(vec![("data", config_data())])],
    );
    assert!(e.starts_with("config`data: expected a dictionary"), "{e}");
}

#[test]
fn update_config_rejects_bad_configs_naming_the_key() {
    let r = config_model();
    let e = update_err(
        &r,
        "mlr_update_config",
        "config-model",
        vec![Value::long(1)],
    );
    assert!(e.starts_with("config: expected"), "{e}");
    let bad_req = dict(vec![("requirements", s("numpy"))]);
    let e = update_err(&r, "mlr_update_config", "config-model", vec![bad_req]);
    assert!(e.starts_with("config`requirements: expected"), "{e}");
    let bad_sup = dict(vec![("supervise", Value::Unary(5))]);
    let e = update_err(&r, "mlr_update_config", "config-model", vec![bad_sup]);
    assert!(e.starts_with("config`supervise: expected"), "{e}");
}

// --- the single-statistic updates ----------------------------------------------------

/// Case 52.
#[test]
fn update_requirements_writes_the_list() {
    let r = config_model();
    let reqs = Value::List(vec![s("numpy"), s("pandas")]);
    update_ok(&r, "mlr_update_requirements", "config-model", vec![reqs]);
    let p = r
        .scratch
        .join("KX_ML_REGISTRY/unnamedExperiments/config-model/1.0/requirements.txt");
    assert_eq!(std::fs::read_to_string(&p).unwrap(), "numpy\npandas\n");
    update_ok(
        &r,
        "mlr_update_requirements",
        "config-model",
        vec![Value::boolean(false)],
    );
    assert_eq!(
        std::fs::read_to_string(&p).unwrap(),
        "numpy\npandas\n",
        "0b changes nothing"
    );
    let e = update_err(
        &r,
        "mlr_update_requirements",
        "config-model",
        vec![Value::long(3)],
    );
    assert!(e.starts_with("requirements: expected"), "{e}");
}

/// Case 53.
#[test]
fn update_nulls_stores_the_median() {
    let r = config_model();
    let data = table(vec![("x", Value::floats(&uniform(100)))]);
    update_ok(&r, "mlr_update_nulls", "config-model", vec![data]);
    let (on, v) = stat(&unnamed_info(&r, "config-model", "1.0"), "nulls");
    assert!(on);
    let m = v.get("x").unwrap().as_f64().unwrap();
    assert!((0.2..=0.8).contains(&m), "{m}");

    // 0 .. 0.99: the middle items 0.49 and 0.5.
    let hundredths: Vec<f64> = (0..100).map(|i| i as f64 / 100.0).collect();
    let data = table(vec![("x", Value::floats(&hundredths))]);
    update_ok(&r, "mlr_update_nulls", "config-model", vec![data]);
    let v = stat(&unnamed_info(&r, "config-model", "1.0"), "nulls").1;
    assert_eq!(v.get("x"), Some(Value::float((0.49 + 0.5) / 2.0)));
}

/// Case 54.
#[test]
fn update_infinity_stores_the_replacements() {
    let r = config_model();
    let data = table(vec![("x", Value::floats(&uniform(100)))]);
    update_ok(&r, "mlr_update_infinity", "config-model", vec![data]);
    let v = stat(&unnamed_info(&r, "config-model", "1.0"), "infinity").1;
    let pos = v
        .get("posInfReplace")
        .unwrap()
        .get("x")
        .unwrap()
        .as_f64()
        .unwrap();
    assert!((0.8..=1.2).contains(&pos), "{pos}");

    let f = f64::INFINITY;
    let data = table(vec![
        ("x", Value::floats(&[1.0, -f, 3.0, f, f64::NAN])),
        ("n", Value::longs(&[LONG_INF, 5, -LONG_INF])),
    ]);
    update_ok(&r, "mlr_update_infinity", "config-model", vec![data]);
    let v = stat(&unnamed_info(&r, "config-model", "1.0"), "infinity").1;
    let neg = v.get("negInfReplace").unwrap();
    let pos = v.get("posInfReplace").unwrap();
    assert_eq!(
        (neg.get("x"), pos.get("x")),
        (Some(Value::float(1.0)), Some(Value::float(3.0)))
    );
    assert_eq!(
        (neg.get("n"), pos.get("n")),
        (Some(Value::float(5.0)), Some(Value::float(5.0)))
    );
}

/// Case 55.
#[test]
fn update_type_sets_the_model_type() {
    let r = config_model();
    update_ok(&r, "mlr_update_type", "config-model", vec![s("sklearn")]);
    let info = unnamed_info(&r, "config-model", "1.0");
    assert_eq!(info.get("model").unwrap().get("type"), Some(s("sklearn")));
    let e = update_err(&r, "mlr_update_type", "config-model", vec![Value::long(1)]);
    assert!(e.starts_with("format: expected"), "{e}");
}

/// Case 56.
#[test]
fn update_supervise_sets_the_metrics() {
    let r = config_model();
    update_ok(
        &r,
        "mlr_update_supervise",
        "config-model",
        vec![Value::List(vec![s(".ml.mse")])],
    );
    let info = unnamed_info(&r, "config-model", "1.0");
    assert_eq!(
        stat(&info, "supervised"),
        (true, Value::List(vec![s(".ml.mse")]))
    );
    let e = update_err(
        &r,
        "mlr_update_supervise",
        "config-model",
        vec![Value::Unary(5)],
    );
    assert!(e.starts_with("metrics: expected"), "{e}");
}

/// Case 57.
#[test]
fn update_schema_stores_the_column_types() {
    let r = config_model();
    let data = table(vec![
        ("x", Value::longs(&(0..100).collect::<Vec<_>>())),
        ("s", Value::List(vec![s("ab"); 100])),
    ]);
    update_ok(&r, "mlr_update_schema", "config-model", vec![data]);
    let (on, v) = stat(&unnamed_info(&r, "config-model", "1.0"), "schema");
    assert!(on);
    assert_eq!(v.get("x"), Some(s("j")));
    assert_eq!(v.get("s"), Some(s("C")));
}

/// Case 58: the identity model on `([]til 100)`, timed by the q wrapper.
#[test]
fn update_latency_stores_avg_and_std_seconds() {
    let r = config_model();
    let data = table(vec![("x", Value::longs(&(0..100).collect::<Vec<_>>()))]);
    let mut times = vec![0.000001; 29];
    times.push(0.000031);
    let timings = Value::floats(&times);
    update_ok(
        &r,
        "mlr_update_latency",
        "config-model",
        vec![data.clone(), timings],
    );
    let (on, v) = stat(&unnamed_info(&r, "config-model", "1.0"), "latency");
    assert!(on);
    let avg = v.get("avg").unwrap().as_f64().unwrap();
    assert!(avg < 1.0);
    assert!((avg - 0.000002).abs() < 1e-15, "{avg}");
    let e = update_err(
        &r,
        "mlr_update_latency",
        "config-model",
        vec![data, failed("type")],
    );
    assert!(
        e.starts_with("model: expected a model that can be called"),
        "{e}"
    );
    assert!(e.ends_with("calling it failed: type"), "{e}");
}

/// Case 59.
#[test]
fn update_csi_bins_each_column() {
    let r = config_model();
    let xs = uniform(1000);
    update_ok(
        &r,
        "mlr_update_csi",
        "config-model",
        vec![table(vec![("x", Value::floats(&xs))])],
    );
    let (on, v) = stat(&unnamed_info(&r, "config-model", "1.0"), "csi");
    assert!(on);
    let bins = v.get("x").unwrap().dict_entries().unwrap();
    assert_eq!(bins.len(), 10);
    assert_eq!(bins[9].0, "0w");
    // 1000 distinct values: each decile holds 100 of them.
    for (k, share) in &bins {
        assert_eq!(share.as_f64(), Some(0.1), "bin {k}");
    }
}

/// Case 60: a reshaping model's razed predictions on the table.
#[test]
fn update_psi_bins_the_predictions() {
    let r = config_model();
    let xs = uniform(1000);
    let data = table(vec![("x", Value::floats(&xs))]);
    let preds = Value::floats(&xs);
    update_ok(
        &r,
        "mlr_update_psi",
        "config-model",
        vec![data.clone(), preds],
    );
    let (on, v) = stat(&unnamed_info(&r, "config-model", "1.0"), "psi");
    assert!(on);
    assert_eq!(keys(&v).len(), 10);
    let bad = Value::symbols(&["a", "b"]);
    let e = update_err(
        &r,
        "mlr_update_psi",
        "config-model",
        vec![data.clone(), bad],
    );
    assert!(
        e.starts_with("model: expected predictions that convert to floats"),
        "{e}"
    );
    let e = update_err(
        &r,
        "mlr_update_psi",
        "config-model",
        vec![data, failed("rank")],
    );
    assert!(e.starts_with("model: expected"), "{e}");
}

#[test]
fn statistics_of_symbol_columns_are_errors_naming_data_and_the_column() {
    let r = config_model();
    let data = table(vec![
        ("x", Value::floats(&[1.0])),
        ("sym", Value::symbols(&["a"])),
    ]);
    for export in ["mlr_update_nulls", "mlr_update_infinity", "mlr_update_csi"] {
        let e = update_err(&r, export, "config-model", vec![data.clone()]);
        assert!(e.starts_with("data: expected"), "{export}: {e}");
        assert!(e.contains("column sym"), "{export}: {e}");
    }
}

#[test]
fn data_that_is_no_table_changes_nothing() {
    let r = config_model();
    let before = std::fs::read(
        r.scratch
            .join("KX_ML_REGISTRY/unnamedExperiments/config-model/1.0/config/modelInfo.json"),
    )
    .unwrap();
    let list = Value::floats(&[1.0, 2.0]);
    for export in [
        "mlr_update_nulls",
        "mlr_update_infinity",
        "mlr_update_csi",
        "mlr_update_schema",
    ] {
        update_ok(&r, export, "config-model", vec![list.clone()]);
    }
    update_ok(
        &r,
        "mlr_update_latency",
        "config-model",
        vec![list.clone(), null()],
    );
    update_ok(&r, "mlr_update_psi", "config-model", vec![list, null()]);
    let after = std::fs::read(
        r.scratch
            .join("KX_ML_REGISTRY/unnamedExperiments/config-model/1.0/config/modelInfo.json"),
    )
    .unwrap();
    assert_eq!(before, after);
}

// --- arguments and lookups ------------------------------------------------------------

/// Every update export with good values for its own arguments.
fn exports() -> Vec<(&'static str, Vec<Value>)> {
    let t = table(vec![("x", Value::floats(&[1.0, 2.0]))]);
    vec![
        ("mlr_update_config", vec![dict(vec![("supervise", s("m"))])]),
        (
            "mlr_update_requirements",
            vec![Value::List(vec![s("numpy")])],
        ),
        (
            "mlr_update_latency",
            vec![t.clone(), Value::floats(&[0.1; 30])],
        ),
        ("mlr_update_nulls", vec![t.clone()]),
        ("mlr_update_infinity", vec![t.clone()]),
        ("mlr_update_csi", vec![t.clone()]),
        (
            "mlr_update_psi",
            vec![t.clone(), Value::floats(&[1.0, 0.0])],
        ),
        ("mlr_update_type", vec![s("q")]),
        (
            "mlr_update_supervise",
            vec![Value::List(vec![s(".ml.mse")])],
        ),
        ("mlr_update_schema", vec![t]),
    ]
}

#[test]
fn every_update_export_names_a_wrong_lookup_argument() {
    let r = config_model();
    for (export, rest) in exports() {
        update_ok(&r, export, "config-model", rest.clone());
        let wrong: [(usize, Value, &str); 4] = [
            (0, Value::long(1), "folderPath"),
            (1, Value::long(1), "experimentName"),
            (2, Value::long(1), "modelName"),
            (3, sym("x"), "version"),
        ];
        for (pos, bad, name) in wrong {
            let mut a = vec![r.folder(), null(), s("config-model"), ver(1, 0)];
            a[pos] = bad;
            a.extend(rest.clone());
            if ["mlr_update_config", "mlr_update_requirements"].contains(&export) {
                a.push(null());
            }
            let e = r.err(export, &a);
            assert!(
                e.starts_with(&format!("{name}: expected")),
                "{export} {name}: {e}"
            );
        }
    }
}

#[test]
fn updates_of_a_missing_model_or_registry_fail_and_create_nothing() {
    let r = config_model();
    for (export, rest) in exports() {
        let e = match update(&r, export, "nosuch", (1, 0), rest.clone()) {
            Err(e) => e,
            Ok(v) => panic!("{export} gave {v:?}"),
        };
        assert!(
            e.contains("no model in the registry matches"),
            "{export}: {e}"
        );
    }
    let empty = Reg::new("noreg");
    for (export, rest) in exports() {
        let e = update(&empty, export, "m", (1, 0), rest).unwrap_err();
        assert!(e.starts_with("no registry at"), "{export}: {e}");
    }
    assert!(!empty.scratch.join("KX_ML_REGISTRY").exists());
}

#[test]
fn single_statistic_updates_refuse_keyed_models() {
    let r = Reg::new("keyedupd");
    let model = dict(vec![("A", qmodel("a"))]);
    r.set_model(null(), model, "k", null()).unwrap();
    for (export, rest) in exports() {
        if ["mlr_update_config", "mlr_update_requirements"].contains(&export) {
            continue;
        }
        let e = update(&r, export, "k", (1, 0), rest).unwrap_err();
        assert!(
            e.starts_with("modelName: expected") && e.contains("keyed"),
            "{export}: {e}"
        );
    }
}

/// `-bins` sets the number of csi/psi bins (reset to the default afterwards).
#[test]
fn the_bins_flag_sets_the_number_of_bins() {
    struct Reset(k::Ext);
    impl Drop for Reset {
        fn drop(&mut self) {
            let _ = self.0.call("mlr_init", &init_args(&[]));
        }
    }
    fn init_args(flags: &[&str]) -> Vec<Value> {
        let zx = Value::List(flags.iter().map(|f| s(f)).collect());
        let date = Value::atom(ty::DATE, Data::Int(vec![8917]));
        vec![zx, Value::float(4.1), date, s(".")]
    }
    let r = config_model();
    let _reset = Reset(k::ext());
    r.ext.call("mlr_init", &init_args(&["-bins", "4"])).unwrap();
    let xs: Vec<f64> = (1..=8).map(f64::from).collect();
    update_ok(
        &r,
        "mlr_update_csi",
        "config-model",
        vec![table(vec![("x", Value::floats(&xs))])],
    );
    let v = stat(&unnamed_info(&r, "config-model", "1.0"), "csi").1;
    // 8 values, 4 bins: positions 0.25*7 = 1.75, 3.5, 5.25 -> 2.75 4.5 6.25.
    assert_eq!(keys(&v.get("x").unwrap()), ["2.75", "4.5", "6.25", "0w"]);
}

#[test]
fn update_requirements_1b_writes_the_bridges_pip_freeze() {
    let r = config_model();
    let env = dict(vec![
        ("python_version", s("3.11.7")),
        ("executable", s("/venv/bin/python")),
        ("prefix", s("/venv")),
        ("base_prefix", s("/usr")),
        (
            "pip_freeze",
            Value::List(vec![s("numpy==2.0.0"), s("pandas==2.2.0")]),
        ),
    ]);
    let base = vec![
        r.folder(),
        null(),
        s("config-model"),
        ver(1, 0),
        Value::boolean(true),
    ];
    let mut a = base.clone();
    a.push(env);
    r.ok("mlr_update_requirements", &a);
    let p = r
        .scratch
        .join("KX_ML_REGISTRY/unnamedExperiments/config-model/1.0/requirements.txt");
    assert_eq!(
        std::fs::read_to_string(&p).unwrap(),
        "numpy==2.0.0\npandas==2.2.0\n"
    );
    let mut a = base;
    a.push(null());
    let e = r.err("mlr_update_requirements", &a);
    assert!(
        e.starts_with("requirements:") && e.contains("Python bridge"),
        "{e}"
    );
}
