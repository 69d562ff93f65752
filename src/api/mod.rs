//! The `.ml.registry` calls as q sees them: q values in, q values out. Each function reads
//! its arguments (naming any that is wrong), calls the registry and shapes the result the
//! way the original returns it. The K boundary (`crate::ffi`) calls these through
//! [`EXPORTS`]; every function's first argument is the q variable `.ml.registry.location`.

pub mod args;
pub mod location;
pub mod model_files;
pub mod models;
pub mod predict;
pub mod python_env;
pub mod reshape;
pub mod session;
pub mod update;

use crate::qdata::{Data, Value, ty};
use crate::registry::error::{Error, Result};
use crate::registry::layout::VersionKey;
use crate::registry::lookup::Query;
use crate::registry::metrics::Metric;
use crate::registry::{Registry, info_line, layout, metrics, names, store};
use crate::storage;
use args::{config, opt_text, wrong};
use location::{Location, Vendor};

/// One exported function: the public name(s) it serves, its C symbol and arity, and the q
/// wrapper (if any) that stands in front of it.
pub struct Export {
    /// Public `.ml.registry` names served by this export (without the prefix), each with
    /// its number of parameters in q.
    pub public: &'static [(&'static str, usize)],
    /// The C symbol.
    pub symbol: &'static str,
    /// Arity of the C function.
    pub arity: usize,
    /// Why a named q wrapper sits in front (empty: only the location is passed in).
    pub wrapper: &'static str,
    pub run: fn(&[Value]) -> Result<Value>,
}

/// The registry that `folderPath` names, given `.ml.registry.location`.
pub fn open(default: &Value, folder: &Value) -> Result<(Registry, Location)> {
    let real = session::current().location;
    let loc = location::resolve(folder, default, &real)?;
    let storage: Box<dyn storage::Storage> = match loc.vendor {
        Vendor::Local => Box::new(storage::local::Local::new(&loc.text)),
        _ => storage::cloud::open(&loc)?,
    };
    Ok((Registry::new(storage), loc))
}

/// The config dictionary returned by `new.*`: the user's keys plus the registry's paths.
fn returned_config(
    user: Vec<(String, Value)>,
    reg: &Registry,
    loc: &Location,
    more: Vec<(&str, Value)>,
) -> Value {
    let mut entries: Vec<(String, Value)> = user;
    let mut set = |k: &str, v: Value| {
        entries.retain(|(key, _)| key != k);
        entries.push((k.to_string(), v));
    };
    set("storage", Value::symbol(loc.vendor.key()));
    set("folderPath", Value::string(&loc.without_token()));
    set("registryPath", Value::string(&reg.registry_path()));
    let store_path = match loc.vendor {
        Vendor::Local => Value::hsym(&reg.model_store_path()),
        _ => Value::string(&reg.model_store_path()),
    };
    set("modelStorePath", store_path);
    for (k, v) in more {
        set(k, v);
    }
    Value::dict_general(entries)
}

fn new_registry(a: &[Value]) -> Result<Value> {
    let cfg = config("config", &a[2])?;
    let (reg, loc) = open(&a[0], &a[1])?;
    reg.create_new()?;
    Ok(returned_config(cfg, &reg, &loc, vec![]))
}

fn new_experiment(a: &[Value]) -> Result<Value> {
    let name = match opt_text("experimentName", &a[2], "a non-empty string")? {
        Some(n) if !n.is_empty() => n,
        _ => {
            return Err(wrong(
                "experimentName",
                "a non-empty string such as \"exp1\"",
                &a[2],
            ));
        }
    };
    names::check_experiment("experimentName", &name)?;
    let cfg = config("config", &a[3])?;
    let (reg, loc) = open(&a[0], &a[1])?;
    let dir = reg.create_experiment(&name)?;
    let more = vec![
        ("experimentPath", Value::string(&dir)),
        ("experimentName", Value::string(&name)),
    ];
    Ok(returned_config(cfg, &reg, &loc, more))
}

/// The experiment filter of a lookup: `::` or `""` for none, else a pattern.
pub fn experiment_filter(v: &Value) -> Result<Option<String>> {
    let e = opt_text(
        "experimentName",
        v,
        ":: or an experiment name as a string or symbol",
    )?;
    Ok(e.filter(|s| !s.is_empty()))
}

