//! The `.ml.registry` API on local disk, through the extension.

use crate::k::{libe_b9, libe_d9};
use crate::*;
use mlregistry::qdata::{Data, Value, file, ty};

#[test]
fn new_registry_creates_the_layout_and_returns_its_paths() {
    let r = Reg::new("newreg");
    let cfg = r.new_registry();
    let root = r.scratch.join("KX_ML_REGISTRY");
    assert!(root.join("modelStore").is_file());
    assert_eq!(
        std::fs::read(root.join("namedExperiments/.hidden")).unwrap(),
        b"\n"
    );
    assert_eq!(
        std::fs::read(root.join("unnamedExperiments/.hidden")).unwrap(),
        b"\n"
    );
    assert_eq!(cfg.get("storage"), Some(sym("local")));
    assert_eq!(
        cfg.get("registryPath"),
        Some(s(&format!("{}/KX_ML_REGISTRY", r.scratch.path())))
    );
    let store = cfg.get("modelStorePath").unwrap();
    assert_eq!(
        store.as_symbol().unwrap(),
        format!(":{}/KX_ML_REGISTRY/modelStore", r.scratch.path())
    );
}

#[test]
fn new_registry_refuses_an_existing_one() {
    let r = Reg::new("newreg2");
    r.new_registry();
    let e = r.err("mlr_new_registry", &[r.folder(), null()]);
    assert!(e.contains("exists already"), "{e}");
}

#[test]
fn new_registry_keeps_the_users_config_keys() {
    let r = Reg::new("newreg3");
    let cfg = r.ok(
        "mlr_new_registry",
        &[r.folder(), dict(vec![("mine", Value::long(7))])],
    );
    assert_eq!(cfg.get("mine"), Some(Value::long(7)));
}

#[test]
fn the_model_store_file_is_read_by_libe_d9() {
    let r = Reg::new("d9");
    r.new_registry();
    r.set(null(), "m", null());
    let bytes = std::fs::read(r.scratch.join("KX_ML_REGISTRY/modelStore")).unwrap();
    assert_eq!(&bytes[..2], &[0xff, 0x01]);
    // As q's `get` would: the payload behind an IPC header.
    let mut msg = vec![1, 0, 0, 0];
    msg.extend_from_slice(&((bytes.len() - 2 + 8) as u32).to_le_bytes());
    msg.extend_from_slice(&bytes[2..]);
    let t = libe_d9(&msg);
    let Value::Table { columns, data } = &t else {
        panic!("{t:?}")
    };
    assert_eq!(
        columns,
        &[
            "registrationTime",
            "experimentName",
            "modelName",
            "uniqueID",
            "modelType",
            "version",
            "description"
        ]
    );
    assert_eq!(data[0].q_type(), ty::TIMESTAMP);
    assert_eq!(data[3].q_type(), ty::GUID);
    assert_eq!(data[1], Value::List(vec![s("undefined")]));
    assert_eq!(data[5], Value::List(vec![ver(1, 0)]));
}

#[test]
fn a_model_store_written_by_libe_b9_is_read() {
    let r = Reg::new("b9");
    r.new_registry();
    let table = Value::Table {
        columns: mlregistry::registry::store::COLUMNS
            .map(String::from)
            .to_vec(),
        data: vec![
            Value::vector(ty::TIMESTAMP, Data::Long(vec![1_000])),
            Value::List(vec![s("undefined")]),
            Value::List(vec![s("legacy")]),
            Value::vector(ty::GUID, Data::Guid(vec![[9; 16]])),
            Value::List(vec![s("q")]),
            Value::List(vec![ver(3, 4)]),
            Value::List(vec![s("")]),
        ],
    };
    let ipc = libe_b9(&table);
    std::fs::write(
        r.scratch.join("KX_ML_REGISTRY/modelStore"),
        file::from_payload(&ipc[8..]),
    )
    .unwrap();
    assert_eq!(
        r.rows(),
        vec![("undefined".into(), "legacy".into(), (3, 4))]
    );
}

#[test]
fn a_compressed_model_store_is_a_clear_error() {
    let r = Reg::new("zipped");
    r.new_registry();
    std::fs::write(
        r.scratch.join("KX_ML_REGISTRY/modelStore"),
        b"kxzipped\x00\x00\x00\x00",
    )
    .unwrap();
    let e = r.err("mlr_get_model_store", &[r.folder(), null()]);
    assert!(e.contains("modelStore") && e.contains("compressed"), "{e}");
}

