//! The registry itself, in plain Rust: models, versions, metrics and parameters on a storage
//! location. Knows nothing of K objects or of where the bytes go; values that the registry
//! only stores (models, metric values, parameters) arrive already as q data or bytes.

pub mod error;
pub mod info;
pub mod layout;
pub mod lookup;
pub mod metrics;
pub mod names;
pub mod store;
pub mod versions;

use crate::qdata::{Value, json, time};
use crate::storage::Storage;
use error::{Error, Result};
use layout::{HIDDEN, HIDDEN_CONTENT, MODEL_STORE, NAMED, ROOT, UNNAMED_DIR, VersionKey};
use lookup::Query;
use metrics::Metric;
use names::UNNAMED;
use store::Row;

/// One line of user-visible progress, in the style of the original's info lines.
pub fn info_line(msg: &str) {
    if std::env::var_os("MLREGISTRY_QUIET").is_none() {
        println!(
            "{} .ml.registry INFO: {msg}",
            time::format_timestamp(time::now_timestamp())
        );
    }
}

/// 16 random bytes from the operating system (a q guid is random, like `-1?0Ng`).
pub fn random_guid() -> [u8; 16] {
    use std::io::Read;
    let mut g = [0u8; 16];
    let filled = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut g));
    if filled.is_err() {
        // Fall back on time and address entropy; uniqueness, not secrecy, is what matters.
        let t = time::now_timestamp() as u128 ^ ((&g as *const _ as usize as u128) << 64);
        g = (t ^ (std::process::id() as u128) << 32).to_le_bytes();
    }
    g
}

/// A new model version to store.
pub struct NewModel {
    /// `None` for no experiment (stored as `undefined`).
    pub experiment: Option<String>,
    pub model: String,
    pub model_type: String,
    pub description: String,
    pub rule: versions::Rule,
    /// Files of the version, relative to its folder (`model/mdl`, `code/x.q`, ...).
    pub files: Vec<(String, Vec<u8>)>,
    /// Files rewritten even when the version exists already (`requirements.txt`).
    pub always: Vec<(String, Vec<u8>)>,
    pub extra: info::Extra,
    /// `.version.info` as a q dictionary.
    pub version_info: Value,
    /// The keys of a keyed model (one modelInfo.json each); empty for a single model.
    pub keys: Vec<String>,
}

/// What `set.model` did.
pub struct Stored {
    pub row: Row,
    pub created: bool,
    pub store: Vec<Row>,
}

/// A registry at one location.
pub struct Registry {
    storage: Box<dyn Storage>,
}

impl Registry {
    pub fn new(storage: Box<dyn Storage>) -> Registry {
        Registry { storage }
    }

    pub fn storage(&self) -> &dyn Storage {
        self.storage.as_ref()
    }

    fn shown(&self, rel: &str) -> String {
        layout::join(&self.storage.shown(), rel)
    }

    /// `<location>/KX_ML_REGISTRY`, as returned to q.
    pub fn registry_path(&self) -> String {
        self.shown(ROOT)
    }

    pub fn model_store_path(&self) -> String {
        self.shown(MODEL_STORE)
    }

    pub fn exists(&self) -> Result<bool> {
        self.storage.exists(MODEL_STORE)
    }

    /// The modelStore rows; an error naming the location when there is no registry.
    pub fn rows(&self) -> Result<Vec<Row>> {
        match self.storage.read(MODEL_STORE)? {
            Some(bytes) => store::decode(&bytes, &self.model_store_path()),
            None => Err(Error::NotFound(format!(
                "no registry at {}: create one with .ml.registry.new.registry, or check \
                 folderPath",
                self.registry_path()
            ))),
        }
    }

    fn save_rows(&self, rows: &[Row]) -> Result<()> {
        self.storage
            .write(&[(MODEL_STORE.to_string(), store::encode(rows))])
    }

    /// Creates the registry; false when one exists already.
    pub fn create(&self) -> Result<bool> {
        let files = vec![
            (MODEL_STORE.to_string(), store::encode(&[])),
            (format!("{NAMED}/{HIDDEN}"), HIDDEN_CONTENT.to_vec()),
            (format!("{UNNAMED_DIR}/{HIDDEN}"), HIDDEN_CONTENT.to_vec()),
        ];
        let created = self.storage.create_registry(&files)?;
        if created {
            info_line(&format!("registry created at {}", self.registry_path()));
        }
        Ok(created)
    }

