//! The main job: the walkthrough of the README, run through the extension on real files.
//! `make demo` runs this test with its output shown.

use crate::*;
use mlregistry::qdata::{Value, json};

fn show(title: &str, v: &Value) {
    println!("\n== {title}");
    match v {
        Value::Table { columns, data } => {
            println!("{}", columns.join(" | "));
            let n = data.first().map(Value::count).unwrap_or(0);
            for i in 0..n {
                let cells: Vec<String> = data
                    .iter()
                    .map(|c| {
                        let item = c.item(i).unwrap();
                        match &item {
                            Value::Atom { ty: 2, .. } => {
                                json::to_json(&item).trim_matches('"')[..8].to_string() + "…"
                            }
                            _ => json::to_json(&item),
                        }
                    })
                    .collect();
                println!("{}", cells.join(" | "));
            }
        }
        other => println!("{}", json::to_json(other)),
    }
}

fn model_summary(r: &Value) -> String {
    let info = r.get("models").unwrap().get("modelInfo").unwrap();
    let mi = info
        .get("registry")
        .unwrap()
        .get("modelInformation")
        .unwrap();
    let exp = info
        .get("registry")
        .unwrap()
        .get("experimentInformation")
        .unwrap();
    format!(
        "{} {} in {}",
        json::to_json(&mi.get("modelName").unwrap()),
        json::to_json(&mi.get("version").unwrap()),
        json::to_json(&exp.get("experimentName").unwrap())
    )
}

#[test]
fn walkthrough() {
    let r = Reg::new("walkthrough");
    println!("registry folder: {}", r.scratch.path());
    run(&r);
    println!(
        "\n== registry deleted: {}",
        !r.scratch.join("KX_ML_REGISTRY").exists()
    );
    assert!(!r.scratch.join("KX_ML_REGISTRY").exists());
}

/// Shows the modelStore; gives its rows as the transcript records them (no times, no ids).
fn show_rows(title: &str, r: &Reg) -> Vec<(String, String, (i64, i64))> {
    let t = r.store();
    show(title, &t);
    rows_of(&t)
}

