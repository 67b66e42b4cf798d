"""A PNG written by PIL the way ComfyUI's SaveImage writes one, plus compressed and non-Latin
text chunks, for test/nodes/png-text.test.ts.

Run with Debian's Python:  /usr/bin/python3 tools/nodes-png-golden.py
Writes test/golden/nodes/pil-text.png (a 4×3 RGB image, under 2 kB).
"""
import json
import os

import numpy as np
from PIL import Image
from PIL.PngImagePlugin import PngInfo

prompt = {"3": {"class_type": "KSampler", "inputs": {"seed": 5, "cfg": 4.5, "text": "caf\u00e9"}}}
workflow = {"nodes": [], "links": [], "version": 0.4}

info = PngInfo()
info.add_text("prompt", json.dumps(prompt))
info.add_text("workflow", json.dumps(workflow))
info.add_text("Title", "\u65e5\u672c")           # not Latin-1 → iTXt
info.add_text("Comment", "squeezed " * 20, zip=True)  # Latin-1 + zip → zTXt

pixels = np.arange(4 * 3 * 3, dtype=np.uint8).reshape(3, 4, 3) * 7
img = Image.fromarray(pixels)
path = os.path.join(os.path.dirname(__file__), "..", "test", "golden", "nodes", "pil-text.png")
img.save(path, pnginfo=info, compress_level=4)
print("wrote", path, os.path.getsize(path), "bytes")
print(json.dumps(prompt))