    /// `new.registry`: an error when one exists already.
    pub fn create_new(&self) -> Result<()> {
        if self.create()? {
            Ok(())
        } else {
            Err(Error::Conflict(format!(
                "a registry exists already at {}",
                self.registry_path()
            )))
        }
    }

    /// Creates the registry when it is missing (writes do, as in the original).
    fn ensure(&self) -> Result<()> {
        if !self.exists()? {
            self.create()?;
        }
        Ok(())
    }

    /// `new.experiment`: the experiment folder and its `.hidden` file. Gives the folder.
    pub fn create_experiment(&self, experiment: &str) -> Result<String> {
        names::check_experiment("experimentName", experiment)?;
        self.ensure()?;
        let _guard = self.storage.lock()?;
        let dir = layout::experiment_dir(experiment);
        self.storage
            .write(&[(format!("{dir}/{HIDDEN}"), HIDDEN_CONTENT.to_vec())])?;
        Ok(self.shown(&dir))
    }

    /// `set.model`: stores a new version, or fills in what is missing of an existing one.
    pub fn set_model(&self, new: NewModel) -> Result<Stored> {
        let experiment = new
            .experiment
            .clone()
            .unwrap_or_else(|| UNNAMED.to_string());
        if experiment != UNNAMED {
            names::check_experiment("experimentName", &experiment)?;
        }
        names::check_segment("modelName", &new.model)?;
        self.ensure()?;
        let _guard = self.storage.lock()?;
        let mut rows = self.rows()?;

        let same: Vec<&Row> = rows
            .iter()
            .filter(|r| r.experiment == experiment && r.model == new.model)
            .collect();
        let version = versions::next(&same, &new.rule)?;
        let existing = same
            .iter()
            .find(|r| r.version == version)
            .map(|r| (*r).clone());
        let key = VersionKey {
            experiment: experiment.clone(),
            model: new.model.clone(),
            version,
        };

        let row = existing.clone().unwrap_or_else(|| Row {
            registration_time: time::now_timestamp(),
            experiment: experiment.clone(),
            model: new.model.clone(),
            unique_id: random_guid(),
            model_type: new.model_type.clone(),
            version,
            description: new.description.clone(),
        });
        let plan = self.plan_files(&key, &row, &new)?;

        // Everything written from here on is undone if a later step fails.
        let exp_dir = layout::experiment_dir(&experiment);
        let exp_was_there = experiment == UNNAMED || self.storage.exists(&exp_dir)?;
        let model_was_there = self
            .storage
            .exists(&layout::model_dir(&experiment, &new.model))?;
        let written: Vec<String> = plan.iter().map(|(p, _)| p.clone()).collect();
        let result = (|| {
            self.storage.write(&plan)?;
            if existing.is_none() {
                rows.push(row.clone());
                self.save_rows(&rows)?;
            }
            Ok(())
        })();
        if let Err(e) = result {
            if existing.is_some() {
                let _ = self.storage.remove_files(&written);
            } else if !exp_was_there {
                let _ = self.storage.remove_dir(&exp_dir);
            } else if !model_was_there {
                let _ = self
                    .storage
                    .remove_dir(&layout::model_dir(&experiment, &new.model));
            } else {
                let _ = self.storage.remove_dir(&key.dir());
            }
            return Err(e);
        }
        if existing.is_none() {
            info_line(&format!(
                "stored {} version {} in {}",
                new.model,
                layout::version_name(version),
                self.shown(&key.dir())
            ));
        }
        Ok(Stored {
            row,
            created: existing.is_none(),
            store: rows,
        })
    }

