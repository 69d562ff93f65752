//! Changes to a stored version after it was written: its `modelInfo.json` file(s) (monitoring
//! statistics, model type, supervised metrics) and other files such as `requirements.txt`.
//!
//! Each change reads the JSON as q's `.j.k` would, sets values at paths of object keys, and
//! writes the result back as one line of `.j.j`-style JSON through the storage seam, which
//! replaces each file whole. Local writers hold the registry's lock while they do so.

use super::error::{Error, Result};
use super::layout::VersionKey;
use super::monitor;
use super::{Registry, info_line};
use crate::qdata::{Value, json};

/// One change to a modelInfo.json: the value at a path of object keys (missing objects on
/// the way are created).
#[derive(Clone, Debug, PartialEq)]
pub struct Edit {
    pub path: Vec<String>,
    pub value: Value,
}

impl Edit {
    pub fn new(path: &[&str], value: Value) -> Edit {
        Edit {
            path: path.iter().map(|p| p.to_string()).collect(),
            value,
        }
    }

    /// `monitoring.<stat>.values` set to `values` and `monitoring.<stat>.monitor` to true.
    pub fn monitor(stat: &str, values: Value) -> Vec<Edit> {
        vec![
            Edit::new(&["monitoring", stat, "values"], values),
            Edit::new(&["monitoring", stat, "monitor"], Value::boolean(true)),
        ]
    }
}

/// The edits of one modelInfo.json: `None` for the model's own `config/modelInfo.json`,
/// `Some(key)` for a sub-model's `config/<key>/modelInfo.json`.
pub type InfoEdits = (Option<String>, Vec<Edit>);

/// Everything one update call changes in a version.
#[derive(Clone, Debug, Default)]
pub struct VersionUpdate {
    /// What changed, for the info line (`monitoring nulls`, `requirements`, ...).
    pub what: Vec<String>,
    pub info: Vec<InfoEdits>,
    /// Files of the version replaced whole, relative to its folder.
    pub files: Vec<(String, Vec<u8>)>,
}

impl VersionUpdate {
    pub fn is_empty(&self) -> bool {
        self.files.is_empty() && self.info.iter().all(|(_, e)| e.is_empty())
    }
}

/// The path of a modelInfo.json inside the registry.
pub fn info_path(key: &VersionKey, sub: Option<&str>) -> String {
    match sub {
        None => key.model_info(),
        Some(k) => key.file(&format!("config/{k}/modelInfo.json")),
    }
}

/// `doc` with `value` at `path` (objects created or replaced as needed on the way).
pub fn set_in(doc: &Value, path: &[String], value: Value) -> Value {
    let Some((head, rest)) = path.split_first() else {
        return value;
    };
    let mut entries = doc.dict_entries().unwrap_or_default();
    let slot = entries.iter().position(|(k, _)| k == head);
    let inner = slot
        .map(|i| entries[i].1.clone())
        .unwrap_or_else(Value::empty_dict);
    let new = set_in(&inner, rest, value);
    match slot {
        Some(i) => entries[i].1 = new,
        None => entries.push((head.clone(), new)),
    }
    Value::dict_general(entries)
}

/// The monitoring statistics of one table, with the model's latency and predictions as q
/// measured them. A statistic that cannot be computed is stored as null, with a note naming
/// `label` (the model) and the reason, and its `monitor` flag still set, as the original does.
pub fn table_statistics(
    label: &str,
    table: &Value,
    latency: std::result::Result<&Value, String>,
    predictions: std::result::Result<&Value, String>,
    bins: i64,
) -> Vec<Edit> {
    let rows = table.count();
    let stats: [(&str, std::result::Result<Value, String>); 6] = [
        ("schema", Ok(monitor::schema(table))),
        ("nulls", monitor::nulls(table)),
        ("infinity", monitor::infinity(table)),
        ("latency", latency.and_then(monitor::latency)),
        ("csi", monitor::csi(table, bins)),
        ("psi", predictions.and_then(|p| monitor::psi(p, rows, bins))),
    ];
    let mut edits = Vec::new();
    for (stat, result) in stats {
        let values = result.unwrap_or_else(|why| {
            info_line(&format!(
                "unable to compute the {stat} statistics of {label} (expected {why}); \
                 {stat} is stored as null"
            ));
            Value::null()
        });
        edits.extend(Edit::monitor(stat, values));
    }
    edits
}

