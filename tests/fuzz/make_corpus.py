"""Writes the fuzzers' seed corpus: small valid and broken IDX and .npz files.

Run from anywhere with /usr/bin/python3 (numpy for the files numpy writes):
    python3 tests/fuzz/make_corpus.py [build/tests/write_checkpoint]
With the path of write_checkpoint, a checkpoint this library saved joins the .npz seeds.
"""
import gzip
import io
import os
import struct
import subprocess
import sys
import tempfile
import zipfile

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))


def put(kind, name, data):
    with open(os.path.join(here, "corpus", kind, name), "wb") as f:
        f.write(data)


def idx(dims, data):
    return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + bytes(data)


def gz(data):
    return gzip.compress(data, mtime=0)


images = idx([2, 2, 3], range(12))
labels = idx([4], [1, 0, 9, 3])
put("idx", "images", images)
put("idx", "labels.gz", gz(labels))
put("idx", "images.gz", gz(images))
put("idx", "multi-member.gz", gz(images[:7]) + gz(images[7:]))
put("idx", "truncated", images[:-3])
put("idx", "no-trailer.gz", gz(images)[:-8])
put("idx", "garbage-after.gz", gz(labels) + b"xyz")
put("idx", "overflowing-header", idx([16, 1 << 30, 1 << 30], []))


def npy(header, data=b""):
    header = header + " " * (63 - (10 + len(header)) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + data


def npz(members, compression=zipfile.ZIP_STORED):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as z:
        for name, data in members:
            z.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data, compression)
    return out.getvalue()


def numpy_npz(save):
    out = io.BytesIO()
    save(out, w=np.arange(6, dtype=np.float32).reshape(2, 3), b=np.array([0.5, -1.0]))
    return out.getvalue()


put("npz", "numpy-savez.npz", numpy_npz(np.savez))
put("npz", "numpy-savez-compressed.npz", numpy_npz(np.savez_compressed))
put("npz", "empty.npz", npz([]))
put("npz", "huge-shape.npz", npz([("w.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904,), }"))]))
put("npz", "big-endian-0d.npz", npz([("s.npy", npy("{'descr': '>f8', 'fortran_order': False, 'shape': (), }", struct.pack(">d", 2.5)))]))
put("npz", "negative-dimension.npz", npz([("w.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-3,), }"))]))
if len(sys.argv) > 1:
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "ours.npz")
        subprocess.run([sys.argv[1], path], check=True)
        with open(path, "rb") as f:
            put("npz", "ours.npz", f.read())
