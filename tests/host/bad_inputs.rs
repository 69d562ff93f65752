//! Every export, called through the host with a wrong type in each argument in turn, with
//! no registry, and with no such model: each gets a q error that names what was wrong.

use crate::*;
use mlregistry::qdata::Value;

/// Argument names of each export after the location; `*` takes any q value, `-` is filled
/// in by the q wrapper (not a user argument).
const SPECS: &[(&str, &[&str])] = &[
    ("mlr_new_registry", &["folderPath", "config"]),
    (
        "mlr_new_experiment",
        &["folderPath", "experimentName", "config"],
    ),
    (
        "mlr_set_model",
        &[
            "folderPath",
            "experimentName",
            "model",
            "modelName",
            "modelType",
            "config",
            "-",
        ],
    ),
    (
        "mlr_set_parameters",
        &[
            "folderPath",
            "experimentName",
            "modelName",
            "version",
            "paramName",
            "*",
        ],
    ),
    (
        "mlr_log_metric",
        &[
            "folderPath",
            "experimentName",
            "modelName",
            "version",
            "metricName",
            "*",
        ],
    ),
    (
        "mlr_get_model",
        &[
            "folderPath",
            "experimentName",
            "modelName",
            "version",
            "key",
        ],
    ),
    (
        "mlr_get_predict",
        &["folderPath", "experimentName", "modelName", "version"],
    ),
    (
        "mlr_get_update",
        &[
            "folderPath",
            "experimentName",
            "modelName",
            "version",
            "supervised",
        ],
    ),
    (
        "mlr_get_version",
        &["folderPath", "experimentName", "modelName", "version"],
    ),
    (
        "mlr_get_metric",
        &["folderPath", "experimentName", "modelName", "version", "*"],
    ),
    (
        "mlr_get_parameters",
        &[
            "folderPath",
            "experimentName",
            "modelName",
            "version",
            "paramName",
        ],
    ),
    ("mlr_get_model_store", &["folderPath", "config"]),
    ("mlr_query_model_store", &["folderPath", "config"]),
    ("mlr_delete_registry", &["folderPath", "config"]),
    ("mlr_delete_experiment", &["folderPath", "experimentName"]),
    (
        "mlr_delete_model",
        &["folderPath", "experimentName", "modelName", "version"],
    ),
    (
        "mlr_delete_parameters",
        &[
            "folderPath",
            "experimentName",
            "modelName",
            "version",
            "paramFile",
        ],
    ),
    (
        "mlr_delete_metrics",
        &["folderPath", "experimentName", "modelName", "version"],
    ),
    (
        "mlr_delete_metric",
        &[
            "folderPath",
            "experimentName",
            "modelName",
            "version",
            "metricName",
        ],
    ),
    (
        "mlr_delete_code",
        &[
            "folderPath",
            "experimentName",
            "modelName",
            "version",
            "codeFile",
        ],
    ),
    (
        "mlr_update_config",
        &[
            "folderPath",
            "experimentName",
            "modelName",
            "version",
            "config",
            "-",
        ],
    ),
    (
        "mlr_update_requirements",
        &[
            "folderPath",
            "experimentName",
            "modelName",
            "version",
            "requirements",
            "-",
        ],
    ),
    (
        "mlr_update_latency",
        &[
            "folderPath",
            "experimentName",
            "modelName",
            "version",
            "*",
            "-",
        ],
    ),
    (
        "mlr_update_nulls",
        &["folderPath", "experimentName", "modelName", "version", "*"],
    ),
    (
        "mlr_update_infinity",
        &["folderPath", "experimentName", "modelName", "version", "*"],
    ),
    (
        "mlr_update_csi",
        &["folderPath", "experimentName", "modelName", "version", "*"],
    ),
    (
        "mlr_update_psi",
        &[
            "folderPath",
            "experimentName",
            "modelName",
            "version",
            "*",
            "-",
        ],
    ),
    (
        "mlr_update_type",
        &[
            "folderPath",
            "experimentName",
            "modelName",
            "version",
            "format",
        ],
    ),
    (
        "mlr_update_supervise",
        &["folderPath", "experimentName", "modelName", "version", "*"],
    ),
    (
        "mlr_update_schema",
        &["folderPath", "experimentName", "modelName", "version", "*"],
    ),
];

/// A good value for an argument of `export` against a registry holding model "m" 1.0 (with
/// predict and update) with a parameter file "p", a metric `acc` and a code file "c.q".
fn good(r: &Reg, export: &str, arg: &str) -> Value {
    match arg {
        "folderPath" => r.folder(),
        "experimentName" if export.ends_with("experiment") => s("exp"),
        "experimentName" | "config" | "key" | "-" | "*" => null(),
        "model" => qmodel("m"),
        "modelName" => s("m"),
        "modelType" => s("q"),
        "version" => ver(1, 0),
        "paramName" | "paramFile" => s("p"),
        "metricName" => sym("acc"),
        "codeFile" => s("c.q"),
        "requirements" => Value::List(vec![s("numpy")]),
        "format" => s("q"),
        "supervised" => Value::boolean(true),
        other => panic!("no good value for {other}"),
    }
}

