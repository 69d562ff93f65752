//! Inputs found by trying to break the library: each is refused clearly or handled, and
//! leaves the registry usable.

use crate::*;
use mlregistry::qdata::{Data, Value, file, ty};

#[test]
fn a_metric_name_with_a_control_character_is_refused() {
    let r = Reg::new("nulmetric");
    r.set(null(), "m", null());
    let e = r.err(
        "mlr_log_metric",
        &[
            r.folder(),
            null(),
            s("m"),
            null(),
            s("a\0b"),
            Value::long(1),
        ],
    );
    assert!(e.starts_with("metricName:"), "{e}");
    r.log_metric("m", "ok", Value::long(1));
    let t = r.metrics("m");
    assert_eq!(column(&t, "metricName"), Value::symbols(&["ok"]));
}

#[test]
fn versions_stay_within_q_ints() {
    let r = Reg::new("bigversion");
    let top = Value::longs(&[2147483647, 2147483647]);
    r.set(null(), "m", dict(vec![("version", top)]));
    let e = r.set_model(null(), qmodel("m"), "m", null()).unwrap_err();
    assert!(e.contains("would pass 2147483647"), "{e}");
    let e = r.set_model(
        null(),
        qmodel("m"),
        "m",
        dict(vec![("major", Value::boolean(true))]),
    );
    assert!(e.unwrap_err().contains("would pass 2147483647"));
    let huge = Value::longs(&[i64::MAX, 0]);
    let e = r
        .set_model(null(), qmodel("m"), "m", dict(vec![("version", huge)]))
        .unwrap_err();
    assert!(e.starts_with("config`version:"), "{e}");
    let e = r.err(
        "mlr_get_model",
        &[
            r.folder(),
            null(),
            s("m"),
            Value::floats(&[1e300, 0.0]),
            null(),
        ],
    );
    assert!(e.starts_with("version:"), "{e}");
    assert_eq!(r.rows().len(), 1);
}

#[test]
fn contradictory_version_options_are_refused() {
    let r = Reg::new("contradict");
    r.set(null(), "m", null());
    let cfgs = [
        dict(vec![("majorVersion", Value::boolean(true))]),
        dict(vec![
            ("version", ver(1, 0)),
            ("major", Value::boolean(true)),
        ]),
        dict(vec![
            ("version", ver(1, 0)),
            ("majorVersion", Value::long(1)),
        ]),
    ];
    for cfg in cfgs {
        let e = r
            .set_model(null(), qmodel("m"), "m", cfg.clone())
            .unwrap_err();
        assert!(e.starts_with("config`"), "{cfg:?}: {e}");
    }
    assert_eq!(r.rows().len(), 1);
}

#[test]
fn keyed_model_keys_cannot_shadow_the_info_file() {
    let r = Reg::new("keyjson");
    let m = dict(vec![("modelInfo.json", qmodel("a"))]);
    let e = r.set_model(null(), m, "k", null()).unwrap_err();
    assert!(e.starts_with("model (dictionary key):"), "{e}");
}

#[test]
fn get_metric_refuses_a_number_as_its_filter() {
    let r = Reg::new("metricparam");
    r.set(null(), "m", null());
    r.log_metric("m", "a", Value::long(1));
    let e = r.err(
        "mlr_get_metric",
        &[r.folder(), null(), s("m"), null(), Value::long(3)],
    );
    assert!(e.starts_with("param:"), "{e}");
}

#[test]
fn a_model_store_row_pointing_outside_the_registry_is_refused() {
    let r = Reg::new("traversal");
    r.set(null(), "m", null());
    let victim = r.scratch.join("victim");
    std::fs::create_dir_all(&victim).unwrap();
    std::fs::write(victim.join("keep"), "x").unwrap();
    let table = Value::Table {
        columns: mlregistry::registry::store::COLUMNS
            .map(String::from)
            .to_vec(),
        data: vec![
            Value::vector(ty::TIMESTAMP, Data::Long(vec![1])),
            Value::List(vec![s("undefined")]),
            Value::List(vec![s("../../victim")]),
            Value::vector(ty::GUID, Data::Guid(vec![[1; 16]])),
            Value::List(vec![s("q")]),
            Value::List(vec![ver(1, 0)]),
            Value::List(vec![s("")]),
        ],
    };
    std::fs::write(
        r.scratch.join("KX_ML_REGISTRY/modelStore"),
        file::write(&table),
    )
    .unwrap();
    let e = r.err("mlr_delete_model", &[r.folder(), null(), s("*"), null()]);
    assert!(e.contains("outside the registry"), "{e}");
    assert!(victim.join("keep").exists());
}

