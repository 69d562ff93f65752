//! Every path of the registry is built here, relative to the location's root folder
//! (`folderPath` on disk, `bucket/prefix` in the cloud). Paths use `/` and never end in one.
//!
//! ```text
//! KX_ML_REGISTRY/
//!   modelStore                       q table file
//!   .lock                            writers' lock (local disk only)
//!   namedExperiments/.hidden
//!   namedExperiments/<exp>[/<sub>]/.hidden
//!   namedExperiments/<exp>/<model>/<M>.<m>/...
//!   unnamedExperiments/.hidden
//!   unnamedExperiments/<model>/<M>.<m>/
//!     .version.info  requirements.txt  model/mdl  params/<p>.json
//!     metrics/...    code/<file>       config/modelInfo.json
//! ```

use super::names::UNNAMED;

pub const ROOT: &str = "KX_ML_REGISTRY";
pub const MODEL_STORE: &str = "KX_ML_REGISTRY/modelStore";
pub const LOCK: &str = "KX_ML_REGISTRY/.lock";
pub const NAMED: &str = "KX_ML_REGISTRY/namedExperiments";
pub const UNNAMED_DIR: &str = "KX_ML_REGISTRY/unnamedExperiments";
pub const HIDDEN: &str = ".hidden";
/// The content of a `.hidden` file: one empty line, as q's `0:` writes `enlist ""`.
pub const HIDDEN_CONTENT: &[u8] = b"\n";

/// A model version's coordinates in the registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionKey {
    pub experiment: String,
    pub model: String,
    pub version: (i64, i64),
}

/// The folder of an experiment (`undefined` is the unnamed folder).
pub fn experiment_dir(experiment: &str) -> String {
    if experiment == UNNAMED {
        UNNAMED_DIR.to_string()
    } else {
        format!("{NAMED}/{experiment}")
    }
}

pub fn model_dir(experiment: &str, model: &str) -> String {
    format!("{}/{model}", experiment_dir(experiment))
}

/// `1.0`, the folder name of a version.
pub fn version_name(v: (i64, i64)) -> String {
    format!("{}.{}", v.0, v.1)
}

impl VersionKey {
    pub fn dir(&self) -> String {
        format!(
            "{}/{}",
            model_dir(&self.experiment, &self.model),
            version_name(self.version)
        )
    }

    pub fn file(&self, rel: &str) -> String {
        format!("{}/{rel}", self.dir())
    }

    pub fn model_info(&self) -> String {
        self.file("config/modelInfo.json")
    }

    pub fn version_info(&self) -> String {
        self.file(".version.info")
    }

    pub fn model_file(&self, name: &str) -> String {
        self.file(&format!("model/{name}"))
    }

    pub fn params_file(&self, name: &str) -> String {
        self.file(&format!("params/{name}.json"))
    }

    pub fn metrics_dir(&self) -> String {
        self.file("metrics")
    }

    pub fn code_dir(&self) -> String {
        self.file("code")
    }

    pub fn requirements(&self) -> String {
        self.file("requirements.txt")
    }
}

/// Joins a root folder and a relative registry path for display and local I/O.
pub fn join(root: &str, rel: &str) -> String {
    if root.is_empty() {
        rel.to_string()
    } else if root.ends_with('/') {
        format!("{root}{rel}")
    } else {
        format!("{root}/{rel}")
    }
}
