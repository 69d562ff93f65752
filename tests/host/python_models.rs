//! Models from files of every type, requirements and `.version.info` from the Python
//! bridge's facts, and what `get.predict` / `get.update` hand to the q wrapper, through the
//! extension. The Python files are real: tests/tools/make_models.py trains scikit-learn
//! models on iris and saves them every way the original's loaders read them.

use crate::*;
use mlregistry::qdata::{Value, file, json, ty};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The Python that has scikit-learn: $MLREGISTRY_TEST_PYTHON or the test venv's.
pub fn python() -> String {
    let py = std::env::var("MLREGISTRY_TEST_PYTHON")
        .unwrap_or_else(|_| format!("{}/.tools/venv/bin/python", env!("CARGO_MANIFEST_DIR")));
    assert!(
        Path::new(&py).exists(),
        "no Python at {py}: run scripts/test-env.sh or set MLREGISTRY_TEST_PYTHON to a Python \
         with numpy, scikit-learn and joblib"
    );
    py
}

fn run_python(args: &[&str]) -> String {
    let out = Command::new(python())
        .args(args)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "python {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The folder of model files, written once per test run.
pub fn models() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        remove_stale(&base);
        let dir = base.join(format!("python-models-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let script = format!("{}/tests/tools/make_models.py", env!("CARGO_MANIFEST_DIR"));
        run_python(&[&script, dir.to_str().unwrap()]);
        dir
    })
}

