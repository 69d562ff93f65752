//! Drives the built extension the way q does (see `k.rs`), one behaviour per test.

mod bad_inputs;
mod cloud;
mod concurrency;
mod hardening;
mod k;
mod local_api;
mod monitoring;
mod python_bridge;
mod python_models;
mod q_layer;
mod reference_cases;
mod walkthrough;

use mlregistry::qdata::{Data, Value};
use std::path::PathBuf;

/// A fresh folder for one test, removed when the test ends.
pub struct Scratch {
    pub dir: PathBuf,
}

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("mlr-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch { dir }
    }

    pub fn path(&self) -> String {
        self.dir.to_string_lossy().into_owned()
    }

    pub fn join(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// q's `::`.
pub fn null() -> Value {
    Value::null()
}

pub fn s(text: &str) -> Value {
    Value::string(text)
}

pub fn sym(text: &str) -> Value {
    Value::symbol(text)
}

pub fn ver(a: i64, b: i64) -> Value {
    Value::longs(&[a, b])
}

/// `` enlist[`local]!enlist"." ``: what `.ml.registry.location` holds by default.
pub fn default_location() -> Value {
    Value::dict_general(vec![("local", s("."))])
}

/// A q model as the host can build one: a dictionary with a `predict` key.
pub fn qmodel(tag: &str) -> Value {
    Value::dict_general(vec![
        ("predict", sym(tag)),
        ("kind", s("stand-in for a lambda")),
    ])
}

/// `` `a`b!(x;y) `` with symbol keys.
pub fn dict(entries: Vec<(&str, Value)>) -> Value {
    Value::dict_general(entries)
}

/// One registry at a scratch folder (or at a cloud location), with the extension loaded.
pub struct Reg {
    pub ext: k::Ext,
    pub scratch: Scratch,
    /// A cloud location used as folderPath instead of the scratch folder.
    pub at: Option<String>,
}

impl Reg {
    pub fn new(tag: &str) -> Reg {
        let ext = k::ext();
        env_quiet::set();
        Reg {
            ext,
            scratch: Scratch::new(tag),
            at: None,
        }
    }

    /// A registry at a cloud location (the caller has set the environment up).
    pub fn at(tag: &str, location: &str) -> Reg {
        Reg {
            ext: k::ext(),
            scratch: Scratch::new(tag),
            at: Some(location.to_string()),
        }
    }

    pub fn folder(&self) -> Value {
        match &self.at {
            Some(loc) => s(loc),
            None => s(&self.scratch.path()),
        }
    }

    /// Calls `name` with `.ml.registry.location` first, as the q wrappers do.
    pub fn call(&self, name: &str, args: &[Value]) -> k::Outcome {
        let mut all = vec![default_location()];
        all.extend_from_slice(args);
        self.ext.call(name, &all)
    }

    pub fn ok(&self, name: &str, args: &[Value]) -> Value {
        self.call(name, args)
            .unwrap_or_else(|e| panic!("{name} failed: {e}"))
    }

    pub fn err(&self, name: &str, args: &[Value]) -> String {
        match self.call(name, args) {
            Ok(v) => panic!("{name} should have failed, gave {v:?}"),
            Err(e) => e,
        }
    }

    pub fn new_registry(&self) -> Value {
        self.ok("mlr_new_registry", &[self.folder(), null()])
    }

    /// set.model with a q model; gives the guid.
    pub fn set(&self, exp: Value, name: &str, cfg: Value) -> Value {
        self.set_model(exp, qmodel(name), name, cfg).unwrap()
    }

    pub fn set_model(&self, exp: Value, model: Value, name: &str, cfg: Value) -> k::Outcome {
        let r = self.call(
            "mlr_set_model",
            &[self.folder(), exp, model, s(name), s("q"), cfg, null()],
        )?;
        Ok(r.get("result").unwrap())
    }

    /// log.metric on the highest version of `model`.
    pub fn log_metric(&self, model: &str, name: &str, value: Value) {
        let a = [self.folder(), null(), s(model), null(), sym(name), value];
        self.ok("mlr_log_metric", &a);
    }

    /// Every metric of the highest version of `model`.
    pub fn metrics(&self, model: &str) -> Value {
        self.ok(
            "mlr_get_metric",
            &[self.folder(), null(), s(model), null(), null()],
        )
    }

    pub fn store(&self) -> Value {
        self.ok("mlr_get_model_store", &[self.folder(), null()])
            .get("result")
            .unwrap()
    }

    /// The (experiment, model, version) of each modelStore row.
    pub fn rows(&self) -> Vec<(String, String, (i64, i64))> {
        rows_of(&self.store())
    }
}

pub fn rows_of(t: &Value) -> Vec<(String, String, (i64, i64))> {
    let col = |name: &str| match t {
        Value::Table { columns, data } => {
            data[columns.iter().position(|c| c == name).unwrap()].items()
        }
        _ => panic!("not a table: {t:?}"),
    };
    let e = col("experimentName");
    let m = col("modelName");
    let v = col("version");
    (0..e.len())
        .map(|i| {
            let pair = match &v[i] {
                Value::Vector {
                    data: Data::Long(x),
                    ..
                } => (x[0], x[1]),
                other => panic!("version {other:?}"),
            };
            (e[i].as_str().unwrap(), m[i].as_str().unwrap(), pair)
        })
        .collect()
}

pub fn column(t: &Value, name: &str) -> Value {
    match t {
        Value::Table { columns, data } => {
            data[columns.iter().position(|c| c == name).unwrap()].clone()
        }
        _ => panic!("not a table"),
    }
}

pub fn is_type(v: &Value, t: i8) -> bool {
    v.q_type() == t
}

mod env_quiet {
    pub fn set() {
        // Info lines would drown the test output; the walkthrough turns them back on.
        if std::env::var_os("MLREGISTRY_VERBOSE").is_none() {
            unsafe { std::env::set_var("MLREGISTRY_QUIET", "1") };
        }
    }
}
