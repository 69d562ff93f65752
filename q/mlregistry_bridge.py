"""The Python half of mlregistry's bridge (q/python.q loads it into PyKX or embedPy).

It only does what needs Python: saving and loading model objects with their libraries,
calling them, and reporting the interpreter's facts. Every decision about registry files,
versions and input shapes is made in Rust; this module never touches the registry.

Arguments arrive from q as symbols (Python str), q data or wrapped Python objects. Text
may also arrive as bytes (PyKX converts char vectors so), hence `_text`.
"""

import importlib
import importlib.metadata
import json
import os
import shutil
import sys
import tempfile

# Model types whose library version `.version.info` records, and the module it comes from.
LIBRARIES = {
    "sklearn": "sklearn",
    "keras": "keras",
    "torch": "torch",
    "xgboost": "xgboost",
    "pyspark": "pyspark",
}

# The file (or folder) name a model object of each type is saved under.
FILE_NAMES = {
    "python": "mdl.pkl",
    "sklearn": "mdl.pkl",
    "xgboost": "mdl.pkl",
    "keras": "mdl.h5",
    "torch": "mdl.pt",
    "pyspark": "mdl.model",
}

# Left out of `pip freeze` by pip itself (the build tools only before Python 3.12).
FREEZE_SKIP = {"pip"}
if sys.version_info < (3, 12):
    FREEZE_SKIP |= {"setuptools", "wheel", "distribute"}

TEMP_PREFIX = "mlregistry-save-"


def _text(x):
    if isinstance(x, bytes):
        return x.decode("utf-8")
    return str(x)


def _type_name(model):
    return str(type(model))


def env(model_type):
    """The interpreter's facts as JSON text: its version, the library version of the model
    type (when importable), its prefixes and, inside a virtualenv, the `pip freeze` lines."""
    model_type = _text(model_type)
    facts = {
        "python_version": sys.version,
        "executable": sys.executable or "",
        "prefix": sys.prefix,
        "base_prefix": getattr(sys, "base_prefix", sys.prefix),
    }
    module = LIBRARIES.get(model_type)
    if module is not None:
        try:
            facts["python_library_version"] = str(importlib.import_module(module).__version__)
        except Exception:
            pass
    if facts["prefix"] != facts["base_prefix"]:
        facts["pip_freeze"] = freeze()
    return json.dumps(facts)


def freeze():
    """`pip freeze` of this interpreter's environment, read from the installed packages'
    metadata (no subprocess: inside q, sys.executable may not be a Python)."""
    lines = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if not name:
            continue
        key = name.lower().replace("_", "-")
        if key in FREEZE_SKIP or key in lines:
            continue
        lines[key] = _freeze_line(dist, name)
    return [lines[k] for k in sorted(lines)]


def _freeze_line(dist, name):
    direct = dist.read_text("direct_url.json")
    if direct:
        try:
            info = json.loads(direct)
        except ValueError:
            info = {}
        url = info.get("url", "")
        if info.get("dir_info", {}).get("editable"):
            return f"-e {url}"
        if url and "archive_info" not in info:
            return f"{name} @ {url}"
    return f"{name}=={dist.version}"


def _check_library(model, model_type):
    library = {"sklearn": "sklearn", "xgboost": "xgboost", "keras": "keras"}.get(model_type)
    if library is None:
        return
    if library not in _type_name(model):
        raise TypeError(
            f"a {model_type} model must be an object of the {library!r} library; "
            f"got {_type_name(model)}"
        )
    if not callable(getattr(model, "predict", None)):
        raise TypeError(f"a {model_type} model must have a predict method")


def tempdir(*_):
    """A new temporary folder for `save` (arguments are ignored: q cannot call without)."""
    return tempfile.mkdtemp(prefix=TEMP_PREFIX)


def save(model, model_type, folder, key):
    """Saves an in-process model object the way the original registry does, into `folder`
    (made by `tempdir`), below a sub-folder `key` when one is given; returns the path of the
    file (or folder) written."""
    model_type, folder, key = _text(model_type), _text(folder), _text(key)
    if model_type not in FILE_NAMES:
        raise ValueError(f"no Python saver for model type {model_type!r}")
    _check_library(model, model_type)
    if key:
        folder = os.path.join(folder, key)
        os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, FILE_NAMES[model_type])
    _save(model, model_type, path)
    return path


def _save(model, model_type, path):
    if model_type in ("python", "sklearn", "xgboost"):
        import joblib

        joblib.dump(model, path)
    elif model_type == "keras":
        model.save(path)
    elif model_type == "torch":
        import torch

        torch.save(model, path)
    else:
        if not callable(getattr(model, "transform", None)):
            raise TypeError("a pyspark model must have a transform method")
        if "Pipeline" not in type(model).__name__:
            from pyspark.ml import Pipeline

            model = Pipeline(stages=[model]).fit(None)
        model.save(path)


