//! What the q session's Python bridge reports about its interpreter: the value of
//! `.ml.registry.i.env[modelType]` (q/python.q), `::` when no bridge is loaded. It feeds the
//! Python fields of `.version.info` and `requirements:1b` (`pip freeze`).

use super::args::wrong;
use crate::qdata::Value;
use crate::registry::error::{Error, Result};

/// Model types whose library version `.version.info` records.
const WITH_LIBRARY: [&str; 5] = ["sklearn", "keras", "torch", "xgboost", "pyspark"];

/// The facts of one Python interpreter.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PythonEnv {
    /// `sys.version`.
    pub version: Option<String>,
    /// `__version__` of the model type's library, when importable.
    pub library_version: Option<String>,
    /// `sys.executable`, `sys.prefix` and `sys.base_prefix`.
    pub executable: String,
    pub prefix: String,
    pub base_prefix: String,
    /// `pip freeze` lines (reported only inside a virtualenv).
    pub freeze: Option<Vec<String>>,
}

fn text(env: &Value, key: &str) -> Option<String> {
    env.get(key).and_then(|v| v.as_text())
}

/// Reads the bridge's report; `None` for `::` (no bridge).
pub fn read(env: &Value) -> Result<Option<PythonEnv>> {
    if env.is_null() {
        return Ok(None);
    }
    if !env.is_dict() {
        return Err(wrong(
            "env",
            ":: or the dictionary .ml.registry.i.env gives",
            env,
        ));
    }
    let freeze = match env.get("pip_freeze") {
        None => None,
        Some(v) if super::args::is_empty_list(&v) => Some(vec![]),
        Some(v) => Some(
            super::args::texts(&v)
                .ok_or_else(|| wrong("env`pip_freeze", "a list of strings", &v))?,
        ),
    };
    Ok(Some(PythonEnv {
        version: text(env, "python_version"),
        library_version: text(env, "python_library_version"),
        executable: text(env, "executable").unwrap_or_default(),
        prefix: text(env, "prefix").unwrap_or_default(),
        base_prefix: text(env, "base_prefix").unwrap_or_default(),
        freeze,
    }))
}

impl PythonEnv {
    /// Inside a virtualenv (`sys.prefix` differs from `sys.base_prefix`)?
    pub fn in_virtualenv(&self) -> bool {
        self.prefix != self.base_prefix
    }
}

/// The Python fields of `.version.info` for a model type: `python_version` for every type
/// but `q`, and `python_library_version` for the types with a library.
pub fn version_fields(env: Option<&PythonEnv>, model_type: &str) -> Vec<(String, Value)> {
    let Some(env) = env.filter(|_| model_type != "q") else {
        return vec![];
    };
    let mut out = vec![];
    if let Some(v) = &env.version {
        out.push(("python_version".to_string(), Value::string(v)));
    }
    if let Some(v) = env.library_version.as_ref()
        && WITH_LIBRARY.contains(&model_type)
    {
        out.push(("python_library_version".to_string(), Value::string(v)));
    }
    out
}

/// The `requirements.txt` of `requirements:1b`: `pip freeze` of the bridge's virtualenv.
pub fn freeze_file(arg: &str, env: Option<&PythonEnv>) -> Result<Vec<u8>> {
    let Some(env) = env else {
        return Err(Error::arg(
            arg,
            "0b, a path or a list of strings: 1b (pip freeze) needs a Python bridge \
             (PyKX or embedPy) loaded in this q session",
        ));
    };
    let lines = match &env.freeze {
        Some(lines) if env.in_virtualenv() => lines,
        _ => {
            return Err(Error::arg(
                arg,
                format!(
                    "1b only inside a virtualenv (pip freeze of the environment the model \
                     needs), but the Python of this q session ({}, prefix {}) is not in \
                     one: start q from an activated virtualenv, or give the requirements \
                     as a list of strings or a file",
                    env.executable, env.prefix
                ),
            ));
        }
    };
    let mut text = lines.join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    Ok(text.into_bytes())
}
