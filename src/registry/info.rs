//! The JSON files of a model version: `config/modelInfo.json` (the original's template, filled
//! in) and `.version.info`.

use super::layout::VersionKey;
use super::store::Row;
use crate::qdata::json::format_guid;
use crate::qdata::{Data, Value, time, ty};

fn monitor(on: bool, values: Value) -> Value {
    Value::dict_general(vec![("monitor", Value::boolean(on)), ("values", values)])
}

fn empty_object() -> Value {
    Value::Dict {
        keys: Box::new(Value::symbols::<&str>(&[])),
        values: Box::new(Value::List(vec![])),
        sorted: false,
    }
}

/// What `set.model` records in modelInfo.json beyond the modelStore row.
#[derive(Clone, Debug)]
pub struct Extra {
    /// The `requirements` config value as given (false, true, a path, a list of strings).
    pub requirements: Value,
    /// The `axis` config value, or `""` when not given.
    pub axis: Value,
}

/// The modelInfo.json content for a new version, as a q dictionary.
pub fn model_info(row: &Row, extra: &Extra) -> Value {
    let info = Value::dict_general(vec![
        ("modelName", Value::string(&row.model)),
        ("version", Value::longs(&[row.version.0, row.version.1])),
        (
            "registrationTime",
            Value::vector(ty::TIMESTAMP, Data::Long(vec![row.registration_time])),
        ),
        (
            "uniqueID",
            Value::vector(ty::GUID, Data::Guid(vec![row.unique_id])),
        ),
        ("requirements", extra.requirements.clone()),
    ]);
    let registry = Value::dict_general(vec![
        ("description", Value::string(&row.description)),
        ("modelInformation", info),
        (
            "experimentInformation",
            Value::dict_general(vec![("experimentName", Value::string(&row.experiment))]),
        ),
    ]);
    let model = Value::dict_general(vec![
        ("type", Value::string(&row.model_type)),
        ("axis", extra.axis.clone()),
    ]);
    let inf = Value::floats(&[f64::INFINITY, f64::INFINITY]);
    let latency = Value::Dict {
        keys: Box::new(Value::symbols(&["avg", "std"])),
        values: Box::new(inf),
        sorted: false,
    };
    let infinity = Value::dict_general(vec![
        ("negInfReplace", empty_object()),
        ("posInfReplace", empty_object()),
    ]);
    let monitoring = Value::dict_general(vec![
        ("nulls", monitor(true, empty_object())),
        ("infinity", monitor(true, infinity)),
        ("schema", monitor(false, empty_object())),
        ("latency", monitor(false, latency)),
        ("psi", monitor(false, empty_object())),
        ("csi", monitor(false, empty_object())),
        ("supervised", monitor(false, Value::List(vec![]))),
    ]);
    Value::dict_general(vec![
        ("registry", registry),
        ("model", model),
        ("monitoring", monitoring),
    ])
}

/// q's `string` of a float such as `.z.K` (`4f` → `4`, `4.1` → `4.1`).
pub fn q_float_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        let s = format!("{:.6}", f);
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// q's `string` of a date such as `.z.k`: `2024.05.31`.
pub fn q_date_text(days: i64) -> String {
    time::format_date(days).replace('-', ".")
}

/// The `.version.info` content: q's version, the model type and, when q passed them from a
/// Python bridge, the Python fields.
pub fn version_info(q_version: &str, model_type: &str, python: &[(String, Value)]) -> Value {
    let mut entries = vec![
        ("q_version".to_string(), Value::string(q_version)),
        ("model_type".to_string(), Value::string(model_type)),
    ];
    entries.extend(python.iter().cloned());
    Value::dict_general(entries)
}

/// The uniqueID text of a row, as modelInfo.json shows it.
pub fn guid_text(row: &Row) -> String {
    format_guid(&row.unique_id)
}

/// Where a version's files are, for messages.
pub fn shown_version(key: &VersionKey) -> String {
    key.dir()
}
