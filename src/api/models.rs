//! `set.model` and `get.model`: reading the model argument and its config, and shaping what
//! `get.model` gives back for the q wrapper to finish (code loading, Python models).

use super::args::{self, config, opt_text, wrong};
use super::{model_files, open, python_env, query, session, store_result};
use crate::qdata::{Value, file, ty};
use crate::registry::error::{Error, Result};
use crate::registry::versions::Rule;
use crate::registry::{NewModel, info, names};
use std::path::Path;

/// The model types the registry stores, with the file name each is kept under in `model/`.
pub const MODEL_TYPES: [(&str, &str); 7] = [
    ("q", "mdl"),
    ("python", "mdl.pkl"),
    ("sklearn", "mdl.pkl"),
    ("xgboost", "mdl.pkl"),
    ("keras", "mdl.h5"),
    ("torch", "mdl.pt"),
    ("pyspark", "mdl.model"),
];

fn type_names() -> String {
    MODEL_TYPES
        .iter()
        .map(|(t, _)| format!("{t:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The file name a model type is stored under.
pub fn model_file(model_type: &str) -> &'static str {
    MODEL_TYPES
        .iter()
        .find(|(t, _)| *t == model_type)
        .map(|(_, f)| *f)
        .unwrap_or("mdl.pkl")
}

fn model_type(v: &Value) -> Result<String> {
    let t = v.as_text().ok_or_else(|| {
        wrong(
            "modelType",
            &format!("one of {} as a string", type_names()),
            v,
        )
    })?;
    if MODEL_TYPES.iter().any(|(n, _)| *n == t) {
        Ok(t)
    } else {
        Err(Error::arg(
            "modelType",
            format!("one of {}; got {t:?}", type_names()),
        ))
    }
}

/// Is this in-process q value a q model (a function, or a dictionary with `predict`)?
pub fn is_q_model(v: &Value) -> bool {
    match v {
        Value::Raw(b) => matches!(b.first(), Some(100 | 104 | 105 | 106..=111)),
        Value::Dict { .. } => v.get("predict").is_some(),
        _ => false,
    }
}

/// A model given by file path: a string, a symbol or an hsym.
fn model_path(v: &Value) -> Option<String> {
    match v {
        Value::Vector { ty: ty::CHAR, .. } | Value::Atom { ty: ty::SYMBOL, .. } => args::path(v),
        Value::Vector { ty: ty::SYMBOL, .. } => {
            let parts = args::texts(v)?;
            let joined = parts.join("/");
            Some(joined.trim_start_matches(':').to_string())
        }
        _ => None,
    }
}

/// A dictionary whose every value is a file path: a keyed model given by files.
fn keyed_paths(model: &Value) -> Option<Vec<(String, String)>> {
    let entries = model.dict_entries().filter(|e| !e.is_empty())?;
    entries
        .into_iter()
        .map(|(k, v)| model_path(&v).map(|p| (k, p)))
        .collect()
}

/// The files of the model itself (relative to the version folder) and, for a keyed model,
/// its keys.
fn model_files(model: &Value, mtype: &str) -> Result<(Vec<(String, Vec<u8>)>, Vec<String>)> {
    let name = model_file(mtype);
    if let Some(path) = model_path(model) {
        let files = model_files::read("model", &path, mtype, &format!("model/{name}"))?;
        return Ok((files, vec![]));
    }
    let single_q = mtype == "q" && (is_q_model(model) || model.get("modelInfo").is_some());
    if single_q {
        return Ok((vec![(format!("model/{name}"), file::write(model))], vec![]));
    }
    if let Some(paths) = keyed_paths(model) {
        let mut files = vec![];
        let mut keys = vec![];
        for (k, path) in paths {
            check_key(&k)?;
            let (arg, target) = (format!("model`{k}"), format!("model/{k}/{name}"));
            files.extend(model_files::read(&arg, &path, mtype, &target)?);
            keys.push(k);
        }
        return Ok((files, keys));
    }
    if mtype != "q" {
        return Err(Error::arg(
            "model",
            format!(
                "a file path (or a dictionary of them) for modelType {mtype:?} (a Python \
                 model object is saved to a file by the q session's Python bridge, PyKX or \
                 embedPy); got {}",
                args::describe(model)
            ),
        ));
    }
    // A dictionary of q models: one sub-model per key.
    let Some(entries) = model.dict_entries().filter(|e| !e.is_empty()) else {
        return Err(wrong(
            "model",
            "a q model: a function, a dictionary with a predict key, a dictionary of such \
             models with symbol keys, or a file path",
            model,
        ));
    };
    let mut files = vec![];
    let mut keys = vec![];
    for (k, sub) in entries {
        check_key(&k)?;
        if !is_q_model(&sub) {
            return Err(wrong(
                &format!("model`{k}"),
                "a q model: a function or a dictionary with a predict key",
                &sub,
            ));
        }
        files.push((format!("model/{k}/{name}"), file::write(&sub)));
        keys.push(k);
    }
    Ok((files, keys))
}

/// A key of a keyed model names folders under `model/` and `config/`: one path segment,
/// and not the name of the single-model info file.
fn check_key(k: &str) -> Result<()> {
    names::check_segment("model (dictionary key)", k)?;
    if k.ends_with(".json") {
        return Err(Error::arg(
            "model (dictionary key)",
            format!("a key that does not end in .json; got `{k}"),
        ));
    }
    Ok(())
}

/// `requirements` (of `set.model` and `update.requirements`, `arg` naming it in errors):
/// the file to write and the value recorded in modelInfo.json. `1b` is `pip freeze` of the
/// virtualenv the q session's Python bridge reports in `env` (`.ml.registry.i.env`; `::`
/// without a bridge).
pub fn requirements(arg: &str, v: &Value, env: &Value) -> Result<(Option<Vec<u8>>, Value)> {
    const EXPECTED: &str = "0b, 1b (pip freeze), a file path as a symbol, or a list of strings";
    if let Some(b) = v.as_bool() {
        if b {
            let env = python_env::read(env)?;
            let text = python_env::freeze_file(arg, env.as_ref())?;
            return Ok((Some(text), Value::boolean(true)));
        }
        return Ok((None, Value::boolean(false)));
    }
    if let Value::Atom { ty: ty::SYMBOL, .. } = v {
        let path = args::path(v).ok_or_else(|| wrong(arg, EXPECTED, v))?;
        let bytes = std::fs::read(&path)
            .map_err(|e| Error::arg(arg, format!("a readable requirements file; {path}: {e}")))?;
        return Ok((Some(bytes), Value::string(&path)));
    }
    if let Value::List(items) = v {
        let lines: Option<Vec<String>> = items.iter().map(Value::as_str).collect();
        let lines = lines.ok_or_else(|| wrong(arg, EXPECTED, v))?;
        let mut text = lines.join("\n");
        text.push('\n');
        return Ok((Some(text.into_bytes()), v.clone()));
    }
    Err(wrong(arg, EXPECTED, v))
}

/// `code`: the files to copy into `code/` (only `.q`, `.p` and `.py`).
fn code_files(v: &Value) -> Result<Vec<(String, Vec<u8>)>> {
    let paths: Vec<String> = match v {
        Value::Atom { ty: ty::SYMBOL, .. } | Value::Vector { ty: ty::CHAR, .. } => {
            args::path(v).into_iter().collect()
        }
        Value::Vector { ty: ty::SYMBOL, .. } | Value::List(_) => args::texts(v)
            .ok_or_else(|| wrong("config`code", "file paths as symbols or strings", v))?
            .into_iter()
            .map(|p| p.trim_start_matches(':').to_string())
            .collect(),
        _ => return Err(wrong("config`code", "file paths as symbols or strings", v)),
    };
    let mut out = vec![];
    for p in paths {
        let base = Path::new(&p)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned());
        let base = base.unwrap_or_default();
        if ![".q", ".p", ".py"].iter().any(|ext| base.ends_with(ext)) {
            return Err(Error::arg(
                "config`code",
                format!(".q, .p or .py files; got {p}"),
            ));
        }
        names::check_segment("config`code", &base)?;
        let bytes = std::fs::read(&p)
            .map_err(|e| Error::arg("config`code", format!("readable files; {p}: {e}")))?;
        out.push((format!("code/{base}"), bytes));
    }
    Ok(out)
}

/// `set.model[folderPath;experimentName;model;modelName;modelType;config]`, plus the
/// wrapper's Python environment (`::` without a bridge).
pub fn set_model(a: &[Value]) -> Result<Value> {
    let experiment = set_experiment(&a[2])?;
    let model_name = args::name("modelName", &a[4])?;
    names::check_segment("modelName", &model_name)?;
    let mtype = model_type(&a[5])?;
    let cfg = config("config", &a[6])?;
    let get = |k: &str| cfg.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());

    let description = match get("description") {
        None => String::new(),
        Some(v) if args::is_empty_list(&v) => String::new(),
        Some(v) => v.as_text().ok_or_else(|| {
            wrong(
                "config`description",
                "a description as a string or symbol",
                &v,
            )
        })?,
    };
    let major = get("major")
        .map(|v| args::boolean("config`major", &v))
        .transpose()?;
    let major_version = match get("majorVersion") {
        None => None,
        Some(v) => Some(
            args::whole(&v)
                .filter(|m| *m >= 1)
                .ok_or_else(|| wrong("config`majorVersion", "a whole number of at least 1", &v))?,
        ),
    };
    let rule = match get("version") {
        Some(v) if !v.is_null() && (major == Some(true) || major_version.is_some()) => {
            return Err(wrong(
                "config`version",
                "no major or majorVersion beside an explicit version (they contradict it)",
                &v,
            ));
        }
        Some(v) if !v.is_null() => Rule::Exact(
            args::pair(&v)
                .ok_or_else(|| wrong("config`version", "a version pair such as 1 0", &v))?,
        ),
        _ => Rule::Next {
            major: major.unwrap_or(false),
            major_version,
        },
    };
    let env = python_env::read(&a[7])?;
    let (req_file, req_value) = match get("requirements") {
        None => (None, Value::boolean(false)),
        Some(v) => requirements("config`requirements", &v, &a[7])?,
    };
    let axis = match get("axis") {
        None => Value::string(""),
        Some(v) => Value::boolean(args::boolean("config`axis", &v)?),
    };
    let (mut files, keys) = model_files(&a[3], &mtype)?;
    if let Some(code) = get("code") {
        files.extend(code_files(&code)?);
    }
    let monitoring = super::update::for_set_model(&model_name, &keys, &cfg)?;
    let sess = session::current();
    let new = NewModel {
        experiment,
        model: model_name,
        model_type: mtype.clone(),
        description,
        rule,
        files,
        always: req_file
            .map(|b| vec![("requirements.txt".to_string(), b)])
            .unwrap_or_default(),
        extra: info::Extra {
            requirements: req_value,
            axis,
        },
        version_info: info::version_info(
            &sess.q_version,
            &mtype,
            &python_env::version_fields(env.as_ref(), &mtype),
        ),
        keys,
    };
    let (reg, _) = open(&a[0], &a[1])?;
    let stored = reg.set_model(new)?;
    super::update::after_set_model(&reg, &stored, &monitoring)?;
    Ok(store_result(
        Value::guid(stored.row.unique_id),
        &stored.store,
    ))
}

