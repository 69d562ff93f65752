//! The `update.*` calls and the monitoring part of `set.model`: their q arguments, turned
//! into statistics (`registry::monitor`) and edits of a stored version's modelInfo.json.
//!
//! Whatever needs a model call happens in q (`q/update.q`), which passes what it measured:
//! the seconds each single-row prediction took and the model's predictions on the table.
//! `set.model` and `update.config` receive them inside the config under [`MEASURED`], as a
//! dictionary `` `latency`predictions `` (per model key for keyed models); `update.latency`
//! and `update.psi` receive them as an extra argument. A failed model call arrives as a
//! dictionary `` `error!msg ``.

use super::args::{config, describe, wrong};
use super::{models, session, target};
use crate::qdata::Value;
use crate::registry::error::{Error, Result};
use crate::registry::layout::{VersionKey, version_name};
use crate::registry::lookup::Query;
use crate::registry::update::{Edit, InfoEdits, VersionUpdate, table_statistics};
use crate::registry::{Registry, Stored, info_line, monitor};

/// The config key under which the q wrappers pass their measurements of the model.
pub const MEASURED: &str = "mlr_monitor";

/// A measurement q passed: the values, or why there are none (phrased as what was
/// expected, for messages).
fn measurement(v: Option<Value>, what: &str) -> std::result::Result<Value, String> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Err(format!(
            "{what} measured by the q wrapper by calling the model; none were passed"
        ));
    };
    match v.get("error") {
        Some(e) if v.is_dict() => Err(format!(
            "a model that can be called on the data; calling it failed: {}",
            e.as_text().unwrap_or_else(|| describe(&e))
        )),
        _ => Ok(v),
    }
}

/// The value under `key` of a q dictionary, also when its values are a table: q makes a
/// list of dictionaries with the same keys into one, so `` k!(d1;d2) `` arrives that way.
fn entry(d: &Value, key: &str) -> Option<Value> {
    let Value::Dict { keys, values, .. } = d else {
        return None;
    };
    let Value::Table { columns, data } = values.as_ref() else {
        return d.get(key);
    };
    let row = keys
        .items()
        .iter()
        .position(|k| k.as_text().as_deref() == Some(key))?;
    let cells = data.iter().map(|c| c.item(row).unwrap_or_else(Value::null));
    Some(Value::dict_general(
        columns.iter().cloned().zip(cells).collect(),
    ))
}

/// One model's measurements inside the [`MEASURED`] config value: the entry for `key`
/// (keyed models), or the value itself when it holds the measurements directly.
fn measured_for(measured: Option<&Value>, key: Option<&str>) -> Option<Value> {
    let m = measured?;
    let direct = entry(m, "latency").is_some() || entry(m, "predictions").is_some();
    match key {
        Some(k) if !direct => entry(m, k),
        _ => Some(m.clone()),
    }
}

/// The statistics edits for one model's data; a note and none when `data` is no table.
fn data_edits(label: &str, data: &Value, measured: Option<Value>, bins: i64) -> Vec<Edit> {
    if !data.is_table() {
        info_line(&format!(
            "monitoring statistics need data as a table; got {} for {label}: nothing computed",
            describe(data)
        ));
        return vec![];
    }
    let latency = measurement(
        measured.as_ref().and_then(|m| entry(m, "latency")),
        "timings",
    );
    let predictions = measurement(
        measured.as_ref().and_then(|m| entry(m, "predictions")),
        "predictions",
    );
    table_statistics(
        label,
        data,
        latency.as_ref().map_err(Clone::clone),
        predictions.as_ref().map_err(Clone::clone),
        bins,
    )
}

/// Refuses values JSON cannot hold (functions and other q objects).
fn check_jsonable(arg: &str, v: &Value) -> Result<()> {
    fn ok(v: &Value) -> bool {
        match v {
            Value::Raw(_) => false,
            Value::Unary(b) => *b == 0,
            Value::List(items) => items.iter().all(ok),
            Value::Dict { keys, values, .. } => ok(keys) && ok(values),
            Value::Table { data, .. } => data.iter().all(ok),
            _ => true,
        }
    }
    if ok(v) {
        Ok(())
    } else {
        Err(wrong(
            arg,
            "metric names (a list of strings) or another value JSON can hold",
            v,
        ))
    }
}