    /// The files `set.model` writes: all of them for a new version; for an existing one only
    /// those missing (model files, code) plus the ones always rewritten.
    fn plan_files(
        &self,
        key: &VersionKey,
        row: &Row,
        new: &NewModel,
    ) -> Result<Vec<(String, Vec<u8>)>> {
        let vinfo = json::to_json(&new.version_info).into_bytes();
        let present = self.storage.list(&key.dir())?;
        let mut plan: Vec<(String, Vec<u8>)> = Vec::new();
        if let Some(old) = self.storage.read(&key.version_info())? {
            let old_v = json::from_json(&String::from_utf8_lossy(&old));
            let new_v = json::from_json(&String::from_utf8_lossy(&vinfo));
            if old_v != new_v {
                return Err(Error::Conflict(format!(
                    "{} was written by a different environment ({}); refusing to mix \
                     environments in one model version",
                    self.shown(&key.version_info()),
                    String::from_utf8_lossy(&old).trim()
                )));
            }
        }
        plan.push((key.version_info(), vinfo));
        let has_code = present
            .iter()
            .any(|p| p.starts_with(&format!("{}/", key.code_dir())));
        for (rel, bytes) in &new.files {
            let path = key.file(rel);
            if rel.starts_with("code/") && has_code {
                continue;
            }
            if !present.contains(&path) {
                plan.push((path, bytes.clone()));
            }
        }
        for (rel, bytes) in &new.always {
            plan.push((key.file(rel), bytes.clone()));
        }
        let info_files: Vec<String> = if new.keys.is_empty() {
            vec![key.model_info()]
        } else {
            new.keys
                .iter()
                .map(|k| key.file(&format!("config/{k}/modelInfo.json")))
                .collect()
        };
        let info = json::to_json(&info::model_info(row, &new.extra)).into_bytes();
        for path in info_files.into_iter().filter(|p| !present.contains(p)) {
            plan.push((path, info.clone()));
        }
        if row.experiment != UNNAMED {
            let hidden = format!("{}/{HIDDEN}", layout::experiment_dir(&row.experiment));
            plan.push((hidden, HIDDEN_CONTENT.to_vec()));
        }
        Ok(plan)
    }

    /// The row a lookup means.
    pub fn find(&self, q: &Query) -> Result<Row> {
        let rows = self.rows()?;
        lookup::find(&rows, q).cloned()
    }

    /// A file of a version, or an error naming it.
    pub fn read_required(&self, rel: &str, what: &str) -> Result<Vec<u8>> {
        self.storage
            .read(rel)?
            .ok_or_else(|| Error::NotFound(format!("{what} not found: {}", self.shown(rel))))
    }

    /// modelInfo.json of a version (or of one key of a keyed model), decoded as `.j.k` would.
    pub fn model_info(&self, key: &VersionKey, sub: Option<&str>) -> Result<Value> {
        let rel = match sub {
            Some(k) => key.file(&format!("config/{k}/modelInfo.json")),
            None => key.model_info(),
        };
        let bytes = self.read_required(&rel, "model information")?;
        json::from_json(&String::from_utf8_lossy(&bytes)).map_err(|why| Error::Corrupt {
            path: self.shown(&rel),
            why,
        })
    }

    /// The keys of a keyed model (sorted), or empty for a single model.
    pub fn model_keys(&self, key: &VersionKey) -> Result<Vec<String>> {
        if self.storage.exists(&key.model_info())? {
            return Ok(vec![]);
        }
        let mut keys: Vec<String> = self
            .storage
            .list(&key.file("config"))?
            .iter()
            .filter_map(|p| {
                let rest = p.strip_prefix(&format!("{}/", key.file("config")))?;
                rest.strip_suffix("/modelInfo.json").map(str::to_string)
            })
            .collect();
        keys.sort();
        keys.dedup();
        Ok(keys)
    }

    /// `log.metric`: one new small file, then a merge if a level is full.
    pub fn log_metric(&self, key: &VersionKey, name: &str, value: Value) -> Result<()> {
        let _guard = self.storage.lock()?;
        let now = time::now_timestamp();
        let dir = key.metrics_dir();
        let file = format!("{dir}/{}", metrics::file_name(0, now, rand_u32()));
        let row = Metric {
            time: now,
            name: name.to_string(),
            value,
        };
        self.storage.write(&[(file, metrics::encode(&[row]))])?;
        self.compact_metrics(key)
    }

    fn metric_files(&self, key: &VersionKey) -> Result<Vec<String>> {
        let dir = key.metrics_dir();
        Ok(self
            .storage
            .list(&dir)?
            .into_iter()
            .filter_map(|p| p.strip_prefix(&format!("{dir}/")).map(str::to_string))
            .filter(|n| n == metrics::LEGACY || metrics::level_of(n).is_some())
            .collect())
    }