impl Registry {
    /// The modelInfo.json files of a version: `[None]` for a single model, the keys of a
    /// keyed model otherwise (sorted); empty when the version has none.
    pub fn info_targets(&self, key: &VersionKey) -> Result<Vec<Option<String>>> {
        let config = key.file("config");
        let files = self.storage.list(&config)?;
        if files.contains(&key.model_info()) {
            return Ok(vec![None]);
        }
        let prefix = format!("{config}/");
        let mut keys: Vec<Option<String>> = files
            .iter()
            .filter_map(|f| f.strip_prefix(&prefix))
            .filter_map(|f| f.strip_suffix("/modelInfo.json"))
            .filter(|k| !k.contains('/'))
            .map(|k| Some(k.to_string()))
            .collect();
        keys.sort();
        Ok(keys)
    }

    /// Applies `update` to the version `key`: each modelInfo.json is read, edited and
    /// written back together with the other files, in one batch. A missing modelInfo.json
    /// is an error naming it.
    pub fn update_version(&self, key: &VersionKey, update: &VersionUpdate) -> Result<()> {
        if update.is_empty() {
            return Ok(());
        }
        let _guard = self.storage.lock()?;
        // One read and one write per file, however many entries name it.
        let mut files: Vec<(Option<String>, Vec<&Edit>)> = Vec::new();
        for (sub, edits) in &update.info {
            match files.iter_mut().find(|(s, _)| s == sub) {
                Some((_, all)) => all.extend(edits),
                None => files.push((sub.clone(), edits.iter().collect())),
            }
        }
        let mut plan: Vec<(String, Vec<u8>)> = Vec::new();
        for (sub, edits) in files.iter().filter(|(_, e)| !e.is_empty()) {
            let rel = info_path(key, sub.as_deref());
            let bytes = self.read_required(&rel, "model information (modelInfo.json)")?;
            let text = String::from_utf8_lossy(&bytes);
            let mut doc = json::from_json(&text).map_err(|why| Error::Corrupt {
                path: self.shown(&rel),
                why: format!("is not valid JSON: {why}"),
            })?;
            for e in edits {
                doc = set_in(&doc, &e.path, e.value.clone());
            }
            plan.push((rel, json::to_json(&doc).into_bytes()));
        }
        for (rel, bytes) in &update.files {
            plan.push((key.file(rel), bytes.clone()));
        }
        self.storage.write(&plan)?;
        info_line(&format!(
            "updated {} of {}",
            update.what.join(", "),
            self.shown(&key.dir())
        ));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_in_replaces_in_place_and_creates_missing_objects() {
        let doc = json::from_json(r#"{"a":{"b":1,"c":{"d":2}},"e":3}"#).unwrap();
        let path = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let out = set_in(&doc, &path(&["a", "c", "d"]), Value::string("x"));
        assert_eq!(json::to_json(&out), r#"{"a":{"b":1,"c":{"d":"x"}},"e":3}"#);
        let out = set_in(&doc, &path(&["f", "g"]), Value::boolean(true));
        assert_eq!(
            json::to_json(&out),
            r#"{"a":{"b":1,"c":{"d":2}},"e":3,"f":{"g":true}}"#
        );
    }

    #[test]
    fn statistics_that_fail_are_null_with_monitor_still_on() {
        let t = Value::Table {
            columns: vec!["s".into()],
            data: vec![Value::symbols(&["a", "b"])],
        };
        let edits = table_statistics("m", &t, Err("no timings".into()), Err("none".into()), 10);
        let nulls = &edits[2];
        assert_eq!(nulls.path, ["monitoring", "nulls", "values"]);
        assert_eq!(nulls.value, Value::null());
        assert_eq!(edits[3].value, Value::boolean(true));
        assert_eq!(edits[0].path, ["monitoring", "schema", "values"]);
        assert_ne!(edits[0].value, Value::null());
    }
}
