#!/usr/bin/env python3
"""Writes the model files the host tests store: real scikit-learn models trained on the
iris data set that ships with scikit-learn, saved every way the original registry's
loaders read them, plus small files with the layout of torch, Keras and Spark saves made
without those libraries.

usage: make_models.py OUT_DIR

Writes into OUT_DIR (created if missing), with a manifest.json (also printed): each file
and what it is, five iris rows and the classifier's predictions for them. Needs numpy,
scikit-learn and joblib; nothing else.
"""

import json
import os
import pickle
import struct
import sys
import zipfile

import joblib
import numpy
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression, SGDClassifier

JOBLIB_COMPRESSORS = ["zlib", "gzip", "bz2", "xz", "lzma"]

# torch's legacy format starts with this number, pickled with protocol 2.
TORCH_MAGIC = 0x1950A86A20F9469CFC6C
TORCH_PROTOCOL = 1001

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def xxh32(data, seed=0):
    """xxHash32, which an lz4 frame header's checksum uses."""
    p1, p2, p3, p4, p5 = 2654435761, 2246822519, 3266489917, 668265263, 374761393
    mask = 0xFFFFFFFF

    def rotl(x, r):
        return ((x << r) | (x >> (32 - r))) & mask

    def round_(acc, lane):
        acc = (acc + lane * p2) & mask
        return (rotl(acc, 13) * p1) & mask

    n = len(data)
    i = 0
    if n >= 16:
        v = [(seed + p1 + p2) & mask, (seed + p2) & mask, seed & mask, (seed - p1) & mask]
        while i + 16 <= n:
            for j in range(4):
                v[j] = round_(v[j], struct.unpack_from("<I", data, i + 4 * j)[0])
            i += 16
        h = (rotl(v[0], 1) + rotl(v[1], 7) + rotl(v[2], 12) + rotl(v[3], 18)) & mask
    else:
        h = (seed + p5) & mask
    h = (h + n) & mask
    while i + 4 <= n:
        h = (h + struct.unpack_from("<I", data, i)[0] * p3) & mask
        h = (rotl(h, 17) * p4) & mask
        i += 4
    while i < n:
        h = (h + data[i] * p5) & mask
        h = (rotl(h, 11) * p1) & mask
        i += 1
    h ^= h >> 15
    h = (h * p2) & mask
    h ^= h >> 13
    h = (h * p3) & mask
    h ^= h >> 16
    return h


def lz4_frame(payload):
    """An lz4 frame holding `payload` in uncompressed blocks (what lz4.frame reads)."""
    descriptor = bytes([0x60, 0x70])  # version 1, independent blocks; 4 MB blocks
    out = bytearray(b"\x04\x22\x4d\x18")
    out += descriptor
    out.append((xxh32(descriptor) >> 8) & 0xFF)
    block = 4 << 20
    for start in range(0, len(payload), block):
        chunk = payload[start : start + block]
        out += struct.pack("<I", 0x80000000 | len(chunk))
        out += chunk
    out += b"\x00\x00\x00\x00"
    return bytes(out)


