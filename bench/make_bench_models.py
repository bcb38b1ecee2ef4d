"""Production-sized models for `npm run bench:scorer`, written by the real libraries (Debian's python3-xgboost,
python3-onnx, python3-numpy) into the directory given: the fixture models are tiny, so over HTTP their cost is all
JSON and sockets; these show the serving overhead against a model that does real work.

  /usr/bin/python3 bench/make_bench_models.py DIR
writes xgb_500x8.json (binary:logistic, 500 trees of depth 8, 32 features), mlp_256x256.onnx (32 -> 256 -> 256 -> 1,
ReLU, sigmoid; float32) and rows.json ({"X": 100 rows of 32 features}).
"""
import json
import os
import sys

import numpy as np
import onnx
import xgboost as xgb
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(7)
FEATURES = 32
X = rng.normal(size=(20000, FEATURES))
y = ((X[:, 0] * X[:, 1] + np.sin(X[:, 2]) + X[:, 3:8].sum(axis=1) * 0.2 + rng.normal(size=len(X)) * 0.3) > 0).astype(int)

booster = xgb.train(
    {"objective": "binary:logistic", "max_depth": 8, "eta": 0.05, "seed": 7},
    xgb.DMatrix(X, label=y),
    num_boost_round=500,
)
booster.save_model(os.path.join(out, "xgb_500x8.json"))

sizes = [FEATURES, 256, 256, 1]
nodes, inits, prev = [], [], "X"
for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
    w = (rng.normal(size=(n_in, n_out)) / np.sqrt(n_in)).astype(np.float32)
    b = np.zeros(n_out, dtype=np.float32)
    inits += [numpy_helper.from_array(w, f"W{i}"), numpy_helper.from_array(b, f"B{i}")]
    nodes.append(helper.make_node("Gemm", [prev, f"W{i}", f"B{i}"], [f"H{i}"]))
    prev = f"H{i}"
    if i < len(sizes) - 2:
        nodes.append(helper.make_node("Relu", [prev], [f"R{i}"]))
        prev = f"R{i}"
nodes.append(helper.make_node("Sigmoid", [prev], ["score"]))
graph = helper.make_graph(
    nodes,
    "mlp",
    [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", FEATURES])],
    [helper.make_tensor_value_info("score", TensorProto.FLOAT, ["N", 1])],
    inits,
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, os.path.join(out, "mlp_256x256.onnx"))

with open(os.path.join(out, "rows.json"), "w") as f:
    json.dump({"X": X[:100].round(6).tolist()}, f)