/// Removes the model folders of earlier test runs whose process is gone.
fn remove_stale(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix("python-models-") else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

pub fn model(name: &str) -> String {
    models().join(name).to_string_lossy().into_owned()
}

pub fn bridge_path() -> String {
    format!("{}/q/mlregistry_bridge.py", env!("CARGO_MANIFEST_DIR"))
}

/// What `.ml.registry.i.env[modelType]` gives q, computed by the real bridge module and
/// decoded as `.j.k` decodes it.
pub fn bridge_env(model_type: &str) -> Value {
    let code = "import importlib.util as u, sys\n\
                s = u.spec_from_file_location('b', sys.argv[1])\n\
                m = u.module_from_spec(s)\n\
                s.loader.exec_module(m)\n\
                print(m.env(sys.argv[2]))";
    let text = run_python(&["-c", code, &bridge_path(), model_type]);
    json::from_json(text.trim()).unwrap()
}

/// `set.model` as the q wrapper calls it, with the bridge's facts (`::` for none).
fn set_typed(r: &Reg, model: Value, name: &str, mtype: &str, cfg: Value, env: Value) -> k::Outcome {
    let out = r.call(
        "mlr_set_model",
        &[r.folder(), null(), model, s(name), s(mtype), cfg, env],
    )?;
    Ok(out.get("result").unwrap())
}

fn version_dir(r: &Reg, name: &str, v: &str) -> PathBuf {
    r.scratch
        .join(&format!("KX_ML_REGISTRY/unnamedExperiments/{name}/{v}"))
}

fn get_model(r: &Reg, name: &str) -> Value {
    r.ok(
        "mlr_get_model",
        &[r.folder(), null(), s(name), null(), null()],
    )
}

#[test]
fn file_models_of_every_type_are_stored_under_their_names() {
    let r = Reg::new("pyfiles");
    r.new_registry();
    let cases = [
        ("python", "python.joblib", "pymdl", "mdl.pkl"),
        ("sklearn", "sklearn.joblib", "smdl", "mdl.pkl"),
        ("xgboost", "sklearn-p2.pkl", "xmdl", "mdl.pkl"),
        ("keras", "keras.h5", "kmdl", "mdl.h5"),
        ("torch", "torch-zip.pt", "ptmdl", "mdl.pt"),
    ];
    for (mtype, src, name, stored) in cases {
        let src = model(src);
        set_typed(&r, Value::hsym(&src), name, mtype, null(), null()).unwrap();
        let copy = version_dir(&r, name, "1.0").join("model").join(stored);
        assert_eq!(std::fs::read(&copy).unwrap(), std::fs::read(&src).unwrap());
        // The latest model is this one; q (or the bridge) loads it from modelPath.
        let got = r.ok(
            "mlr_get_model",
            &[r.folder(), null(), null(), null(), null()],
        );
        let entry = got.get("models").unwrap();
        let info = entry.get("modelInfo").unwrap();
        let mi = info
            .get("registry")
            .unwrap()
            .get("modelInformation")
            .unwrap();
        assert_eq!(mi.get("modelName"), Some(s(name)));
        assert_eq!(mi.get("version"), Some(Value::floats(&[1.0, 0.0])));
        assert_eq!(entry.get("model"), Some(null()));
        assert_eq!(entry.get("modelType"), Some(s(mtype)));
        let p = entry.get("modelPath").unwrap().as_str().unwrap();
        assert!(p.ends_with(&format!("{name}/1.0/model/{stored}")), "{p}");
    }
}

#[test]
fn a_pyspark_folder_is_copied_whole() {
    let r = Reg::new("pyspark");
    r.new_registry();
    let src = model("spark-pipeline");
    set_typed(&r, sym(&src), "spark", "pyspark", null(), null()).unwrap();
    let dst = version_dir(&r, "spark", "1.0").join("model/mdl.model");
    for rel in [
        "metadata/part-00000",
        "metadata/_SUCCESS",
        "stages/0_LogisticRegression_0001/metadata/part-00000",
        "stages/0_LogisticRegression_0001/data/_SUCCESS",
    ] {
        let want = std::fs::read(Path::new(&src).join(rel)).unwrap();
        assert_eq!(std::fs::read(dst.join(rel)).unwrap(), want, "{rel}");
    }
    let got = get_model(&r, "spark");
    let p = got.get("models").unwrap().get("modelPath").unwrap();
    assert!(p.as_str().unwrap().ends_with("/model/mdl.model"));
}

#[test]
fn every_joblib_compression_and_pickle_protocol_is_accepted() {
    let r = Reg::new("pickles");
    r.new_registry();
    let mut names: Vec<String> = std::fs::read_dir(models())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("sklearn"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 13, "{names:?}");
    for n in &names {
        set_typed(&r, s(&model(n)), "clf", "sklearn", null(), null())
            .unwrap_or_else(|e| panic!("{n}: {e}"));
    }
    assert_eq!(r.rows().len(), names.len());
}

#[test]
fn torch_files_of_each_layout_and_keras_hdf5_are_accepted() {
    let r = Reg::new("torchkeras");
    r.new_registry();
    for f in ["torch-zip.pt", "torchscript.pt", "torch-legacy.pt"] {
        set_typed(&r, s(&model(f)), "t", "torch", null(), null())
            .unwrap_or_else(|e| panic!("{f}: {e}"));
    }
    for f in ["keras.h5", "keras-userblock.h5"] {
        set_typed(&r, s(&model(f)), "k", "keras", null(), null())
            .unwrap_or_else(|e| panic!("{f}: {e}"));
    }
    assert_eq!(r.rows().len(), 5);
}

#[test]
fn wrong_files_are_refused_with_the_reason() {
    let r = Reg::new("badfiles");
    r.new_registry();
    let dir = r.scratch.join("src");
    std::fs::create_dir_all(dir.join("folder")).unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p.to_string_lossy().into_owned()
    };
    let empty = write("empty.pkl", b"");
    let text = write("notes.txt", b"just some notes.\n");
    let plain_zip = {
        let p = dir.join("plain.zip");
        let zipped = std::fs::read(model("torch-zip.pt")).unwrap();
        // Rename the top folder's data.pkl: still a zip, no longer torch's layout.
        let renamed: Vec<u8> = replace_all(&zipped, b"archive/data.pkl", b"archive/data.txt");
        std::fs::write(&p, renamed).unwrap();
        p.to_string_lossy().into_owned()
    };
    let q_long = write("long.bin", &file::write(&Value::long(3)));
    let no_meta = dir.join("nometa");
    std::fs::create_dir_all(no_meta.join("stages")).unwrap();
    let stage_only = dir.join("stage");
    std::fs::create_dir_all(stage_only.join("metadata")).unwrap();
    std::fs::write(
        stage_only.join("metadata/part-00000"),
        "{\"class\":\"org.apache.spark.ml.classification.LogisticRegressionModel\"}\n",
    )
    .unwrap();
    let folder = dir.join("folder").to_string_lossy().into_owned();
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "sklearn",
            dir.join("missing.pkl").to_string_lossy().into(),
            "does not exist",
        ),
        ("sklearn", empty, "is empty"),
        (
            "sklearn",
            folder.clone(),
            "is a folder (only pyspark models are folders)",
        ),
        ("sklearn", text.clone(), "is a text file"),
        ("sklearn", model("keras.h5"), "is an HDF5 file"),
        ("python", model("torch-zip.pt"), "is a zip archive"),
        ("keras", model("sklearn-p4.pkl"), "is a pickle (protocol 4)"),
        (
            "keras",
            model("sklearn-p0.pkl"),
            "is a pickle (protocol 0 or 1)",
        ),
        ("torch", plain_zip, "without torch's layout"),
        (
            "torch",
            model("sklearn-gzip.joblib"),
            "compressed with gzip",
        ),
        ("q", model("sklearn.joblib"), "0xff01"),
        ("q", q_long, "not a q model"),
        (
            "pyspark",
            model("sklearn.joblib"),
            "is a file, not a folder",
        ),
        (
            "pyspark",
            no_meta.to_string_lossy().into(),
            "has no metadata/ folder",
        ),
        (
            "pyspark",
            stage_only.to_string_lossy().into(),
            "LogisticRegressionModel",
        ),
    ];
    for (mtype, path, why) in cases {
        let e = set_typed(&r, s(&path), "bad", mtype, null(), null()).unwrap_err();
        assert!(e.starts_with("model: expected"), "{mtype} {path}: {e}");
        assert!(e.contains(why), "{mtype} {path}: {e}");
        assert!(e.contains(&path), "{mtype}: the path is named: {e}");
    }
    assert_eq!(r.rows().len(), 0);
    assert!(
        !r.scratch
            .join("KX_ML_REGISTRY/unnamedExperiments/bad")
            .exists()
    );
}