    fn compact_metrics(&self, key: &VersionKey) -> Result<()> {
        let names = self.metric_files(key)?;
        let Some((level, merging)) = metrics::due_for_merge(&names) else {
            return Ok(());
        };
        let dir = key.metrics_dir();
        let mut rows = Vec::new();
        for n in &merging {
            let rel = format!("{dir}/{n}");
            let bytes = self.read_required(&rel, "metric file")?;
            rows.extend(metrics::decode(&bytes, &self.shown(&rel), false)?);
        }
        let rows = metrics::merge(rows);
        let first = rows.first().map(|m| m.time).unwrap_or(0);
        let merged = format!("{dir}/{}", metrics::file_name(level, first, rand_u32()));
        self.storage.write(&[(merged, metrics::encode(&rows))])?;
        let old: Vec<String> = merging.iter().map(|n| format!("{dir}/{n}")).collect();
        self.storage.remove_files(&old)
    }

    /// Writes many metrics as one file (bulk import; also how tests build large histories).
    pub fn import_metrics(&self, key: &VersionKey, rows: Vec<Metric>) -> Result<()> {
        let _guard = self.storage.lock()?;
        let rows = metrics::merge(rows);
        let first = rows.first().map(|m| m.time).unwrap_or(0);
        let level = (rows.len().max(1).ilog(metrics::FANOUT)).min(9);
        let file = format!(
            "{}/{}",
            key.metrics_dir(),
            metrics::file_name(level, first, rand_u32())
        );
        self.storage.write(&[(file, metrics::encode(&rows))])
    }

    /// Every metric of a version in logging order; an error when none was ever logged.
    pub fn metrics(&self, key: &VersionKey) -> Result<Vec<Metric>> {
        let dir = key.metrics_dir();
        let tree = self.storage.read_tree(&dir)?;
        let mut rows = Vec::new();
        let mut any = false;
        for (path, bytes) in &tree {
            let name = path.rsplit('/').next().unwrap_or("");
            let legacy = name == metrics::LEGACY;
            if !legacy && metrics::level_of(name).is_none() {
                continue;
            }
            any = true;
            rows.extend(metrics::decode(bytes, &self.shown(path), legacy)?);
        }
        if !any {
            return Err(Error::NotFound(format!(
                "no metric table: no metric was logged for {} {} (looked in {})",
                key.model,
                layout::version_name(key.version),
                self.shown(&dir)
            )));
        }
        Ok(metrics::merge(rows))
    }

    /// `delete.metrics`: every metric of a version.
    pub fn delete_metrics(&self, key: &VersionKey) -> Result<()> {
        let _guard = self.storage.lock()?;
        self.metrics(key)?;
        let dir = key.metrics_dir();
        let files: Vec<String> = self
            .metric_files(key)?
            .iter()
            .map(|n| format!("{dir}/{n}"))
            .collect();
        self.storage.remove_files(&files)?;
        info_line(&format!(
            "deleted the metrics of {}",
            self.shown(&key.dir())
        ));
        Ok(())
    }

    /// `delete.metric`: the metrics whose name is like `pattern`; the rest are rewritten as one
    /// file before the old files go.
    pub fn delete_metric(&self, key: &VersionKey, pattern: &str) -> Result<()> {
        let _guard = self.storage.lock()?;
        let rows = self.metrics(key)?;
        let level = self
            .metric_files(key)?
            .iter()
            .filter_map(|n| metrics::level_of(n))
            .max()
            .unwrap_or(0);
        let keep: Vec<Metric> = rows
            .into_iter()
            .filter(|m| !names::like(&m.name, pattern))
            .collect();
        let dir = key.metrics_dir();
        let old: Vec<String> = self
            .metric_files(key)?
            .iter()
            .map(|n| format!("{dir}/{n}"))
            .collect();
        if !keep.is_empty() {
            let first = keep[0].time;
            let file = format!("{dir}/{}", metrics::file_name(level, first, rand_u32()));
            self.storage.write(&[(file, metrics::encode(&keep))])?;
        } else {
            // An empty table keeps "metrics were logged here" true for get.metric.
            let file = format!("{dir}/{}", metrics::file_name(level, 0, rand_u32()));
            self.storage.write(&[(file, metrics::encode(&[]))])?;
        }
        self.storage.remove_files(&old)
    }

    /// `set.parameters`: writes `params/<name>.json`; gives the path written.
    pub fn set_parameters(&self, key: &VersionKey, name: &str, params: &Value) -> Result<String> {
        names::check_segment("paramName", name)?;
        let _guard = self.storage.lock()?;
        let rel = key.params_file(name);
        self.storage
            .write(&[(rel.clone(), json::to_json(params).into_bytes())])?;
        Ok(self.shown(&rel))
    }