#[test]
fn versions_follow_major_and_major_version() {
    let r = Reg::new("versions");
    r.new_registry();
    for cfg in [
        dict(vec![("description", s("first"))]),
        null(),
        null(),
        dict(vec![("major", Value::boolean(true))]),
        null(),
        dict(vec![("majorVersion", Value::long(1))]),
    ] {
        let g = r.set(null(), "basic-model", cfg);
        assert_eq!(g.q_type(), -ty::GUID);
    }
    let got: Vec<(i64, i64)> = r.rows().into_iter().map(|x| x.2).collect();
    assert_eq!(got, vec![(1, 0), (1, 1), (1, 2), (2, 0), (2, 1), (1, 3)]);
}

#[test]
fn an_explicit_existing_version_adds_no_row_and_keeps_the_guid() {
    let r = Reg::new("explicit");
    r.new_registry();
    r.set(null(), "m", null());
    let g = r.set(null(), "m", null());
    let again = r.set(
        null(),
        "m",
        dict(vec![(
            "version",
            Value::vector(ty::INT, Data::Int(vec![1, 1])),
        )]),
    );
    assert_eq!(g, again);
    assert_eq!(r.rows().len(), 2);
}

#[test]
fn major_version_without_that_major_is_an_error() {
    let r = Reg::new("majorv");
    r.new_registry();
    r.set(null(), "m", null());
    let e = r
        .set_model(
            null(),
            qmodel("m"),
            "m",
            dict(vec![("majorVersion", Value::long(4))]),
        )
        .unwrap_err();
    assert!(e.contains("majorVersion 4"), "{e}");
    let both = dict(vec![
        ("major", Value::boolean(true)),
        ("majorVersion", Value::long(1)),
    ]);
    let e = r.set_model(null(), qmodel("m"), "m", both).unwrap_err();
    assert!(e.contains("not both"), "{e}");
}