fn replace_all(hay: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = hay.to_vec();
    let mut i = 0;
    while i + from.len() <= out.len() {
        if &out[i..i + from.len()] == from {
            out[i..i + from.len()].copy_from_slice(to);
        }
        i += 1;
    }
    out
}

#[test]
fn a_compressed_q_file_is_stored_for_q_to_load() {
    let r = Reg::new("kxzipped");
    r.new_registry();
    let f = r.scratch.join("zipped.bin");
    std::fs::write(&f, b"kxzipped\x00\x00\x01\x00compressed payload").unwrap();
    set_typed(
        &r,
        Value::hsym(f.to_str().unwrap()),
        "qz",
        "q",
        null(),
        null(),
    )
    .unwrap();
    let got = get_model(&r, "qz");
    let entry = got.get("models").unwrap();
    // Not decoded in Rust: the q wrapper reads it with get from modelPath.
    assert_eq!(entry.get("model"), Some(null()));
    assert!(
        entry
            .get("modelPath")
            .unwrap()
            .as_str()
            .unwrap()
            .ends_with("/model/mdl")
    );
}

#[test]
fn a_dictionary_of_file_paths_is_a_keyed_model() {
    let r = Reg::new("keyedfiles");
    r.new_registry();
    let m = dict(vec![
        ("EURUSD", s(&model("sklearn.joblib"))),
        ("GBPUSD", sym(&model("sklearn-zlib.joblib"))),
    ]);
    set_typed(&r, m, "forex", "sklearn", null(), null()).unwrap();
    let base = version_dir(&r, "forex", "1.0");
    assert_eq!(
        std::fs::read(base.join("model/GBPUSD/mdl.pkl")).unwrap(),
        std::fs::read(model("sklearn-zlib.joblib")).unwrap()
    );
    assert!(base.join("config/EURUSD/modelInfo.json").is_file());
    let got = get_model(&r, "forex");
    assert_eq!(got.get("keyed"), Some(Value::boolean(true)));
    let p = got
        .get("models")
        .unwrap()
        .get("EURUSD")
        .unwrap()
        .get("modelPath");
    assert!(
        p.unwrap()
            .as_str()
            .unwrap()
            .ends_with("/model/EURUSD/mdl.pkl")
    );
    let bad = dict(vec![("EURUSD", s(&model("keras.h5")))]);
    let e = set_typed(&r, bad, "forex2", "sklearn", null(), null()).unwrap_err();
    assert!(e.starts_with("model`EURUSD: expected"), "{e}");
    assert!(e.contains("is an HDF5 file"), "{e}");
}

#[test]
fn python_objects_without_a_bridge_are_refused_with_what_to_do() {
    let r = Reg::new("noobject");
    r.new_registry();
    let e = set_typed(&r, Value::floats(&[1.0]), "m", "sklearn", null(), null()).unwrap_err();
    assert!(e.starts_with("model: expected a file path"), "{e}");
    assert!(e.contains("PyKX or embedPy"), "{e}");
}

