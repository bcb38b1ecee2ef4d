#!/usr/bin/python3
"""Build the rollout fixtures in test/fixtures/generated/ (rollout_*): candidates for the shared mlp_classifier.

Run with Debian's Python (numpy, scikit-learn, onnx):

    /usr/bin/python3 test/models/make_rollout.py

Deterministic: fixed seeds. The e2e suite's rollouts serve test/fixtures/shared/mlp_classifier.onnx as the stable
model (FP32 "input" [N,8] -> Gemm/Relu x3 -> Softmax "probabilities" [N,3]) and these as its candidates, with the
same input and output names, so that a stable scorer can forward its requests to them:
- rollout_fails.onnx (no manifest entry): the stable MLP's own graph, plus an offset read by Gather from a
  one-element table at the index Cast(1000 * sum |x|): the warm-up's row of zeros reads index 0 and passes, every real
  row (any non-zero feature) reads far beyond the table and onnxruntime fails the prediction.
- rollout_disagrees.onnx: a model of the same input and output whose predictions differ from the stable's: a
  scikit-learn LogisticRegression trained on the stable's labels shuffled (a training pipeline that lost the
  pairing of rows and labels), built as MatMul + Add -> Softmax. Its inputs are mlp_classifier's rows and its
  expected values numpy's float32 mirror of the graph, checked against the estimator's predict_proba, like
  make_models.py's ONNX models; it has a manifest entry, so the prediction tests serve it too.
The good candidate of the e2e suite needs no file of its own: it is mlp_classifier.onnx under another URI.
It replaces only the rollout_* manifest entries; make_models.py keeps them.
"""
import json
import os
import sys

import numpy as np
import onnx
import sklearn
from onnx import TensorProto, helper, numpy_helper
from sklearn.linear_model import LogisticRegression

from fixture_io import write_json

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, '..', 'fixtures', 'generated'))
SHARED = os.path.normpath(os.path.join(HERE, '..', 'fixtures', 'shared'))
SEED = 20240612
STABLE = 'mlp_classifier'
# The shared manifest's tolerance for the stable model (ONNX float32 against the estimator).
STABLE_TOL = 1e-3


def save_onnx(model, filename):
    onnx.checker.check_model(model, full_check=True)
    path = os.path.join(OUT, filename)
    onnx.save(model, path)
    onnx.checker.check_model(onnx.load(path), full_check=True)


def make_model(graph):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)],
                              producer_name='test/models/make_rollout.py', producer_version='1')
    model.ir_version = 8
    return model


def softmax32(z):
    z = z.astype(np.float32)
    e = np.exp(z - z.max(axis=1, keepdims=True)).astype(np.float32)
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def stable_mirror(stable, X):
    """numpy's float32 evaluation of the stable MLP's graph (Gemm, Relu, Gemm, Relu, Gemm, Softmax)."""
    w = {t.name: numpy_helper.to_array(t) for t in stable.graph.initializer}
    ops = [n.op_type for n in stable.graph.node]
    assert ops == ['Gemm', 'Relu', 'Gemm', 'Relu', 'Gemm', 'Softmax'], ops
    h = X.astype(np.float32)
    for i in range(3):
        h = (h @ w[f'W{i}'] + w[f'b{i}']).astype(np.float32)
        if i < 2:
            h = np.maximum(h, np.float32(0))
    return softmax32(h)


def make_fails(stable):
    """The stable graph with its Softmax's output renamed, plus the offset that only zeros can read."""
    graph = onnx.GraphProto()
    graph.CopyFrom(stable.graph)
    graph.name = 'rollout_fails'
    softmax = graph.node[-1]
    assert softmax.op_type == 'Softmax' and list(softmax.output) == ['probabilities']
    softmax.output[0] = 'stable_probabilities'
    graph.initializer.extend([
        numpy_helper.from_array(np.array([0.0], dtype=np.float32), 'offset_table'),
        numpy_helper.from_array(np.array(1000.0, dtype=np.float32), 'index_scale'),
    ])
    graph.node.extend([
        # [N,1]: sum |x| of each row; 0 for the warm-up's zeros, well above 0.001 for any real row.
        helper.make_node('ReduceL1', ['input'], ['row_l1'], axes=[1], keepdims=1, name='ReduceL1'),
        helper.make_node('Mul', ['row_l1', 'index_scale'], ['scaled'], name='Mul'),
        helper.make_node('Cast', ['scaled'], ['index'], to=TensorProto.INT64, name='Cast'),
        # Index 0 is the table's only element: any other index is out of range, and onnxruntime fails the run.
        helper.make_node('Gather', ['offset_table', 'index'], ['offset'], axis=0, name='Gather'),
        helper.make_node('Add', ['stable_probabilities', 'offset'], ['probabilities'], name='Add'),
    ])
    save_onnx(make_model(graph), 'rollout_fails.onnx')


