"""Writes .npz files with numpy (np.savez and np.savez_compressed; float32 and float64, 0-d,
empty, big-endian, odd names) and checks that read_checkpoint, built on nn::load_arrays, reads
every value bit for bit. Usage: we_read_numpy.py READ_CHECKPOINT FOLDER"""
import os
import subprocess
import sys

import numpy as np

reader, folder = sys.argv[1], sys.argv[2]
os.makedirs(folder, exist_ok=True)
rng = np.random.default_rng(5)
arrays = {
    "fc1.weight": rng.standard_normal((5, 7)).astype(np.float32),
    "fc1.bias": rng.standard_normal(7),
    "special": np.array([np.inf, -np.inf, -0.0, 5e-324, np.finfo(np.float32).tiny], dtype=np.float32),
    "scalar": np.float64(np.pi),
    "empty": np.zeros((0, 3), dtype=np.float32),
    "big_endian": np.arange(4, dtype=">f8").reshape(2, 2),
    "deep.name.über": rng.standard_normal((2, 1, 3, 1)).astype(np.float32),
}


def expected():
    lines = []
    for name, a in arrays.items():
        a = np.asarray(a)
        shape = "[" + ", ".join(str(d) for d in a.shape) + "]"
        bits = a.astype(np.float64).ravel().view(np.uint64)
        lines.append(" ".join([name, shape] + ["%016x" % b for b in bits]))
    return lines


for save in (np.savez, np.savez_compressed):
    path = os.path.join(folder, save.__name__ + ".npz")
    save(path, **arrays)
    out = subprocess.run([reader, path], check=True, capture_output=True, text=True).stdout.splitlines()
    if out != expected():
        for got, want in zip(out, expected()):
            if got != want:
                sys.exit("%s: read\n  %s\nnumpy wrote\n  %s" % (path, got, want))
        sys.exit("%s: read %d arrays, numpy wrote %d" % (path, len(out), len(arrays)))
print("we read numpy's np.savez and np.savez_compressed bit for bit: ok")
