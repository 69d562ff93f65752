//! Names that become parts of paths are validated here, once, where they enter; and q's
//! `like` patterns, which lookups keep for compatibility.

use super::error::{Error, Result};

/// The experiment name stored for models that belong to no experiment.
pub const UNNAMED: &str = "undefined";

fn check_common(arg: &str, name: &str) -> Result<()> {
    let bad = |why: &str| {
        Err(Error::arg(
            arg,
            format!("a usable name, but {name:?} {why}"),
        ))
    };
    if name.is_empty() {
        return Err(Error::arg(arg, "a non-empty name"));
    }
    if name.chars().any(|c| c.is_control()) {
        return bad("contains a control character");
    }
    if name.chars().any(|c| matches!(c, '*' | '?' | '[' | ']')) {
        return bad("contains one of the q pattern characters * ? [ ]");
    }
    if name.contains('\\') {
        return bad("contains a backslash");
    }
    if name.starts_with('/') || name.ends_with('/') {
        return bad("starts or ends with /");
    }
    if name
        .split('/')
        .any(|seg| seg.is_empty() || seg == "." || seg == "..")
    {
        return bad("has an empty, . or .. path segment");
    }
    Ok(())
}

/// A model, parameter, code-file or key name: one path segment.
pub fn check_segment(arg: &str, name: &str) -> Result<()> {
    check_common(arg, name)?;
    if name.contains('/') {
        return Err(Error::arg(arg, format!("a name without '/', got {name:?}")));
    }
    Ok(())
}

/// An experiment name: segments joined by `/` (sub-experiments), never `undefined`.
pub fn check_experiment(arg: &str, name: &str) -> Result<()> {
    check_common(arg, name)?;
    if name == UNNAMED {
        return Err(Error::arg(
            arg,
            "an experiment name other than \"undefined\"",
        ));
    }
    Ok(())
}

/// Names read back from a modelStore (possibly written by another tool) are used only if
/// they keep their files inside the registry: no empty, `.` or `..` segments, no absolute
/// path, no backslash or control character. Pattern characters are allowed (the original
/// never refused them).
pub fn stored_path_is_safe(experiment: &str, model: &str) -> bool {
    let safe = |s: &str| {
        !s.is_empty()
            && !s.contains('\\')
            && !s.chars().any(char::is_control)
            && s.split('/')
                .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
    };
    safe(experiment) && safe(model) && !model.contains('/')
}

/// q's `like`: `*` any run, `?` any one character, `[abc]`, `[a-z]` and `[^abc]` classes.
pub fn like(text: &str, pattern: &str) -> bool {
    let t: Vec<char> = text.chars().collect();
    let p: Vec<char> = pattern.chars().collect();
    like_at(&t, &p)
}

fn like_at(t: &[char], p: &[char]) -> bool {
    // Iterative glob with single-star backtracking.
    let (mut ti, mut pi) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi, ti));
                    pi += 1;
                    continue;
                }
                '?' => {
                    ti += 1;
                    pi += 1;
                    continue;
                }
                '[' => {
                    if let Some((matched, next)) = class(&p[pi..], t[ti]) {
                        if matched {
                            ti += 1;
                            pi += next;
                            continue;
                        }
                    } else if t[ti] == '[' {
                        ti += 1;
                        pi += 1;
                        continue;
                    }
                }
                c if c == t[ti] => {
                    ti += 1;
                    pi += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, st)) => {
                pi = sp + 1;
                ti = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Matches `c` against the class at the start of `p`; gives (matched, class length).
fn class(p: &[char], c: char) -> Option<(bool, usize)> {
    let end = p.iter().skip(1).position(|x| *x == ']')? + 1;
    let body = &p[1..end];
    let (neg, body) = match body.first() {
        Some('^') => (true, &body[1..]),
        _ => (false, body),
    };
    let mut hit = false;
    let mut i = 0;
    while i < body.len() {
        if i + 2 < body.len() && body[i + 1] == '-' {
            hit |= body[i] <= c && c <= body[i + 2];
            i += 3;
        } else {
            hit |= body[i] == c;
            i += 1;
        }
    }
    Some((hit != neg, end + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_follows_q_patterns() {
        assert!(like("mymodel", "mymodel"));
        assert!(!like("mymodel2", "mymodel"));
        assert!(like("AB", "A*"));
        assert!(like("exp1", "exp?"));
        assert!(like("exp1", "exp[0-9]"));
        assert!(!like("expa", "exp[0-9]"));
        assert!(like("expa", "exp[^0-9]"));
        assert!(like("a/b/c", "*b*"));
        assert!(!like("", "?"));
    }

    #[test]
    fn names_that_escape_their_folder_are_refused() {
        for bad in ["", "..", "a/../b", "/abs", "a/", "m*", "a\nb", "x\\y"] {
            assert!(check_experiment("experimentName", bad).is_err(), "{bad:?}");
        }
        assert!(check_segment("modelName", "a/b").is_err());
        assert!(check_experiment("experimentName", "exp1/sub").is_ok());
        assert!(check_experiment("experimentName", "undefined").is_err());
    }
}