def make_disagrees(stable, rows, stable_expected):
    rng = np.random.default_rng(SEED)
    # Training rows drawn like the fixture's (standardized features), labelled by the stable model, then shuffled.
    X = rng.normal(size=(600, 8)).astype(np.float32).astype(np.float64)
    labels = np.argmax(stable_mirror(stable, X), axis=1)
    assert len(np.unique(labels)) == 3, np.bincount(labels)
    y = rng.permutation(labels)
    est = LogisticRegression(C=1.0, max_iter=2000).fit(X, y)
    assert list(est.classes_) == [0, 1, 2]
    W32 = est.coef_.T.astype(np.float32)
    b32 = est.intercept_.astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node('MatMul', ['input', 'coef'], ['mm'], name='MatMul'),
         helper.make_node('Add', ['mm', 'intercept'], ['logits'], name='Add'),
         helper.make_node('Softmax', ['logits'], ['probabilities'], axis=1, name='Softmax')],
        'rollout_disagrees',
        [helper.make_tensor_value_info('input', TensorProto.FLOAT, [None, 8])],
        [helper.make_tensor_value_info('probabilities', TensorProto.FLOAT, [None, 3])],
        [numpy_helper.from_array(W32, 'coef'), numpy_helper.from_array(b32, 'intercept')])
    save_onnx(make_model(graph), 'rollout_disagrees.onnx')

    x32 = np.asarray(rows, dtype=np.float32)
    proba = softmax32(x32 @ W32 + b32)
    with np.errstate(over='ignore', under='ignore'):
        reference = est.predict_proba(x32.astype(np.float64))
    assert np.max(np.abs(proba - reference)) < 1e-5, np.max(np.abs(proba - reference))
    # Where it matters, it disagrees: on every row drawn from data like the training data (the e2e suite's load
    # sends those), by far more than the stable model's own tolerance.
    diff = np.max(np.abs(proba.astype(np.float64) - np.asarray(stable_expected)), axis=1)
    assert np.min(diff[:46]) > 100 * STABLE_TOL, diff[:46]
    write_json(os.path.join(OUT, 'rollout_disagrees.inputs.json'), {'X': rows})
    write_json(os.path.join(OUT, 'rollout_disagrees.expected.json'),
               {'probabilities': proba.astype(np.float64).tolist()})
    return {
        'name': 'rollout_disagrees',
        'file': 'rollout_disagrees.onnx',
        'format': 'onnx',
        'library': f'scikit-learn {sklearn.__version__} LogisticRegression (multinomial)',
        'tolerance': 1e-4,
        'outputs': ['probabilities'],
        'note': f'a candidate that disagrees with {STABLE}: its input and output, trained on {STABLE}\'s labels '
                'shuffled; MatMul+Add -> Softmax "probabilities" [N,3]; inputs are mlp_classifier\'s rows',
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    stable = onnx.load(os.path.join(SHARED, f'{STABLE}.onnx'))
    with open(os.path.join(SHARED, f'{STABLE}.inputs.json')) as f:
        rows = json.load(f)['X']
    with open(os.path.join(SHARED, f'{STABLE}.expected.json')) as f:
        stable_expected = json.load(f)['probabilities']
    # The mirror is right: it gives the stable model's own expected values.
    mirror = stable_mirror(stable, np.asarray(rows))
    assert np.max(np.abs(mirror - np.asarray(stable_expected))) < STABLE_TOL

    make_fails(stable)
    # The fails model's offset table is read at 0 only by an all-zero row; the fixture's rows drawn from the data
    # (the first 46) all have a sum |x| far above 1/1000.
    assert min(np.sum(np.abs(np.asarray(rows[:46])), axis=1)) > 0.1
    entry = make_disagrees(stable, rows, stable_expected)

    path = os.path.join(OUT, 'manifest.json')
    with open(path) as f:
        others = [e for e in json.load(f) if not e['name'].startswith('rollout_')]
    write_json(path, others + [entry], indent=1)
    print(f'wrote rollout_fails.onnx, rollout_disagrees.onnx (+ inputs, expected, manifest entry) to {OUT}')


if __name__ == '__main__':
    sys.exit(main())