/// The registry and the model version a call's first five arguments (location,
/// folderPath, experimentName, modelName, version) resolve to.
pub fn target(a: &[Value]) -> Result<(Registry, VersionKey)> {
    let q = query(&a[2], &a[3], &a[4])?;
    let (reg, _) = open(&a[0], &a[1])?;
    let key = reg.find(&q)?.key();
    Ok((reg, key))
}

/// experimentName / modelName / version of a lookup.
pub fn query(e: &Value, m: &Value, v: &Value) -> Result<Query> {
    Ok(Query {
        experiment: experiment_filter(e)?,
        model: opt_text("modelName", m, ":: or a model name as a string or symbol")?
            .filter(|s| !s.is_empty()),
        version: args::version("version", v)?,
    })
}

fn store_result(result: Value, rows: &[store::Row]) -> Value {
    Value::dict_general(vec![
        ("result", result),
        ("modelStore", store::to_table(rows)),
    ])
}

fn get_model_store(a: &[Value]) -> Result<Value> {
    config("config", &a[2])?;
    let (reg, _) = open(&a[0], &a[1])?;
    let rows = reg.rows()?;
    let t = store::to_table(&rows);
    Ok(store_result(t, &rows))
}

fn query_model_store(a: &[Value]) -> Result<Value> {
    let cfg = config("config", &a[2])?;
    let (reg, _) = open(&a[0], &a[1])?;
    let mut rows = reg.rows()?;
    for (k, v) in &cfg {
        match k.as_str() {
            "modelName" | "experimentName" | "modelType" => {
                let pat = v.as_text().ok_or_else(|| {
                    wrong(&format!("config`{k}"), "a pattern as a string or symbol", v)
                })?;
                rows.retain(|r| {
                    let field = match k.as_str() {
                        "modelName" => &r.model,
                        "experimentName" => &r.experiment,
                        _ => &r.model_type,
                    };
                    names::like(field, &pat)
                });
            }
            "version" => {
                let want = args::pair(v)
                    .ok_or_else(|| wrong("config`version", "a version pair such as 1 0", v))?;
                rows.retain(|r| r.version == want);
            }
            "registrationTime" => {
                let t = match v {
                    Value::Atom {
                        ty: ty::TIMESTAMP,
                        data: Data::Long(t),
                    } => t[0],
                    _ => return Err(wrong("config`registrationTime", "a timestamp atom", v)),
                };
                rows.retain(|r| r.registration_time == t);
            }
            "uniqueID" => {
                let g = match v {
                    Value::Atom {
                        ty: ty::GUID,
                        data: Data::Guid(g),
                    } => g[0],
                    _ => return Err(wrong("config`uniqueID", "a guid atom", v)),
                };
                rows.retain(|r| r.unique_id == g);
            }
            _ => {}
        }
    }
    Ok(store::to_table(&rows))
}

fn log_metric(a: &[Value]) -> Result<Value> {
    let q = query(&a[2], &a[3], &a[4])?;
    let name = match a[5].as_text() {
        Some(n) if !n.is_empty() && !n.chars().any(char::is_control) => n,
        _ => {
            return Err(wrong(
                "metricName",
                "a metric name as a symbol or string, without control characters",
                &a[5],
            ));
        }
    };
    let (reg, _) = open(&a[0], &a[1])?;
    let row = reg.find(&q)?;
    reg.log_metric(&row.key(), &name, a[6].clone())?;
    Ok(Value::null())
}

/// The `get.metric` filter: `None` for every metric, otherwise the names to keep.
fn metric_filter(v: &Value) -> Result<Option<Vec<String>>> {
    if let Some(s) = v.as_str() {
        return Ok(Some(vec![s]));
    }
    match v {
        Value::Atom { ty: ty::SYMBOL, .. } | Value::Vector { ty: ty::SYMBOL, .. } => {
            Ok(args::texts(v))
        }
        Value::Dict { .. } => match v.get("metricName") {
            None => Ok(None),
            Some(names) => args::texts(&names)
                .map(Some)
                .ok_or_else(|| wrong("param`metricName", "a symbol or a list of symbols", &names)),
        },
        Value::List(items) if !items.is_empty() => args::texts(v).map(Some).ok_or_else(|| {
            wrong(
                "param",
                ":: , a metric name, a list of names or a dictionary",
                v,
            )
        }),
        _ if v.is_null() || args::is_empty_list(v) => Ok(None),
        _ => Err(wrong(
            "param",
            ":: , a metric name, a list of names or a dictionary with metricName",
            v,
        )),
    }
}

