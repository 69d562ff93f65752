#!/usr/bin/env python3
"""Exercises q/mlregistry_bridge.py (the Python half of the q session's bridge) in a plain
Python, on the files tests/tools/make_models.py writes: everything the bridge does except
being called from q.

usage: check_bridge.py BRIDGE_PY MODELS_DIR

Prints one line per check (`ok ...`, or `skipped ...` when a library is not installed) and
exits non-zero on the first failure.
"""

import importlib.util
import json
import os
import subprocess
import sys
import tempfile

import numpy


def load_bridge(path):
    spec = importlib.util.spec_from_file_location("mlregistry_bridge", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules["mlregistry_bridge"] = module
    return module


def has(module):
    return importlib.util.find_spec(module) is not None


def raises(fn, text):
    try:
        fn()
    except Exception as e:
        assert text in str(e), f"expected {text!r} in {e!r}"
        return
    raise AssertionError(f"expected an error mentioning {text!r}")


def main():
    bridge = load_bridge(sys.argv[1])
    models = sys.argv[2]
    rows = numpy.asarray(json.loads(open(os.path.join(models, "manifest.json")).read())["iris"])
    expected = json.loads(open(os.path.join(models, "manifest.json")).read())["predictions"]

    # env: the interpreter's facts, as .ml.registry.i.env gives them to Rust.
    facts = json.loads(bridge.env("sklearn"))
    import sklearn

    assert facts["python_version"] == sys.version
    assert facts["python_library_version"] == sklearn.__version__
    assert "python_library_version" not in json.loads(bridge.env("python"))
    assert "python_library_version" not in json.loads(bridge.env("q"))
    if sys.prefix != sys.base_prefix:
        pip = subprocess.run(
            [sys.executable, "-m", "pip", "freeze"], capture_output=True, text=True, check=True
        )
        want = sorted(pip.stdout.splitlines(), key=str.lower)
        got = sorted(facts["pip_freeze"], key=str.lower)
        assert got == want, f"freeze differs from pip freeze: {set(got) ^ set(want)}"
        print(f"ok env: pip_freeze matches pip freeze ({len(got)} lines)")
    else:
        assert "pip_freeze" not in facts
        print("ok env: outside a virtualenv, no pip_freeze")

    # load: every form joblib reads, through the sklearn loader and its library check.
    names = sorted(f for f in os.listdir(models) if f.startswith("sklearn"))
    for name in names:
        path = os.path.join(models, name)
        if "lz4" in name and not has("lz4"):
            raises(lambda: bridge.load("sklearn", path), "LZ4")
            print(f"skipped load {name}: the lz4 package is not installed")
            continue
        model = bridge.load("sklearn", path)
        assert model.predict(rows).tolist() == expected, name
        print(f"ok load {name}")
    poly = bridge.load("python", os.path.join(models, "python.joblib"))
    assert poly(2.0) == 11.0
    raises(lambda: bridge.load("sklearn", os.path.join(models, "python.joblib")), "sklearn")
    raises(lambda: bridge.load("sklearn", os.path.join(models, "keras.h5")), "could not retrieve")
    print("ok load: library check and load errors")

    # save: into a temporary folder, keyed or not, then discarded.
    clf = bridge.load("sklearn", os.path.join(models, "sklearn.joblib"))
    folder = bridge.tempdir("")
    one = bridge.save(clf, "sklearn", folder, "")
    keyed = bridge.save(clf, "sklearn", folder, "EURUSD")
    assert one == os.path.join(folder, "mdl.pkl") and os.path.isfile(one)
    assert keyed == os.path.join(folder, "EURUSD", "mdl.pkl") and os.path.isfile(keyed)
    assert bridge.load("sklearn", keyed).predict(rows).tolist() == expected
    raises(lambda: bridge.save(poly, "sklearn", folder, ""), "sklearn")
    raises(lambda: bridge.save(clf, "graph", folder, ""), "no Python saver")
    bridge.discard(folder)
    assert not os.path.exists(folder)
    other = tempfile.mkdtemp()
    bridge.discard(other)
    assert os.path.isdir(other)
    os.rmdir(other)
    print("ok save and discard")

    # predictor and updater.
    assert bridge.predictor("sklearn", clf)(rows).tolist() == expected
    assert bridge.predictor("python", poly) is poly
    sgd = bridge.load("sklearn", os.path.join(models, "sgd.joblib"))
    update = bridge.updater("sklearn", sgd)
    assert update(rows, numpy.asarray(expected)) is sgd
    raises(lambda: bridge.updater("sklearn", clf), "partial_fit")
    raises(lambda: bridge.updater("keras", clf), "not available")
    print("ok predictor and updater")

    # code files: .p runs in __main__, .py is imported from its folder.
    code = tempfile.mkdtemp()
    with open(os.path.join(code, "helper.p"), "w") as f:
        f.write("def mlr_helper_from_p(x):\n    return x + 1\n")
    with open(os.path.join(code, "mlr_helper_mod.py"), "w") as f:
        f.write("VALUE = 42\n")
    bridge.load_code(os.path.join(code, "helper.p"))
    bridge.load_code(os.path.join(code, "mlr_helper_mod.py"))
    assert sys.modules["__main__"].mlr_helper_from_p(1) == 2
    assert sys.modules["mlr_helper_mod"].VALUE == 42 and code in sys.path
    print("ok code files")

    # DataFrames.
    if has("pandas"):
        cols = {"a": rows[:, 0], "b": rows[:, 1], "c": rows[:, 2], "d": rows[:, 3]}
        df = bridge.frame("pandas", cols)
        assert list(df.columns) == ["a", "b", "c", "d"]
        back = bridge.table(df)
        assert list(back) == ["a", "b", "c", "d"] and (back["a"] == rows[:, 0]).all()
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert bridge.predictor("sklearn", clf)(df).tolist() == expected
        print("ok pandas frames: a table predicts as the matrix does")
    else:
        print("skipped pandas frames: pandas is not installed")
    raises(lambda: bridge.table(rows), "not supported")

    for lib in ("torch", "keras", "pyspark", "xgboost"):
        if not has(lib):
            print(f"skipped {lib}: not installed")


if __name__ == "__main__":
    main()
