//! Monitoring statistics of the data a model was built for, computed by the method of the
//! KX mlops library so that a registry written here holds the numbers the original writes.
//!
//! # Method
//!
//! All statistics work column by column on a q table.
//!
//! - **schema**: each column's q type letter as `meta` shows it (`"j"` long, `"f"` float, ...;
//!   upper case for a column of vectors such as strings, `" "` for a mixed column).
//! - **infinity replacement** (mlops `infReplace`): only short, int, long, real, float,
//!   timestamp, timespan, minute and second columns are touched. First every `-∞` of the type
//!   becomes the smallest value of the column that is neither null nor `-∞`; then every `+∞`
//!   becomes the largest value that is neither null nor `+∞`. Nulls stay null. When nothing
//!   is left to take the smallest (largest) of, q's `min` (`max`) of nothing is used: `+∞`
//!   (`-∞`). So a column that holds only infinities ends up all `-∞`.
//! - **nulls**: per column, the median (q `med`) of the infinity-replaced column, as a float:
//!   the column is sorted with nulls first (nulls are counted, not dropped), and the items at
//!   positions `floor((n-1)/2)` and `floor(n/2)` are averaged, a null one being ignored (both
//!   null, or no rows: null). Booleans, bytes, characters and temporal values count by their
//!   underlying numbers; symbol, guid and mixed columns cannot be summarised.
//! - **infinity**: `negInfReplace` maps each column to its minimum and `posInfReplace` to its
//!   maximum, both of the infinity-replaced column, nulls ignored, in the column's own type.
//! - **csi / psi** (mlops `create.binExpected`): the values are cast to floats (nulls become
//!   null; integer infinities are just large numbers); `g` is the number of bins (the smaller
//!   of the row count and the session's `-bins`, 10 by default). With `n = 1/g`, the split
//!   points are the percentiles at `n*1, n*2, ..., n*(g-1)` of the non-null values: for `p`,
//!   position `p*(c-1)` in the sorted values (`c` of them) is interpolated linearly between
//!   the items at its floor and floor+1 (an item past the end counts as 0 difference). `+∞`
//!   is appended as the last split. Each split's key is its q text (`string`: 7 significant
//!   digits, `%g` style, `"0w"` for `+∞`); its value is the fraction of all values, nulls
//!   included and sorted first, that are at most that split and above the previous one. csi
//!   bins each column of the data; psi bins the model's predictions on the data.
//! - **latency**: from the seconds each of 30 single-row predictions took (measured in q),
//!   the mean and the population standard deviation (q `avg` and `dev`).

use crate::qdata::{Data, Value, ty};
use std::cmp::Ordering;

/// q's type letters indexed by type number (`.Q.t`).
const TYPE_LETTERS: &[u8; 20] = b" bg xhijefcspmdznuvt";

/// The columns of a table, or `None` for anything else.
fn columns(t: &Value) -> Option<(&[String], &[Value])> {
    match t {
        Value::Table { columns, data } => Some((columns, data)),
        _ => None,
    }
}

/// How a value is described in messages: its q type.
fn describe(v: &Value) -> String {
    match v {
        Value::Vector { ty, .. } => format!("a list of type {ty}h"),
        Value::List(_) => "a general list (type 0h)".to_string(),
        other => format!("of type {}h", other.q_type()),
    }
}

/// How a column is described in messages.
fn column_text(name: &str, col: &Value) -> String {
    format!("column {name} is {}", describe(col))
}

/// The `schema` statistic: column name → type letter.
pub fn schema(t: &Value) -> Value {
    let Some((names, cols)) = columns(t) else {
        return Value::empty_dict();
    };
    let letters: Vec<u8> = cols.iter().map(type_letter).collect();
    Value::Dict {
        keys: Box::new(Value::symbols(names)),
        values: Box::new(Value::vector(ty::CHAR, Data::Char(letters))),
        sorted: false,
    }
}

/// The letter `meta` shows for a column.
fn type_letter(col: &Value) -> u8 {
    match col {
        Value::Vector { ty, .. } if (1..=19).contains(ty) => TYPE_LETTERS[*ty as usize],
        Value::List(items) => match items.first() {
            Some(Value::Vector { ty, .. }) if (1..=19).contains(ty) => {
                TYPE_LETTERS[*ty as usize].to_ascii_uppercase()
            }
            _ => b' ',
        },
        _ => b' ',
    }
}