#[test]
fn set_model_writes_model_info_and_version_info() {
    let r = Reg::new("info");
    r.new_registry();
    r.set(
        s("exp1"),
        "clf",
        dict(vec![("description", sym("a symbol description"))]),
    );
    let dir = r
        .scratch
        .join("KX_ML_REGISTRY/namedExperiments/exp1/clf/1.0");
    assert_eq!(
        std::fs::read(
            r.scratch
                .join("KX_ML_REGISTRY/namedExperiments/exp1/.hidden")
        )
        .unwrap(),
        b"\n"
    );
    let mdl = std::fs::read(dir.join("model/mdl")).unwrap();
    assert_eq!(file::read(&mdl).unwrap(), qmodel("clf"));
    let info = std::fs::read_to_string(dir.join("config/modelInfo.json")).unwrap();
    assert!(
        info.contains(r#""description":"a symbol description""#),
        "{info}"
    );
    assert!(
        info.contains(r#""latency":{"monitor":false,"values":{"avg":inf,"std":inf}}"#),
        "{info}"
    );
    assert!(
        info.contains(r#""experimentInformation":{"experimentName":"exp1"}"#),
        "{info}"
    );
    let vinfo = std::fs::read_to_string(dir.join(".version.info")).unwrap();
    assert!(vinfo.contains(r#""model_type":"q""#), "{vinfo}");
    let m = r.ok(
        "mlr_get_model",
        &[r.folder(), null(), s("clf"), null(), null()],
    );
    let entry = m.get("models").unwrap();
    let mi = entry.get("modelInfo").unwrap();
    let v = mi
        .get("registry")
        .unwrap()
        .get("modelInformation")
        .unwrap()
        .get("version")
        .unwrap();
    assert_eq!(v, Value::floats(&[1.0, 0.0]));
    assert_eq!(mi.get("model").unwrap().get("type"), Some(s("q")));
    assert_eq!(entry.get("model"), Some(qmodel("clf")));
}

#[test]
fn lookups_choose_latest_highest_and_exact() {
    let r = Reg::new("lookups");
    r.new_registry();
    r.set(null(), "m", null());
    r.set(null(), "m", dict(vec![("major", Value::boolean(true))]));
    r.set(null(), "m", dict(vec![("majorVersion", Value::long(1))]));
    let version_of = |m: &Value| {
        m.get("models")
            .unwrap()
            .get("modelInfo")
            .unwrap()
            .get("registry")
            .unwrap()
            .get("modelInformation")
            .unwrap()
            .get("version")
            .unwrap()
    };
    let latest = r.ok(
        "mlr_get_model",
        &[r.folder(), null(), null(), null(), null()],
    );
    assert_eq!(version_of(&latest), Value::floats(&[1.0, 1.0]));
    let highest = r.ok(
        "mlr_get_model",
        &[r.folder(), null(), s("m"), null(), null()],
    );
    assert_eq!(version_of(&highest), Value::floats(&[2.0, 0.0]));
    let exact = r.ok(
        "mlr_get_model",
        &[r.folder(), null(), sym("m"), ver(1, 0), null()],
    );
    assert_eq!(version_of(&exact), Value::floats(&[1.0, 0.0]));
}

#[test]
fn a_version_without_a_model_name_is_an_error() {
    let r = Reg::new("vnoname");
    r.new_registry();
    r.set(null(), "m", null());
    let e = r.err(
        "mlr_get_model",
        &[r.folder(), null(), null(), ver(1, 0), null()],
    );
    assert!(e.starts_with("version:"), "{e}");
}

#[test]
fn the_same_name_in_two_experiments_needs_the_experiment() {
    let r = Reg::new("ambig");
    r.new_registry();
    r.set(s("experiment1"), "qmodel", null());
    r.set(s("experiment2"), "qmodel", null());
    let e = r.err(
        "mlr_get_model",
        &[r.folder(), null(), s("qmodel"), null(), null()],
    );
    assert!(e.contains("experiment1/qmodel, experiment2/qmodel"), "{e}");
    for exp in ["experiment1", "experiment2"] {
        let m = r.ok(
            "mlr_get_model",
            &[r.folder(), s(exp), s("qmodel"), null(), null()],
        );
        let info = m.get("models").unwrap().get("modelInfo").unwrap();
        let name = info
            .get("registry")
            .unwrap()
            .get("modelInformation")
            .unwrap()
            .get("modelName");
        assert_eq!(name, Some(s("qmodel")));
    }
}

#[test]
fn reads_never_create_a_registry() {
    let r = Reg::new("noreg");
    let e = r.err("mlr_get_model_store", &[r.folder(), null()]);
    assert!(e.contains("no registry at"), "{e}");
    assert!(!r.scratch.join("KX_ML_REGISTRY").exists());
    let e = r.err(
        "mlr_get_model",
        &[r.folder(), null(), s("m"), null(), null()],
    );
    assert!(e.contains("no registry"), "{e}");
    r.ok("mlr_delete_registry", &[r.folder(), null()]);
    assert!(!r.scratch.join("KX_ML_REGISTRY").exists());
}

#[test]
fn set_model_creates_a_missing_registry() {
    let r = Reg::new("autocreate");
    r.set(null(), "m", null());
    assert_eq!(r.rows().len(), 1);
}

#[test]
fn metrics_keep_any_q_value_and_filter_by_name() {
    let r = Reg::new("metrics");
    r.new_registry();
    r.set(null(), "m", null());
    let log = |name: Value, v: Value| {
        r.ok(
            "mlr_log_metric",
            &[r.folder(), null(), s("m"), ver(1, 0), name, v],
        );
    };
    log(sym("accuracy"), Value::float(0.9));
    log(s("accuracy"), Value::float(0.95));
    log(sym("loss"), Value::long(3));
    log(sym("note"), sym("ok"));
    let all = r.ok(
        "mlr_get_metric",
        &[r.folder(), null(), s("m"), ver(1, 0), null()],
    );
    assert_eq!(
        column(&all, "metricName"),
        Value::symbols(&["accuracy", "accuracy", "loss", "note"])
    );
    assert_eq!(
        column(&all, "metricValue"),
        Value::List(vec![
            Value::float(0.9),
            Value::float(0.95),
            Value::long(3),
            sym("ok")
        ])
    );
    assert_eq!(column(&all, "timestamp").q_type(), ty::TIMESTAMP);
    let forms = [
        s("accuracy"),
        sym("accuracy"),
        Value::symbols(&["accuracy"]),
        dict(vec![("metricName", sym("accuracy"))]),
        Value::List(vec![s("accuracy")]),
    ];
    for f in forms {
        let t = r.ok(
            "mlr_get_metric",
            &[r.folder(), null(), s("m"), ver(1, 0), f.clone()],
        );
        assert_eq!(
            column(&t, "metricName"),
            Value::symbols(&["accuracy", "accuracy"]),
            "{f:?}"
        );
    }
    let two = r.ok(
        "mlr_get_metric",
        &[
            r.folder(),
            null(),
            s("m"),
            ver(1, 0),
            Value::symbols(&["accuracy", "loss"]),
        ],
    );
    assert_eq!(column(&two, "metricName").count(), 3);
}

#[test]
fn get_metric_without_metrics_is_an_error() {
    let r = Reg::new("nometric");
    r.new_registry();
    r.set(null(), "m", null());
    let e = r.err(
        "mlr_get_metric",
        &[r.folder(), null(), s("m"), null(), null()],
    );
    assert!(e.contains("no metric table"), "{e}");
    let e = r.err(
        "mlr_delete_metrics",
        &[r.folder(), null(), s("m"), ver(1, 0)],
    );
    assert!(e.contains("no metric table"), "{e}");
    let e = r.err(
        "mlr_delete_metric",
        &[r.folder(), null(), s("m"), ver(1, 0), s("x")],
    );
    assert!(e.contains("no metric table"), "{e}");
}

#[test]
fn a_legacy_metric_table_is_read_without_its_placeholder() {
    let r = Reg::new("legacy");
    r.new_registry();
    r.set(null(), "m", null());
    let table = Value::Table {
        columns: vec![
            "timestamp".into(),
            "metricName".into(),
            "metricValue".into(),
        ],
        data: vec![
            Value::vector(ty::TIMESTAMP, Data::Long(vec![i64::MIN, 5])),
            Value::symbols(&["", "old"]),
            Value::List(vec![null(), Value::float(2.5)]),
        ],
    };
    let ipc = libe_b9(&table);
    let dir = r
        .scratch
        .join("KX_ML_REGISTRY/unnamedExperiments/m/1.0/metrics");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("metric"), file::from_payload(&ipc[8..])).unwrap();
    r.log_metric("m", "new", Value::long(1));
    let t = r.metrics("m");
    assert_eq!(column(&t, "metricName"), Value::symbols(&["old", "new"]));
}

#[test]
fn delete_metric_removes_matching_names_only() {
    let r = Reg::new("delmetric");
    r.new_registry();
    r.set(null(), "m", null());
    for n in ["acc", "loss", "acc2"] {
        r.ok(
            "mlr_log_metric",
            &[r.folder(), null(), s("m"), null(), sym(n), Value::long(1)],
        );
    }
    r.ok(
        "mlr_delete_metric",
        &[r.folder(), null(), s("m"), null(), s("acc*")],
    );
    let t = r.metrics("m");
    assert_eq!(column(&t, "metricName"), Value::symbols(&["loss"]));
    r.ok("mlr_delete_metrics", &[r.folder(), null(), s("m"), null()]);
    let e = r.err(
        "mlr_get_metric",
        &[r.folder(), null(), s("m"), null(), null()],
    );
    assert!(e.contains("no metric table"), "{e}");
}

#[test]
fn parameters_round_trip_as_json_does() {
    let r = Reg::new("params");
    r.new_registry();
    r.set(null(), "m", null());
    let p = Value::dict(vec![("param1", Value::long(1)), ("param2", Value::long(2))]);
    let h = r.ok(
        "mlr_set_parameters",
        &[r.folder(), null(), s("m"), null(), s("paramFile"), p],
    );
    assert!(h.as_symbol().unwrap().ends_with("/params/paramFile.json"));
    r.ok(
        "mlr_set_parameters",
        &[
            r.folder(),
            null(),
            s("m"),
            null(),
            sym("symName"),
            Value::long(3),
        ],
    );
    let back = r.ok(
        "mlr_get_parameters",
        &[r.folder(), null(), s("m"), null(), s("paramFile")],
    );
    assert_eq!(back.get("param1"), Some(Value::float(1.0)));
    assert_eq!(back.get("param2"), Some(Value::float(2.0)));
    let list = Value::List(vec![s("a string"), s("another")]);
    r.ok(
        "mlr_set_parameters",
        &[
            r.folder(),
            null(),
            s("m"),
            null(),
            s("paramList"),
            list.clone(),
        ],
    );
    let back = r.ok(
        "mlr_get_parameters",
        &[r.folder(), null(), s("m"), null(), sym("paramList")],
    );
    assert_eq!(back, list);
    let e = r.err(
        "mlr_set_parameters",
        &[r.folder(), null(), s("m"), null(), Value::long(1), list],
    );
    assert!(e.starts_with("paramName:"), "{e}");
    r.ok(
        "mlr_delete_parameters",
        &[r.folder(), null(), s("m"), null(), s("paramList")],
    );
    let e = r.err(
        "mlr_delete_parameters",
        &[r.folder(), null(), s("m"), null(), s("paramList")],
    );
    assert!(e.contains("no parameter file named \"paramList\""), "{e}");
    let e = r.err(
        "mlr_get_parameters",
        &[r.folder(), null(), s("m"), null(), s("paramList")],
    );
    assert!(e.contains("no parameter file"), "{e}");
}

#[test]
fn delete_model_removes_one_version_or_all() {
    let r = Reg::new("delmodel");
    r.new_registry();
    for _ in 0..3 {
        r.set(null(), "m", null());
    }
    r.set(null(), "m2", null());
    r.ok("mlr_delete_model", &[r.folder(), null(), s("m"), ver(1, 1)]);
    let base = r.scratch.join("KX_ML_REGISTRY/unnamedExperiments");
    assert!(!base.join("m/1.1").exists() && base.join("m/1.0").exists());
    assert_eq!(r.rows().len(), 3);
    r.ok("mlr_delete_model", &[r.folder(), null(), s("m"), null()]);
    assert!(!base.join("m").exists() && base.join("m2/1.0").exists());
    assert_eq!(r.rows(), vec![("undefined".into(), "m2".into(), (1, 0))]);
    let e = r.err("mlr_delete_model", &[r.folder(), null(), s("m"), null()]);
    assert!(e.contains("no model"), "{e}");
}

#[test]
fn delete_experiment_takes_sub_experiments_with_it() {
    let r = Reg::new("delexp");
    r.new_registry();
    r.set(s("exp1"), "clf", null());
    r.set(s("exp1/sub"), "clf2", null());
    r.set(s("exp10"), "other", null());
    r.ok("mlr_delete_experiment", &[r.folder(), s("exp1")]);
    assert_eq!(r.rows(), vec![("exp10".into(), "other".into(), (1, 0))]);
    assert!(
        !r.scratch
            .join("KX_ML_REGISTRY/namedExperiments/exp1")
            .exists()
    );
    assert!(
        r.scratch
            .join("KX_ML_REGISTRY/namedExperiments/exp10")
            .exists()
    );
    r.ok("mlr_delete_experiment", &[r.folder(), s("never-made")]);
    for bad in [null(), s(""), s("undefined")] {
        let e = r.err("mlr_delete_experiment", &[r.folder(), bad]);
        assert!(e.starts_with("experimentName:"), "{e}");
    }
}

#[test]
fn names_that_would_escape_their_folder_are_refused() {
    let r = Reg::new("names");
    r.new_registry();
    for bad in ["../x", "a/b", "m*", ""] {
        let e = r.set_model(null(), qmodel("x"), bad, null()).unwrap_err();
        assert!(e.starts_with("modelName:"), "{bad}: {e}");
    }
    for bad in ["../up", "/abs", "a//b", "x?"] {
        let e = r.set_model(s(bad), qmodel("x"), "m", null()).unwrap_err();
        assert!(e.starts_with("experimentName:"), "{bad}: {e}");
    }
    assert_eq!(r.rows().len(), 0);
}

#[test]
fn bad_argument_values_name_the_argument() {
    // Wrong types are covered export by export in bad_inputs.rs; these are wrong values.
    let r = Reg::new("badargs");
    r.new_registry();
    r.set(null(), "m", null());
    let f = r.folder();
    let set = |model: Value, mtype: Value, cfg: Value| {
        vec![f.clone(), null(), model, s("m"), mtype, cfg, null()]
    };
    let cfg = |k: &str, v: Value| dict(vec![(k, v)]);
    let cases: Vec<(&str, Vec<Value>, &str)> = vec![
        (
            "mlr_get_model",
            vec![f.clone(), null(), s("m"), Value::longs(&[1, 0, 0]), null()],
            "version:",
        ),
        (
            "mlr_get_model",
            vec![f.clone(), null(), s("m"), Value::longs(&[-1, 0]), null()],
            "version:",
        ),
        (
            "mlr_query_model_store",
            vec![f.clone(), cfg("version", s("1.0"))],
            "config`version:",
        ),
        (
            "mlr_set_model",
            set(qmodel("m"), s("bogus"), null()),
            "modelType:",
        ),
        (
            "mlr_set_model",
            set(Value::long(5), s("q"), null()),
            "model:",
        ),
        (
            "mlr_set_model",
            set(qmodel("m"), s("q"), cfg("major", Value::long(1))),
            "config`major:",
        ),
        (
            "mlr_set_model",
            set(qmodel("m"), s("q"), cfg("majorVersion", Value::float(1.5))),
            "config`majorVersion:",
        ),
        (
            "mlr_set_model",
            set(qmodel("m"), s("q"), cfg("requirements", s("numpy"))),
            "config`requirements:",
        ),
        (
            "mlr_set_model",
            set(qmodel("m"), s("q"), cfg("version", s("1.0"))),
            "config`version:",
        ),
        (
            "mlr_set_model",
            set(qmodel("m"), s("q"), cfg("axis", s("yes"))),
            "config`axis:",
        ),
        (
            "mlr_set_model",
            set(qmodel("m"), s("q"), cfg("description", Value::long(1))),
            "config`description:",
        ),
    ];
    for (name, args, want) in cases {
        let e = r.err(name, &args);
        assert!(e.starts_with(want), "{name} {args:?}: {e}");
    }
    assert_eq!(r.rows().len(), 1);
}

#[test]
fn a_failed_set_model_after_its_files_are_written_leaves_no_trace() {
    let r = Reg::new("rollback");
    r.new_registry();
    r.set(s("exp1"), "keep", null());
    // The modelStore cannot be replaced: its staging path is taken by a folder.
    let stage = r.scratch.join("KX_ML_REGISTRY/.modelStore.tmp");
    std::fs::create_dir_all(stage.join("blocker")).unwrap();
    let e = r
        .set_model(s("exp2"), qmodel("m"), "m", null())
        .unwrap_err();
    assert!(e.contains("modelStore"), "{e}");
    assert!(
        !r.scratch
            .join("KX_ML_REGISTRY/namedExperiments/exp2")
            .exists()
    );
    let e = r
        .set_model(s("exp1"), qmodel("m"), "new", null())
        .unwrap_err();
    assert!(e.contains("could not write"), "{e}");
    assert!(
        !r.scratch
            .join("KX_ML_REGISTRY/namedExperiments/exp1/new")
            .exists()
    );
    assert!(
        r.scratch
            .join("KX_ML_REGISTRY/namedExperiments/exp1/keep/1.0/model/mdl")
            .exists()
    );
    std::fs::remove_dir_all(&stage).unwrap();
    assert_eq!(r.rows(), vec![("exp1".into(), "keep".into(), (1, 0))]);
}

#[test]
fn keyed_models_store_one_file_per_key() {
    let r = Reg::new("keyed");
    r.new_registry();
    let m = dict(vec![("EURUSD", qmodel("a")), ("GBPUSD", qmodel("b"))]);
    r.set_model(null(), m, "forex", null()).unwrap();
    let base = r
        .scratch
        .join("KX_ML_REGISTRY/unnamedExperiments/forex/1.0");
    assert!(base.join("model/EURUSD/mdl").is_file());
    assert!(base.join("config/GBPUSD/modelInfo.json").is_file());
    assert!(!base.join("config/modelInfo.json").exists());
    let all = r.ok(
        "mlr_get_model",
        &[r.folder(), null(), s("forex"), null(), null()],
    );
    assert_eq!(all.get("keyed"), Some(Value::boolean(true)));
    let models = all.get("models").unwrap();
    assert_eq!(
        models.get("EURUSD").unwrap().get("model"),
        Some(qmodel("a"))
    );
    let one = r.ok(
        "mlr_get_model",
        &[r.folder(), null(), s("forex"), null(), sym("GBPUSD")],
    );
    assert_eq!(one.get("models").unwrap().get("model"), Some(qmodel("b")));
    let e = r.err(
        "mlr_get_model",
        &[r.folder(), null(), s("forex"), null(), sym("NOPE")],
    );
    assert!(e.contains("`NOPE"), "{e}");
    // Re-setting the version fills in a missing key and keeps the existing ones.
    let more = dict(vec![("EURUSD", qmodel("changed")), ("EURGBP", qmodel("c"))]);
    r.set_model(null(), more, "forex", dict(vec![("version", ver(1, 0))]))
        .unwrap();
    let all = r.ok(
        "mlr_get_model",
        &[r.folder(), null(), s("forex"), null(), null()],
    );
    let models = all.get("models").unwrap();
    assert_eq!(
        models.get("EURUSD").unwrap().get("model"),
        Some(qmodel("a"))
    );
    assert_eq!(
        models.get("EURGBP").unwrap().get("model"),
        Some(qmodel("c"))
    );
}

#[test]
fn query_model_store_filters_by_every_key() {
    let r = Reg::new("query");
    r.new_registry();
    r.set(null(), "a", null());
    r.set(s("e"), "b", null());
    r.set(s("e"), "b", null());
    let q = |cfg: Value| rows_of(&r.ok("mlr_query_model_store", &[r.folder(), cfg])).len();
    assert_eq!(q(null()), 3);
    assert_eq!(q(dict(vec![("modelName", s("b"))])), 2);
    assert_eq!(
        q(dict(vec![
            ("experimentName", s("e")),
            ("version", ver(1, 1))
        ])),
        1
    );
    assert_eq!(q(dict(vec![("modelName", s("*"))])), 3);
    let store = r.store();
    let id = column(&store, "uniqueID").item(0).unwrap();
    assert_eq!(q(dict(vec![("uniqueID", id)])), 1);
}

#[test]
fn code_files_are_copied_and_listed_for_loading() {
    let r = Reg::new("code");
    r.new_registry();
    let src = r.scratch.join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("b.py"), "x=1\n").unwrap();
    std::fs::write(src.join("a.q"), "a:1\n").unwrap();
    let paths = Value::symbols(&[
        src.join("b.py").to_str().unwrap(),
        src.join("a.q").to_str().unwrap(),
    ]);
    r.set(null(), "m", dict(vec![("code", paths)]));
    let got = r.ok(
        "mlr_get_model",
        &[r.folder(), null(), s("m"), null(), null()],
    );
    let code: Vec<String> = got
        .get("code")
        .unwrap()
        .items()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        code[0].ends_with("/code/a.q") && code[1].ends_with("/code/b.py"),
        "{code:?}"
    );
    r.ok(
        "mlr_delete_code",
        &[r.folder(), null(), s("m"), null(), s("a.q")],
    );
    let e = r.err(
        "mlr_delete_code",
        &[r.folder(), null(), s("m"), null(), s("a.q")],
    );
    assert!(e.contains("no code file named \"a.q\""), "{e}");
    let bad = dict(vec![("code", sym(src.join("missing.q").to_str().unwrap()))]);
    let e = r.set_model(null(), qmodel("m"), "m", bad).unwrap_err();
    assert!(e.starts_with("config`code:"), "{e}");
}

#[test]
fn requirements_are_written_from_a_list_or_a_file() {
    let r = Reg::new("reqs");
    r.new_registry();
    let list = Value::List(vec![s("numpy"), s("pandas"), s("scikit-learn")]);
    r.set(null(), "requireModel", dict(vec![("requirements", list)]));
    let f = r.scratch.join("reqs.txt");
    std::fs::write(&f, "numpy\npandas\nscikit-learn\n").unwrap();
    r.set(
        null(),
        "requireModel",
        dict(vec![("requirements", sym(f.to_str().unwrap()))]),
    );
    let base = r
        .scratch
        .join("KX_ML_REGISTRY/unnamedExperiments/requireModel");
    for v in ["1.0", "1.1"] {
        let text = std::fs::read_to_string(base.join(v).join("requirements.txt")).unwrap();
        assert_eq!(
            text.lines().collect::<Vec<_>>(),
            vec!["numpy", "pandas", "scikit-learn"]
        );
    }
}

#[test]
fn a_q_model_file_is_copied_and_checked() {
    let r = Reg::new("qfile");
    r.new_registry();
    let f = r.scratch.join("model.bin");
    std::fs::write(&f, file::write(&qmodel("from-file"))).unwrap();
    r.set_model(null(), Value::hsym(f.to_str().unwrap()), "qmdl", null())
        .unwrap();
    let got = r.ok(
        "mlr_get_model",
        &[r.folder(), null(), null(), null(), null()],
    );
    assert_eq!(
        got.get("models").unwrap().get("model"),
        Some(qmodel("from-file"))
    );
    std::fs::write(&f, b"not kdb").unwrap();
    let e = r
        .set_model(null(), s(f.to_str().unwrap()), "qmdl", null())
        .unwrap_err();
    assert!(e.contains("0xff01"), "{e}");
    let e = r
        .set_model(null(), s("/no/such/file"), "qmdl", null())
        .unwrap_err();
    assert!(e.starts_with("model:"), "{e}");
}

#[test]
fn get_version_reads_the_version_info() {
    let r = Reg::new("getversion");
    r.new_registry();
    r.set(null(), "m", null());
    let v = r.ok("mlr_get_version", &[r.folder(), null(), null(), null()]);
    assert_eq!(v.get("model_type"), Some(s("q")));
    assert!(
        v.get("q_version")
            .unwrap()
            .as_str()
            .unwrap()
            .starts_with("Version: ")
    );
}

#[test]
fn the_location_dictionary_and_folder_strings_are_equivalent() {
    let r = Reg::new("locdict");
    let loc = dict(vec![("local", r.folder())]);
    r.ok("mlr_new_registry", &[loc.clone(), null()]);
    r.set(null(), "m", null());
    let t = r
        .ok("mlr_get_model_store", &[loc, null()])
        .get("result")
        .unwrap();
    assert_eq!(rows_of(&t).len(), 1);
    // `::` is .ml.registry.location, passed in by the wrapper.
    let moved = dict(vec![("local", r.folder())]);
    let t = r
        .ext
        .call("mlr_get_model_store", &[moved, null(), null()])
        .unwrap();
    assert_eq!(rows_of(&t.get("result").unwrap()).len(), 1);
}

#[test]
fn init_parses_flags_and_returns_the_location() {
    let ext = k::ext();
    let zx = |v: &[&str]| Value::List(v.iter().map(|x| s(x)).collect());
    let date = Value::atom(ty::DATE, Data::Int(vec![8917]));
    let loc = ext
        .call(
            "mlr_init",
            &[zx(&[]), Value::float(4.1), date.clone(), s(".")],
        )
        .unwrap();
    assert_eq!(loc, default_location());
    let loc = ext.call(
        "mlr_init",
        &[
            zx(&["-local", "/data/reg"]),
            Value::float(4.1),
            date.clone(),
            s("."),
        ],
    );
    assert_eq!(loc.unwrap(), dict(vec![("local", s("/data/reg"))]));
    let e = ext.call(
        "mlr_init",
        &[
            zx(&["-aws", "s3://a", "-gcp", "gs://b"]),
            Value::float(4.1),
            date.clone(),
            s("."),
        ],
    );
    assert!(e.unwrap_err().contains("at most one cloud vendor"));
    let e = ext.call(
        "mlr_init",
        &[
            zx(&["-aws", "gs://wrong"]),
            Value::float(4.1),
            date.clone(),
            s("."),
        ],
    );
    assert!(e.unwrap_err().starts_with("-aws: expected"));
    ext.call("mlr_init", &[zx(&[]), Value::float(4.1), date, s(".")])
        .unwrap();
}

#[test]
fn errors_reach_q_intact_after_the_call_returns() {
    let r = Reg::new("errtext");
    let e = r.err(
        "mlr_get_model",
        &[r.folder(), null(), s("m"), null(), null()],
    );
    assert!(e.is_ascii() && e.contains(&r.scratch.path()), "{e}");
}