/// The modelInfo.json edits that a config's `data` and `supervise` ask for (`set.model`
/// and `update.config`). `keys` are the keys of a keyed model, empty for a single model.
/// Everything is checked and computed here, before anything is written.
pub fn config_edits(
    model: &str,
    keys: &[String],
    cfg: &[(String, Value)],
) -> Result<(Vec<InfoEdits>, Vec<String>)> {
    let get = |k: &str| cfg.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    let bins = session::current().bins;
    let measured = get(MEASURED);
    let mut edits: Vec<InfoEdits> = Vec::new();
    let mut what = Vec::new();

    if let Some(data) = get("data") {
        if keys.is_empty() {
            let m = measured_for(measured.as_ref(), None);
            edits.push((None, data_edits(model, &data, m, bins)));
        } else {
            let tables = data
                .dict_entries()
                .filter(|_| data.is_dict())
                .ok_or_else(|| {
                    wrong(
                        "config`data",
                        "a dictionary from model key to table, since the model is keyed",
                        &data,
                    )
                })?;
            for k in keys {
                if let Some((_, t)) = tables.iter().find(|(name, _)| name == k) {
                    let m = measured_for(measured.as_ref(), Some(k));
                    let label = format!("{model} (key {k})");
                    edits.push((Some(k.clone()), data_edits(&label, t, m, bins)));
                }
            }
        }
        if edits.iter().any(|(_, e)| !e.is_empty()) {
            what.push("monitoring statistics".to_string());
        }
    }
    if let Some(s) = get("supervise") {
        check_jsonable("config`supervise", &s)?;
        let targets: Vec<Option<String>> = if keys.is_empty() {
            vec![None]
        } else {
            keys.iter().cloned().map(Some).collect()
        };
        for t in targets {
            edits.push((t, Edit::monitor("supervised", s.clone())));
        }
        what.push("supervised metrics".to_string());
    }
    Ok((edits, what))
}

/// What `set.model`'s config changes in modelInfo.json after the version is stored.
pub fn for_set_model(
    model: &str,
    keys: &[String],
    cfg: &[(String, Value)],
) -> Result<VersionUpdate> {
    let (info, what) = config_edits(model, keys, cfg)?;
    Ok(VersionUpdate {
        what,
        info,
        files: vec![],
    })
}

/// Applies `set.model`'s monitoring update to the version it stored. Should that fail, a
/// version this call created is deleted again, so a failed `set.model` leaves no version.
pub fn after_set_model(reg: &Registry, stored: &Stored, update: &VersionUpdate) -> Result<()> {
    let key = stored.row.key();
    let Err(e) = reg.update_version(&key, update) else {
        return Ok(());
    };
    if stored.created {
        let undo = Query {
            experiment: Some(key.experiment.clone()),
            model: Some(key.model.clone()),
            version: Some(key.version),
        };
        let _ = reg.delete_model(&undo);
    }
    Err(e)
}

/// The registry and version an `update.*` call means.
/// As [`target`], for the calls that change the one `config/modelInfo.json` of a single
/// model (as in the original, keyed models are updated through `update.config` only).
fn single_target(a: &[Value], function: &str) -> Result<(Registry, VersionKey)> {
    let (reg, key) = target(a)?;
    if reg.info_targets(&key)?.iter().any(Option::is_some) {
        return Err(Error::arg(
            "modelName",
            format!(
                "a model with one config/modelInfo.json; {} {} is a keyed model, which {function} \
                 cannot update (update.config takes data keyed by model key)",
                key.model,
                version_name(key.version)
            ),
        ));
    }
    Ok((reg, key))
}

/// The note (and no change) for data that is not a table, as the original prints one.
fn not_a_table(function: &str, data: &Value) -> Result<Value> {
    info_line(&format!(
        "{function} needs data as a table; got {}: nothing changed",
        describe(data)
    ));
    Ok(Value::null())
}

/// Sets one monitoring statistic of a single model.
fn set_statistic(reg: &Registry, key: &VersionKey, stat: &str, values: Value) -> Result<Value> {
    let update = VersionUpdate {
        what: vec![format!("monitoring {stat}")],
        info: vec![(None, Edit::monitor(stat, values))],
        files: vec![],
    };
    reg.update_version(key, &update)?;
    Ok(Value::null())
}

/// `update.nulls` / `update.infinity` / `update.csi` / `update.schema`: a statistic of the
/// table `data` (argument 6).
fn table_statistic(
    a: &[Value],
    function: &str,
    stat: &str,
    compute: &dyn Fn(&Value) -> std::result::Result<Value, String>,
) -> Result<Value> {
    let (reg, key) = single_target(a, function)?;
    let data = &a[5];
    if !data.is_table() {
        return not_a_table(function, data);
    }
    let values = compute(data).map_err(|why| Error::arg("data", why))?;
    set_statistic(&reg, &key, stat, values)
}

/// `update.nulls[folderPath;experimentName;modelName;version;data]`.
pub fn update_nulls(a: &[Value]) -> Result<Value> {
    table_statistic(a, "update.nulls", "nulls", &monitor::nulls)
}

/// `update.infinity[folderPath;experimentName;modelName;version;data]`.
pub fn update_infinity(a: &[Value]) -> Result<Value> {
    table_statistic(a, "update.infinity", "infinity", &monitor::infinity)
}