/// The walkthrough's steps on the registry at `r.folder()` (a folder or a cloud location).
/// Gives a transcript of every result that depends neither on time nor on where the
/// registry is (modelStore rows, models found, metrics, parameters), so that storages can
/// be compared line by line.
pub fn run(r: &Reg) -> Vec<String> {
    let f = r.folder();
    let mut transcript = Vec::new();

    r.new_registry();
    for cfg in [null(), null(), null()] {
        r.set(null(), "mymodel", cfg);
    }
    r.set(
        null(),
        "mymodel",
        dict(vec![("major", Value::boolean(true))]),
    );
    r.set(
        null(),
        "mymodel",
        dict(vec![("majorVersion", Value::long(1))]),
    );
    r.set(null(), "mymodel", dict(vec![("version", ver(1, 1))]));
    let expected: Vec<(String, String, (i64, i64))> = [(1, 0), (1, 1), (1, 2), (2, 0), (1, 3)]
        .iter()
        .map(|v| ("undefined".to_string(), "mymodel".to_string(), *v))
        .collect();
    let rows = r.rows();
    assert_eq!(rows, expected);
    transcript.push(format!("after adding mymodel: {rows:?}"));

    r.ok("mlr_new_experiment", &[f.clone(), s("exp1"), null()]);
    r.set(s("exp1"), "clf", null());
    r.set(s("exp1/sub"), "clf2", null());
    let rows = show_rows("modelStore after adding models", r);
    transcript.push(format!("after adding models: {rows:?}"));

    let m10 = |extra: Value| vec![f.clone(), null(), s("mymodel"), ver(1, 0), extra];
    let log = |name: &str, v: Value| {
        let mut a = m10(sym(name));
        a.push(v);
        r.ok("mlr_log_metric", &a);
    };
    log("accuracy", Value::float(0.9));
    log("accuracy", Value::float(0.95));
    log("loss", Value::long(3));
    log("note", sym("ok"));

    let mut a = m10(s("paramFile"));
    a.push(Value::dict(vec![
        ("param1", Value::long(1)),
        ("param2", Value::long(2)),
    ]));
    r.ok("mlr_set_parameters", &a);
    let mut a = m10(s("paramList"));
    a.push(Value::List(vec![s("first param"), s("second param")]));
    r.ok("mlr_set_parameters", &a);

    let latest = r.ok(
        "mlr_get_model",
        &[f.clone(), null(), null(), null(), null()],
    );
    println!("\n== latest model: {}", model_summary(&latest));
    transcript.push(model_summary(&latest));
    assert!(model_summary(&latest).starts_with("\"clf2\" [1,0]"));
    let highest = r.ok(
        "mlr_get_model",
        &[f.clone(), null(), s("mymodel"), null(), null()],
    );
    println!("== highest mymodel: {}", model_summary(&highest));
    transcript.push(model_summary(&highest));
    assert!(model_summary(&highest).starts_with("\"mymodel\" [2,0]"));
    let exact = r.ok(
        "mlr_get_model",
        &[f.clone(), null(), s("mymodel"), ver(1, 1), null()],
    );
    println!("== mymodel 1.1: {}", model_summary(&exact));
    transcript.push(model_summary(&exact));
    assert!(model_summary(&exact).starts_with("\"mymodel\" [1,1]"));
    let in_exp = r.ok(
        "mlr_get_model",
        &[f.clone(), s("exp1"), null(), null(), null()],
    );
    println!("== latest in exp1: {}", model_summary(&in_exp));
    transcript.push(model_summary(&in_exp));
    assert!(model_summary(&in_exp).starts_with("\"clf\" [1,0]"));

    let all = r.ok("mlr_get_metric", &m10(null()));
    show("all metrics of mymodel 1.0", &all);
    transcript.push(metrics_line(&all));
    assert_eq!(column(&all, "metricName").count(), 4);
    let acc = r.ok("mlr_get_metric", &m10(sym("accuracy")));
    show("accuracy", &acc);
    transcript.push(metrics_line(&acc));
    assert_eq!(
        column(&acc, "metricValue"),
        Value::List(vec![Value::float(0.9), Value::float(0.95)])
    );
    let two = r.ok(
        "mlr_get_metric",
        &m10(Value::symbols(&["accuracy", "loss"])),
    );
    show("accuracy and loss", &two);
    transcript.push(metrics_line(&two));
    assert_eq!(column(&two, "metricName").count(), 3);

    let pf = r.ok("mlr_get_parameters", &m10(s("paramFile")));
    show("paramFile", &pf);
    transcript.push(json::to_json(&pf));
    assert_eq!(
        pf,
        Value::dict(vec![
            ("param1", Value::float(1.0)),
            ("param2", Value::float(2.0))
        ])
    );
    let pl = r.ok("mlr_get_parameters", &m10(s("paramList")));
    show("paramList", &pl);
    transcript.push(json::to_json(&pl));
    assert_eq!(pl, Value::List(vec![s("first param"), s("second param")]));

    r.ok(
        "mlr_delete_model",
        &[f.clone(), null(), s("mymodel"), ver(1, 3)],
    );
    let rows = show_rows("after deleting mymodel 1.3", r);
    assert_eq!(rows.len(), 6);
    transcript.push(format!("after deleting mymodel 1.3: {rows:?}"));
    r.ok("mlr_delete_experiment", &[f.clone(), s("exp1")]);
    let rows = show_rows("after deleting experiment exp1", r);
    assert_eq!(rows.len(), 4);
    transcript.push(format!("after deleting experiment exp1: {rows:?}"));
    r.ok(
        "mlr_delete_model",
        &[f.clone(), null(), s("mymodel"), null()],
    );
    let rows = show_rows("after deleting mymodel", r);
    assert_eq!(rows.len(), 0);
    transcript.push(format!("after deleting mymodel: {rows:?}"));
    r.ok("mlr_delete_registry", &[f.clone(), null()]);
    let gone = r.err("mlr_get_model_store", &[f.clone(), null()]);
    assert!(gone.contains("no registry"), "{gone}");
    transcript.push("registry deleted".to_string());
    transcript
}

/// A metric table without its timestamps.
fn metrics_line(t: &Value) -> String {
    format!(
        "{} {}",
        json::to_json(&column(t, "metricName")),
        json::to_json(&column(t, "metricValue"))
    )
}