def discard(folder):
    """Removes a folder made by `tempdir` (and nothing else)."""
    folder = _text(folder)
    if os.path.basename(folder.rstrip("/")).startswith(TEMP_PREFIX):
        shutil.rmtree(folder, ignore_errors=True)


def load(model_type, path):
    """Loads a stored model file the way the original registry's getters do."""
    model_type, path = _text(model_type), _text(path)
    try:
        model = _load(model_type, path)
    except Exception as e:
        raise RuntimeError(
            f"could not retrieve the {model_type} model at {path}: {type(e).__name__}: {e}"
        ) from e
    _check_library(model, model_type)
    return model


def _load(model_type, path):
    if model_type == "keras":
        from keras.models import load_model

        return load_model(path)
    if model_type == "torch":
        return _load_torch(path)
    if model_type == "pyspark":
        from pyspark.ml import PipelineModel

        return PipelineModel.load(path)
    import joblib

    return joblib.load(path)


def _load_torch(path):
    import torch

    try:
        try:
            return torch.load(path, weights_only=False)
        except TypeError:
            # torch before 1.13 has no weights_only argument
            return torch.load(path)
    except Exception:
        return torch.jit.load(path)


def load_code(path):
    """Loads a stored code file: `.p` runs in __main__ (as embedPy's \\l does), `.py` is
    imported as a module after its folder is put on sys.path (as the original does)."""
    path = _text(path)
    folder, base = os.path.split(path)
    if base.endswith(".p"):
        main = sys.modules["__main__"]
        with open(path, encoding="utf-8") as f:
            source = f.read()
        exec(compile(source, path, "exec"), main.__dict__)
        return None
    if folder not in sys.path:
        sys.path.append(folder)
    importlib.import_module(base[: -len(".py")])
    return None


def _raze(values):
    import numpy

    a = numpy.asarray(values)
    if a.ndim >= 2:
        return a.reshape((-1,) + a.shape[2:])
    return a


def predictor(model_type, model):
    """The callable that predicts with a model of a library type, on input already shaped
    by Rust (and turned into a DataFrame where the original does so)."""
    model_type = _text(model_type)
    if model_type in ("sklearn", "xgboost"):
        return model.predict
    if model_type == "keras":
        import numpy

        return lambda x: _raze(model.predict(numpy.array(x)))
    if model_type == "torch":
        return lambda x: _torch_rows(model, x)
    if model_type == "pyspark":
        import numpy

        def predict(df):
            rows = model.transform(df).select("prediction").collect()
            return numpy.array([r[0] for r in rows])

        return predict
    return model


def _torch_rows(model, data):
    import numpy
    import torch

    out = []
    for row in data:
        row = numpy.atleast_1d(numpy.asarray(row))
        prediction = model(torch.Tensor(row))
        out.append(numpy.ravel(prediction.cpu().detach().numpy()))
    if not out:
        return numpy.array([])
    return numpy.concatenate(out)


def updater(model_type, model):
    """The update callable of an sklearn model (its partial_fit); an error otherwise."""
    model_type = _text(model_type)
    if model_type != "sklearn":
        raise TypeError(f"update is not available for {model_type} models")
    fit = getattr(model, "partial_fit", None)
    if not callable(fit):
        raise TypeError(
            f"update needs an sklearn model with partial_fit; {_type_name(model)} has none"
        )
    return fit


def frame(kind, columns):
    """A pandas DataFrame (kind "pandas") or a Spark DataFrame with a `features` vector
    column (kind "spark") from a dictionary of column name to values."""
    import pandas

    kind = _text(kind)
    df = pandas.DataFrame({_text(k): v for k, v in dict(columns).items()})
    if kind == "pandas":
        return df
    if kind != "spark":
        raise ValueError(f"unknown frame kind {kind!r}")
    from pyspark.ml.feature import VectorAssembler
    from pyspark.sql import SparkSession

    sdf = SparkSession.builder.getOrCreate().createDataFrame(df)
    assembler = VectorAssembler(inputCols=sdf.columns, outputCol="features")
    return assembler.transform(sdf)


def table(df):
    """A pandas DataFrame as a dictionary of column name to values, for q to flip."""
    if not hasattr(df, "columns"):
        raise TypeError(f"this input type is not supported: {_type_name(df)}")
    return {str(k): df[k].to_numpy() for k in df.columns}