/// `update.csi[folderPath;experimentName;modelName;version;data]`.
pub fn update_csi(a: &[Value]) -> Result<Value> {
    let bins = session::current().bins;
    table_statistic(a, "update.csi", "csi", &|t| monitor::csi(t, bins))
}

/// `update.schema[folderPath;experimentName;modelName;version;data]`.
pub fn update_schema(a: &[Value]) -> Result<Value> {
    table_statistic(a, "update.schema", "schema", &|t| Ok(monitor::schema(t)))
}

/// `update.latency[folderPath;experimentName;modelName;version;model;data]`: q passes
/// `data` and the seconds each of 30 rows took (or `` `error!msg ``) in place of `model`.
pub fn update_latency(a: &[Value]) -> Result<Value> {
    let (reg, key) = single_target(a, "update.latency")?;
    if !a[5].is_table() {
        return not_a_table("update.latency", &a[5]);
    }
    let timings = measurement(Some(a[6].clone()), "timings").map_err(|w| Error::arg("model", w))?;
    let values = monitor::latency(&timings).map_err(|w| Error::arg("model", w))?;
    set_statistic(&reg, &key, "latency", values)
}

/// `update.psi[folderPath;experimentName;modelName;version;model;data]`: q passes `data`
/// and the model's razed predictions on it (or `` `error!msg ``) in place of `model`.
pub fn update_psi(a: &[Value]) -> Result<Value> {
    let (reg, key) = single_target(a, "update.psi")?;
    let data = &a[5];
    if !data.is_table() {
        return not_a_table("update.psi", data);
    }
    let preds =
        measurement(Some(a[6].clone()), "predictions").map_err(|w| Error::arg("model", w))?;
    let bins = session::current().bins;
    let values = monitor::psi(&preds, data.count(), bins).map_err(|w| Error::arg("model", w))?;
    set_statistic(&reg, &key, "psi", values)
}

/// `update.type[folderPath;experimentName;modelName;version;format]`: `model.type`.
pub fn update_type(a: &[Value]) -> Result<Value> {
    let format = match a[5].as_text() {
        Some(t) if !t.is_empty() => t,
        _ => {
            return Err(wrong(
                "format",
                "a model type as a string, such as \"sklearn\"",
                &a[5],
            ));
        }
    };
    let (reg, key) = single_target(a, "update.type")?;
    let update = VersionUpdate {
        what: vec!["model type".to_string()],
        info: vec![(
            None,
            vec![Edit::new(&["model", "type"], Value::string(&format))],
        )],
        files: vec![],
    };
    reg.update_version(&key, &update)?;
    Ok(Value::null())
}

/// `update.supervise[folderPath;experimentName;modelName;version;metrics]`.
pub fn update_supervise(a: &[Value]) -> Result<Value> {
    check_jsonable("metrics", &a[5])?;
    let (reg, key) = single_target(a, "update.supervise")?;
    set_statistic(&reg, &key, "supervised", a[5].clone())
}

/// `requirements.txt` for a requirements value, with errors naming `arg`; `env` is the
/// bridge's report (`::` without one), which `1b` (pip freeze) needs.
fn requirements_file(arg: &str, v: &Value, env: &Value) -> Result<Option<Vec<u8>>> {
    Ok(models::requirements(arg, v, env)?.0)
}

/// `update.requirements[folderPath;experimentName;modelName;version;requirements]`:
/// rewrites `requirements.txt` (`0b` changes nothing, as in the original).
pub fn update_requirements(a: &[Value]) -> Result<Value> {
    let file = requirements_file("requirements", &a[5], &a[6])?;
    let (reg, key) = target(a)?;
    if let Some(bytes) = file {
        let update = VersionUpdate {
            what: vec!["requirements".to_string()],
            info: vec![],
            files: vec![("requirements.txt".to_string(), bytes)],
        };
        reg.update_version(&key, &update)?;
    }
    Ok(Value::null())
}

/// `update.config[folderPath;experimentName;modelName;version;config]`: `requirements`
/// rewrites `requirements.txt`, `data` recomputes the monitoring statistics (with the
/// measurements the q wrapper took of the really loaded model) and `supervise` sets the
/// supervised metrics; other keys are ignored.
pub fn update_config(a: &[Value]) -> Result<Value> {
    let cfg = config("config", &a[5])?;
    let get = |k: &str| cfg.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    let file = match get("requirements") {
        Some(r) => requirements_file("config`requirements", &r, &a[6])?,
        None => None,
    };
    let (reg, key) = target(a)?;
    let keys: Vec<String> = reg.info_targets(&key)?.into_iter().flatten().collect();
    let (info, mut what) = config_edits(&key.model, &keys, &cfg)?;
    let mut files = vec![];
    if let Some(bytes) = file {
        files.push(("requirements.txt".to_string(), bytes));
        what.insert(0, "requirements".to_string());
    }
    reg.update_version(&key, &VersionUpdate { what, info, files })?;
    Ok(Value::null())
}