fn fixture(tag: &str) -> Reg {
    let r = Reg::new(tag);
    r.new_registry();
    let code = r.scratch.join("c.q");
    std::fs::write(&code, "a:1\n").unwrap();
    let model = dict(vec![("predict", sym("p")), ("update", sym("u"))]);
    let cfg = dict(vec![("code", sym(code.to_str().unwrap()))]);
    r.set_model(null(), model, "m", cfg).unwrap();
    r.ok(
        "mlr_set_parameters",
        &[r.folder(), null(), s("m"), null(), s("p"), Value::long(1)],
    );
    r.log_metric("m", "acc", Value::float(0.5));
    r
}

fn args(r: &Reg, export: &str, names: &[&str]) -> Vec<Value> {
    names.iter().map(|a| good(r, export, a)).collect()
}

#[test]
fn the_specs_cover_every_export_in_the_manifest() {
    let ext = k::ext();
    let t = ext.call("mlr_manifest", &[null()]).unwrap();
    for e in column(&t, "export").items() {
        let e = e.as_symbol().unwrap().to_string();
        assert!(
            SPECS.iter().any(|(n, _)| *n == e),
            "no bad-input spec for {e}"
        );
    }
}

#[test]
fn a_wrong_type_in_any_argument_is_an_error_naming_it() {
    let wrong = Value::floats(&[1.5, 2.5]);
    for (export, names) in SPECS {
        for (i, arg) in names.iter().enumerate() {
            if ["*", "-"].contains(arg) {
                continue;
            }
            let r = fixture("wrongtype");
            let mut a = args(&r, export, names);
            a[i] = wrong.clone();
            let e = r.err(export, &a);
            assert!(
                e.starts_with(&format!("{arg}:")) || e.starts_with(&format!("{arg}`")),
                "{export} with a float list as {arg}: {e}"
            );
            assert!(
                e.contains("float list"),
                "{export} {arg}: the error says what was given: {e}"
            );
        }
    }
}

#[test]
fn every_export_with_good_arguments_succeeds() {
    for (export, names) in SPECS {
        let r = fixture("good");
        let mut a = args(&r, export, names);
        if *export == "mlr_new_registry" {
            a[0] = s(&format!("{}/another", r.scratch.path()));
        }
        let out = r.call(export, &a);
        assert!(out.is_ok(), "{export}: {out:?}");
    }
}

#[test]
fn calls_on_a_missing_registry_say_so() {
    for (export, names) in SPECS {
        if [
            "mlr_new_registry",
            "mlr_new_experiment",
            "mlr_set_model",
            "mlr_delete_registry",
        ]
        .contains(export)
        {
            continue;
        }
        let r = Reg::new("missing");
        let a = args(&r, export, names);
        let e = r.err(export, &a);
        assert!(e.contains("no registry at"), "{export}: {e}");
        assert!(
            !r.scratch.join("KX_ML_REGISTRY").exists(),
            "{export} created a registry"
        );
    }
}

#[test]
fn lookups_of_a_missing_model_or_version_say_so() {
    for (export, names) in SPECS {
        if !names.contains(&"version") {
            continue;
        }
        let r = fixture("nomodel");
        for (arg, value) in [("modelName", s("nosuch")), ("version", ver(9, 9))] {
            let mut a = args(&r, export, names);
            let i = names.iter().position(|n| *n == arg).unwrap();
            a[i] = value;
            let e = r.err(export, &a);
            assert!(
                e.contains("no model in the registry matches"),
                "{export} {arg}: {e}"
            );
        }
    }
}

#[test]
fn names_that_would_leave_their_folder_are_refused_everywhere() {
    let cases: &[(&str, &str)] = &[
        ("mlr_new_experiment", "experimentName"),
        ("mlr_set_parameters", "paramName"),
        ("mlr_get_parameters", "paramName"),
        ("mlr_delete_parameters", "paramFile"),
        ("mlr_delete_code", "codeFile"),
        ("mlr_delete_experiment", "experimentName"),
    ];
    for (export, arg) in cases {
        let names = SPECS.iter().find(|(n, _)| n == export).unwrap().1;
        let r = fixture("badname");
        for bad in ["../x", "/abs", "a/../../b"] {
            let mut a = args(&r, export, names);
            let i = names.iter().position(|n| n == arg).unwrap();
            a[i] = s(bad);
            let e = r.err(export, &a);
            assert!(
                e.starts_with(&format!("{arg}:")),
                "{export} {arg}={bad}: {e}"
            );
        }
    }
}