#[test]
fn version_info_records_the_bridges_python() {
    let r = Reg::new("versioninfo");
    r.new_registry();
    let env = bridge_env("sklearn");
    set_typed(
        &r,
        s(&model("sklearn.joblib")),
        "skl",
        "sklearn",
        null(),
        env.clone(),
    )
    .unwrap();
    let v = r.ok("mlr_get_version", &[r.folder(), null(), s("skl"), null()]);
    let keys: Vec<String> = v
        .dict_entries()
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(
        keys,
        [
            "q_version",
            "model_type",
            "python_version",
            "python_library_version"
        ]
    );
    assert_eq!(v.get("model_type"), Some(s("sklearn")));
    assert_eq!(v.get("python_version"), env.get("python_version"));
    assert_eq!(
        v.get("python_library_version"),
        env.get("python_library_version")
    );
    let installed = run_python(&["-c", "import sklearn; print(sklearn.__version__)"]);
    assert_eq!(v.get("python_library_version"), Some(s(installed.trim())));

    // python: no library version; q: no Python fields even with a bridge loaded.
    let env_py = bridge_env("python");
    set_typed(
        &r,
        s(&model("python.joblib")),
        "pym",
        "python",
        null(),
        env_py,
    )
    .unwrap();
    let v = r.ok("mlr_get_version", &[r.folder(), null(), s("pym"), null()]);
    assert!(v.get("python_version").is_some() && v.get("python_library_version").is_none());
    set_typed(&r, qmodel("q"), "qm", "q", null(), bridge_env("q")).unwrap();
    let v = r.ok("mlr_get_version", &[r.folder(), null(), s("qm"), null()]);
    let keys: Vec<String> = v
        .dict_entries()
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(keys, ["q_version", "model_type"]);
    assert_eq!(v.get("model_type"), Some(s("q")));
    // Without a bridge the Python fields are left out.
    set_typed(
        &r,
        s(&model("sklearn.joblib")),
        "nobridge",
        "sklearn",
        null(),
        null(),
    )
    .unwrap();
    let v = r.ok(
        "mlr_get_version",
        &[r.folder(), null(), s("nobridge"), null()],
    );
    assert!(v.get("python_version").is_none());
}

#[test]
fn a_registry_removed_from_disk_is_recreated_with_version_info() {
    let r = Reg::new("recreate");
    r.new_registry();
    std::fs::remove_dir_all(r.scratch.join("KX_ML_REGISTRY")).unwrap();
    set_typed(&r, qmodel("q"), "q-version-model", "q", null(), null()).unwrap();
    assert!(
        version_dir(&r, "q-version-model", "1.0")
            .join(".version.info")
            .is_file()
    );
    let v = r.ok("mlr_get_version", &[r.folder(), null(), null(), null()]);
    assert_eq!(v.get("model_type"), Some(s("q")));
}

#[test]
fn requirements_true_writes_pip_freeze_of_the_bridges_virtualenv() {
    let r = Reg::new("freeze");
    r.new_registry();
    let cfg = || dict(vec![("requirements", Value::boolean(true))]);
    let env = bridge_env("sklearn");
    let lines: Vec<String> = match env.get("pip_freeze") {
        Some(v) => v.items().iter().map(|l| l.as_str().unwrap()).collect(),
        None => panic!(
            "the test Python is not a virtualenv: {:?}",
            env.get("prefix")
        ),
    };
    assert!(
        lines.iter().any(|l| l.starts_with("scikit-learn==")),
        "{lines:?}"
    );
    set_typed(
        &r,
        s(&model("sklearn.joblib")),
        "req",
        "sklearn",
        cfg(),
        env.clone(),
    )
    .unwrap();
    let base = version_dir(&r, "req", "1.0");
    let text = std::fs::read_to_string(base.join("requirements.txt")).unwrap();
    assert_eq!(text.lines().collect::<Vec<_>>(), lines);
    let info =
        json::from_json(&std::fs::read_to_string(base.join("config/modelInfo.json")).unwrap())
            .unwrap();
    let mi = info
        .get("registry")
        .unwrap()
        .get("modelInformation")
        .unwrap();
    assert_eq!(mi.get("requirements"), Some(Value::boolean(true)));

    // A q model with requirements 1b works too: pip freeze does not depend on the type.
    set_typed(&r, qmodel("q"), "reqq", "q", cfg(), env).unwrap();
    assert!(
        version_dir(&r, "reqq", "1.0")
            .join("requirements.txt")
            .is_file()
    );

    // Outside a virtualenv, or without a bridge: errors, nothing stored.
    let outside = dict(vec![
        ("python_version", s("3.11.7 (main)")),
        ("executable", s("/usr/bin/python3")),
        ("prefix", s("/usr")),
        ("base_prefix", s("/usr")),
    ]);
    let e = set_typed(&r, qmodel("q"), "out", "q", cfg(), outside).unwrap_err();
    assert!(e.starts_with("config`requirements:"), "{e}");
    assert!(
        e.contains("virtualenv") && e.contains("/usr/bin/python3"),
        "{e}"
    );
    let e = set_typed(&r, qmodel("q"), "out", "q", cfg(), null()).unwrap_err();
    assert!(e.contains("needs a Python bridge"), "{e}");
    assert_eq!(r.rows().len(), 2);
}

