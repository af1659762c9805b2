"""Times the original musicnn 0.1.0 (TensorFlow CPU) tagging files, as its
README runs it: musicnn.extractor.extractor(file, model=...), batch size 1.
Prints one JSON line: {"files": N, "patches": P, "seconds": S, "load_seconds": L}.

    python musicnn_original.py MODEL FILE...
"""
import json
import sys
import time

import numpy as np
from musicnn.extractor import extractor

model, files = sys.argv[1], sys.argv[2:]
# First call pays TensorFlow's start-up and graph building: time it apart.
t = time.perf_counter()
extractor(files[0], model=model, extract_features=False)
load = time.perf_counter() - t

patches = 0
t = time.perf_counter()
for f in files:
    taggram, _ = extractor(f, model=model, extract_features=False)
    patches += np.asarray(taggram).shape[0]
seconds = time.perf_counter() - t
print(json.dumps({"files": len(files), "patches": patches, "seconds": seconds, "load_seconds": load}))