/// A number type with q's null and infinities.
trait Num: Copy + PartialOrd {
    const POS: Self;
    const NEG: Self;
    fn is_null(self) -> bool;
}

macro_rules! int_num {
    ($($t:ty),*) => {$(
        impl Num for $t {
            const POS: $t = <$t>::MAX;
            const NEG: $t = -<$t>::MAX;
            fn is_null(self) -> bool {
                self == <$t>::MIN
            }
        }
    )*};
}
int_num!(i16, i32, i64);

macro_rules! float_num {
    ($($t:ty),*) => {$(
        impl Num for $t {
            const POS: $t = <$t>::INFINITY;
            const NEG: $t = <$t>::NEG_INFINITY;
            fn is_null(self) -> bool {
                self.is_nan()
            }
        }
    )*};
}
float_num!(f32, f64);

/// The smallest (or largest) item that is not null and not `skip`; `empty` when none is.
fn extreme<T: Num>(v: &[T], largest: bool, skip: Option<T>, empty: T) -> T {
    let mut best = empty;
    for &x in v {
        if x.is_null() || Some(x) == skip {
            continue;
        }
        let better = if largest { x > best } else { x < best };
        if better {
            best = x;
        }
    }
    best
}

/// Both passes of `infReplace` over one column's items.
fn replace_infinities<T: Num>(v: &[T]) -> Vec<T> {
    let mut out = v.to_vec();
    for (target, largest, empty) in [(T::NEG, false, T::POS), (T::POS, true, T::NEG)] {
        if !out.contains(&target) {
            continue;
        }
        let by = extreme(&out, largest, Some(target), empty);
        for x in out.iter_mut().filter(|x| **x == target) {
            *x = by;
        }
    }
    out
}

/// mlops `infReplace` of one column: the column with its infinities replaced (see the
/// module doc); columns of other types come back unchanged.
pub fn inf_replace(col: &Value) -> Value {
    let Value::Vector { ty: t, data, .. } = col else {
        return col.clone();
    };
    use ty::*;
    let data = match (*t, data) {
        (SHORT, Data::Short(v)) => Data::Short(replace_infinities(v)),
        (INT | MINUTE | SECOND, Data::Int(v)) => Data::Int(replace_infinities(v)),
        (LONG | TIMESTAMP | TIMESPAN, Data::Long(v)) => Data::Long(replace_infinities(v)),
        (REAL, Data::Real(v)) => Data::Real(replace_infinities(v)),
        (FLOAT, Data::Float(v)) => Data::Float(replace_infinities(v)),
        _ => return col.clone(),
    };
    Value::vector(*t, data)
}

/// A column's items as floats, as q's `"f"$` gives them (nulls become null); `None` for
/// symbol, guid and mixed columns.
pub fn as_floats(col: &Value) -> Option<Vec<f64>> {
    fn ints<T: Num + Into<f64>>(v: &[T]) -> Vec<f64> {
        v.iter()
            .map(|x| if x.is_null() { f64::NAN } else { (*x).into() })
            .collect()
    }
    let Value::Vector { data, .. } = col else {
        return None;
    };
    Some(match data {
        Data::Bool(v) => v.iter().map(|b| *b as u8 as f64).collect(),
        Data::Byte(v) | Data::Char(v) => v.iter().map(|b| *b as f64).collect(),
        Data::Short(v) => ints(v),
        Data::Int(v) => ints(v),
        Data::Long(v) => v
            .iter()
            .map(|x| if x.is_null() { f64::NAN } else { *x as f64 })
            .collect(),
        Data::Real(v) => v.iter().map(|x| *x as f64).collect(),
        Data::Float(v) => v.clone(),
        Data::Guid(_) | Data::Symbol(_) => return None,
    })
}

/// q's sort order for floats: nulls first, then ascending (infinities included).
fn q_order(a: &f64, b: &f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        _ => a.partial_cmp(b).unwrap_or(Ordering::Equal),
    }
}

/// q's `x <= y` for floats, with null below everything.
fn q_le(x: f64, y: f64) -> bool {
    if y.is_nan() {
        x.is_nan()
    } else {
        x.is_nan() || x <= y
    }
}

/// q's `avg` of two items: nulls ignored, null when both are.
fn avg2(a: f64, b: f64) -> f64 {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => f64::NAN,
        (true, false) => b,
        (false, true) => a,
        _ => (a + b) / 2.0,
    }
}