// ---------------------------------------------------------------- the input transform

fn reshape(r: &Reg, mtype: &str, axis: Value, data: Value) -> k::Outcome {
    r.ext.call("mlr_reshape", &[sym(mtype), axis, data])
}

fn reshaped(r: &Reg, mtype: &str, axis: bool, data: Value) -> (Value, String) {
    let out = reshape(r, mtype, Value::boolean(axis), data).unwrap();
    let convert = out.get("convert").unwrap().as_symbol().unwrap().to_string();
    (out.get("data").unwrap(), convert)
}

fn table(cols: Vec<(&str, Value)>) -> Value {
    Value::Table {
        columns: cols.iter().map(|(c, _)| c.to_string()).collect(),
        data: cols.into_iter().map(|(_, v)| v).collect(),
    }
}

fn list(items: Vec<Value>) -> Value {
    Value::List(items)
}

#[test]
fn reshape_passes_atoms_vectors_and_lists_unchanged() {
    let r = Reg::new("reshape1");
    let inputs = [
        Value::long(7),
        Value::floats(&[1.0, 2.5]),
        list(vec![Value::longs(&[1, 2]), Value::longs(&[3, 4])]),
        list(vec![]),
        Value::symbols(&["a", "b"]),
    ];
    for mtype in [
        "q", "python", "sklearn", "xgboost", "keras", "torch", "custom",
    ] {
        for axis in [false, true] {
            for v in &inputs {
                assert_eq!(
                    reshaped(&r, mtype, axis, v.clone()),
                    (v.clone(), String::new()),
                    "{mtype} {axis} {v:?}"
                );
            }
        }
    }
}

#[test]
fn reshape_gives_a_table_as_columns_or_as_rows_by_axis() {
    let r = Reg::new("reshape2");
    let t = table(vec![
        ("a", Value::longs(&[1, 2, 3])),
        ("b", Value::floats(&[4.0, 5.0, 6.0])),
    ]);
    let columns = list(vec![
        Value::longs(&[1, 2, 3]),
        Value::floats(&[4.0, 5.0, 6.0]),
    ]);
    let rows = list(
        (0..3)
            .map(|i| list(vec![Value::long(i + 1), Value::float(i as f64 + 4.0)]))
            .collect(),
    );
    for mtype in ["q", "python", "keras", "torch"] {
        assert_eq!(
            reshaped(&r, mtype, true, t.clone()),
            (columns.clone(), String::new())
        );
        assert_eq!(
            reshaped(&r, mtype, false, t.clone()),
            (rows.clone(), String::new())
        );
    }
    // One type: rows become simple vectors.
    let longs = table(vec![
        ("a", Value::longs(&[1, 2])),
        ("b", Value::longs(&[3, 4])),
    ]);
    let (got, _) = reshaped(&r, "q", false, longs);
    assert_eq!(
        got,
        list(vec![Value::longs(&[1, 3]), Value::longs(&[2, 4])])
    );
}

#[test]
fn reshape_gives_a_dictionary_its_values() {
    let r = Reg::new("reshape3");
    let d = dict(vec![
        ("a", Value::longs(&[1, 2])),
        ("b", Value::longs(&[3, 4])),
    ]);
    let (cols, _) = reshaped(&r, "q", true, d.clone());
    assert_eq!(
        cols,
        list(vec![Value::longs(&[1, 2]), Value::longs(&[3, 4])])
    );
    let (rows, _) = reshaped(&r, "q", false, d);
    assert_eq!(
        rows,
        list(vec![Value::longs(&[1, 3]), Value::longs(&[2, 4])])
    );
    // A dictionary of atoms: its values, which flip leaves alone.
    let atoms = Value::dict(vec![("a", Value::long(1)), ("b", Value::long(2))]);
    assert_eq!(reshaped(&r, "q", false, atoms).0, Value::longs(&[1, 2]));
    // A keyed table: its value table, not flipped.
    let keyed = Value::Dict {
        keys: Box::new(table(vec![("k", Value::symbols(&["x", "y"]))])),
        values: Box::new(table(vec![("v", Value::floats(&[1.0, 2.0]))])),
        sorted: false,
    };
    let (got, _) = reshaped(&r, "q", false, keyed);
    assert_eq!(got, table(vec![("v", Value::floats(&[1.0, 2.0]))]));
}