fn get_metric(a: &[Value]) -> Result<Value> {
    let q = query(&a[2], &a[3], &a[4])?;
    let keep = metric_filter(&a[5])?;
    let (reg, _) = open(&a[0], &a[1])?;
    let row = reg.find(&q)?;
    let rows = reg.metrics(&row.key())?;
    Ok(metrics::to_table(&metrics::filter(rows, keep.as_deref())))
}

fn param_name(arg: &str, v: &Value) -> Result<String> {
    match v.as_text() {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(wrong(arg, "a parameter name as a string or symbol", v)),
    }
}

fn set_parameters(a: &[Value]) -> Result<Value> {
    let name = param_name("paramName", &a[5])?;
    names::check_segment("paramName", &name)?;
    let q = query(&a[2], &a[3], &a[4])?;
    let (reg, loc) = open(&a[0], &a[1])?;
    let row = reg.find(&q)?;
    let path = reg.set_parameters(&row.key(), &name, &a[6])?;
    Ok(match loc.vendor {
        Vendor::Local => Value::hsym(&path),
        _ => Value::string(&path),
    })
}

fn get_parameters(a: &[Value]) -> Result<Value> {
    let name = param_name("paramName", &a[5])?;
    let q = query(&a[2], &a[3], &a[4])?;
    let (reg, _) = open(&a[0], &a[1])?;
    let row = reg.find(&q)?;
    reg.parameters(&row.key(), &name)
}

fn get_version(a: &[Value]) -> Result<Value> {
    let (reg, key) = target(a)?;
    let bytes = reg.read_required(&key.version_info(), "version information")?;
    crate::qdata::json::from_json(&String::from_utf8_lossy(&bytes)).map_err(|why| Error::Corrupt {
        path: reg.shown_path(&key.version_info()),
        why,
    })
}

fn delete_registry(a: &[Value]) -> Result<Value> {
    config("config", &a[2])?;
    let (reg, _) = open(&a[0], &a[1])?;
    reg.delete_registry()?;
    Ok(Value::null())
}

fn delete_experiment(a: &[Value]) -> Result<Value> {
    let name = match opt_text("experimentName", &a[2], "an experiment name as a string")? {
        Some(n) if !n.is_empty() && n != names::UNNAMED => n,
        _ => {
            return Err(wrong(
                "experimentName",
                "the name of a named experiment (unnamed models are deleted with \
                 delete.model)",
                &a[2],
            ));
        }
    };
    let (reg, _) = open(&a[0], &a[1])?;
    let rows = reg.delete_experiment(&name)?;
    Ok(store_result(Value::null(), &rows))
}

fn delete_model(a: &[Value]) -> Result<Value> {
    let q = query(&a[2], &a[3], &a[4])?;
    let (reg, _) = open(&a[0], &a[1])?;
    let rows = reg.delete_model(&q)?;
    Ok(store_result(Value::null(), &rows))
}

fn delete_parameters(a: &[Value]) -> Result<Value> {
    let name = param_name("paramFile", &a[5])?;
    let (reg, key) = target(a)?;
    reg.delete_parameters(&key, &name)?;
    Ok(Value::null())
}

fn delete_metrics(a: &[Value]) -> Result<Value> {
    let (reg, key) = target(a)?;
    reg.delete_metrics(&key)?;
    Ok(Value::null())
}

fn delete_metric(a: &[Value]) -> Result<Value> {
    let name = match a[5].as_text() {
        Some(n) if !n.is_empty() => n,
        _ => {
            return Err(wrong(
                "metricName",
                "a metric name (or pattern) as a symbol or string",
                &a[5],
            ));
        }
    };
    let (reg, key) = target(a)?;
    reg.delete_metric(&key, &name)?;
    info_line(&format!("deleted metrics like {name:?} of {}", key.dir()));
    Ok(Value::null())
}

fn delete_code(a: &[Value]) -> Result<Value> {
    let file = match a[5].as_text() {
        Some(n) if !n.is_empty() => n,
        _ => {
            return Err(wrong(
                "codeFile",
                "a code file name such as \"model.q\"",
                &a[5],
            ));
        }
    };
    let (reg, key) = target(a)?;
    reg.delete_code(&key, &file)?;
    Ok(Value::null())
}