/// q's `med`: see the module doc.
pub fn median(xs: &[f64]) -> f64 {
    let n = xs.len();
    if n == 0 {
        return f64::NAN;
    }
    let mut s = xs.to_vec();
    s.sort_by(q_order);
    avg2(s[(n - 1) / 2], s[n / 2])
}

/// The `nulls` statistic: column → median of the infinity-replaced column.
pub fn nulls(t: &Value) -> Result<Value, String> {
    let (names, cols) = columns(t).ok_or("a table")?;
    let mut meds = Vec::with_capacity(cols.len());
    for (name, col) in names.iter().zip(cols) {
        let xs = as_floats(&inf_replace(col)).ok_or_else(|| {
            format!(
                "numeric or temporal columns for the null medians; {}",
                column_text(name, col)
            )
        })?;
        meds.push(median(&xs));
    }
    Ok(Value::Dict {
        keys: Box::new(Value::symbols(names)),
        values: Box::new(Value::floats(&meds)),
        sorted: false,
    })
}

/// The smallest or largest item of a column as an atom of its type (nulls ignored).
fn column_extreme(col: &Value, largest: bool) -> Option<Value> {
    fn pick<T: Num>(v: &[T], largest: bool) -> T {
        extreme(v, largest, None, if largest { T::NEG } else { T::POS })
    }
    fn unsigned(v: impl Iterator<Item = u8>, largest: bool) -> u8 {
        if largest {
            v.max().unwrap_or(0)
        } else {
            v.min().unwrap_or(u8::MAX)
        }
    }
    let Value::Vector { ty: t, data, .. } = col else {
        return None;
    };
    let one = match data {
        Data::Bool(v) => Data::Bool(vec![unsigned(v.iter().map(|b| *b as u8), largest) != 0]),
        Data::Byte(v) => Data::Byte(vec![unsigned(v.iter().copied(), largest)]),
        Data::Char(v) => Data::Char(vec![unsigned(v.iter().copied(), largest)]),
        Data::Short(v) => Data::Short(vec![pick(v, largest)]),
        Data::Int(v) => Data::Int(vec![pick(v, largest)]),
        Data::Long(v) => Data::Long(vec![pick(v, largest)]),
        Data::Real(v) => Data::Real(vec![pick(v, largest)]),
        Data::Float(v) => Data::Float(vec![pick(v, largest)]),
        Data::Guid(_) | Data::Symbol(_) => return None,
    };
    Some(Value::atom(*t, one))
}

/// The `infinity` statistic: `negInfReplace` (column → minimum) and `posInfReplace`
/// (column → maximum) of the infinity-replaced columns.
pub fn infinity(t: &Value) -> Result<Value, String> {
    let (names, cols) = columns(t).ok_or("a table")?;
    let mut low = Vec::with_capacity(cols.len());
    let mut high = Vec::with_capacity(cols.len());
    for (name, col) in names.iter().zip(cols) {
        let replaced = inf_replace(col);
        let pair = column_extreme(&replaced, false).zip(column_extreme(&replaced, true));
        let (lo, hi) = pair.ok_or_else(|| {
            format!(
                "numeric or temporal columns for the infinity replacements; {}",
                column_text(name, col)
            )
        })?;
        low.push((name.clone(), lo));
        high.push((name.clone(), hi));
    }
    Ok(Value::dict_general(vec![
        ("negInfReplace", Value::dict_general(low)),
        ("posInfReplace", Value::dict_general(high)),
    ]))
}

/// mlops percentiles: `p*(c-1)` into the sorted non-null values, interpolated linearly.
fn percentiles(values: &[f64], percs: &[f64]) -> Vec<f64> {
    let mut a: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    a.sort_by(q_order);
    let item = |i: f64| {
        if i >= 0.0 && (i as usize) < a.len() {
            a[i as usize]
        } else {
            f64::NAN
        }
    };
    let zero_if_null = |x: f64| if x.is_nan() { 0.0 } else { x };
    percs
        .iter()
        .map(|p| {
            let pos = p * (a.len() as f64 - 1.0);
            let floor = pos.floor();
            let (lo, hi) = (item(floor), item(floor + 1.0));
            zero_if_null(lo) + (pos - floor) * zero_if_null(hi - lo)
        })
        .collect()
}

