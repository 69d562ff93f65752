//! Choosing the version a new model gets (`major`, `majorVersion`, explicit `version`).

use super::error::{Error, Result};
use super::store::Row;

/// The largest major or minor version (q's largest int).
pub const LIMIT: i64 = i32::MAX as i64;

/// How `set.model`'s config asks for a version.
#[derive(Clone, Debug, PartialEq)]
pub enum Rule {
    /// `version`: exactly this one (it may exist already).
    Exact((i64, i64)),
    /// The next version: `major` for a new major, `majorVersion` for the next minor of one major.
    Next {
        major: bool,
        major_version: Option<i64>,
    },
}

/// The version to store under, given the rows of the same experiment and model name.
pub fn next(rows: &[&Row], rule: &Rule) -> Result<(i64, i64)> {
    let (major, major_version) = match rule {
        Rule::Exact(v) => return Ok(*v),
        Rule::Next {
            major,
            major_version,
        } => (*major, *major_version),
    };
    if major && major_version.is_some() {
        return Err(Error::arg(
            "config",
            "either major:1b or majorVersion, not both (they contradict each other)",
        ));
    }
    let current = rows
        .iter()
        .map(|r| r.version)
        .filter(|v| major_version.is_none_or(|m| v.0 == m))
        .max();
    let overflow = || {
        Error::Conflict("the next version would pass 2147483647; give a version explicitly".into())
    };
    Ok(match (current, major_version) {
        (None, Some(m)) => {
            return Err(Error::NotFound(format!(
                "majorVersion {m}: this model has no version {m}.x to add a minor version to"
            )));
        }
        (None, None) => (1, 0),
        (Some((m, _)), _) if major => (
            m.checked_add(1)
                .filter(|m| *m <= LIMIT)
                .ok_or_else(overflow)?,
            0,
        ),
        (Some((m, n)), _) => (
            m,
            n.checked_add(1)
                .filter(|n| *n <= LIMIT)
                .ok_or_else(overflow)?,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(vs: &[(i64, i64)]) -> Vec<Row> {
        vs.iter()
            .map(|v| Row {
                registration_time: 0,
                experiment: "undefined".into(),
                model: "m".into(),
                unique_id: [0; 16],
                model_type: "q".into(),
                version: *v,
                description: String::new(),
            })
            .collect()
    }

    fn go(vs: &[(i64, i64)], rule: Rule) -> Result<(i64, i64)> {
        let r = rows(vs);
        let refs: Vec<&Row> = r.iter().collect();
        next(&refs, &rule)
    }

    #[test]
    fn the_reference_sequence() {
        let plain = Rule::Next {
            major: false,
            major_version: None,
        };
        let major = Rule::Next {
            major: true,
            major_version: None,
        };
        assert_eq!(go(&[], plain.clone()).unwrap(), (1, 0));
        assert_eq!(go(&[], major.clone()).unwrap(), (1, 0));
        assert_eq!(go(&[(1, 0), (1, 1)], plain.clone()).unwrap(), (1, 2));
        assert_eq!(go(&[(1, 0), (1, 2)], major).unwrap(), (2, 0));
        let all = [(1, 0), (1, 1), (1, 2), (2, 0), (2, 1)];
        let mv1 = Rule::Next {
            major: false,
            major_version: Some(1),
        };
        assert_eq!(go(&all, mv1).unwrap(), (1, 3));
        assert!(
            go(
                &all,
                Rule::Next {
                    major: false,
                    major_version: Some(5)
                }
            )
            .is_err()
        );
        assert!(
            go(
                &all,
                Rule::Next {
                    major: true,
                    major_version: Some(1)
                }
            )
            .is_err()
        );
    }
}