/// `init.q`: `(.z.x; .z.K; .z.k; libraryFolder)` → the value of `.ml.registry.location`.
fn init(a: &[Value]) -> Result<Value> {
    let zx = match &a[0] {
        Value::List(items) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .ok_or_else(|| wrong(".z.x", "a list of strings", &a[0]))
            })
            .collect::<Result<Vec<_>>>()?,
        Value::Vector { ty: ty::CHAR, .. } => vec![a[0].as_str().unwrap_or_default()],
        _ => vec![],
    };
    let zk = a[1]
        .as_f64()
        .ok_or_else(|| wrong(".z.K", "a float", &a[1]))?;
    let zd = match &a[2] {
        Value::Atom {
            ty: ty::DATE,
            data: Data::Int(d),
        } => d[0] as i64,
        _ => return Err(wrong(".z.k", "a date", &a[2])),
    };
    let dir = a[3]
        .as_text()
        .ok_or_else(|| wrong("libraryFolder", "a string", &a[3]))?;
    let s = session::init(&zx, zk, zd, &dir)?;
    Ok(session::location_value(&s.location))
}

/// The manifest as a q table: one row per public function.
fn manifest(_: &[Value]) -> Result<Value> {
    let mut public = vec![];
    let mut params = vec![];
    let mut symbol = vec![];
    let mut arity = vec![];
    let mut wrapper = vec![];
    for e in EXPORTS {
        for (p, n) in e.public {
            public.push(p.to_string());
            params.push(*n as i64);
            symbol.push(e.symbol.to_string());
            arity.push(e.arity as i64);
            wrapper.push(Value::string(e.wrapper));
        }
    }
    let columns = ["function", "params", "export", "arity", "wrapper"];
    Ok(Value::Table {
        columns: columns.map(String::from).to_vec(),
        data: vec![
            Value::vector(ty::SYMBOL, Data::Symbol(public)),
            Value::longs(&params),
            Value::vector(ty::SYMBOL, Data::Symbol(symbol)),
            Value::longs(&arity),
            Value::List(wrapper),
        ],
    })
}

/// Imports metrics in bulk (Rust and test use; not part of the q API).
pub fn import_metrics(reg: &Registry, q: &Query, rows: Vec<Metric>) -> Result<()> {
    let key = reg.find(q)?.key();
    reg.import_metrics(&key, rows)
}

const MODEL_STORE_GLOBAL: &str = "sets the global modelStore table, which only q can do";

const PREDICT_WRAPPER: &str = "loads the model like get.model and returns a q function that \
     reshapes its input (mlr_reshape) and applies the model's callable";

