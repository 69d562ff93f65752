//! Reading the q arguments of `.ml.registry` calls: every accepted form, and for anything
//! else an error naming the argument and the forms it takes.

use crate::qdata::{Data, Value, ty};
use crate::registry::error::{Error, Result};

/// The text of a string, char atom or symbol; `None` for `::`.
pub fn opt_text(arg: &str, v: &Value, expected: &str) -> Result<Option<String>> {
    if v.is_null() {
        return Ok(None);
    }
    match v.as_text() {
        Some(s) => Ok(Some(s)),
        None if is_empty_list(v) => Ok(Some(String::new())),
        None => Err(wrong(arg, expected, v)),
    }
}

/// A required name (string, char or symbol).
pub fn name(arg: &str, v: &Value) -> Result<String> {
    match v.as_text() {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(wrong(arg, "a name as a string or symbol", v)),
    }
}

/// `()`, the empty general list.
pub fn is_empty_list(v: &Value) -> bool {
    matches!(v, Value::List(items) if items.is_empty())
}

/// An error naming the argument, the expected forms and what was given.
pub fn wrong(arg: &str, expected: &str, got: &Value) -> Error {
    Error::arg(arg, format!("{expected}; got {}", describe(got)))
}

/// How a value is described in error messages: its q type.
pub fn describe(v: &Value) -> String {
    let t = v.q_type();
    let name = match t.unsigned_abs() as i8 {
        0 => "a general list",
        1 => "boolean",
        2 => "guid",
        4 => "byte",
        5 => "short",
        6 => "int",
        7 => "long",
        8 => "real",
        9 => "float",
        10 => "char",
        11 => "symbol",
        12 => "timestamp",
        13 => "month",
        14 => "date",
        15 => "datetime",
        16 => "timespan",
        17 => "minute",
        18 => "second",
        19 => "time",
        98 => "a table",
        99 => "a dictionary",
        100 => "a lambda",
        101 => "::",
        104 => "a projection",
        _ => "",
    };
    match t {
        0 | 98..=101 | 104 => format!("{name} (type {t}h)"),
        1..=19 if t == ty::CHAR => format!("a string (type {t}h)"),
        1..=19 => format!("a {name} list (type {t}h)"),
        -19..=-1 => format!("a {name} atom (type {t}h)"),
        _ => format!("type {t}h"),
    }
}

/// `folderPath`-style config: `::`, `()`, `()!()` or a dictionary with symbol keys.
pub fn config(arg: &str, v: &Value) -> Result<Vec<(String, Value)>> {
    if v.is_null() || is_empty_list(v) {
        return Ok(vec![]);
    }
    if v.is_dict()
        && let Some(entries) = v.dict_entries()
    {
        return Ok(entries);
    }
    Err(wrong(arg, "::, ()!() or a dictionary with symbol keys", v))
}

/// A version: `::`, or a pair major minor as longs or ints (whole floats are accepted too,
/// since modelInfo gives versions back as floats).
pub fn version(arg: &str, v: &Value) -> Result<Option<(i64, i64)>> {
    if v.is_null() {
        return Ok(None);
    }
    pair(v).map(Some).ok_or_else(|| {
        wrong(
            arg,
            ":: or a version as a pair of whole numbers from 0 to 2147483647 such as 1 0 or 1 0i",
            v,
        )
    })
}

/// A pair of whole numbers, non-negative.
pub fn pair(v: &Value) -> Option<(i64, i64)> {
    let nums: Vec<i64> = match v {
        Value::Vector {
            data: Data::Long(x),
            ty: ty::LONG,
            ..
        } => x.clone(),
        Value::Vector {
            data: Data::Int(x),
            ty: ty::INT,
            ..
        } => x.iter().map(|i| *i as i64).collect(),
        Value::Vector {
            data: Data::Short(x),
            ..
        } => x.iter().map(|i| *i as i64).collect(),
        Value::Vector {
            data: Data::Float(x),
            ty: ty::FLOAT,
            ..
        } if x
            .iter()
            .all(|f| f.fract() == 0.0 && f.abs() <= MAX_VERSION as f64) =>
        {
            x.iter().map(|f| *f as i64).collect()
        }
        Value::List(items) => items.iter().filter_map(whole).collect(),
        _ => return None,
    };
    match nums.as_slice() {
        [a, b]
            if (0..=MAX_VERSION).contains(a) && (0..=MAX_VERSION).contains(b) && v.count() == 2 =>
        {
            Some((*a, *b))
        }
        _ => None,
    }
}

/// A whole number atom (integers, or a float without a fraction).
pub fn whole(v: &Value) -> Option<i64> {
    if matches!(v, Value::Atom { ty: ty::BOOL, .. }) {
        return None;
    }
    if let Some(i) = v.as_integer() {
        return Some(i);
    }
    match v.as_f64() {
        Some(f) if f.is_finite() && f.fract() == 0.0 && f.abs() <= MAX_VERSION as f64 => {
            Some(f as i64)
        }
        _ => None,
    }
}

/// The largest major or minor version accepted (q's largest int), far from overflow.
pub const MAX_VERSION: i64 = i32::MAX as i64;

/// A boolean atom.
pub fn boolean(arg: &str, v: &Value) -> Result<bool> {
    v.as_bool()
        .ok_or_else(|| wrong(arg, "a boolean such as 1b", v))
}

/// Strings from a string, a symbol, a symbol list or a general list of strings/symbols.
pub fn texts(v: &Value) -> Option<Vec<String>> {
    if let Some(s) = v.as_text() {
        return Some(vec![s]);
    }
    match v {
        Value::Vector {
            data: Data::Symbol(s),
            ..
        } => Some(s.clone()),
        Value::List(items) => items.iter().map(Value::as_text).collect(),
        _ => None,
    }
}

/// A file path given as a string, a symbol or an hsym (`` `:path ``).
pub fn path(v: &Value) -> Option<String> {
    let text = match v {
        Value::Vector { ty: ty::CHAR, .. } => v.as_str(),
        Value::Atom { ty: ty::SYMBOL, .. } => v.as_symbol().map(str::to_string),
        _ => None,
    }?;
    let p = text.strip_prefix(':').unwrap_or(&text).to_string();
    if p.is_empty() { None } else { Some(p) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_take_longs_ints_and_whole_floats() {
        assert_eq!(pair(&Value::longs(&[1, 0])), Some((1, 0)));
        let ints = Value::vector(ty::INT, Data::Int(vec![2, 3]));
        assert_eq!(pair(&ints), Some((2, 3)));
        assert_eq!(pair(&Value::floats(&[1.0, 0.0])), Some((1, 0)));
        assert_eq!(pair(&Value::floats(&[1.5, 0.0])), None);
        assert_eq!(pair(&Value::longs(&[1, 0, 0])), None);
        assert_eq!(pair(&Value::longs(&[-1, 0])), None);
    }

    #[test]
    fn errors_say_what_was_given() {
        let e = version("version", &Value::symbol("x"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("version: expected"), "{e}");
        assert!(e.contains("symbol atom (type -11h)"), "{e}");
    }
}
