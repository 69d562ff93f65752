//! The modelStore: one row per stored model version, kept as the q flat table file the
//! original writes (`KX_ML_REGISTRY/modelStore`), with the same columns and types.

use super::error::{Error, Result};
use super::layout::{MODEL_STORE, VersionKey};
use crate::qdata::{Data, Value, file, ty};

/// The modelStore's columns, in order.
pub const COLUMNS: [&str; 7] = [
    "registrationTime",
    "experimentName",
    "modelName",
    "uniqueID",
    "modelType",
    "version",
    "description",
];

/// One modelStore row.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// q timestamp, UTC.
    pub registration_time: i64,
    pub experiment: String,
    pub model: String,
    pub unique_id: [u8; 16],
    pub model_type: String,
    pub version: (i64, i64),
    pub description: String,
}

impl Row {
    pub fn key(&self) -> VersionKey {
        VersionKey {
            experiment: self.experiment.clone(),
            model: self.model.clone(),
            version: self.version,
        }
    }
}

fn strings(rows: &[Row], f: impl Fn(&Row) -> &str) -> Value {
    Value::List(rows.iter().map(|r| Value::string(f(r))).collect())
}

/// The modelStore as a q table.
pub fn to_table(rows: &[Row]) -> Value {
    let times = rows.iter().map(|r| r.registration_time).collect();
    let ids = rows.iter().map(|r| r.unique_id).collect();
    let versions = rows
        .iter()
        .map(|r| Value::longs(&[r.version.0, r.version.1]))
        .collect();
    Value::Table {
        columns: COLUMNS.iter().map(|c| c.to_string()).collect(),
        data: vec![
            Value::vector(ty::TIMESTAMP, Data::Long(times)),
            strings(rows, |r| &r.experiment),
            strings(rows, |r| &r.model),
            Value::vector(ty::GUID, Data::Guid(ids)),
            strings(rows, |r| &r.model_type),
            Value::List(versions),
            strings(rows, |r| &r.description),
        ],
    }
}

/// The bytes of the modelStore file holding `rows`.
pub fn encode(rows: &[Row]) -> Vec<u8> {
    file::write(&to_table(rows))
}

/// Reads the modelStore file's bytes.
pub fn decode(bytes: &[u8], shown_path: &str) -> Result<Vec<Row>> {
    let corrupt = |why: String| Error::Corrupt {
        path: shown_path.to_string(),
        why,
    };
    let table = file::read(bytes).map_err(corrupt)?;
    from_table(&table).map_err(|why| corrupt(format!("is not a modelStore table: {why}")))
}

fn column(columns: &[String], data: &[Value], name: &str) -> std::result::Result<Value, String> {
    columns
        .iter()
        .position(|c| c == name)
        .map(|i| data[i].clone())
        .ok_or_else(|| format!("column {name} is missing"))
}

fn text_items(v: &Value, name: &str) -> std::result::Result<Vec<String>, String> {
    v.items()
        .iter()
        .map(|x| {
            x.as_text()
                .ok_or_else(|| format!("column {name} holds a non-string"))
        })
        .collect()
}

/// Reads rows from a modelStore table (as written by the original or by us).
pub fn from_table(t: &Value) -> std::result::Result<Vec<Row>, String> {
    let Value::Table { columns, data } = t else {
        return Err("not a table".into());
    };
    let times = match column(columns, data, "registrationTime")? {
        Value::Vector {
            data: Data::Long(v),
            ..
        } => v,
        Value::List(v) if v.is_empty() => vec![],
        _ => return Err("registrationTime is not a timestamp column".into()),
    };
    let ids = match column(columns, data, "uniqueID")? {
        Value::Vector {
            data: Data::Guid(v),
            ..
        } => v,
        Value::List(v) if v.is_empty() => vec![],
        _ => return Err("uniqueID is not a guid column".into()),
    };
    let experiments = text_items(&column(columns, data, "experimentName")?, "experimentName")?;
    let models = text_items(&column(columns, data, "modelName")?, "modelName")?;
    let types = text_items(&column(columns, data, "modelType")?, "modelType")?;
    let descriptions = text_items(&column(columns, data, "description")?, "description")?;
    let versions = column(columns, data, "version")?
        .items()
        .iter()
        .map(|v| match v {
            Value::Vector {
                data: Data::Long(x),
                ..
            } if x.len() == 2 => Ok((x[0], x[1])),
            Value::Vector {
                data: Data::Int(x), ..
            } if x.len() == 2 => Ok((x[0] as i64, x[1] as i64)),
            _ => Err("version holds something other than a pair of longs".to_string()),
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let n = times.len();
    let lens = [
        ids.len(),
        experiments.len(),
        models.len(),
        types.len(),
        versions.len(),
    ];
    if lens.iter().any(|l| *l != n) || descriptions.len() != n {
        return Err("columns have different lengths".into());
    }
    Ok((0..n)
        .map(|i| Row {
            registration_time: times[i],
            experiment: experiments[i].clone(),
            model: models[i].clone(),
            unique_id: ids[i],
            model_type: types[i].clone(),
            version: versions[i],
            description: descriptions[i].clone(),
        })
        .collect())
}

/// Where the modelStore lives, for messages.
pub fn path() -> &'static str {
    MODEL_STORE
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(v: (i64, i64)) -> Row {
        Row {
            registration_time: 1,
            experiment: "undefined".into(),
            model: "m".into(),
            unique_id: [7; 16],
            model_type: "q".into(),
            version: v,
            description: String::new(),
        }
    }

    #[test]
    fn rows_round_trip_through_the_file_format() {
        let rows = vec![row((1, 0)), row((1, 1))];
        assert_eq!(decode(&encode(&rows), "ms").unwrap(), rows);
        assert_eq!(decode(&encode(&[]), "ms").unwrap(), vec![]);
    }

    #[test]
    fn the_empty_store_has_typed_time_and_guid_columns() {
        let Value::Table { data, .. } = to_table(&[]) else {
            panic!()
        };
        assert_eq!(data[0].q_type(), ty::TIMESTAMP);
        assert_eq!(data[3].q_type(), ty::GUID);
        assert_eq!(data[1], Value::List(vec![]));
    }
}
