//! Finding the one model version a call means, from experimentName / modelName / version.
//!
//! Names are q `like` patterns, as in the original. Unlike the original, the experiment filter
//! applies before "latest" and "highest" are chosen, a version without a model name is an
//! error, and a name matching models in several experiments is an error naming them.

use super::error::{Error, Result};
use super::layout::{VersionKey, version_name};
use super::names::like;
use super::store::Row;

/// What a lookup asks for; `None` means q's `::`.
#[derive(Clone, Debug, Default)]
pub struct Query {
    pub experiment: Option<String>,
    pub model: Option<String>,
    pub version: Option<(i64, i64)>,
}

impl Query {
    fn describe(&self) -> String {
        let mut parts = vec![];
        match &self.model {
            Some(m) => parts.push(format!("modelName {m:?}")),
            None => parts.push("the latest model".to_string()),
        }
        if let Some(v) = self.version {
            parts.push(format!("version {}", version_name(v)));
        }
        if let Some(e) = &self.experiment {
            parts.push(format!("experimentName {e:?}"));
        }
        parts.join(", ")
    }
}

/// The row a lookup resolves to. A row whose names would put its files outside the
/// registry folder (a modelStore edited by hand or by another tool) is refused.
pub fn find<'a>(rows: &'a [Row], q: &Query) -> Result<&'a Row> {
    let row = select(rows, q)?;
    if !super::names::stored_path_is_safe(&row.experiment, &row.model) {
        return Err(Error::Corrupt {
            path: "the modelStore".into(),
            why: format!(
                "holds a row (experiment {:?}, model {:?}) whose files would lie outside the \
                 registry folder; refusing to use it",
                row.experiment, row.model
            ),
        });
    }
    Ok(row)
}

fn select<'a>(rows: &'a [Row], q: &Query) -> Result<&'a Row> {
    if q.model.is_none() && q.version.is_some() {
        return Err(Error::arg(
            "version",
            "::, since a version can only be chosen together with a modelName",
        ));
    }
    let in_experiment: Vec<&Row> = rows
        .iter()
        .filter(|r| q.experiment.as_ref().is_none_or(|e| like(&r.experiment, e)))
        .collect();
    let none = || Error::NotFound(format!("no model in the registry matches {}", q.describe()));
    let Some(pattern) = &q.model else {
        // The latest registration wins; on a tie the later row.
        return in_experiment
            .iter()
            .copied()
            .max_by_key(|r| r.registration_time)
            .ok_or_else(none);
    };
    let named: Vec<&Row> = in_experiment
        .into_iter()
        .filter(|r| like(&r.model, pattern))
        .collect();
    let chosen: Vec<&Row> = match q.version {
        Some(v) => named.into_iter().filter(|r| r.version == v).collect(),
        None => {
            let Some(top) = named.iter().map(|r| r.version).max() else {
                return Err(none());
            };
            named.into_iter().filter(|r| r.version == top).collect()
        }
    };
    let first = *chosen.first().ok_or_else(none)?;
    let mut places: Vec<String> = chosen
        .iter()
        .map(|r| format!("{}/{}", r.experiment, r.model))
        .collect();
    places.sort();
    places.dedup();
    if places.len() > 1 {
        return Err(Error::Conflict(format!(
            "{} matches more than one model ({}); give the experimentName (and an exact \
             modelName) to choose one",
            q.describe(),
            places.join(", ")
        )));
    }
    Ok(first)
}

/// Every row of the model a lookup resolved to (all its versions).
pub fn versions_of<'a>(rows: &'a [Row], key: &VersionKey) -> Vec<&'a Row> {
    rows.iter()
        .filter(|r| r.experiment == key.experiment && r.model == key.model)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(exp: &str, m: &str, v: (i64, i64), t: i64) -> Row {
        Row {
            registration_time: t,
            experiment: exp.into(),
            model: m.into(),
            unique_id: [t as u8; 16],
            model_type: "q".into(),
            version: v,
            description: String::new(),
        }
    }

    fn q(e: Option<&str>, m: Option<&str>, v: Option<(i64, i64)>) -> Query {
        Query {
            experiment: e.map(Into::into),
            model: m.map(Into::into),
            version: v,
        }
    }

    #[test]
    fn latest_and_highest_differ() {
        let rows = vec![
            row("undefined", "m", (1, 0), 1),
            row("undefined", "m", (2, 0), 2),
            row("undefined", "m", (1, 1), 3),
        ];
        assert_eq!(find(&rows, &q(None, None, None)).unwrap().version, (1, 1));
        assert_eq!(
            find(&rows, &q(None, Some("m"), None)).unwrap().version,
            (2, 0)
        );
    }

    #[test]
    fn the_experiment_filter_applies_before_latest() {
        let rows = vec![row("A", "x", (1, 0), 1), row("B", "y", (1, 0), 2)];
        assert_eq!(find(&rows, &q(Some("A"), None, None)).unwrap().model, "x");
    }

    #[test]
    fn a_name_in_two_experiments_is_ambiguous() {
        let rows = vec![row("A", "m", (1, 0), 1), row("B", "m", (1, 0), 2)];
        let e = find(&rows, &q(None, Some("m"), None)).unwrap_err();
        assert!(e.to_string().contains("A/m, B/m"), "{e}");
        assert_eq!(
            find(&rows, &q(Some("B"), Some("m"), None))
                .unwrap()
                .experiment,
            "B"
        );
    }

    #[test]
    fn a_version_without_a_name_is_refused() {
        let rows = vec![row("A", "m", (1, 0), 1)];
        assert!(find(&rows, &q(None, None, Some((1, 0)))).is_err());
    }

    #[test]
    fn rows_that_would_leave_the_registry_are_refused() {
        let rows = vec![row("undefined", "../../victim", (1, 0), 1)];
        let e = find(&rows, &q(None, Some("*"), None)).unwrap_err();
        assert!(e.to_string().contains("outside the registry"), "{e}");
    }
}