#[test]
fn a_matrix_a_dictionary_and_a_table_reach_a_q_model_alike() {
    // Case 22: with axis 1b a 2x10 matrix, the dictionary of its two columns and the table
    // of them all give the model the same 2x10 matrix.
    let r = Reg::new("reshape4");
    let x: Vec<f64> = (0..10).map(|i| i as f64 / 10.0).collect();
    let y: Vec<f64> = (0..10).map(|i| 1.0 - i as f64 / 20.0).collect();
    let matrix = list(vec![Value::floats(&x), Value::floats(&y)]);
    let d = dict(vec![("x", Value::floats(&x)), ("y", Value::floats(&y))]);
    let t = table(vec![("x", Value::floats(&x)), ("y", Value::floats(&y))]);
    for input in [matrix.clone(), d, t] {
        assert_eq!(
            reshaped(&r, "q", true, input),
            (matrix.clone(), String::new())
        );
    }
}

#[test]
fn sklearn_and_xgboost_tables_become_pandas_frames() {
    // Case 23 (Rust's part): a table goes to the bridge as a column dictionary for pandas;
    // the 10x2 matrix passes as it is.
    let r = Reg::new("reshape5");
    let a: Vec<f64> = (0..10).map(f64::from).collect();
    let b: Vec<f64> = (0..10).map(|i| f64::from(i) * 2.0).collect();
    let t = table(vec![("a", Value::floats(&a)), ("b", Value::floats(&b))]);
    let want = Value::Dict {
        keys: Box::new(Value::symbols(&["a", "b"])),
        values: Box::new(list(vec![Value::floats(&a), Value::floats(&b)])),
        sorted: false,
    };
    let matrix = list((0..10).map(|i| Value::floats(&[a[i], b[i]])).collect());
    for mtype in ["sklearn", "xgboost"] {
        for axis in [false, true] {
            assert_eq!(
                reshaped(&r, mtype, axis, t.clone()),
                (want.clone(), "pandas".into())
            );
            assert_eq!(
                reshaped(&r, mtype, axis, matrix.clone()),
                (matrix.clone(), "".into())
            );
        }
        // Anything else passes to the model unchanged.
        let d = dict(vec![("a", Value::floats(&a))]);
        assert_eq!(reshaped(&r, mtype, false, d.clone()), (d, String::new()));
    }
}

#[test]
fn pyspark_takes_a_table_or_a_matrix_only() {
    let r = Reg::new("reshape6");
    let t = table(vec![("f", Value::floats(&[0.1, 0.2]))]);
    let (got, convert) = reshaped(&r, "pyspark", false, t);
    assert_eq!(convert, "spark");
    assert_eq!(got.get("f"), Some(Value::floats(&[0.1, 0.2])));
    // A matrix's columns are named 0, 1, ...
    let m = list(vec![
        Value::floats(&[1.0, 2.0]),
        Value::floats(&[3.0, 4.0]),
        Value::floats(&[5.0, 6.0]),
    ]);
    let (got, convert) = reshaped(&r, "pyspark", true, m);
    assert_eq!(convert, "spark");
    let want = Value::Dict {
        keys: Box::new(Value::symbols(&["0", "1"])),
        values: Box::new(list(vec![
            Value::floats(&[1.0, 3.0, 5.0]),
            Value::floats(&[2.0, 4.0, 6.0]),
        ])),
        sorted: false,
    };
    assert_eq!(got, want);
    for bad in [
        Value::floats(&[1.0]),
        Value::long(1),
        dict(vec![("a", Value::long(1))]),
    ] {
        let e = reshape(&r, "pyspark", Value::boolean(false), bad).unwrap_err();
        assert!(e.starts_with("data: expected a table or a matrix"), "{e}");
    }
}

#[test]
fn reshape_names_what_it_cannot_take() {
    let r = Reg::new("reshape7");
    let e = reshape(&r, "q", Value::boolean(false), null()).unwrap_err();
    assert!(
        e.starts_with("data: expected an atom, a list, a table or a dictionary"),
        "{e}"
    );
    assert!(e.contains("::"), "{e}");
    let ragged = dict(vec![
        ("a", Value::longs(&[1, 2])),
        ("b", Value::longs(&[3])),
    ]);
    let e = reshape(&r, "q", Value::boolean(false), ragged.clone()).unwrap_err();
    assert!(e.starts_with("data: expected columns of one length"), "{e}");
    // With axis 1b nothing is flipped, so ragged columns pass.
    assert!(reshape(&r, "q", Value::boolean(true), ragged).is_ok());
    let e = reshape(&r, "q", Value::long(1), Value::long(1)).unwrap_err();
    assert!(e.starts_with("axis:"), "{e}");
    let e = reshape(&r, "q", s(""), Value::long(1)).unwrap();
    assert_eq!(e.get("data"), Some(Value::long(1)));
    let e = reshaped(&r, "q", false, list(vec![])).0;
    assert_eq!(e, list(vec![]));
    let e = r
        .ext
        .call(
            "mlr_reshape",
            &[Value::long(1), Value::boolean(true), null()],
        )
        .unwrap_err();
    assert!(e.starts_with("modelType:"), "{e}");
}

