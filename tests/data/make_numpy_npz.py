"""Writes the two .npz files of tests/checkpoint_test.cpp's "checkpoints numpy wrote" test.

Run from this folder with any numpy: python3 make_numpy_npz.py
"""
import numpy as np

arrays = {
    # (i / 7 - 0.25) in float32 arithmetic, which the test computes the same way.
    "fc1.weight": np.arange(6, dtype=np.float32).reshape(2, 3) / np.float32(7) - np.float32(0.25),
    "fc1.bias": np.array([0.1, -1e300], dtype=np.float64),
    "scalar": np.float64(3.0),
}
np.savez("numpy_savez.npz", **arrays)
np.savez_compressed("numpy_savez_compressed.npz", **arrays)