/// mlops `create.binExpected`: (split key, fraction) for each of `groups` bins.
pub fn bin_expected(values: &[f64], groups: usize) -> Vec<(String, f64)> {
    let n = 1.0 / groups as f64;
    let percs: Vec<f64> = (1..groups).map(|k| n * k as f64).collect();
    let mut splits = percentiles(values, &percs);
    splits.push(f64::INFINITY);

    let mut sorted = values.to_vec();
    sorted.sort_by(q_order);
    let total = values.len() as f64;
    let mut previous = 0i64;
    splits
        .iter()
        .map(|s| {
            let at_most = sorted.partition_point(|x| q_le(*x, *s)) as i64;
            let share = (at_most - previous) as f64 / total;
            previous = at_most;
            (q_float_string(*s), share)
        })
        .collect()
}

/// The bins as the q dictionary modelInfo.json holds (split text → fraction).
fn bins_value(bins: Vec<(String, f64)>) -> Value {
    let (keys, shares): (Vec<String>, Vec<f64>) = bins.into_iter().unzip();
    Value::Dict {
        keys: Box::new(Value::symbols(&keys)),
        values: Box::new(Value::floats(&shares)),
        sorted: false,
    }
}

/// The number of bins for data of `rows` rows.
pub fn bin_count(rows: usize, bins: i64) -> usize {
    rows.min(bins.max(0) as usize)
}

/// The `csi` statistic: column → its bins.
pub fn csi(t: &Value, bins: i64) -> Result<Value, String> {
    let (names, cols) = columns(t).ok_or("a table")?;
    let groups = bin_count(t.count(), bins);
    let mut out = Vec::with_capacity(cols.len());
    for (name, col) in names.iter().zip(cols) {
        let xs = as_floats(col).ok_or_else(|| {
            format!(
                "columns that convert to floats for the csi bins; {}",
                column_text(name, col)
            )
        })?;
        out.push((name.clone(), bins_value(bin_expected(&xs, groups))));
    }
    Ok(Value::dict_general(out))
}