/// The experiment of `set.model`: `None` (unnamed) for `::`, `""` and `"undefined"`.
fn set_experiment(v: &Value) -> Result<Option<String>> {
    let e = opt_text(
        "experimentName",
        v,
        ":: or an experiment name as a string or symbol",
    )?;
    Ok(e.filter(|s| !s.is_empty() && s != names::UNNAMED))
}

/// Reads a JSON file of a version folder fetched to local disk.
fn local_json(dir: &str, rel: &str, what: &str) -> Result<Value> {
    let path = format!("{dir}/{rel}");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::NotFound(format!("{what} not found: {path} ({e})")))?;
    crate::qdata::json::from_json(&text).map_err(|why| Error::Corrupt { path, why })
}

/// One model's part of `get.model`'s answer, from the version folder at `dir` on local disk.
fn entry(dir: &str, sub: Option<&str>, mtype: &str) -> Result<Value> {
    let (info_rel, model_rel) = match sub {
        Some(k) => (
            format!("config/{k}/modelInfo.json"),
            format!("model/{k}/{}", model_file(mtype)),
        ),
        None => (
            "config/modelInfo.json".to_string(),
            format!("model/{}", model_file(mtype)),
        ),
    };
    let info = local_json(dir, &info_rel, "model information")?;
    let path = format!("{dir}/{model_rel}");
    let mut model = Value::null();
    if mtype == "q" {
        let bytes = std::fs::read(&path)
            .map_err(|e| Error::NotFound(format!("could not retrieve the model at {path}: {e}")))?;
        // q reads its own compressed files: those the wrapper loads with get.
        if !bytes.starts_with(b"kxzipped") {
            model = file::read(&bytes).map_err(|why| Error::Corrupt {
                path: path.clone(),
                why: format!("could not be read as a q model: {why}"),
            })?;
        }
    } else if !Path::new(&path).exists() {
        return Err(Error::NotFound(format!(
            "could not retrieve the model at {path}"
        )));
    }
    Ok(Value::dict_general(vec![
        ("modelInfo", info),
        ("model", model),
        ("modelType", Value::string(mtype)),
        ("modelPath", Value::string(&path)),
    ]))
}