#[test]
fn threads_creating_one_registry_leave_exactly_one() {
    let r = Reg::new("threads");
    let dir = r.scratch.path();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let dir = dir.clone();
            std::thread::spawn(move || {
                let ext = k::ext();
                let a = [default_location(), s(&dir), null()];
                let created = ext.call("mlr_new_registry", &a).is_ok();
                let m = [
                    default_location(),
                    s(&dir),
                    null(),
                    qmodel("t"),
                    s("t"),
                    s("q"),
                    null(),
                    null(),
                ];
                for _ in 0..5 {
                    ext.call("mlr_set_model", &m)
                        .expect("set.model in a thread");
                }
                created
            })
        })
        .collect();
    let created = handles
        .into_iter()
        .map(|h| h.join().unwrap())
        .filter(|c| *c)
        .count();
    assert_eq!(created, 1, "exactly one new.registry succeeds");
    assert_eq!(r.rows().len(), 20);
}

#[test]
fn model_and_sub_experiment_folders_never_coincide() {
    let r = Reg::new("namespace");
    r.set(s("e"), "clf", null());
    // An experiment inside model clf's folder, by set.model or new.experiment.
    let e = r
        .set_model(s("e/clf"), qmodel("x"), "1.0", null())
        .unwrap_err();
    assert!(e.starts_with("experimentName:"), "{e}");
    let e = r.err(
        "mlr_new_experiment",
        &[r.folder(), s("e/clf/deeper"), null()],
    );
    assert!(e.starts_with("experimentName:"), "{e}");
    let e = r.err("mlr_delete_experiment", &[r.folder(), s("e/clf")]);
    assert!(e.starts_with("experimentName:"), "{e}");
    // A model named like an existing sub-experiment, with rows or only a folder.
    r.set(s("e/sub"), "m", null());
    let e = r.set_model(s("e"), qmodel("x"), "sub", null()).unwrap_err();
    assert!(e.starts_with("modelName:"), "{e}");
    r.ok("mlr_new_experiment", &[r.folder(), s("e/empty"), null()]);
    let e = r
        .set_model(s("e"), qmodel("x"), "empty", null())
        .unwrap_err();
    assert!(e.starts_with("modelName:"), "{e}");
    assert_eq!(r.rows().len(), 2);
    assert!(
        r.scratch
            .join("KX_ML_REGISTRY/namedExperiments/e/sub/m/1.0/model/mdl")
            .exists()
    );
}

#[test]
fn readers_during_metric_merges_see_each_metric_once() {
    let r = Reg::new("readmerge");
    r.set(null(), "m", null());
    r.log_metric("m", "step", Value::long(0));
    let dir = r.scratch.path();
    let writer = {
        let dir = dir.clone();
        std::thread::spawn(move || {
            let ext = k::ext();
            for i in 1..200 {
                let a = [
                    default_location(),
                    s(&dir),
                    null(),
                    s("m"),
                    null(),
                    sym("step"),
                    Value::long(i),
                ];
                ext.call("mlr_log_metric", &a).expect("log.metric");
            }
        })
    };
    let mut reads = 0;
    while !writer.is_finished() && reads < 2000 {
        let t = r.metrics("m");
        let steps: Vec<i64> = column(&t, "metricValue")
            .items()
            .iter()
            .map(|v| v.as_integer().unwrap())
            .collect();
        assert_eq!(
            steps,
            (0..steps.len() as i64).collect::<Vec<_>>(),
            "read {reads}"
        );
        reads += 1;
    }
    writer.join().unwrap();
    assert!(reads > 10, "only {reads} reads overlapped the writer");
}

#[test]
fn a_version_is_either_keyed_or_single() {
    let r = Reg::new("mixed");
    r.set(null(), "m", null());
    let keyed = dict(vec![("A", qmodel("a"))]);
    let e = r
        .set_model(null(), keyed, "m", dict(vec![("version", ver(1, 0))]))
        .unwrap_err();
    assert!(e.contains("holds a single model"), "{e}");
    r.set_model(null(), dict(vec![("A", qmodel("a"))]), "k", null())
        .unwrap();
    let e = r
        .set_model(null(), qmodel("s"), "k", dict(vec![("version", ver(1, 0))]))
        .unwrap_err();
    assert!(e.contains("holds a keyed model"), "{e}");
}

#[test]
fn an_unreadable_metric_file_blocks_neither_logging_nor_deleting() {
    let r = Reg::new("badmetric");
    r.set(null(), "m", null());
    let dir = r
        .scratch
        .join("KX_ML_REGISTRY/unnamedExperiments/m/1.0/metrics");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("metric.0.00000000000000000001.00000000"),
        b"garbage",
    )
    .unwrap();
    let n = mlregistry::registry::metrics::FANOUT + 2;
    for i in 0..n {
        let a = [
            r.folder(),
            null(),
            s("m"),
            null(),
            sym("x"),
            Value::long(i as i64),
        ];
        r.ok("mlr_log_metric", &a);
    }
    let e = r.err(
        "mlr_get_metric",
        &[r.folder(), null(), s("m"), null(), null()],
    );
    assert!(e.contains("metric.0.00000000000000000001.00000000"), "{e}");
    r.ok("mlr_delete_metrics", &[r.folder(), null(), s("m"), null()]);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
}