/// Every C export of the library.
pub const EXPORTS: &[Export] = &[
    Export {
        public: &[],
        symbol: "mlr_init",
        arity: 4,
        wrapper: "",
        run: init,
    },
    Export {
        public: &[],
        symbol: "mlr_manifest",
        arity: 1,
        wrapper: "",
        run: manifest,
    },
    Export {
        public: &[("new.registry", 2)],
        symbol: "mlr_new_registry",
        arity: 3,
        wrapper: "",
        run: new_registry,
    },
    Export {
        public: &[("new.experiment", 3)],
        symbol: "mlr_new_experiment",
        arity: 4,
        wrapper: "",
        run: new_experiment,
    },
    Export {
        public: &[("set.model", 6)],
        symbol: "mlr_set_model",
        arity: 8,
        wrapper: "sets the global modelStore; Python models are saved by the q bridge",
        run: models::set_model,
    },
    Export {
        public: &[("set.parameters", 6)],
        symbol: "mlr_set_parameters",
        arity: 7,
        wrapper: "",
        run: set_parameters,
    },
    Export {
        public: &[("log.metric", 6)],
        symbol: "mlr_log_metric",
        arity: 7,
        wrapper: "",
        run: log_metric,
    },
    Export {
        public: &[("get.model", 4), ("get.keyedmodel", 5)],
        symbol: "mlr_get_model",
        arity: 6,
        wrapper: "loads code files with \\l and Python models through the bridge",
        run: models::get_model,
    },
    Export {
        public: &[("get.predict", 4)],
        symbol: "mlr_get_predict",
        arity: 5,
        wrapper: PREDICT_WRAPPER,
        run: predict::get_predict,
    },
    Export {
        public: &[("get.update", 5)],
        symbol: "mlr_get_update",
        arity: 6,
        wrapper: PREDICT_WRAPPER,
        run: predict::get_update,
    },
    Export {
        public: &[],
        symbol: "mlr_reshape",
        arity: 3,
        wrapper: "",
        run: reshape::export,
    },
    Export {
        public: &[("get.version", 4)],
        symbol: "mlr_get_version",
        arity: 5,
        wrapper: "",
        run: get_version,
    },
    Export {
        public: &[("get.metric", 5)],
        symbol: "mlr_get_metric",
        arity: 6,
        wrapper: "",
        run: get_metric,
    },
    Export {
        public: &[("get.parameters", 5)],
        symbol: "mlr_get_parameters",
        arity: 6,
        wrapper: "",
        run: get_parameters,
    },
    Export {
        public: &[("get.modelStore", 2)],
        symbol: "mlr_get_model_store",
        arity: 3,
        wrapper: MODEL_STORE_GLOBAL,
        run: get_model_store,
    },
    Export {
        public: &[("query.modelStore", 2)],
        symbol: "mlr_query_model_store",
        arity: 3,
        wrapper: "",
        run: query_model_store,
    },
    Export {
        public: &[("update.config", 5)],
        symbol: "mlr_update_config",
        arity: 7,
        wrapper: "loads the model and measures it on data (latency, predictions)",
        run: update::update_config,
    },
    Export {
        public: &[("update.requirements", 5)],
        symbol: "mlr_update_requirements",
        arity: 7,
        wrapper: "passes the Python bridge's pip freeze for requirements 1b",
        run: update::update_requirements,
    },
    Export {
        public: &[("update.latency", 6)],
        symbol: "mlr_update_latency",
        arity: 7,
        wrapper: "times the model on 30 rows of data",
        run: update::update_latency,
    },
    Export {
        public: &[("update.nulls", 5)],
        symbol: "mlr_update_nulls",
        arity: 6,
        wrapper: "",
        run: update::update_nulls,
    },
    Export {
        public: &[("update.infinity", 5)],
        symbol: "mlr_update_infinity",
        arity: 6,
        wrapper: "",
        run: update::update_infinity,
    },
    Export {
        public: &[("update.csi", 5)],
        symbol: "mlr_update_csi",
        arity: 6,
        wrapper: "",
        run: update::update_csi,
    },
    Export {
        public: &[("update.psi", 6)],
        symbol: "mlr_update_psi",
        arity: 7,
        wrapper: "applies the model to data",
        run: update::update_psi,
    },
    Export {
        public: &[("update.type", 5)],
        symbol: "mlr_update_type",
        arity: 6,
        wrapper: "",
        run: update::update_type,
    },
    Export {
        public: &[("update.supervise", 5)],
        symbol: "mlr_update_supervise",
        arity: 6,
        wrapper: "",
        run: update::update_supervise,
    },
    Export {
        public: &[("update.schema", 5)],
        symbol: "mlr_update_schema",
        arity: 6,
        wrapper: "",
        run: update::update_schema,
    },
    Export {
        public: &[("delete.registry", 2)],
        symbol: "mlr_delete_registry",
        arity: 3,
        wrapper: "",
        run: delete_registry,
    },
    Export {
        public: &[("delete.experiment", 2)],
        symbol: "mlr_delete_experiment",
        arity: 3,
        wrapper: MODEL_STORE_GLOBAL,
        run: delete_experiment,
    },
    Export {
        public: &[("delete.model", 4)],
        symbol: "mlr_delete_model",
        arity: 5,
        wrapper: MODEL_STORE_GLOBAL,
        run: delete_model,
    },
    Export {
        public: &[("delete.parameters", 5)],
        symbol: "mlr_delete_parameters",
        arity: 6,
        wrapper: "",
        run: delete_parameters,
    },
    Export {
        public: &[("delete.metrics", 4)],
        symbol: "mlr_delete_metrics",
        arity: 5,
        wrapper: "",
        run: delete_metrics,
    },
    Export {
        public: &[("delete.metric", 5)],
        symbol: "mlr_delete_metric",
        arity: 6,
        wrapper: "",
        run: delete_metric,
    },
    Export {
        public: &[("delete.code", 5)],
        symbol: "mlr_delete_code",
        arity: 6,
        wrapper: "",
        run: delete_code,
    },
];

/// The export named `symbol`.
pub fn export(symbol: &str) -> Option<&'static Export> {
    EXPORTS.iter().find(|e| e.symbol == symbol)
}

/// Shown version text for info lines.
pub fn version_text(v: (i64, i64)) -> String {
    layout::version_name(v)
}
