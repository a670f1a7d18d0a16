"""Opens the checkpoint tests/write_checkpoint.cpp wrote, with numpy, and checks every value."""
import sys

import numpy as np

with np.load(sys.argv[1]) as npz:
    assert sorted(npz.files) == ["0.bias", "0.weight"], npz.files
    weight, bias = npz["0.weight"], npz["0.bias"]
assert weight.dtype == np.float32 and weight.shape == (3, 2), (weight.dtype, weight.shape)
assert (weight == np.array([[0.5, -1.0], [1.5, -2.0], [0.25, 4.0]], dtype=np.float32)).all(), weight
assert bias.shape == (2,) and (bias == np.array([0.125, -8.0], dtype=np.float32)).all(), bias
print("numpy reads the checkpoint: ok")
