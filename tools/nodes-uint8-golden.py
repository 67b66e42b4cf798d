"""numpy's `np.clip(255. * x, 0, 255).astype(np.uint8)` on float32 values near the k/255
boundaries (ComfyUI's SaveImage conversion), for test/nodes/save-load-image.test.ts.

Run:  /usr/bin/python3 tools/nodes-uint8-golden.py   → test/golden/nodes/uint8.json
"""
import json
import os

import numpy as np

vals = []
for k in range(256):
    for d in (-1e-4, -1e-6, -1e-7, 0.0, 1e-7, 1e-6, 0.5, 0.999):
        vals.append((k + d) / 255.0)
vals += [-0.5, 1.0000001, 2.0]
x = np.array(vals, dtype=np.float32)
out = np.clip(255. * x, 0, 255).astype(np.uint8)
path = os.path.join(os.path.dirname(__file__), "..", "test", "golden", "nodes", "uint8.json")
with open(path, "w") as f:
    json.dump({"input_float32": [float(v) for v in x], "uint8": [int(v) for v in out]}, f)
print("wrote", path, len(vals))
