//! The q scripts against the library's manifest: every public function the manifest lists
//! is defined in q with its number of parameters and calls the export it names, bound with
//! the right arity; and q defines and binds nothing the manifest does not list.

use crate::*;
use mlregistry::qdata::Value;
use std::collections::BTreeMap;

/// (public name → (parameter count, body)) and (binding name → (export, arity)).
struct QLayer {
    public: BTreeMap<String, (usize, String)>,
    bindings: BTreeMap<String, (String, usize)>,
}

fn q_sources() -> Vec<(String, String)> {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut files = vec![format!("{root}/init.q")];
    let mut qs: Vec<String> = std::fs::read_dir(format!("{root}/q"))
        .unwrap()
        .map(|e| e.unwrap().path().to_string_lossy().into_owned())
        .filter(|p| p.ends_with(".q"))
        .collect();
    qs.sort();
    files.extend(qs);
    files
        .into_iter()
        .map(|f| (f.clone(), std::fs::read_to_string(&f).unwrap()))
        .collect()
}

const VERBS: [&str; 7] = ["new", "set", "log", "get", "query", "update", "delete"];

fn parse() -> QLayer {
    let mut public = BTreeMap::new();
    let mut bindings = BTreeMap::new();
    for (_, text) in q_sources() {
        // Top-level definitions start in column 0; continuation lines are indented.
        let mut defs: Vec<String> = vec![];
        for line in text.lines() {
            if line.starts_with(".ml.registry.") {
                defs.push(line.to_string());
            } else if line.starts_with(' ') {
                if let Some(last) = defs.last_mut() {
                    last.push('\n');
                    last.push_str(line);
                }
            }
        }
        for def in defs {
            let (name, body) = def.split_once(':').unwrap();
            let name = name.trim_start_matches(".ml.registry.");
            if let Some(b) = name.strip_prefix("i.") {
                if let Some(rest) = body.strip_prefix(".ml.registry.i.lib[`") {
                    let (export, n) = rest.trim_end_matches(']').split_once(';').unwrap();
                    bindings.insert(b.to_string(), (export.to_string(), n.parse().unwrap()));
                }
                continue;
            }
            let verb = name.split('.').next().unwrap();
            if !VERBS.contains(&verb) {
                continue;
            }
            let params = body
                .strip_prefix("{[")
                .and_then(|r| r.split_once(']'))
                .map(|(p, _)| p.split(';').filter(|x| !x.is_empty()).count())
                .unwrap_or_else(|| panic!("{name} is not a lambda with named parameters"));
            public.insert(name.to_string(), (params, body.to_string()));
        }
    }
    QLayer { public, bindings }
}

fn manifest() -> Vec<(String, usize, String, usize)> {
    let ext = k::ext();
    let t = ext.call("mlr_manifest", &[null()]).unwrap();
    let f = column(&t, "function").items();
    let p = column(&t, "params").items();
    let e = column(&t, "export").items();
    let a = column(&t, "arity").items();
    (0..f.len())
        .map(|i| {
            (
                f[i].as_symbol().unwrap().to_string(),
                p[i].as_integer().unwrap() as usize,
                e[i].as_symbol().unwrap().to_string(),
                a[i].as_integer().unwrap() as usize,
            )
        })
        .collect()
}

#[test]
fn every_manifest_function_is_defined_and_bound_in_q() {
    let q = parse();
    let m = manifest();
    assert!(m.len() >= 19, "manifest has {} functions", m.len());
    for (function, params, export, arity) in &m {
        let (n, body) = q
            .public
            .get(function)
            .unwrap_or_else(|| panic!("q defines no {function}"));
        assert_eq!(
            n, params,
            "{function} has {n} parameters in q, {params} in the manifest"
        );
        let binding = q
            .bindings
            .iter()
            .find(|(_, (e, _))| e == export)
            .unwrap_or_else(|| panic!("q binds no {export}"));
        assert_eq!(
            binding.1.1, *arity,
            "{export} is bound with the wrong arity"
        );
        let call = format!(".ml.registry.i.{}[", binding.0);
        assert!(body.contains(&call), "{function} does not call {call}");
    }
}

#[test]
fn q_defines_and_binds_nothing_the_manifest_lacks() {
    let q = parse();
    let m = manifest();
    for name in q.public.keys() {
        assert!(
            m.iter().any(|(f, ..)| f == name),
            "q defines {name}, not in the manifest"
        );
    }
    let ext = k::ext();
    for (b, (export, arity)) in &q.bindings {
        let internal = mlregistry::api::EXPORTS
            .iter()
            .any(|e| e.public.is_empty() && e.symbol == export && e.arity == *arity);
        let known = internal || m.iter().any(|(_, _, e, a)| e == export && a == arity);
        assert!(
            known,
            "q binding {b} names {export} ({arity}), not in the manifest"
        );
    }
    let _ = ext;
    let _ = Value::null();
}