    /// `get.parameters`: the decoded JSON of `params/<name>.json`.
    pub fn parameters(&self, key: &VersionKey, name: &str) -> Result<Value> {
        names::check_segment("paramName", name)?;
        let rel = key.params_file(name);
        let bytes = self.storage.read(&rel)?.ok_or_else(|| {
            Error::NotFound(format!(
                "no parameter file named {name:?}: {}",
                self.shown(&rel)
            ))
        })?;
        json::from_json(&String::from_utf8_lossy(&bytes)).map_err(|why| Error::Corrupt {
            path: self.shown(&rel),
            why,
        })
    }

    /// `delete.parameters`.
    pub fn delete_parameters(&self, key: &VersionKey, name: &str) -> Result<()> {
        names::check_segment("paramFile", name)?;
        let _guard = self.storage.lock()?;
        let rel = key.params_file(name);
        if !self.storage.exists(&rel)? {
            return Err(Error::NotFound(format!(
                "no parameter file named {name:?}: {}",
                self.shown(&rel)
            )));
        }
        self.storage.remove_files(&[rel.clone()])?;
        info_line(&format!("deleted {}", self.shown(&rel)));
        Ok(())
    }

    /// `delete.code`.
    pub fn delete_code(&self, key: &VersionKey, file: &str) -> Result<()> {
        names::check_segment("codeFile", file)?;
        let _guard = self.storage.lock()?;
        let rel = format!("{}/{file}", key.code_dir());
        if !self.storage.exists(&rel)? {
            return Err(Error::NotFound(format!(
                "no code file named {file:?}: {}",
                self.shown(&rel)
            )));
        }
        self.storage.remove_files(&[rel.clone()])?;
        info_line(&format!("deleted {}", self.shown(&rel)));
        Ok(())
    }

    /// `delete.model`: one version, or (version `None`) every version of the model. The
    /// modelStore is rewritten before any file goes.
    pub fn delete_model(&self, q: &Query) -> Result<Vec<Row>> {
        let _guard = self.storage.lock()?;
        let mut rows = self.rows()?;
        let found = lookup::find(&rows, q)?.clone();
        let key = found.key();
        let whole = q.version.is_none();
        rows.retain(|r| {
            !(r.experiment == key.experiment
                && r.model == key.model
                && (whole || r.version == key.version))
        });
        self.save_rows(&rows)?;
        let dir = if whole {
            layout::model_dir(&key.experiment, &key.model)
        } else {
            key.dir()
        };
        self.storage.remove_dir(&dir)?;
        info_line(&format!("deleted {}", self.shown(&dir)));
        Ok(rows)
    }

    /// `delete.experiment`: its rows and its sub-experiments' rows, then its folder.
    pub fn delete_experiment(&self, experiment: &str) -> Result<Vec<Row>> {
        names::check_experiment("experimentName", experiment)?;
        let _guard = self.storage.lock()?;
        let mut rows = self.rows()?;
        let sub = format!("{experiment}/");
        let before = rows.len();
        rows.retain(|r| !(r.experiment == experiment || r.experiment.starts_with(&sub)));
        let dir = layout::experiment_dir(experiment);
        if rows.len() == before && !self.storage.exists(&dir)? {
            info_line(&format!(
                "experiment {experiment:?} does not exist; nothing to delete"
            ));
            return Ok(rows);
        }
        self.save_rows(&rows)?;
        self.storage.remove_dir(&dir)?;
        info_line(&format!("deleted experiment {}", self.shown(&dir)));
        Ok(rows)
    }

    /// `delete.registry`: a missing registry is not an error.
    pub fn delete_registry(&self) -> Result<()> {
        if !self.storage.exists(ROOT)? {
            info_line(&format!(
                "no registry at {}; nothing to delete",
                self.registry_path()
            ));
            return Ok(());
        }
        let guard = self.storage.lock()?;
        self.storage.remove_dir(ROOT)?;
        drop(guard);
        info_line(&format!("{} deleted.", self.registry_path()));
        Ok(())
    }
}

/// A random u32 for file names.
pub fn rand_u32() -> u32 {
    let g = random_guid();
    u32::from_le_bytes([g[0], g[1], g[2], g[3]])
}