/// Predictions as floats: a numeric list, a numeric atom, or a general list of numeric atoms.
fn predictions_as_floats(p: &Value) -> Option<Vec<f64>> {
    match p {
        Value::Vector { .. } => as_floats(p),
        Value::Atom { ty: t, data } => as_floats(&Value::vector(*t, data.clone())),
        Value::List(items) => items
            .iter()
            .map(|x| match x {
                Value::Atom { ty: t, data } => {
                    as_floats(&Value::vector(*t, data.clone())).map(|v| v[0])
                }
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// The `psi` statistic: the bins of a model's predictions on data of `rows` rows.
pub fn psi(predictions: &Value, rows: usize, bins: i64) -> Result<Value, String> {
    let xs = predictions_as_floats(predictions).ok_or_else(|| {
        format!(
            "predictions that convert to floats; got {}",
            describe(predictions)
        )
    })?;
    Ok(bins_value(bin_expected(&xs, bin_count(rows, bins))))
}

/// The `latency` statistic from the seconds each prediction took: `avg` and `std`.
pub fn latency(seconds: &Value) -> Result<Value, String> {
    let xs = match seconds {
        Value::Vector {
            ty: ty::FLOAT,
            data: Data::Float(v),
            ..
        } if !v.is_empty() => v.clone(),
        other => {
            return Err(format!(
                "timings as a non-empty float list (seconds); got {}",
                describe(other)
            ));
        }
    };
    let n = xs.len() as f64;
    let avg = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - avg) * (x - avg)).sum::<f64>() / n;
    Ok(Value::Dict {
        keys: Box::new(Value::symbols(&["avg", "std"])),
        values: Box::new(Value::floats(&[avg, var.sqrt()])),
        sorted: false,
    })
}

/// q's `string` of a float: 7 significant digits in C's `%g` style (`0.3`, `24.5`, `1e-05`,
/// `1.234568e+07`), `0w`/`-0w` for the infinities and the empty text for null.
pub fn q_float_string(x: f64) -> String {
    const DIGITS: i32 = 7;
    if x.is_nan() {
        return String::new();
    }
    if x.is_infinite() {
        return if x > 0.0 { "0w" } else { "-0w" }.to_string();
    }
    let sci = format!("{:.*e}", (DIGITS - 1) as usize, x);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let trim = |s: &str| {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s.to_string()
        }
    };
    if (-4..DIGITS).contains(&exp) {
        trim(&format!("{:.*}", (DIGITS - 1 - exp) as usize, x))
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim(mantissa), exp.abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NULL: i64 = i64::MIN;
    const INF: i64 = i64::MAX;

    fn table(cols: Vec<(&str, Value)>) -> Value {
        Value::Table {
            columns: cols.iter().map(|(n, _)| n.to_string()).collect(),
            data: cols.into_iter().map(|(_, c)| c).collect(),
        }
    }

    fn keys_and_values(d: &Value) -> Vec<(String, Value)> {
        d.dict_entries().unwrap()
    }

    /// The reference's case 29 data: `([] 0N,0W,0N,til 50)`.
    fn case29() -> Value {
        let mut x = vec![NULL, INF, NULL];
        x.extend(0..50);
        table(vec![("x", Value::longs(&x))])
    }

    #[test]
    fn schema_gives_meta_letters() {
        let strings = Value::List(vec![Value::string("ab"), Value::string("c")]);
        let mixed = Value::List(vec![Value::long(1), Value::symbol("a")]);
        let t = table(vec![
            ("a", Value::longs(&[1])),
            ("b", Value::floats(&[1.0])),
            ("c", Value::symbols(&["s"])),
            ("d", strings),
            ("e", mixed),
        ]);
        let s = schema(&t);
        let letters: Vec<Value> = keys_and_values(&s).into_iter().map(|(_, v)| v).collect();
        let text: String = letters.iter().map(|v| v.as_str().unwrap()).collect();
        assert_eq!(text, "jfsC ");
    }

    #[test]
    fn negative_infinity_becomes_the_finite_minimum_and_positive_the_maximum() {
        let f = f64::INFINITY;
        let col = Value::floats(&[3.0, -f, f64::NAN, 7.0, f, 1.5]);
        let out = inf_replace(&col);
        let Value::Vector {
            data: Data::Float(v),
            ..
        } = out
        else {
            panic!()
        };
        assert_eq!(v[0], 3.0);
        assert_eq!(v[1], 1.5);
        assert!(v[2].is_nan(), "nulls stay null");
        assert_eq!((v[3], v[4], v[5]), (7.0, 7.0, 1.5));
    }

    #[test]
    fn long_infinities_are_replaced_and_nulls_kept() {
        let out = inf_replace(&Value::longs(&[NULL, -INF, 4, INF, 9]));
        assert_eq!(out, Value::longs(&[NULL, 4, 4, 9, 9]));
    }

    #[test]
    fn all_infinite_columns_end_up_negative_infinity() {
        // -inf pass: nothing finite, min of nothing is +inf; +inf pass: max of nothing is -inf.
        let out = inf_replace(&Value::longs(&[-INF, INF]));
        assert_eq!(out, Value::longs(&[-INF, -INF]));
        let out = inf_replace(&Value::floats(&[f64::INFINITY]));
        assert_eq!(out, Value::floats(&[f64::NEG_INFINITY]));
        let out = inf_replace(&Value::longs(&[-INF, -INF]));
        assert_eq!(out, Value::longs(&[-INF, -INF]));
    }

    #[test]
    fn dates_booleans_and_symbols_are_not_touched_by_inf_replace() {
        let dates = Value::vector(ty::DATE, Data::Int(vec![i32::MAX, 3]));
        assert_eq!(inf_replace(&dates), dates);
        let b = Value::vector(ty::BOOL, Data::Bool(vec![true]));
        assert_eq!(inf_replace(&b), b);
    }

    #[test]
    fn minute_and_real_columns_are_replaced() {
        let m = Value::vector(ty::MINUTE, Data::Int(vec![i32::MAX, 5, 2]));
        assert_eq!(
            inf_replace(&m),
            Value::vector(ty::MINUTE, Data::Int(vec![5, 5, 2]))
        );
        let r = Value::vector(ty::REAL, Data::Real(vec![f32::NEG_INFINITY, 2.5]));
        assert_eq!(
            inf_replace(&r),
            Value::vector(ty::REAL, Data::Real(vec![2.5, 2.5]))
        );
    }

    #[test]
    fn median_counts_nulls_first_as_q_med_does() {
        let n = f64::NAN;
        // sorted: 0n 0n 1 2 3 -> positions 2 and 2 -> 1
        assert_eq!(median(&[3.0, n, 1.0, n, 2.0]), 1.0);
        // sorted: 0n 1 2 3 -> positions 1 and 2 -> (1+2)/2
        assert_eq!(median(&[3.0, 1.0, n, 2.0]), 1.5);
        // sorted: 0n 0n 0n 4 -> positions 1 and 2: both null
        assert!(median(&[n, 4.0, n, n]).is_nan());
        // sorted: 0n 5 -> positions 0 and 1: the null is ignored
        assert_eq!(median(&[5.0, n]), 5.0);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn case_29_nulls_infinity_and_schema_by_hand() {
        // After replacement 0W -> 49 (largest finite); 53 items sorted: 0N 0N 0 1 .. 49 49.
        // Both middle positions are 26, which holds 24.
        let t = case29();
        assert_eq!(
            keys_and_values(&nulls(&t).unwrap()),
            vec![("x".to_string(), Value::float(24.0))]
        );
        let inf = infinity(&t).unwrap();
        let neg = inf.get("negInfReplace").unwrap();
        let pos = inf.get("posInfReplace").unwrap();
        assert_eq!(neg.get("x"), Some(Value::long(0)));
        assert_eq!(pos.get("x"), Some(Value::long(49)));
        assert_eq!(schema(&t).get("x").unwrap().as_str().unwrap(), "j");
    }

    #[test]
    fn symbol_columns_cannot_be_summarised_and_say_which_column() {
        let t = table(vec![
            ("a", Value::longs(&[1])),
            ("s", Value::symbols(&["x"])),
        ]);
        let e = nulls(&t).unwrap_err();
        assert!(e.contains("column s is a list of type 11h"), "{e}");
        assert!(infinity(&t).unwrap_err().contains("column s"));
        assert!(csi(&t, 10).unwrap_err().contains("column s"));
    }

    #[test]
    fn float_text_follows_q_string() {
        let cases = [
            (0.1, "0.1"),
            (0.1 * 3.0, "0.3"),
            (24.5, "24.5"),
            (2.0, "2"),
            (100.0, "100"),
            (1234567.0, "1234567"),
            (12345678.0, "1.234568e+07"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.25, "-2.25"),
            (i64::MAX as f64, "9.223372e+18"),
            (9999999.5, "1e+07"),
            (0.0, "0"),
        ];
        for (x, text) in cases {
            assert_eq!(q_float_string(x), text, "{x}");
        }
        assert_eq!(q_float_string(f64::INFINITY), "0w");
        assert_eq!(q_float_string(f64::NEG_INFINITY), "-0w");
        assert_eq!(q_float_string(f64::NAN), "");
    }

    #[test]
    fn bins_of_ten_values_in_five_groups_by_hand() {
        // values 1..10, g = 5, n = 0.2: percents 0.2 0.4 0.6 0.8 (as n*k in floats).
        // p*(c-1) = 1.8, 3.6, 5.4 (0.6000000000000001*9), 7.2 -> splits 2.8 4.6 6.4 8.2;
        // counts <= split: 2 4 6 8 10 -> 0.2 each.
        let xs: Vec<f64> = (1..=10).map(|i| i as f64).collect();
        let bins = bin_expected(&xs, 5);
        let keys: Vec<&str> = bins.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["2.8", "4.6", "6.4", "8.2", "0w"]);
        assert!(bins.iter().all(|(_, f)| *f == 0.2));
    }

    #[test]
    fn bins_interpolate_exactly_as_floats_do() {
        // values 0 10 20 30, g = 3, n = 1/3: positions n*3 and (n*2)*3, which round to 1 and 2.
        let n: f64 = 1.0 / 3.0;
        let xs = [30.0, 0.0, 20.0, 10.0];
        let bins = bin_expected(&xs, 3);
        let p1 = n * 3.0;
        let p2 = (n * 2.0) * 3.0;
        let s1 = 10.0 * (p1 - p1.floor()) + [0.0, 10.0, 20.0, 30.0][p1.floor() as usize];
        let s2 = 10.0 * (p2 - p2.floor()) + [0.0, 10.0, 20.0, 30.0][p2.floor() as usize];
        assert_eq!(bins[0].0, q_float_string(s1));
        assert_eq!(bins[1].0, q_float_string(s2));
        assert_eq!(bins[0].0, "10");
        assert_eq!(bins[1].0, "20");
        assert_eq!(bins[2].0, "0w");
        assert_eq!(
            bins.iter().map(|b| b.1).collect::<Vec<_>>(),
            [0.5, 0.25, 0.25]
        );
    }

    #[test]
    fn nulls_count_in_the_first_bin_but_not_in_the_percentiles() {
        // non-null 1 2 3 4, g = 2 (rows 6 capped by bins 2): split at 0.5 -> pos 1.5 -> 2.5
        let n = f64::NAN;
        let bins = bin_expected(&[4.0, n, 1.0, 3.0, n, 2.0], 2);
        assert_eq!(bins[0].0, "2.5");
        // <= 2.5: two nulls, 1 and 2 -> 4/6; the rest 2/6
        assert_eq!(bins[0].1, 4.0 / 6.0);
        assert_eq!(bins[1], ("0w".to_string(), 2.0 / 6.0));
    }

    #[test]
    fn one_bin_holds_everything_and_no_rows_give_a_null_share() {
        assert_eq!(bin_expected(&[5.0, 1.0], 1), vec![("0w".to_string(), 1.0)]);
        let none = bin_expected(&[], 0);
        assert_eq!(none.len(), 1);
        assert_eq!(none[0].0, "0w");
        assert!(none[0].1.is_nan());
    }

    #[test]
    fn repeated_values_give_repeated_keys_and_empty_bins() {
        let bins = bin_expected(&[7.0, 7.0, 7.0, 7.0], 4);
        let keys: Vec<&str> = bins.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["7", "7", "7", "0w"]);
        let shares: Vec<f64> = bins.iter().map(|b| b.1).collect();
        assert_eq!(shares, [1.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn csi_of_case_29_by_hand() {
        // 53 rows, 10 bins. Non-null values: 0..49 and 0W (9.223372e18), 51 of them, so
        // position p*50 for p = 0.1*k: 5, 10, 15.000000000000002, 20, 25, 30.000000000000004,
        // 35, 40, 45 -> splits 5 10 15 20 25 30 35 40 45 (the fractions are tiny: 15.000...2
        // interpolates to 15.000000000000002, shown as "15").
        let t = case29();
        let c = csi(&t, 10).unwrap();
        let bins = keys_and_values(&c.get("x").unwrap());
        let keys: Vec<&str> = bins.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            ["5", "10", "15", "20", "25", "30", "35", "40", "45", "0w"]
        );
        // <= 5: two nulls and 0..5 = 8; then 5 per bin; the last bin 46..49 and 0W = 5.
        let shares: Vec<f64> = bins.iter().map(|(_, v)| v.as_f64().unwrap()).collect();
        let mut want = vec![8.0 / 53.0];
        want.extend(std::iter::repeat_n(5.0 / 53.0, 9));
        assert_eq!(shares, want);
    }

    #[test]
    fn bins_are_capped_by_the_row_count() {
        let t = table(vec![("x", Value::floats(&[3.0, 1.0, 2.0]))]);
        let c = csi(&t, 10).unwrap();
        let bins = keys_and_values(&c.get("x").unwrap());
        // g = 3, n = 1/3: positions (1/3)*2 = 0.667 and (2/3)*2 = 1.333 in the sorted 1 2 3,
        // so the splits are 1.6666666666666665 and 2.333333333333333 (7 digits as keys).
        let keys: Vec<&str> = bins.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["1.666667", "2.333333", "0w"]);
    }

    #[test]
    fn psi_bins_the_predictions_with_the_rows_of_the_data() {
        let preds = Value::longs(&[0, 1, 1, 0]);
        let p = psi(&preds, 4, 2).unwrap();
        let bins = keys_and_values(&p);
        assert_eq!(bins[0].0, "0.5");
        assert_eq!(bins[0].1, Value::float(0.5));
        let bad = psi(&Value::symbols(&["a"]), 1, 10).unwrap_err();
        assert!(bad.contains("type 11h"), "{bad}");
    }

    #[test]
    fn latency_is_the_mean_and_population_deviation() {
        let l = latency(&Value::floats(&[1.0, 2.0, 3.0, 4.0])).unwrap();
        assert_eq!(l.get("avg"), Some(Value::float(2.5)));
        assert_eq!(l.get("std"), Some(Value::float(1.25f64.sqrt())));
        assert!(latency(&Value::longs(&[1])).is_err());
    }
}
