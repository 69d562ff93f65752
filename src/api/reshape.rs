//! The input transform of the functions `get.predict` and `get.update` return: what a
//! model's predict or update callable receives for a q value, by model type and `axis`
//! (the original's mlops transform). The q wrapper applies the result; where a Python
//! DataFrame is wanted, it builds one from the column dictionary given here.
//!
//! - pyspark: a table, or a matrix (a general list of rows) whose columns are named
//!   `0`, `1`, ...: a Spark DataFrame with a `features` vector column. Nothing else.
//! - any other type: atoms, simple vectors and general lists (q type 20 or below) pass
//!   unchanged;
//! - sklearn, xgboost: a table becomes a pandas DataFrame, anything else passes unchanged;
//! - other types: a table becomes its list of columns, a dictionary its values (a keyed
//!   table its value table); then, unless the result is a table, `axis` 0b flips it to a
//!   list of rows, 1b keeps it as columns. Other inputs are errors.

use super::args::{self, wrong};
use crate::qdata::Value;
use crate::registry::error::{Error, Result};

/// What the q wrapper makes of the reshaped data before calling the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frame {
    /// Nothing: the data goes to the callable as it is.
    None,
    /// A pandas DataFrame from a column dictionary.
    Pandas,
    /// A Spark DataFrame with a `features` vector column from a column dictionary.
    Spark,
}

impl Frame {
    pub fn name(self) -> &'static str {
        match self {
            Frame::None => "",
            Frame::Pandas => "pandas",
            Frame::Spark => "spark",
        }
    }
}

/// The data a model of `model_type` receives for `data`.
pub fn reshape(model_type: &str, axis: bool, data: Value) -> Result<(Value, Frame)> {
    if model_type == "pyspark" {
        return spark_input(data);
    }
    if data.q_type() <= 20 {
        return Ok((data, Frame::None));
    }
    if model_type == "sklearn" || model_type == "xgboost" {
        return Ok(match data {
            Value::Table { columns, data } => (column_dict(columns, data), Frame::Pandas),
            other => (other, Frame::None),
        });
    }
    let shaped = match data {
        Value::Table { data, .. } => Value::List(data),
        Value::Dict {
            values,
            sorted: false,
            ..
        } => *values,
        other => {
            return Err(wrong(
                "data",
                &format!(
                    "an atom, a list, a table or a dictionary as input to a {model_type} \
                     model"
                ),
                &other,
            ));
        }
    };
    if shaped.is_table() || axis {
        return Ok((shaped, Frame::None));
    }
    Ok((flip(shaped)?, Frame::None))
}

/// `` `data`convert `` for the q wrapper: `mlr_reshape[modelType;axis;data]`.
pub fn export(a: &[Value]) -> Result<Value> {
    let model_type = a[0]
        .as_text()
        .ok_or_else(|| wrong("modelType", "a model type as a symbol or string", &a[0]))?;
    let axis = axis_value(&a[1]).ok_or_else(|| wrong("axis", "a boolean or \"\"", &a[1]))?;
    let (data, frame) = reshape(&model_type, axis, a[2].clone())?;
    Ok(Value::dict_general(vec![
        ("data", data),
        ("convert", Value::symbol(frame.name())),
    ]))
}

/// `axis` as stored in modelInfo.json: a boolean, or `""` (not given), which means 0b.
pub fn axis_value(v: &Value) -> Option<bool> {
    if let Some(b) = v.as_bool() {
        return Some(b);
    }
    let empty = v.as_str().is_some_and(|s| s.is_empty()) || args::is_empty_list(v);
    empty.then_some(false)
}

fn column_dict(columns: Vec<String>, data: Vec<Value>) -> Value {
    Value::Dict {
        keys: Box::new(Value::symbols(&columns)),
        values: Box::new(Value::List(data)),
        sorted: false,
    }
}

/// A pyspark model's input: a table, or a matrix given as rows, as a column dictionary.
fn spark_input(data: Value) -> Result<(Value, Frame)> {
    const EXPECTED: &str = "a table or a matrix (a list of rows) as input to a pyspark model";
    match data {
        Value::Table { columns, data } => Ok((column_dict(columns, data), Frame::Spark)),
        Value::List(rows) => {
            let all_lists = !rows.is_empty()
                && rows
                    .iter()
                    .all(|r| matches!(r, Value::Vector { .. } | Value::List(_)));
            if !all_lists {
                return Err(wrong("data", EXPECTED, &Value::List(rows)));
            }
            let columns = match flip(Value::List(rows))? {
                Value::List(c) => c,
                other => vec![other],
            };
            let names: Vec<String> = (0..columns.len()).map(|i| i.to_string()).collect();
            Ok((column_dict(names, columns), Frame::Spark))
        }
        other => Err(wrong("data", EXPECTED, &other)),
    }
}

/// q's `flip` of a list: a list of equal-length lists (atoms stand for as many copies as
/// needed) becomes the list of its rows. A simple vector, or a list of atoms only, stays
/// as it is.
pub fn flip(v: Value) -> Result<Value> {
    let items = match v {
        Value::List(items) => items,
        other => return Ok(other),
    };
    let mut len: Option<usize> = None;
    for item in &items {
        match item {
            Value::Atom { .. } => {}
            Value::Vector { .. } | Value::List(_) => {
                let n = item.count();
                if len.is_some_and(|l| l != n) {
                    return Err(Error::arg(
                        "data",
                        format!(
                            "columns of one length to turn into rows (axis 0b); got lengths \
                             {} and {n}",
                            len.unwrap_or(0)
                        ),
                    ));
                }
                len = Some(n);
            }
            other => {
                return Err(wrong(
                    "data",
                    "columns as lists or atoms to turn into rows (axis 0b)",
                    other,
                ));
            }
        }
    }
    let Some(n) = len else {
        return Ok(Value::List(items));
    };
    let rows = (0..n)
        .map(|i| {
            let row = items
                .iter()
                .map(|item| match item {
                    Value::Atom { .. } => item.clone(),
                    list => list.item(i).unwrap_or_else(Value::null),
                })
                .collect();
            Value::collapse(row)
        })
        .collect();
    Ok(Value::List(rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flip_turns_columns_into_rows() {
        let cols = Value::List(vec![Value::longs(&[1, 2]), Value::longs(&[3, 4])]);
        let rows = flip(cols).unwrap();
        assert_eq!(
            rows,
            Value::List(vec![Value::longs(&[1, 3]), Value::longs(&[2, 4])])
        );
    }

    #[test]
    fn atoms_stand_for_a_whole_column() {
        let cols = Value::List(vec![Value::longs(&[1, 2]), Value::float(0.5)]);
        let rows = flip(cols).unwrap();
        assert_eq!(
            rows.items()[1],
            Value::List(vec![Value::long(2), Value::float(0.5)])
        );
    }

    #[test]
    fn simple_vectors_do_not_flip() {
        assert_eq!(flip(Value::longs(&[1, 2])).unwrap(), Value::longs(&[1, 2]));
    }
}
