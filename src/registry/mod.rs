//! The registry itself, in plain Rust: models, versions, metrics and parameters on a storage
//! location. Knows nothing of K objects or of where the bytes go; values that the registry
//! only stores (models, metric values, parameters) arrive already as q data or bytes.

pub mod error;
pub mod info;
pub mod layout;
pub mod lookup;
pub mod metrics;
pub mod monitor;
pub mod names;
pub mod store;
pub mod update;
pub mod versions;

use crate::qdata::{Value, json, time};
use crate::storage::{Storage, Token, WriteGuard};
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

    /// A registry path as users see it (location included).
    pub fn shown_path(&self, rel: &str) -> String {
        self.shown(rel)
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
            None => Err(self.no_registry()),
        }
    }

    fn no_registry(&self) -> Error {
        Error::NotFound(format!(
            "no registry at {}: create one with .ml.registry.new.registry, or check folderPath",
            self.registry_path()
        ))
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
        Self::check_experiment_free(&self.rows()?, experiment)?;
        let dir = layout::experiment_dir(experiment);
        self.storage
            .write(&[(format!("{dir}/{HIDDEN}"), HIDDEN_CONTENT.to_vec())])?;
        Ok(self.shown(&dir))
    }

    /// The writers' lock for a change inside one version's folder. Under the lock the version
    /// is looked up again, so a version deleted meanwhile is not brought back as a folder
    /// without a row.
    fn lock_version(&self, key: &VersionKey) -> Result<Option<Box<dyn WriteGuard>>> {
        let guard = self.storage.lock()?;
        if guard.is_some() && !self.rows()?.iter().any(|r| r.key() == *key) {
            return Err(Error::NotFound(format!(
                "{} version {} was deleted by another process",
                key.model,
                layout::version_name(key.version)
            )));
        }
        Ok(guard)
    }

    /// An experiment's folder must not be (or be inside) a model's folder: `e/clf` is refused
    /// while experiment `e` holds a model `clf`, since their files would share one folder.
    fn check_experiment_free(rows: &[Row], experiment: &str) -> Result<()> {
        let segments: Vec<&str> = experiment.split('/').collect();
        for i in 1..segments.len() {
            let (parent, child) = (segments[..i].join("/"), segments[i]);
            if rows
                .iter()
                .any(|r| r.experiment == parent && r.model == child)
            {
                return Err(Error::arg(
                    "experimentName",
                    format!(
                        "an experiment that is not inside a model's folder; {experiment:?} \
                         would lie in model {child:?} of experiment {parent:?}"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// A new model's folder must not be a sub-experiment's folder.
    fn check_model_free(&self, rows: &[Row], experiment: &str, model: &str) -> Result<()> {
        if experiment == UNNAMED
            || rows
                .iter()
                .any(|r| r.experiment == experiment && r.model == model)
        {
            return Ok(());
        }
        let sub = format!("{experiment}/{model}");
        let taken = rows
            .iter()
            .any(|r| r.experiment == sub || r.experiment.starts_with(&format!("{sub}/")))
            || self
                .storage
                .exists(&format!("{}/{HIDDEN}", layout::experiment_dir(&sub)))?;
        if taken {
            return Err(Error::arg(
                "modelName",
                format!(
                    "a name other than {model:?}: experiment {experiment:?} has a \
                     sub-experiment {sub:?} in that folder"
                ),
            ));
        }
        Ok(())
    }

    /// The modelStore and its token, creating the registry when it is missing.
    fn store_for_write(&self) -> Result<(Vec<Row>, Token)> {
        for _ in 0..2 {
            if let Some((bytes, token)) = self.storage.read_versioned(MODEL_STORE)? {
                return Ok((store::decode(&bytes, &self.model_store_path())?, token));
            }
            self.create()?;
        }
        Err(Error::Storage(format!(
            "the registry at {} vanished",
            self.registry_path()
        )))
    }

    /// Takes the writers' lock (creating the registry first when it is missing, since the
    /// lock lives inside it) and reads the modelStore under it.
    fn begin_write(&self) -> Result<(Option<Box<dyn WriteGuard>>, Vec<Row>, Token)> {
        let first = self.store_for_write()?;
        let guard = self.storage.lock()?;
        let (rows, token) = if guard.is_some() {
            self.store_for_write()?
        } else {
            first
        };
        Ok((guard, rows, token))
    }

    /// The writers' lock and the modelStore, for changes to an existing registry.
    fn read_for_change(&self) -> Result<(Option<Box<dyn WriteGuard>>, Vec<Row>, Token)> {
        let read = || -> Result<(Vec<Row>, Token)> {
            match self.storage.read_versioned(MODEL_STORE)? {
                Some((bytes, token)) => {
                    Ok((store::decode(&bytes, &self.model_store_path())?, token))
                }
                None => Err(self.no_registry()),
            }
        };
        let first = read()?;
        let guard = self.storage.lock()?;
        let (rows, token) = if guard.is_some() { read()? } else { first };
        Ok((guard, rows, token))
    }

    /// Replaces the modelStore with `rows`, re-reading and re-applying `change` (bounded)
    /// when another writer replaced it first.
    fn commit_rows(
        &self,
        mut rows: Vec<Row>,
        mut token: Token,
        change: impl Fn(&mut Vec<Row>),
    ) -> Result<Vec<Row>> {
        for _ in 0..8 {
            if self
                .storage
                .replace(MODEL_STORE, &store::encode(&rows), &token)?
            {
                return Ok(rows);
            }
            let (fresh, t) = self.store_for_write()?;
            rows = fresh;
            token = t;
            change(&mut rows);
        }
        Err(Error::Conflict(format!(
            "{} kept changing under this write (8 attempts); try again",
            self.model_store_path()
        )))
    }

    /// `set.model`: stores a new version, or fills in what is missing of an existing one.
    ///
    /// A new version is first claimed by creating its `.version.info` create-only, so two
    /// writers never share a version folder; its other files follow in one batch, and only
    /// then does the modelStore row make it visible. Any failure removes what was written.
    pub fn set_model(&self, new: NewModel) -> Result<Stored> {
        let experiment = new
            .experiment
            .clone()
            .unwrap_or_else(|| UNNAMED.to_string());
        if experiment != UNNAMED {
            names::check_experiment("experimentName", &experiment)?;
        }
        names::check_segment("modelName", &new.model)?;
        let (_guard, rows, token) = self.begin_write()?;
        if experiment != UNNAMED {
            Self::check_experiment_free(&rows, &experiment)?;
        }
        self.check_model_free(&rows, &experiment, &new.model)?;
        let vinfo = json::to_json(&new.version_info).into_bytes();
        let mut taken: Vec<Row> = vec![];

        for _ in 0..16 {
            let same: Vec<&Row> = rows
                .iter()
                .chain(taken.iter())
                .filter(|r| r.experiment == experiment && r.model == new.model)
                .collect();
            let version = versions::next(&same, &new.rule)?;
            let key = VersionKey {
                experiment: experiment.clone(),
                model: new.model.clone(),
                version,
            };
            if let Some(existing) = rows.iter().find(|r| r.key() == key) {
                let row = existing.clone();
                self.fill_version(&key, &row, &new, &vinfo)?;
                return Ok(Stored {
                    row,
                    created: false,
                    store: rows,
                });
            }
            if !self.storage.create_only(&key.version_info(), &vinfo)? {
                if let versions::Rule::Exact(_) = new.rule {
                    return Err(Error::Conflict(format!(
                        "{} exists without a modelStore row (being written by another \
                         process, or left by an interrupted one); choose another version",
                        self.shown(&key.dir())
                    )));
                }
                let mut phantom = new_row(&key, &new);
                phantom.version = version;
                taken.push(phantom);
                continue;
            }
            let row = new_row(&key, &new);
            return self.write_new_version(&key, row, &new, rows, token);
        }
        Err(Error::Conflict(format!(
            "could not claim a free version of {} (16 attempts)",
            new.model
        )))
    }

    fn write_new_version(
        &self,
        key: &VersionKey,
        row: Row,
        new: &NewModel,
        rows: Vec<Row>,
        token: Token,
    ) -> Result<Stored> {
        let exp_dir = layout::experiment_dir(&key.experiment);
        let hidden = format!("{exp_dir}/{HIDDEN}");
        let new_experiment = key.experiment != UNNAMED
            && !rows.iter().any(|r| r.experiment == key.experiment)
            && !self.storage.exists(&hidden).unwrap_or(false);

        let mut plan = self.version_files(key, &row, new, &[]);
        if new_experiment {
            plan.push((hidden.clone(), HIDDEN_CONTENT.to_vec()));
        }
        let result = self.storage.write(&plan).and_then(|_| {
            let added = row.clone();
            let mut with_row = rows.clone();
            with_row.push(added.clone());
            self.commit_rows(with_row, token, move |rs| rs.push(added.clone()))
        });
        match result {
            Ok(store) => {
                info_line(&format!(
                    "stored {} version {} in {}",
                    key.model,
                    layout::version_name(key.version),
                    self.shown(&key.dir())
                ));
                Ok(Stored {
                    row,
                    created: true,
                    store,
                })
            }
            Err(e) => {
                let _ = self.storage.remove_dir(&key.dir());
                let mut empty = vec![layout::model_dir(&key.experiment, &key.model)];
                if new_experiment {
                    let _ = self.storage.remove_files(&[hidden]);
                    let mut dir = exp_dir.clone();
                    while dir.len() > NAMED.len() {
                        empty.push(dir.clone());
                        dir = dir
                            .rsplit_once('/')
                            .map(|(d, _)| d.to_string())
                            .unwrap_or_default();
                    }
                }
                let _ = self.storage.prune_empty(&empty);
                Err(e)
            }
        }
    }

    /// The files of a version other than its `.version.info`, skipping those in `present`.
    fn version_files(
        &self,
        key: &VersionKey,
        row: &Row,
        new: &NewModel,
        present: &[String],
    ) -> Vec<(String, Vec<u8>)> {
        let has_code = present
            .iter()
            .any(|p| p.starts_with(&format!("{}/", key.code_dir())));
        let mut plan: Vec<(String, Vec<u8>)> = Vec::new();
        for (rel, bytes) in &new.files {
            let path = key.file(rel);
            if (rel.starts_with("code/") && has_code) || present.contains(&path) {
                continue;
            }
            plan.push((path, bytes.clone()));
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
        plan
    }

    /// Re-setting an existing version: the same environment only, and only missing files
    /// (plus requirements) are written; on failure the files added are removed again.
    fn fill_version(
        &self,
        key: &VersionKey,
        row: &Row,
        new: &NewModel,
        vinfo: &[u8],
    ) -> Result<()> {
        let present = self.storage.list(&key.dir())?;
        if let Some(old) = self.storage.read(&key.version_info())? {
            let old_v = json::from_json(&String::from_utf8_lossy(&old));
            let new_v = json::from_json(&String::from_utf8_lossy(vinfo));
            if old_v != new_v {
                return Err(Error::Conflict(format!(
                    "{} was written by a different environment ({}); refusing to mix \
                     environments in one model version",
                    self.shown(&key.version_info()),
                    String::from_utf8_lossy(&old).trim()
                )));
            }
        }
        let single = present.contains(&key.model_info());
        if single != new.keys.is_empty() && present.iter().any(|p| p.contains("/config/")) {
            let (was, now) = if single {
                ("a single", "a keyed")
            } else {
                ("a keyed", "a single")
            };
            return Err(Error::Conflict(format!(
                "{} holds {was} model; {now} model cannot be added to it",
                self.shown(&key.dir())
            )));
        }
        let plan = self.version_files(key, row, new, &present);
        let added: Vec<String> = plan
            .iter()
            .map(|(p, _)| p.clone())
            .filter(|p| !present.contains(p))
            .collect();
        if let Err(e) = self.storage.write(&plan) {
            let _ = self.storage.remove_files(&added);
            return Err(e);
        }
        Ok(())
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

    /// `log.metric`: one new small file; when that fills a level, the level's files and the
    /// new metric are merged into one file of the next level instead. One listing decides
    /// which, so a log costs a listing and an upload, plus a batch read and a delete when it
    /// merges (one call in [`metrics::FANOUT`]).
    pub fn log_metric(&self, key: &VersionKey, name: &str, value: Value) -> Result<()> {
        let _guard = self.lock_version(key)?;
        let now = time::now_timestamp();
        let dir = key.metrics_dir();
        let new_name = metrics::file_name(0, now, rand_u32());
        let row = Metric {
            time: now,
            name: name.to_string(),
            value,
        };
        let single = |row: &Metric| {
            let file = format!("{dir}/{new_name}");
            self.storage
                .write(&[(file, metrics::encode(std::slice::from_ref(row)))])
        };
        let mut names = self.metric_files(key)?;
        names.push(new_name.clone());
        let Some((level, merging)) = metrics::due_for_merge(&names) else {
            return single(&row);
        };
        let old: Vec<String> = merging
            .iter()
            .filter(|n| **n != new_name)
            .map(|n| format!("{dir}/{n}"))
            .collect();
        // The merge is housekeeping: if the files to merge cannot be read, the metric is
        // still logged on its own and a later write tries again.
        let read = self.storage.read_files(&old).and_then(|files| {
            let mut rows = Vec::new();
            for (rel, bytes) in files {
                rows.extend(metrics::decode(&bytes, &self.shown(&rel), false)?);
            }
            Ok(rows)
        });
        let mut rows = match read {
            Ok(rows) => rows,
            Err(e) => {
                info_line(&format!(
                    "metric files of {} not merged: {e}",
                    self.shown(&dir)
                ));
                return single(&row);
            }
        };
        let mut batch = Vec::new();
        if merging.contains(&new_name) {
            rows.push(row);
        } else {
            batch.push((format!("{dir}/{new_name}"), metrics::encode(&[row])));
        }
        let rows = metrics::merge(rows);
        let first = rows.first().map(|m| m.time).unwrap_or(0);
        let merged = format!("{dir}/{}", metrics::file_name(level, first, rand_u32()));
        batch.push((merged, metrics::encode(&rows)));
        self.storage.write(&batch)?;
        // Readers drop the repeats a merged file and its sources show until these go.
        if let Err(e) = self.storage.remove_files(&old) {
            info_line(&format!(
                "merged metric files of {} not all removed: {e}",
                self.shown(&dir)
            ));
        }
        Ok(())
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
        Ok(self.metric_tree(key)?.1)
    }

    /// The metric files of a version (registry paths) and their rows in logging order, from
    /// one read of the metrics folder; an error when none was ever logged.
    fn metric_tree(&self, key: &VersionKey) -> Result<(Vec<String>, Vec<Metric>)> {
        let dir = key.metrics_dir();
        let tree = self.storage.read_tree(&dir)?;
        let mut files = Vec::new();
        let mut rows = Vec::new();
        for (path, bytes) in &tree {
            let Some(name) = path.strip_prefix(&format!("{dir}/")) else {
                continue;
            };
            let legacy = name == metrics::LEGACY;
            if !legacy && metrics::level_of(name).is_none() {
                continue;
            }
            files.push(path.clone());
            rows.extend(metrics::decode(bytes, &self.shown(path), legacy)?);
        }
        if files.is_empty() {
            return Err(Error::NotFound(format!(
                "no metric table: no metric was logged for {} {} (looked in {})",
                key.model,
                layout::version_name(key.version),
                self.shown(&dir)
            )));
        }
        Ok((files, metrics::merge(rows)))
    }

    /// `delete.metrics`: every metric of a version.
    pub fn delete_metrics(&self, key: &VersionKey) -> Result<()> {
        let _guard = self.lock_version(key)?;
        // Listed, not read: a metric file that cannot be read is deleted like the others.
        let dir = key.metrics_dir();
        let files: Vec<String> = self
            .metric_files(key)?
            .iter()
            .map(|n| format!("{dir}/{n}"))
            .collect();
        if files.is_empty() {
            return Err(Error::NotFound(format!(
                "no metric table: no metric was logged for {} {} (looked in {})",
                key.model,
                layout::version_name(key.version),
                self.shown(&dir)
            )));
        }
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
        let _guard = self.lock_version(key)?;
        let (old, rows) = self.metric_tree(key)?;
        let level = old
            .iter()
            .filter_map(|p| metrics::level_of(p.rsplit('/').next().unwrap_or("")))
            .max()
            .unwrap_or(0);
        let keep: Vec<Metric> = rows
            .into_iter()
            .filter(|m| !names::like(&m.name, pattern))
            .collect();
        let dir = key.metrics_dir();
        // An empty table keeps "metrics were logged here" true for get.metric.
        let first = keep.first().map(|m| m.time).unwrap_or(0);
        let file = format!("{dir}/{}", metrics::file_name(level, first, rand_u32()));
        self.storage.write(&[(file, metrics::encode(&keep))])?;
        self.storage.remove_files(&old)
    }

    /// `set.parameters`: writes `params/<name>.json`; gives the path written.
    pub fn set_parameters(&self, key: &VersionKey, name: &str, params: &Value) -> Result<String> {
        names::check_segment("paramName", name)?;
        let _guard = self.lock_version(key)?;
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
        let _guard = self.lock_version(key)?;
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
        let _guard = self.lock_version(key)?;
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
        let (_guard, rows, token) = self.read_for_change()?;
        let key = lookup::find(&rows, q)?.key();
        let whole = q.version.is_none();
        let k = key.clone();
        let gone = move |r: &Row| {
            r.experiment == k.experiment && r.model == k.model && (whole || r.version == k.version)
        };
        let mut kept = rows;
        kept.retain(|r| !gone(r));
        let rows = self.commit_rows(kept, token, move |rs| rs.retain(|r| !gone(r)))?;
        let dir = if whole {
            layout::model_dir(&key.experiment, &key.model)
        } else {
            key.dir()
        };
        self.remove_unlisted(&dir)?;
        info_line(&format!("deleted {}", self.shown(&dir)));
        Ok(rows)
    }

    /// Removes a folder whose rows are already gone from the modelStore. The rows go first so
    /// that nothing listed is ever half deleted; if the folder then resists, the error says
    /// the state it leaves.
    fn remove_unlisted(&self, dir: &str) -> Result<()> {
        self.storage.remove_dir(dir).map_err(|e| {
            Error::Storage(format!(
                "the modelStore no longer lists {0}, but its files could not all be removed \
                 ({e}); delete what is left of {0} by hand",
                self.shown(dir)
            ))
        })
    }

    /// `delete.experiment`: its rows and its sub-experiments' rows, then its folder.
    pub fn delete_experiment(&self, experiment: &str) -> Result<Vec<Row>> {
        names::check_experiment("experimentName", experiment)?;
        let (_guard, rows, token) = self.read_for_change()?;
        Self::check_experiment_free(&rows, experiment)?;
        let sub = format!("{experiment}/");
        let name = experiment.to_string();
        let gone = move |r: &Row| r.experiment == name || r.experiment.starts_with(&sub);
        let dir = layout::experiment_dir(experiment);
        if !rows.iter().any(&gone) && !self.storage.exists(&dir)? {
            info_line(&format!(
                "experiment {experiment:?} does not exist; nothing to delete"
            ));
            return Ok(rows);
        }
        let mut kept = rows;
        kept.retain(|r| !gone(r));
        let rows = self.commit_rows(kept, token, move |rs| rs.retain(|r| !gone(r)))?;
        self.remove_unlisted(&dir)?;
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

/// A modelStore row for a version about to be stored.
fn new_row(key: &VersionKey, new: &NewModel) -> Row {
    Row {
        registration_time: time::now_timestamp(),
        experiment: key.experiment.clone(),
        model: key.model.clone(),
        unique_id: random_guid(),
        model_type: new.model_type.clone(),
        version: key.version,
        description: new.description.clone(),
    }
}

/// A random u32 for file names.
pub fn rand_u32() -> u32 {
    let g = random_guid();
    u32::from_le_bytes([g[0], g[1], g[2], g[3]])
}