// ---------------------------------------------------------------- get.predict, get.update

fn predict(r: &Reg, name: &str) -> k::Outcome {
    r.call("mlr_get_predict", &[r.folder(), null(), s(name), null()])
}

fn update(r: &Reg, name: &str, supervised: Value) -> k::Outcome {
    r.call(
        "mlr_get_update",
        &[r.folder(), null(), s(name), null(), supervised],
    )
}

fn with_update(tag: &str) -> Value {
    dict(vec![("predict", sym(tag)), ("update", sym("upd"))])
}

#[test]
fn get_predict_gives_the_model_its_type_and_axis() {
    let r = Reg::new("getpredict");
    r.new_registry();
    r.set(null(), "ap", dict(vec![("axis", Value::boolean(true))]));
    r.set(null(), "noaxis", null());
    let got = predict(&r, "ap").unwrap();
    assert_eq!(got.get("type"), Some(sym("q")));
    assert_eq!(got.get("axis"), Some(Value::boolean(true)));
    assert_eq!(got.get("keyed"), Some(Value::boolean(false)));
    assert_eq!(got.get("models").unwrap().get("model"), Some(qmodel("ap")));
    assert!(got.get("code").is_some());
    // axis never given ("" in modelInfo.json) counts as 0b.
    let got = predict(&r, "noaxis").unwrap();
    assert_eq!(got.get("axis"), Some(Value::boolean(false)));

    set_typed(
        &r,
        s(&model("sklearn.joblib")),
        "skl",
        "sklearn",
        null(),
        null(),
    )
    .unwrap();
    let got = predict(&r, "skl").unwrap();
    assert_eq!(got.get("type"), Some(sym("sklearn")));
    assert_eq!(got.get("models").unwrap().get("model"), Some(null()));
}

#[test]
fn get_predict_refuses_keyed_and_graph_models() {
    let r = Reg::new("predictbad");
    r.new_registry();
    let m = dict(vec![("EURUSD", qmodel("a")), ("GBPUSD", qmodel("b"))]);
    r.set_model(null(), m, "forex", null()).unwrap();
    let e = predict(&r, "forex").unwrap_err();
    assert!(e.contains("keyed model (keys `EURUSD`GBPUSD)"), "{e}");
    assert!(e.contains("get.keyedmodel"), "{e}");
    // update.type may record "graph": then neither function is available.
    r.set(null(), "g", null());
    let info = version_dir(&r, "g", "1.0").join("config/modelInfo.json");
    let text = std::fs::read_to_string(&info).unwrap();
    std::fs::write(&info, text.replace("\"type\":\"q\"", "\"type\":\"graph\"")).unwrap();
    let e = predict(&r, "g").unwrap_err();
    assert!(e.contains("not available for graph models"), "{e}");
    let e = update(&r, "g", Value::boolean(true)).unwrap_err();
    assert!(
        e.contains("update function is not available for graph"),
        "{e}"
    );
}

#[test]
fn get_update_takes_q_dictionaries_with_update_and_sklearn() {
    let r = Reg::new("getupdate");
    r.new_registry();
    r.set_model(null(), with_update("u"), "upd", null())
        .unwrap();
    let got = update(&r, "upd", Value::boolean(true)).unwrap();
    assert_eq!(
        got.get("models").unwrap().get("model"),
        Some(with_update("u"))
    );
    // Decision 17: an axis never given is 0b here too.
    assert_eq!(got.get("axis"), Some(Value::boolean(false)));

    r.set(null(), "noupd", null());
    let e = update(&r, "noupd", Value::boolean(false)).unwrap_err();
    assert!(e.contains("has no update key"), "{e}");

    set_typed(
        &r,
        s(&model("sgd.joblib")),
        "SklearnSGD",
        "sklearn",
        null(),
        null(),
    )
    .unwrap();
    let got = update(&r, "SklearnSGD", Value::boolean(true)).unwrap();
    assert_eq!(got.get("type"), Some(sym("sklearn")));

    set_typed(&r, s(&model("keras.h5")), "kmdl", "keras", null(), null()).unwrap();
    let e = update(&r, "kmdl", Value::boolean(true)).unwrap_err();
    assert!(e.contains("not available for keras models"), "{e}");

    // A q function (here from a file: the host cannot build lambdas) has no update.
    let f = r.scratch.join("lambda.bin");
    std::fs::write(&f, file::from_payload(&lambda_payload("{x+1}"))).unwrap();
    set_typed(&r, sym(f.to_str().unwrap()), "fn", "q", null(), null()).unwrap();
    let e = update(&r, "fn", Value::boolean(true)).unwrap_err();
    assert!(e.contains("q function model"), "{e}");

    let e = update(&r, "upd", Value::long(1)).unwrap_err();
    assert!(e.starts_with("supervised:"), "{e}");
}

