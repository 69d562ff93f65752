//! `get.predict` and `get.update`: the model fetched as `get.model` fetches it, checked for
//! what the function asked for, plus what the q wrapper needs to build that function: the
//! model type recorded in modelInfo.json (`model.type`, which `update.type` may change) and
//! the `axis` (`""`, never given, counts as 0b for both, "Our decisions" 17).

use super::{args, models, reshape};
use crate::qdata::Value;
use crate::registry::error::{Error, Result};

/// `get.predict[folderPath;experimentName;modelName;version]`.
pub fn get_predict(a: &[Value]) -> Result<Value> {
    wrapped(a, "get.predict", false)
}

/// `get.update[folderPath;experimentName;modelName;version;supervised]`.
pub fn get_update(a: &[Value]) -> Result<Value> {
    args::boolean("supervised", &a[5])?;
    wrapped(a, "get.update", true)
}

/// `keyed`models`code` (as `get.model` gives them) plus `type` (a symbol) and `axis`.
fn wrapped(a: &[Value], function: &str, update: bool) -> Result<Value> {
    let mut lookup = a[..5].to_vec();
    lookup.push(Value::null());
    let got = models::get_model(&lookup)?;
    let entry = got.get("models").unwrap_or_else(Value::null);
    if got.get("keyed").and_then(|k| k.as_bool()) == Some(true) {
        let keys = entry.dict_entries().unwrap_or_default();
        let keys: Vec<&str> = keys.iter().map(|(k, _)| k.as_str()).collect();
        return Err(Error::Conflict(format!(
            "{function}: this is a keyed model (keys `{}); fetch one key with \
             .ml.registry.get.keyedmodel and use its model",
            keys.join("`")
        )));
    }
    let path = entry
        .get("modelPath")
        .and_then(|p| p.as_str())
        .unwrap_or_default();
    let info = entry.get("modelInfo").unwrap_or_else(Value::null);
    let corrupt = |why: &str| Error::Corrupt {
        path: path.clone(),
        why: format!("has a modelInfo.json whose {why}"),
    };
    let model_info = info
        .get("model")
        .ok_or_else(|| corrupt("model entry is missing"))?;
    let mtype = model_info
        .get("type")
        .and_then(|t| t.as_text())
        .ok_or_else(|| corrupt("model.type is not a string"))?;
    let axis = match model_info.get("axis") {
        None => false,
        Some(v) => reshape::axis_value(&v).ok_or_else(|| corrupt("model.axis is not a boolean"))?,
    };
    if mtype == "graph" {
        return Err(Error::Conflict(format!(
            "{function}: a {} function is not available for graph models",
            if update { "update" } else { "prediction" }
        )));
    }
    if update {
        check_updatable(&entry, &mtype)?;
    }

    let mut out = got.dict_entries().unwrap_or_default();
    out.push(("type".to_string(), Value::symbol(&mtype)));
    out.push(("axis".to_string(), Value::boolean(axis)));
    Ok(Value::dict_general(out))
}

/// What `get.update` can wrap: a q dictionary with an `update` key, or an sklearn model
/// (whose `partial_fit` the q side checks through the Python bridge).
fn check_updatable(entry: &Value, mtype: &str) -> Result<()> {
    let stored = entry
        .get("modelType")
        .and_then(|t| t.as_str())
        .unwrap_or_default();
    let model = entry.get("model").unwrap_or_else(Value::null);
    match &model {
        Value::Dict { .. } if model.get("update").is_some() => Ok(()),
        Value::Dict { .. } => Err(Error::Conflict(
            "get.update: the q model dictionary has no update key (store the model as a \
             dictionary with predict and update functions)"
                .into(),
        )),
        // Not decoded here: a Python model file, or a q file compressed by q.
        v if v.is_null() && (mtype == "sklearn" || stored == "q") => Ok(()),
        v if v.is_null() => Err(Error::Conflict(format!(
            "get.update: update is not available for {mtype} models (only for sklearn \
             models with partial_fit and q dictionaries with an update key)"
        ))),
        _ => Err(Error::Conflict(
            "get.update: update is not available for a q function model (only for q \
             dictionaries with an update key and sklearn models with partial_fit)"
                .into(),
        )),
    }
}
