//! Metrics of a model version, logged in O(1).
//!
//! Each `log.metric` writes one new small file in `<version>/metrics/`, named
//! `metric.<level>.<timestamp>.<random>`, holding a q table with the original's columns
//! (`timestamp`, `metricName`, `metricValue`): no file whose size grows with the history is
//! ever rewritten, on disk or in a bucket (which cannot append). When a level holds
//! [`FANOUT`] files, the write that adds the last one merges them into one file of the next
//! level, so a version holds at most `FANOUT` files per level and each metric is rewritten
//! about log_FANOUT(n) times over its life. Reads never write. The original's single
//! `metrics/metric` file (with its placeholder first row) is still read, and folded into our
//! files by the next merge or delete.

use super::error::{Error, Result};
use crate::qdata::{Data, Value, file, ty};

/// How many files one level holds before they are merged into one of the next level.
pub const FANOUT: usize = 32;
/// The original's metric table file name.
pub const LEGACY: &str = "metric";

/// One logged metric.
#[derive(Clone, Debug, PartialEq)]
pub struct Metric {
    /// q timestamp, UTC.
    pub time: i64,
    pub name: String,
    pub value: Value,
}

/// The metric table as q sees it.
pub fn to_table(rows: &[Metric]) -> Value {
    Value::Table {
        columns: vec![
            "timestamp".into(),
            "metricName".into(),
            "metricValue".into(),
        ],
        data: vec![
            Value::vector(
                ty::TIMESTAMP,
                Data::Long(rows.iter().map(|m| m.time).collect()),
            ),
            Value::vector(
                ty::SYMBOL,
                Data::Symbol(rows.iter().map(|m| m.name.clone()).collect()),
            ),
            Value::List(rows.iter().map(|m| m.value.clone()).collect()),
        ],
    }
}

/// The bytes of one metric file.
pub fn encode(rows: &[Metric]) -> Vec<u8> {
    file::write(&to_table(rows))
}

/// Reads one metric file; `legacy` drops the original's placeholder row.
pub fn decode(bytes: &[u8], shown: &str, legacy: bool) -> Result<Vec<Metric>> {
    let corrupt = |why: String| Error::Corrupt {
        path: shown.to_string(),
        why,
    };
    let t = file::read(bytes).map_err(corrupt)?;
    let Value::Table { columns, data } = &t else {
        return Err(corrupt("is not a metric table".into()));
    };
    let col = |name: &str| {
        columns
            .iter()
            .position(|c| c == name)
            .map(|i| data[i].clone())
            .ok_or_else(|| corrupt(format!("is not a metric table: no {name} column")))
    };
    let times = match col("timestamp")? {
        Value::Vector {
            data: Data::Long(v),
            ..
        } => v,
        _ => return Err(corrupt("has a timestamp column of the wrong type".into())),
    };
    let names = col("metricName")?.items();
    let values = col("metricValue")?.items();
    if names.len() != times.len() || values.len() != times.len() {
        return Err(corrupt("has columns of different lengths".into()));
    }
    let mut rows: Vec<Metric> = times
        .iter()
        .zip(names)
        .zip(values)
        .map(|((t, n), v)| Metric {
            time: *t,
            name: n.as_text().unwrap_or_default(),
            value: v,
        })
        .collect();
    if legacy
        && rows
            .first()
            .is_some_and(|m| m.time == i64::MIN && m.name.is_empty())
    {
        rows.remove(0);
    }
    Ok(rows)
}

/// A metric file's name for `level`, first timestamp `time` and a random suffix.
pub fn file_name(level: u32, time: i64, random: u32) -> String {
    format!("metric.{level}.{time:020}.{random:08x}")
}

/// The level of one of our metric files; `None` for the legacy file or anything else.
pub fn level_of(name: &str) -> Option<u32> {
    let mut parts = name.split('.');
    match (parts.next(), parts.next()) {
        (Some("metric"), Some(l)) => l.parse().ok(),
        _ => None,
    }
}

/// Sorts rows from several files into logging order (by time; stable within a file), and
/// drops exact repeats (same time, name and value): a merge writes its new file before it
/// removes the files it replaces, so a reader (or a merge interrupted between the two
/// steps) can see a metric twice. Two real logs never share a nanosecond timestamp: they
/// are taken one after the other under the writers' lock.
pub fn merge(mut rows: Vec<Metric>) -> Vec<Metric> {
    rows.sort_by_key(|m| m.time);
    let mut out: Vec<Metric> = Vec::with_capacity(rows.len());
    for m in rows {
        let same_time = out.iter().rev().take_while(|o| o.time == m.time);
        if !same_time
            .into_iter()
            .any(|o| o.name == m.name && o.value == m.value)
        {
            out.push(m);
        }
    }
    out
}

/// Which of the metric files present should be merged now, and into which level: the
/// lowest level that has reached [`FANOUT`] files.
pub fn due_for_merge(names: &[String]) -> Option<(u32, Vec<String>)> {
    let mut levels: Vec<u32> = names.iter().filter_map(|n| level_of(n)).collect();
    levels.sort();
    levels.dedup();
    for l in levels {
        let at: Vec<String> = names
            .iter()
            .filter(|n| level_of(n) == Some(l))
            .cloned()
            .collect();
        if at.len() >= FANOUT {
            return Some((l + 1, at));
        }
    }
    None
}

/// Keeps rows by the `get.metric` filter: `None` keeps all, otherwise exact names.
pub fn filter(rows: Vec<Metric>, names: Option<&[String]>) -> Vec<Metric> {
    match names {
        None => rows,
        Some(keep) => rows
            .into_iter()
            .filter(|m| keep.contains(&m.name))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_sort_by_time_and_carry_their_level() {
        let a = file_name(0, 5, 1);
        let b = file_name(0, 40, 0);
        assert!(a < b);
        assert_eq!(level_of(&file_name(3, 1, 2)), Some(3));
        assert_eq!(level_of(LEGACY), None);
    }

    #[test]
    fn a_full_level_is_due_for_merging() {
        let names: Vec<String> = (0..FANOUT as i64).map(|i| file_name(0, i, 0)).collect();
        assert_eq!(due_for_merge(&names[..FANOUT - 1]), None);
        let (level, files) = due_for_merge(&names).unwrap();
        assert_eq!((level, files.len()), (1, FANOUT));
    }

    #[test]
    fn the_legacy_placeholder_row_is_dropped() {
        let rows = vec![
            Metric {
                time: i64::MIN,
                name: String::new(),
                value: Value::null(),
            },
            Metric {
                time: 1,
                name: "a".into(),
                value: Value::float(0.5),
            },
        ];
        let got = decode(&encode(&rows), "m", true).unwrap();
        assert_eq!(got, rows[1..].to_vec());
    }

    #[test]
    fn a_metric_seen_in_two_files_is_returned_once() {
        let a = Metric {
            time: 5,
            name: "acc".into(),
            value: Value::float(0.5),
        };
        let b = Metric {
            time: 5,
            name: "acc".into(),
            value: Value::float(0.7),
        };
        let got = merge(vec![a.clone(), b.clone(), a.clone()]);
        assert_eq!(got, vec![a, b]);
    }
}