def torch_zip(path, top, entries):
    """A zip laid out as torch.save writes it: one top folder, stored (uncompressed)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as z:
        for name, data in entries:
            z.writestr(f"{top}/{name}", data)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    made = []

    def note(name, what):
        made.append({"file": name, "what": what})

    x, y = load_iris(return_X_y=True)
    clf = LogisticRegression(max_iter=500).fit(x, y)
    sgd = SGDClassifier(random_state=1).fit(x, y)

    joblib.dump(clf, os.path.join(out, "sklearn.joblib"))
    note("sklearn.joblib", "joblib.dump of a LogisticRegression fitted on iris")
    for c in JOBLIB_COMPRESSORS:
        name = f"sklearn-{c}.joblib"
        joblib.dump(clf, os.path.join(out, name), compress=(c, 3))
        note(name, f"joblib.dump with {c} compression")
    with open(os.path.join(out, "sklearn-lz4.joblib"), "wb") as f:
        f.write(lz4_frame(pickle.dumps(clf, protocol=4)))
    note("sklearn-lz4.joblib", "an lz4 frame (uncompressed blocks) around a pickle")
    for p in range(pickle.HIGHEST_PROTOCOL + 1):
        name = f"sklearn-p{p}.pkl"
        with open(os.path.join(out, name), "wb") as f:
            pickle.dump(clf, f, protocol=p)
        note(name, f"pickle.dump with protocol {p}")
    joblib.dump(sgd, os.path.join(out, "sgd.joblib"))
    note("sgd.joblib", "joblib.dump of an SGDClassifier (has partial_fit)")
    joblib.dump(numpy.poly1d([1.0, 2.0, 3.0]), os.path.join(out, "python.joblib"))
    note("python.joblib", "joblib.dump of a callable numpy.poly1d (a plain python model)")

    # torch: a state dictionary without tensors, in the zip layout and in the legacy one;
    # and a TorchScript archive's layout.
    state = pickle.dumps({"weight": [0.5, 1.5], "bias": 0.25}, protocol=2)
    torch_zip(
        os.path.join(out, "torch-zip.pt"),
        "archive",
        [
            ("data.pkl", state),
            (".format_version", b"1"),
            (".storage_alignment", b"64"),
            ("byteorder", b"little"),
            ("version", b"3\n"),
            (".data/serialization_id", b"0123456789012345678901234567890123456789"),
        ],
    )
    note("torch-zip.pt", "torch.save's zip layout (archive/data.pkl, archive/version)")
    torch_zip(
        os.path.join(out, "torchscript.pt"),
        "model",
        [
            ("data.pkl", state),
            ("code/__torch__.py", b"class Model(Module):\n  pass\n"),
            ("constants.pkl", pickle.dumps((), protocol=2)),
            ("version", b"1\n"),
        ],
    )
    note("torchscript.pt", "a TorchScript archive's layout (code/, constants.pkl)")
    with open(os.path.join(out, "torch-legacy.pt"), "wb") as f:
        pickle.dump(TORCH_MAGIC, f, protocol=2)
        pickle.dump(TORCH_PROTOCOL, f, protocol=2)
        sys_info = {"protocol_version": TORCH_PROTOCOL, "little_endian": True}
        pickle.dump(sys_info, f, protocol=2)
        pickle.dump({"weight": [0.5, 1.5]}, f, protocol=2)
        pickle.dump([], f, protocol=2)
    note("torch-legacy.pt", "torch's legacy format: magic number, then pickles")

    # Keras HDF5: the signature at the start, and after a 512-byte user block.
    with open(os.path.join(out, "keras.h5"), "wb") as f:
        f.write(HDF5_SIGNATURE + bytes([0, 0, 0, 0]) + bytes(88))
    note("keras.h5", "the HDF5 signature and an empty version-0 superblock")
    with open(os.path.join(out, "keras-userblock.h5"), "wb") as f:
        f.write(bytes(512) + HDF5_SIGNATURE + bytes(92))
    note("keras-userblock.h5", "the HDF5 signature after a 512-byte user block")

    # Spark: the folders PipelineModel.save writes.
    spark = os.path.join(out, "spark-pipeline")
    meta = {
        "class": "org.apache.spark.ml.PipelineModel",
        "timestamp": 1700000000000,
        "sparkVersion": "3.5.0",
        "uid": "PipelineModel_0001",
        "paramMap": {"stageUids": ["LogisticRegression_0001"]},
    }
    stage = dict(meta, **{"class": "org.apache.spark.ml.classification.LogisticRegressionModel"})
    stage["uid"] = "LogisticRegression_0001"
    for rel, text in [
        ("metadata/part-00000", json.dumps(meta) + "\n"),
        ("metadata/_SUCCESS", ""),
        ("stages/0_LogisticRegression_0001/metadata/part-00000", json.dumps(stage) + "\n"),
        ("stages/0_LogisticRegression_0001/data/_SUCCESS", ""),
    ]:
        p = os.path.join(spark, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)
    note("spark-pipeline", "the folders of PipelineModel.save (metadata/, stages/)")

    manifest = {
        "files": made,
        "iris": x[:5].tolist(),
        "predictions": clf.predict(x[:5]).tolist(),
    }
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f)
    print(json.dumps(manifest))

if __name__ == "__main__":
    main()