/// The IPC bytes of a q lambda in the root context.
fn lambda_payload(src: &str) -> Vec<u8> {
    let mut b = vec![100u8, 0, ty::CHAR as u8, 0];
    b.extend_from_slice(&(src.len() as u32).to_le_bytes());
    b.extend_from_slice(src.as_bytes());
    b
}

#[test]
fn sklearn_get_model_info_reads_back_as_the_original_does() {
    // Case 15's shape for a file-based sklearn model in an experiment.
    let r = Reg::new("skinfo");
    r.new_registry();
    r.call(
        "mlr_set_model",
        &[
            r.folder(),
            s("cluster"),
            s(&model("sklearn.joblib")),
            s("skAPmodel"),
            s("sklearn"),
            null(),
            null(),
        ],
    )
    .unwrap();
    let got = r.ok(
        "mlr_get_model",
        &[r.folder(), s("cluster"), s("skAPmodel"), ver(1, 0), null()],
    );
    let info = got.get("models").unwrap().get("modelInfo").unwrap();
    let mi = info
        .get("registry")
        .unwrap()
        .get("modelInformation")
        .unwrap();
    assert_eq!(mi.get("modelName"), Some(s("skAPmodel")));
    assert_eq!(mi.get("version"), Some(Value::floats(&[1.0, 0.0])));
}

#[test]
fn python_files_version_in_experiments_as_q_models_do() {
    // Case 9 with files: two sklearn models in "cluster", the second with major:1b.
    // Case 16: a torch model stored twice with a .p code file; 1 0 reads back as such.
    let r = Reg::new("pyversions");
    r.new_registry();
    let in_exp = |exp: &str, m: Value, name: &str, mtype: &str, cfg: Value| {
        let args = [r.folder(), s(exp), m, s(name), s(mtype), cfg, null()];
        r.call("mlr_set_model", &args).unwrap();
    };
    let sk = || s(&model("sklearn.joblib"));
    in_exp("cluster", sk(), "skAPmodel", "sklearn", null());
    let major = dict(vec![("major", Value::boolean(true))]);
    in_exp("cluster", sk(), "skAPmodel", "sklearn", major);
    let code = r.scratch.join("torch.p");
    std::fs::write(&code, "import torch\n").unwrap();
    let cfg = || dict(vec![("code", sym(code.to_str().unwrap()))]);
    for _ in 0..2 {
        in_exp(
            "torchexp",
            s(&model("torch-zip.pt")),
            "torchModel",
            "torch",
            cfg(),
        );
    }
    let rows = r.rows();
    assert_eq!(
        rows,
        vec![
            ("cluster".into(), "skAPmodel".into(), (1, 0)),
            ("cluster".into(), "skAPmodel".into(), (2, 0)),
            ("torchexp".into(), "torchModel".into(), (1, 0)),
            ("torchexp".into(), "torchModel".into(), (1, 1)),
        ]
    );
    let got = r.ok(
        "mlr_get_model",
        &[r.folder(), null(), s("torchModel"), ver(1, 0), null()],
    );
    let entry = got.get("models").unwrap();
    let mi = entry
        .get("modelInfo")
        .unwrap()
        .get("registry")
        .unwrap()
        .get("modelInformation")
        .unwrap();
    assert_eq!(mi.get("modelName"), Some(s("torchModel")));
    assert_eq!(mi.get("version"), Some(Value::floats(&[1.0, 0.0])));
    let code_files = got.get("code").unwrap().items();
    assert_eq!(code_files.len(), 1);
    assert!(
        code_files[0]
            .as_str()
            .unwrap()
            .ends_with("/1.0/code/torch.p")
    );
}
