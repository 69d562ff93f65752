//! The acceptance cases of the original's test file (reference §15) that concern the local
//! API, replayed in order on shared state as the original does. q lambdas cannot be built by
//! the host: a dictionary with `predict` stands in for each. Python, monitoring and predict
//! cases live with those features.

use crate::*;
use mlregistry::qdata::{Value, file, ty};

fn names_in(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn info_of(m: &Value) -> (Value, Value) {
    let mi = m.get("models").unwrap().get("modelInfo").unwrap();
    let inner = mi.get("registry").unwrap().get("modelInformation").unwrap();
    (
        inner.get("modelName").unwrap(),
        inner.get("version").unwrap(),
    )
}

#[test]
fn reference_cases_in_order() {
    let r = Reg::new("reference");
    let reg_dir = r.scratch.join("RegistryTests");
    std::fs::create_dir_all(&reg_dir).unwrap();
    let rs = s(reg_dir.to_str().unwrap());
    let rd = dict(vec![("local", rs.clone())]);
    let root = reg_dir.join("KX_ML_REGISTRY");
    let call = |name: &str, a: &[Value]| r.ok(name, a);
    let set = |exp: Value, model: Value, name: &str, cfg: Value| {
        let out = call(
            "mlr_set_model",
            &[rs.clone(), exp, model, s(name), s("q"), cfg, null()],
        );
        out.get("result").unwrap()
    };

    // 2. new.registry at the dictionary location
    call("mlr_new_registry", &[rd.clone(), null()]);
    assert_eq!(names_in(&reg_dir), vec!["KX_ML_REGISTRY"]);
    // 3, 4. the modelStore is a table with the original's columns
    let store = call("mlr_get_model_store", &[rd.clone(), null()])
        .get("modelStore")
        .unwrap();
    assert_eq!(store.q_type(), ty::TABLE);
    let Value::Table { columns, .. } = &store else {
        panic!()
    };
    let expected =
        "registrationTime experimentName modelName uniqueID modelType version description";
    assert_eq!(columns.join(" "), expected);
    // 5, 6. new.experiment makes a folder holding only .hidden
    call(
        "mlr_new_experiment",
        &[rs.clone(), s("ExperimentTest"), null()],
    );
    assert_eq!(
        names_in(&root.join("namedExperiments/ExperimentTest")),
        vec![".hidden"]
    );
    // 7, 8. six models: description; none; none; major; none; majorVersion 1
    let cfgs = [
        dict(vec![("description", s("basic model"))]),
        null(),
        null(),
        dict(vec![("major", Value::boolean(true))]),
        null(),
        dict(vec![("majorVersion", Value::long(1))]),
    ];
    for (i, cfg) in cfgs.into_iter().enumerate() {
        let g = set(null(), qmodel(&format!("basic{i}")), "basic-model", cfg);
        assert_eq!(g.q_type(), -ty::GUID);
    }
    let versions: Vec<(i64, i64)> = r_rows(&rs, &r).into_iter().map(|x| x.2).collect();
    assert_eq!(
        versions,
        vec![(1, 0), (1, 1), (1, 2), (2, 0), (2, 1), (1, 3)]
    );
    // 12. two q models in "cluster" with axis 1b
    for _ in 0..2 {
        set(
            s("cluster"),
            qmodel("ap"),
            "qAPmodel",
            dict(vec![("axis", Value::boolean(true))]),
        );
    }
    let cluster: Vec<(i64, i64)> = r_rows(&rs, &r)
        .into_iter()
        .filter(|x| x.0 == "cluster")
        .map(|x| x.2)
        .collect();
    assert_eq!(cluster, vec![(1, 0), (1, 1)]);
    // 13. a sub-experiment
    set(s("exp/subexp"), qmodel("sub"), "subModel", null());
    assert!(
        root.join("namedExperiments/exp/subexp/subModel/1.0/model/mdl")
            .is_file()
    );
    // 14. get.model at 1 1 gives the second model
    let m = call(
        "mlr_get_model",
        &[rs.clone(), null(), s("basic-model"), ver(1, 1), null()],
    );
    assert_eq!(
        m.get("models").unwrap().get("model"),
        Some(qmodel("basic1"))
    );
    // 15. name and version (as floats) from modelInfo
    let m = call(
        "mlr_get_model",
        &[rs.clone(), s("cluster"), s("qAPmodel"), ver(1, 0), null()],
    );
    assert_eq!(info_of(&m), (s("qAPmodel"), Value::floats(&[1.0, 0.0])));
    // 20. deleting experiments that never existed is fine; one name in two experiments
    for e in ["experiment1", "experiment2"] {
        call("mlr_delete_experiment", &[rs.clone(), s(e)]);
    }
    for e in ["experiment1", "experiment2"] {
        set(s(e), qmodel(e), "qmodel", null());
    }
    let both: Vec<String> = r_rows(&rs, &r)
        .into_iter()
        .filter(|x| x.1 == "qmodel")
        .map(|x| x.0)
        .collect();
    assert_eq!(both, vec!["experiment1", "experiment2"]);
    // 21. each found through its experiment
    for e in ["experiment1", "experiment2"] {
        let m = call(
            "mlr_get_model",
            &[rs.clone(), s(e), s("qmodel"), null(), null()],
        );
        assert_eq!(info_of(&m).0, s("qmodel"));
    }
    // 24. a q model from a binary file (hsym) becomes the latest
    let f = r.scratch.join("qmodel.bin");
    std::fs::write(&f, file::write(&qmodel("from-file"))).unwrap();
    set(null(), Value::hsym(f.to_str().unwrap()), "qmdl", null());
    let m = call(
        "mlr_get_model",
        &[rs.clone(), null(), null(), null(), null()],
    );
    assert_eq!(info_of(&m), (s("qmdl"), Value::floats(&[1.0, 0.0])));
    // 37, 38. requirements from a file path (symbol) and from a list of strings
    let req = r.scratch.join("requirements.txt");
    std::fs::write(&req, "numpy\npandas\nscikit-learn\n").unwrap();
    set(
        null(),
        qmodel("req"),
        "requireModel",
        dict(vec![("requirements", sym(req.to_str().unwrap()))]),
    );
    let list = Value::List(vec![s("numpy"), s("pandas"), s("scikit-learn")]);
    set(
        null(),
        qmodel("req"),
        "requireModel",
        dict(vec![("requirements", list)]),
    );
    for v in ["1.0", "1.1"] {
        let p = root
            .join("unnamedExperiments/requireModel")
            .join(v)
            .join("requirements.txt");
        assert_eq!(
            std::fs::read_to_string(p).unwrap(),
            "numpy\npandas\nscikit-learn\n"
        );
    }
    // 39, 40. parameters under a string and a symbol name; a list of strings
    let p = Value::dict(vec![
        ("param1", Value::long(1)),
        ("param2", Value::float(2.0)),
    ]);
    let pf = Value::dict(vec![
        ("param1", Value::float(1.0)),
        ("param2", Value::float(2.0)),
    ]);
    let at = |v: Value, last: Value| vec![rs.clone(), null(), s("basic-model"), v, last];
    let mut a = at(null(), s("paramFile"));
    a.push(p.clone());
    call("mlr_set_parameters", &a);
    let mut a = at(null(), sym("paramFile2"));
    a.push(p);
    call("mlr_set_parameters", &a);
    assert_eq!(call("mlr_get_parameters", &at(null(), s("paramFile"))), pf);
    assert_eq!(call("mlr_get_parameters", &at(null(), s("paramFile2"))), pf);
    let strings = Value::List(vec![s("value1"), s("value2")]);
    let mut a = at(null(), s("paramList"));
    a.push(strings.clone());
    call("mlr_set_parameters", &a);
    assert_eq!(
        call("mlr_get_parameters", &at(null(), s("paramList"))),
        strings
    );
    // 41. a long paramName
    let mut a = at(null(), Value::long(1));
    a.push(strings);
    assert!(r.err("mlr_set_parameters", &a).starts_with("paramName:"));
    // 42. delete.code of a file that does not exist
    let e = r.err("mlr_delete_code", &at(null(), s("torch.p")));
    assert!(e.contains("no code file named \"torch.p\""), "{e}");
    // 43. delete.code of an existing file at 1 0, then with version ::
    let code = r.scratch.join("model.q");
    std::fs::write(&code, "x:1\n").unwrap();
    let with_code = dict(vec![("code", sym(code.to_str().unwrap()))]);
    set(null(), qmodel("code"), "codeModel", with_code.clone());
    set(null(), qmodel("code"), "codeModel", with_code);
    let cm = |v: Value| vec![rs.clone(), null(), s("codeModel"), v, s("model.q")];
    call("mlr_delete_code", &cm(ver(1, 0)));
    assert!(
        !root
            .join("unnamedExperiments/codeModel/1.0/code/model.q")
            .exists()
    );
    call("mlr_delete_code", &cm(null()));
    assert!(
        !root
            .join("unnamedExperiments/codeModel/1.1/code/model.q")
            .exists()
    );
    // 44. delete.metrics at 2 1 (the highest) empties its metrics folder
    let log = |v: Value| {
        call(
            "mlr_log_metric",
            &[
                rs.clone(),
                null(),
                s("basic-model"),
                v,
                sym("m"),
                Value::float(1.0),
            ],
        );
    };
    log(ver(2, 1));
    call("mlr_delete_metrics", &at(ver(2, 1), null())[..4]);
    let metrics = root.join("unnamedExperiments/basic-model/2.1/metrics");
    assert!(names_in(&metrics).is_empty());
    // 45. a new version (2.2), one metric, delete.metrics with version ::
    set(null(), qmodel("basic6"), "basic-model", null());
    log(null());
    call("mlr_delete_metrics", &at(null(), null())[..4]);
    assert!(names_in(&root.join("unnamedExperiments/basic-model/2.2/metrics")).is_empty());
    // 46. no metric table at 1 0
    let e = r.err("mlr_delete_metrics", &at(ver(1, 0), null())[..4]);
    assert!(e.contains("no metric table"), "{e}");
    let e = r.err("mlr_delete_metric", &at(ver(1, 0), s("m")));
    assert!(e.contains("no metric table"), "{e}");
    // 47. delete.parameters of paramFile (set when 2.1 was the highest version)
    let pfile = root.join("unnamedExperiments/basic-model/2.1/params/paramFile.json");
    assert!(pfile.is_file());
    call("mlr_delete_parameters", &at(ver(2, 1), s("paramFile")));
    assert!(!pfile.exists());
    // 48. a parameter set and deleted with version ::
    let mut a = at(null(), s("number"));
    a.push(Value::long(5));
    call("mlr_set_parameters", &a);
    call("mlr_delete_parameters", &at(null(), s("number")));
    assert!(
        !root
            .join("unnamedExperiments/basic-model/2.2/params/number.json")
            .exists()
    );
    // 49. a parameter file absent at 1 0
    let e = r.err("mlr_delete_parameters", &at(ver(1, 0), s("paramFile")));
    assert!(e.contains("no parameter file named \"paramFile\""), "{e}");
    // 50. delete.experiment removes its folder
    call("mlr_delete_experiment", &[rs.clone(), s("ExperimentTest")]);
    assert!(!root.join("namedExperiments/ExperimentTest").exists());
    // 51. delete.registry leaves the folder empty
    call("mlr_delete_registry", &[rs.clone(), null()]);
    assert!(names_in(&reg_dir).is_empty());
    // 61, 62. a removed registry is recreated by set.model; get.version of a q model
    set(null(), qmodel("v"), "q-version-model", null());
    assert!(
        root.join("unnamedExperiments/q-version-model/1.0/.version.info")
            .is_file()
    );
    let v = call("mlr_get_version", &[rs.clone(), null(), null(), null()]);
    let keys: Vec<String> = v
        .dict_entries()
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(keys, vec!["q_version", "model_type"]);
    assert_eq!(v.get("model_type"), Some(s("q")));
    // 65, 66, 67. keyed models
    call("mlr_delete_registry", &[rs.clone(), null()]);
    let keyed = dict(vec![("EURUSD", qmodel("e")), ("GBPUSD", qmodel("g"))]);
    set(null(), keyed, "forex", null());
    let m = call(
        "mlr_get_model",
        &[rs.clone(), null(), s("forex"), null(), null()],
    );
    let keys: Vec<String> = m
        .get("models")
        .unwrap()
        .dict_entries()
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(keys, vec!["EURUSD", "GBPUSD"]);
    let one = call(
        "mlr_get_model",
        &[rs.clone(), null(), s("forex"), null(), sym("EURUSD")],
    );
    let entry = one.get("models").unwrap();
    assert!(entry.get("modelInfo").is_some() && entry.get("model").is_some());
    let first = dict(vec![("EURGBP", qmodel("first"))]);
    set(
        null(),
        first,
        "forexTri",
        dict(vec![("version", ver(1, 0))]),
    );
    let second = dict(vec![("EURGBP", qmodel("second"))]);
    set(
        null(),
        second,
        "forexTri",
        dict(vec![("version", ver(1, 0))]),
    );
    let m = call(
        "mlr_get_model",
        &[rs.clone(), null(), s("forexTri"), null(), sym("EURGBP")],
    );
    assert_eq!(m.get("models").unwrap().get("model"), Some(qmodel("first")));
}

fn r_rows(rs: &Value, r: &Reg) -> Vec<(String, String, (i64, i64))> {
    let out = r.ok("mlr_get_model_store", &[rs.clone(), null()]);
    rows_of(&out.get("result").unwrap())
}