/// The keys of a keyed model (sorted): the sub-folders of `config/` when there is no
/// top-level modelInfo.json.
fn keys_of(dir: &str) -> Vec<String> {
    if Path::new(&format!("{dir}/config/modelInfo.json")).exists() {
        return vec![];
    }
    let mut keys: Vec<String> = std::fs::read_dir(format!("{dir}/config"))
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| e.path().join("modelInfo.json").is_file())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    keys.sort();
    keys
}

/// The code files of a version in loading order: `.q`, then `.p`, then `.py`, each group by
/// name (the original's order).
fn code_of(dir: &str) -> Vec<Value> {
    let mut files: Vec<String> = std::fs::read_dir(format!("{dir}/code"))
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| e.path().is_file())
                .map(|e| format!("{dir}/code/{}", e.file_name().to_string_lossy()))
                .collect()
        })
        .unwrap_or_default();
    files.sort_by_key(|f| {
        let rank = if f.ends_with(".q") {
            0
        } else if f.ends_with(".p") {
            1
        } else {
            2
        };
        (rank, f.clone())
    });
    files.iter().map(|f| Value::string(f)).collect()
}

/// `get.model` / `get.keyedmodel`: `keyed`, `models` (one entry, or key → entry) and `code`
/// (local paths of the code files, for the wrapper to load first). The version folder is
/// fetched once (a cloud copy lands in the local cache) and read from local disk.
pub fn get_model(a: &[Value]) -> Result<Value> {
    let q = query(&a[2], &a[3], &a[4])?;
    let want = match &a[5] {
        v if v.is_null() => None,
        v => Some(
            v.as_text()
                .filter(|s| !s.is_empty())
                .ok_or_else(|| wrong("key", ":: or a model key as a symbol", v))?,
        ),
    };
    let (reg, _) = open(&a[0], &a[1])?;
    let row = reg.find(&q)?;
    let dir = reg.storage().materialize(&row.key().dir())?;
    let keys = keys_of(&dir);
    let (keyed, models) = if keys.is_empty() {
        (false, entry(&dir, None, &row.model_type)?)
    } else if let Some(k) = want {
        if !keys.contains(&k) {
            return Err(Error::arg(
                "key",
                format!("one of the model's keys `{}; got `{k}", keys.join("`")),
            ));
        }
        (false, entry(&dir, Some(&k), &row.model_type)?)
    } else {
        let entries = keys
            .iter()
            .map(|k| Ok((k.clone(), entry(&dir, Some(k), &row.model_type)?)))
            .collect::<Result<Vec<_>>>()?;
        (true, Value::dict_general(entries))
    };
    Ok(Value::dict_general(vec![
        ("keyed", Value::boolean(keyed)),
        ("models", models),
        ("code", Value::List(code_of(&dir))),
    ]))
}
