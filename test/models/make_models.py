#!/usr/bin/python3
"""Build the generated model fixtures in test/fixtures/generated/ (same layout as test/fixtures/shared/).

Run with Debian's Python (it has scikit-learn, xgboost 1.7, onnx, numpy):

    /usr/bin/python3 test/models/make_models.py

Deterministic: fixed seeds, single-threaded XGBoost. For every model NAME in manifest.json it writes the model file,
NAME.inputs.json ({"X": rows, null = missing}) and NAME.expected.json (the library's own predictions). ONNX graphs are
built by hand with onnx.helper from fitted scikit-learn estimators; their expected values come from numpy math that
mirrors the graph (float32 where the graph is float32), checked against the estimator's predict/predict_proba.
zipmap.onnx, two_inputs.onnx and run_fails.onnx are written without manifest entries (refusal / V2-only / warm-up
failure tests). The LightGBM fixtures (lgbm_*) come from make_lightgbm.py, the drift fixtures (drift_*) from
make_drift.py, the rollout fixtures (rollout_*) from make_rollout.py and the categorical XGBoost fixtures (xgb_cat_*)
from make_xgboost_categorical.py; their manifest entries are kept.
"""
import json
import math
import os
import sys

import numpy as np
import onnx
import sklearn
import xgboost as xgb
from onnx import TensorProto, helper, numpy_helper
from sklearn.linear_model import LinearRegression, LogisticRegression

from fixture_io import to_json_rows, write_json

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, '..', 'fixtures', 'generated'))
SEED = 20240601
XGB_TOL = 1e-5
MANIFEST = []


# ----------------------------------------------------------------------------------------------------------------------
# helpers


def write_fixture(name, X_rows, expected):
    write_json(os.path.join(OUT, f'{name}.inputs.json'), {'X': X_rows})
    write_json(os.path.join(OUT, f'{name}.expected.json'), expected)


def extra_rows(X_train, n_features):
    """Zeros, +1000, -1000 and the (nan-)mean, like the shared fixtures."""
    return np.vstack([
        np.zeros(n_features),
        np.full(n_features, 1000.0),
        np.full(n_features, -1000.0),
        np.nanmean(X_train, axis=0),
    ])


def xgb_trees(booster):
    model = json.loads(booster.save_raw(raw_format='json'))
    return model['learner']['gradient_booster']['model']['trees']


def default_left_stats(booster):
    """(#splits defaulting left, #splits defaulting right) over all trees."""
    left = right = 0
    for t in xgb_trees(booster):
        for i, lc in enumerate(t['left_children']):
            if lc == -1:
                continue
            if t['default_left'][i]:
                left += 1
            else:
                right += 1
    return left, right


def xgb_fixture(name, params, X, y, X_eval, rounds, note, nan_required=True):
    """Train, save NAME.json, write inputs/expected (Booster.predict(DMatrix(X, missing=nan)))."""
    params = dict(params, seed=SEED, nthread=1)
    dtrain = xgb.DMatrix(X, label=y, missing=np.nan)
    booster = xgb.train(params, dtrain, num_boost_round=rounds)
    path = os.path.join(OUT, f'{name}.json')
    booster.save_model(path)

    # Reload from the saved file so the expected values are what the file itself produces.
    loaded = xgb.Booster()
    loaded.load_model(path)
    pred = loaded.predict(xgb.DMatrix(X_eval, missing=np.nan))
    pred_mem = booster.predict(xgb.DMatrix(X_eval, missing=np.nan))
    assert np.array_equal(pred, pred_mem), name

    left, right = default_left_stats(loaded)
    n_trees = len(xgb_trees(loaded))
    if nan_required:
        assert np.isnan(X).any() and np.isnan(X_eval).any(), name
        assert left > 0 and right > 0, f'{name}: default_left only one way ({left} left, {right} right)'
    assert 5 <= n_trees <= 20, f'{name}: {n_trees} trees'
    write_fixture(name, to_json_rows(X_eval), {'score': pred.tolist()})
    MANIFEST.append({
        'name': name,
        'file': f'{name}.json',
        'format': 'xgboost',
        'library': f'XGBoost {xgb.__version__} {params["objective"]}',
        'tolerance': XGB_TOL,
        'outputs': ['score'],
        'note': f'{note} ({n_trees} trees; default_left: {left} splits left, {right} right)',
    })
    return loaded, pred


def xgb_float(v):
    """A float32 as XGBoost writes parameters: shortest round-trip digits, "E" exponent ("-1.0986123E-1")."""
    mantissa, exponent = np.format_float_scientific(np.float32(v), unique=True, exp_digits=1).split('e')
    return f"{mantissa.rstrip('.')}E{int(exponent)}"


def xgb_vector_base_score(name, source, base):
    """Rewrites fixture SOURCE (multi-class) into XGBoost >= 3.1's layout, with one intercept per class.

    XGBoost 3.1 saves learner_model_param.base_score as a vector string, "[m0,m1,...]", one margin per class
    (dmlc/xgboost#11651; multi-class intercepts are already margins). Debian ships XGBoost 1.7, which cannot write
    that, so the 1.7 model's JSON is rewritten. Its expected values are still the library's own: 1.7 predicting with
    base_margin set to the same per-class margins for every row, which replaces base_score in the sum exactly.
    """
    with open(os.path.join(OUT, f'{source}.json')) as f:
        model = json.load(f)
    num_class = int(model['learner']['learner_model_param']['num_class'])
    assert len(base) == num_class and len(set(base)) == num_class, name
    model['learner']['learner_model_param']['base_score'] = f"[{','.join(xgb_float(b) for b in base)}]"
    model['version'] = [3, 1, 0]
    with open(os.path.join(OUT, f'{name}.json'), 'w') as f:
        json.dump(model, f, separators=(',', ':'))

    source_booster = xgb.Booster()
    source_booster.load_model(os.path.join(OUT, f'{source}.json'))
    with open(os.path.join(OUT, f'{source}.inputs.json')) as f:
        rows = json.load(f)['X']
    X = np.array([[np.nan if v is None else v for v in r] for r in rows], dtype=np.float64)
    margins = np.tile(np.array(base, dtype=np.float32), (len(X), 1))
    pred = source_booster.predict(xgb.DMatrix(X, missing=np.nan, base_margin=margins))
    same = source_booster.predict(xgb.DMatrix(X, missing=np.nan))
    assert np.abs(pred - same).max() > 0.1, f'{name}: the intercepts change nothing'
    write_fixture(name, rows, {'score': pred.tolist()})
    MANIFEST.append({
        'name': name,
        'file': f'{name}.json',
        'format': 'xgboost',
        'library': f'XGBoost {xgb.__version__} multi:softprob, rewritten into the XGBoost 3.1 layout',
        'tolerance': XGB_TOL,
        'outputs': ['score'],
        'note': f'{source} with base_score "{model["learner"]["learner_model_param"]["base_score"]}" (one margin per '
                'class, as XGBoost >= 3.1 saves it); expected values: XGBoost 1.7 with those margins as base_margin',
    })


def punch_nans(rng, X, frac, cols):
    X = X.copy()
    for c in cols:
        mask = rng.random(X.shape[0]) < frac
        X[mask, c] = np.nan
    return X


def eval_rows(X_train, n_train_rows, nan_rows):
    """First n_train_rows training rows (the first nan_rows of them get a null in feature 1 / 0), then the extras."""
    n_features = X_train.shape[1]
    head = X_train[:n_train_rows].copy()
    for i in range(nan_rows):
        head[i, i % 2] = np.nan            # features 0 and 1 alternate
    head[nan_rows, :] = np.nan             # one all-missing row
    return np.vstack([head, extra_rows(X_train, n_features)])


# ----------------------------------------------------------------------------------------------------------------------
# XGBoost


def make_xgb():
    rng = np.random.default_rng(SEED)

    # Data where "missing" carries signal: rows with NaN in f0 have high target, NaN in f1 low target,
    # so learned default directions differ between splits.
    def data(n, d):
        X = rng.normal(size=(n, d))
        base = 1.2 * X[:, 0] - 0.8 * X[:, 1] + 0.5 * X[:, 2] * X[:, 3] + 0.3 * X[:, d - 1]
        miss0 = rng.random(n) < 0.12
        miss1 = rng.random(n) < 0.12
        base = base + np.where(miss0, 2.0, 0.0) - np.where(miss1, 2.0, 0.0)
        X[miss0, 0] = np.nan
        X[miss1, 1] = np.nan
        X[rng.random(n) < 0.05, 2] = np.nan
        return X, base

    common = {'max_depth': 3, 'eta': 0.3, 'tree_method': 'hist'}

    # reg:logistic, targets in [0, 1]
    X, s = data(400, 6)
    y = 1.0 / (1.0 + np.exp(-s))
    xgb_fixture('xgb_logistic_reg', dict(common, objective='reg:logistic'), X, y, eval_rows(X, 34, 6), 12,
                'reg:logistic on continuous targets in [0,1]; rows 0-5 have a null in feature 0 or 1, row 6 is all null')

    # binary:logitraw
    X, s = data(400, 5)
    y = (s + rng.normal(scale=0.5, size=len(s)) > 0).astype(float)
    xgb_fixture('xgb_logitraw', dict(common, objective='binary:logitraw', max_depth=4), X, y, eval_rows(X, 34, 6), 10,
                'binary:logitraw: score is the raw margin; rows 0-5 have a null in feature 0 or 1, row 6 is all null')

    # multi:softmax, 4 classes
    X, s = data(500, 7)
    y = np.digitize(s, np.quantile(s, [0.25, 0.5, 0.75])).astype(float)
    xgb_fixture('xgb_softmax', dict(common, objective='multi:softmax', num_class=4), X, y, eval_rows(X, 34, 6), 4,
                'multi:softmax, 4 classes: score is the class index as a float (1-D); rows 0-5 have a null, row 6 all null')

    # random-forest style: num_parallel_tree=4, subsampling
    X, s = data(400, 8)
    y = 10.0 * s + rng.normal(scale=0.3, size=len(s))
    xgb_fixture('xgb_rf', dict(objective='reg:squarederror', max_depth=4, eta=1.0, num_parallel_tree=4,
                               subsample=0.8, colsample_bynode=0.8, tree_method='hist'),
                X, y, eval_rows(X, 34, 6), 3,
                'random forest style: num_parallel_tree=4, subsample=0.8, colsample_bynode=0.8, 3 rounds; '
                'rows 0-5 have a null, row 6 all null')

    # explicit base_score with targets far from 0
    X, s = data(400, 5)
    y = 250.0 + 15.0 * s
    xgb_fixture('xgb_base_score', dict(common, objective='reg:squarederror', base_score=3.5, max_depth=4), X, y,
                eval_rows(X, 34, 6), 15,
                'reg:squarederror with base_score=3.5 and targets around 250 (trees are far from converged); '
                'rows 0-5 have a null, row 6 all null')

    # multi:softprob, 3 classes, with nulls
    X, s = data(450, 6)
    y = np.digitize(s, np.quantile(s, [1 / 3, 2 / 3])).astype(float)
    xgb_fixture('xgb_softprob_nan', dict(common, objective='multi:softprob', num_class=3), X, y,
                eval_rows(X, 34, 10), 5,
                'multi:softprob, 3 classes: score is a list of 3 probabilities per row; rows 0-9 have a null in '
                'feature 0 or 1, row 10 all null')

    # The same model in XGBoost >= 3.1's layout, with a distinct intercept per class (see xgb_vector_base_score)
    xgb_vector_base_score('xgb_softprob_vector_base', 'xgb_softprob_nan', [-0.10986123, 0.4054651, -0.2956512])

    # binary:logistic with extreme values and rows exactly on split thresholds
    X, s = data(400, 5)
    y = (s > 0).astype(float)
    params = dict(common, objective='binary:logistic', max_depth=3)
    dtrain = xgb.DMatrix(X, label=y, missing=np.nan)
    booster = xgb.train(dict(params, seed=SEED, nthread=1), dtrain, num_boost_round=6)
    splits = []  # (feature, float32 threshold) in tree order
    for t in xgb_trees(booster):
        for i, lc in enumerate(t['left_children']):
            if lc != -1:
                splits.append((t['split_indices'][i], float(np.float32(t['split_conditions'][i]))))
    rows = []
    base = np.nan_to_num(X[:30], nan=0.0)
    # one row per (distinct) split: a training row whose split feature is exactly the threshold
    seen = set()
    for k, (f, thr) in enumerate(splits):
        if (f, thr) in seen:
            continue
        seen.add((f, thr))
        r = base[len(rows) % len(base)].copy()
        r[f] = thr
        rows.append(r)
        if len(rows) >= 24:
            break
    # rows where every feature sits on some threshold of that feature
    by_feature = {}
    for f, thr in splits:
        by_feature.setdefault(f, []).append(thr)
    for j in range(4):
        r = base[j].copy()
        for f, thrs in by_feature.items():
            r[f] = thrs[j % len(thrs)]
        rows.append(r)
    # extreme values and zeros
    d = X.shape[1]
    rows += [np.full(d, 1e30), np.full(d, -1e30), np.zeros(d),
             np.array([1e30, -1e30, 0.0, 1e30, -1e30]), np.array([-1e30, 1e30, np.nan, 0.0, 1e30]),
             np.array([0.0, np.nan, 1e30, -1e30, 0.0]), np.array([np.nan, 0.0, -1e30, np.nan, 1e30]),
             np.full(d, np.nan)]
    X_eval = np.vstack(rows)
    # train the fixture model itself (same params/rounds -> same trees) through the common path
    loaded, _ = xgb_fixture(
        'xgb_thresholds', params, X, y, X_eval, 6,
        'binary:logistic; the first rows set one feature exactly equal to a split_condition (XGBoost sends '
        'value == threshold to the right child, as value < threshold goes left), then rows with every feature on a '
        'threshold, then +-1e30, zeros and nulls')
    # sanity: identical trees, and the threshold rows hit their thresholds exactly in float32
    assert xgb_trees(loaded) == xgb_trees(booster)
    n_on = 0
    for r in X_eval:
        for f, thr in splits:
            if not math.isnan(r[f]) and np.float32(r[f]) == np.float32(thr):
                n_on += 1
                break
    assert n_on >= 24, n_on


# ----------------------------------------------------------------------------------------------------------------------
# ONNX


def save_onnx(model, filename, full_check=True):
    # full_check adds strict shape inference; onnx 1.12 cannot merge map types there (ZipMap), so zipmap.onnx
    # gets the structural check only (like skl2onnx's own ZipMap models).
    onnx.checker.check_model(model, full_check=full_check)
    path = os.path.join(OUT, filename)
    onnx.save(model, path)
    onnx.checker.check_model(onnx.load(path), full_check=full_check)


def make_model(graph, ml=False):
    opsets = [helper.make_opsetid('', 13)]
    if ml:
        opsets.append(helper.make_opsetid('ai.onnx.ml', 1))
    model = helper.make_model(graph, opset_imports=opsets, producer_name='test/models/make_models.py',
                              producer_version='1')
    model.ir_version = 8
    return model


def onnx_entry(name, library, tol, outputs, note):
    MANIFEST.append({'name': name, 'file': f'{name}.onnx', 'format': 'onnx', 'library': library, 'tolerance': tol,
                     'outputs': outputs, 'note': note})


def logistic_binary_graph_nodes(W32, b32, in_name):
    """MatMul + Add -> Sigmoid -> [1-p, p] -> probabilities; ArgMax -> label."""
    inits = [numpy_helper.from_array(W32, 'coef'), numpy_helper.from_array(b32, 'intercept'),
             numpy_helper.from_array(np.array([1.0], dtype=np.float32), 'one')]
    nodes = [
        helper.make_node('MatMul', [in_name, 'coef'], ['mm'], name='MatMul'),
        helper.make_node('Add', ['mm', 'intercept'], ['z'], name='Add'),
        helper.make_node('Sigmoid', ['z'], ['p1'], name='Sigmoid'),
        helper.make_node('Sub', ['one', 'p1'], ['p0'], name='Sub'),
        helper.make_node('Concat', ['p0', 'p1'], ['probabilities'], axis=1, name='Concat'),
        helper.make_node('ArgMax', ['probabilities'], ['label'], axis=1, keepdims=0, name='ArgMax'),
    ]
    return inits, nodes


def make_onnx():
    rng = np.random.default_rng(SEED + 1)

    # --- onnx_linreg_f64: DOUBLE input "input" [None,5] -> MatMul + Add -> "variable" [None,1] double
    X = rng.normal(size=(200, 5)) * np.array([1.0, 3.0, 0.5, 10.0, 2.0])
    y = X @ np.array([1.5, -2.0, 0.7, 0.05, 3.3]) + 4.2 + rng.normal(scale=0.1, size=200)
    est = LinearRegression().fit(X, y)
    W = est.coef_.reshape(5, 1).astype(np.float64)
    b = np.array([est.intercept_], dtype=np.float64)
    graph = helper.make_graph(
        [helper.make_node('MatMul', ['input', 'coef'], ['mm'], name='MatMul'),
         helper.make_node('Add', ['mm', 'intercept'], ['variable'], name='Add')],
        'linreg_f64',
        [helper.make_tensor_value_info('input', TensorProto.DOUBLE, [None, 5])],
        [helper.make_tensor_value_info('variable', TensorProto.DOUBLE, [None, 1])],
        [numpy_helper.from_array(W, 'coef'), numpy_helper.from_array(b, 'intercept')])
    save_onnx(make_model(graph), 'onnx_linreg_f64.onnx')
    X_eval = np.vstack([X[:36], extra_rows(X, 5)])
    pred = X_eval @ W + b
    assert np.max(np.abs(pred[:, 0] - est.predict(X_eval)) / np.maximum(1, np.abs(pred[:, 0]))) < 1e-6
    write_fixture('onnx_linreg_f64', to_json_rows(X_eval), {'variable': pred.tolist()})
    onnx_entry('onnx_linreg_f64', f'scikit-learn {sklearn.__version__} LinearRegression', 1e-5, ['variable'],
               'hand-built MatMul+Add graph, DOUBLE input "input" [N,5], DOUBLE output "variable" [N,1]')

    # --- onnx_int64_input: INT64 "x" [None,4] -> Cast float -> MatMul + Add -> "y" float [None,1]
    Xi = rng.integers(0, 50, size=(200, 4)).astype(np.int64)
    y = Xi @ np.array([0.25, -1.5, 2.0, 0.1]) - 7.0 + rng.normal(scale=0.2, size=200)
    est = LinearRegression().fit(Xi.astype(np.float64), y)
    W32 = est.coef_.reshape(4, 1).astype(np.float32)
    b32 = np.array([est.intercept_], dtype=np.float32)
    graph = helper.make_graph(
        [helper.make_node('Cast', ['x'], ['xf'], to=TensorProto.FLOAT, name='Cast'),
         helper.make_node('MatMul', ['xf', 'coef'], ['mm'], name='MatMul'),
         helper.make_node('Add', ['mm', 'intercept'], ['y'], name='Add')],
        'int64_input',
        [helper.make_tensor_value_info('x', TensorProto.INT64, [None, 4])],
        [helper.make_tensor_value_info('y', TensorProto.FLOAT, [None, 1])],
        [numpy_helper.from_array(W32, 'coef'), numpy_helper.from_array(b32, 'intercept')])
    save_onnx(make_model(graph), 'onnx_int64_input.onnx')
    X_eval = np.vstack([Xi[:36], np.zeros((1, 4), np.int64), np.full((1, 4), 1000, np.int64),
                        np.full((1, 4), -1000, np.int64), np.array([[1, 2, 3, 4]], np.int64)])
    pred32 = (X_eval.astype(np.float32) @ W32 + b32).astype(np.float32)
    ref = est.predict(X_eval.astype(np.float64))
    assert np.max(np.abs(pred32[:, 0] - ref) / np.maximum(1, np.abs(ref))) < 1e-5
    write_fixture('onnx_int64_input', [[int(v) for v in r] for r in X_eval], {'y': pred32.astype(np.float64).tolist()})
    onnx_entry('onnx_int64_input', f'scikit-learn {sklearn.__version__} LinearRegression (integer features)', 1e-4,
               ['y'], 'INT64 input "x" [N,4] -> Cast(float) -> MatMul+Add -> float "y" [N,1]; inputs are integers')

    # --- onnx_two_outputs: binary LogisticRegression, "float_input" [None,6] -> label INT64 [None], probabilities
    X = rng.normal(size=(300, 6)).astype(np.float32).astype(np.float64)
    s = X @ np.array([1.0, -2.0, 0.5, 0.0, 1.5, -0.7]) + 0.3
    y = (s + rng.normal(scale=0.8, size=300) > 0).astype(np.int64)
    est = LogisticRegression(C=1.0, max_iter=1000).fit(X, y)
    assert list(est.classes_) == [0, 1]
    W32 = est.coef_.reshape(6, 1).astype(np.float32)
    b32 = est.intercept_.astype(np.float32)
    inits, nodes = logistic_binary_graph_nodes(W32, b32, 'float_input')
    graph = helper.make_graph(
        nodes, 'logreg_binary',
        [helper.make_tensor_value_info('float_input', TensorProto.FLOAT, [None, 6])],
        [helper.make_tensor_value_info('label', TensorProto.INT64, [None]),
         helper.make_tensor_value_info('probabilities', TensorProto.FLOAT, [None, 2])],
        inits)
    save_onnx(make_model(graph), 'onnx_two_outputs.onnx')
    X_eval = np.vstack([X[:36], extra_rows(X, 6)])
    # float64 mirror of the graph == sklearn
    z64 = X_eval @ est.coef_.reshape(6, 1).astype(np.float64) + est.intercept_
    with np.errstate(over='ignore'):
        p1_64 = 1.0 / (1.0 + np.exp(-z64))
    proba64 = np.hstack([1.0 - p1_64, p1_64])
    assert np.max(np.abs(proba64 - est.predict_proba(X_eval))) < 1e-6
    # float32 math as the graph runs it
    x32 = X_eval.astype(np.float32)
    z32 = (x32 @ W32 + b32).astype(np.float32)
    with np.errstate(over='ignore'):  # the +-1000 rows saturate the sigmoid to exactly 0 / 1
        p1 = (np.float32(1) / (np.float32(1) + np.exp(-z32))).astype(np.float32)
    proba32 = np.hstack([np.float32(1) - p1, p1]).astype(np.float32)
    label = np.argmax(proba32, axis=1).astype(np.int64)
    assert np.max(np.abs(proba32 - proba64)) < 1e-5
    assert np.min(np.abs(z64)) > 1e-3, 'a row sits on the decision boundary'
    assert np.array_equal(label, est.predict(X_eval)), 'label != sklearn predict'
    write_fixture('onnx_two_outputs', to_json_rows(x32),
                  {'label': [int(v) for v in label], 'probabilities': proba32.astype(np.float64).tolist()})
    onnx_entry('onnx_two_outputs', f'scikit-learn {sklearn.__version__} LogisticRegression (binary)', 1e-4,
               ['label', 'probabilities'],
               'float "float_input" [N,6] -> MatMul+Add -> Sigmoid -> Concat[1-p,p] = "probabilities" [N,2]; '
               'ArgMax(keepdims=0) = "label" INT64 [N]; inputs are float32-representable')

    # --- zipmap.onnx (no manifest entry): same classifier, probabilities through ai.onnx.ml ZipMap
    inits, nodes = logistic_binary_graph_nodes(W32, b32, 'float_input')
    nodes.append(helper.make_node('ZipMap', ['probabilities'], ['output_probability'], domain='ai.onnx.ml',
                                  classlabels_int64s=[0, 1], name='ZipMap'))
    map_type = onnx.TypeProto()  # onnx 1.12 has no helper.make_map_type_proto
    map_type.map_type.key_type = TensorProto.INT64
    map_type.map_type.value_type.CopyFrom(helper.make_tensor_type_proto(TensorProto.FLOAT, []))
    seq_map = helper.make_sequence_type_proto(map_type)
    graph = helper.make_graph(
        nodes, 'logreg_zipmap',
        [helper.make_tensor_value_info('float_input', TensorProto.FLOAT, [None, 6])],
        [helper.make_tensor_value_info('label', TensorProto.INT64, [None]),
         helper.make_value_info('output_probability', seq_map)],
        inits)
    save_onnx(make_model(graph, ml=True), 'zipmap.onnx', full_check=False)

    # --- two_inputs.onnx (no manifest entry): "a" [None,3] + "b" [None,3] -> "sum" [None,3]
    graph = helper.make_graph(
        [helper.make_node('Add', ['a', 'b'], ['sum'], name='Add')], 'two_inputs',
        [helper.make_tensor_value_info('a', TensorProto.FLOAT, [None, 3]),
         helper.make_tensor_value_info('b', TensorProto.FLOAT, [None, 3])],
        [helper.make_tensor_value_info('sum', TensorProto.FLOAT, [None, 3])])
    save_onnx(make_model(graph), 'two_inputs.onnx')

    # --- run_fails.onnx (no manifest entry): loads, but its Gather reads index 7 of a 3-element constant, so every
    # prediction fails, the scorer's warm-up first (warm-up failure tests). onnxruntime also warns while loading it
    # (constant folding fails), so it shows that the scorer keeps onnxruntime's own log lines off stderr.
    graph = helper.make_graph(
        [helper.make_node('Gather', ['table', 'index'], ['offset'], name='Gather'),
         helper.make_node('Add', ['x', 'offset'], ['y'], name='Add')], 'run_fails',
        [helper.make_tensor_value_info('x', TensorProto.FLOAT, [None, 3])],
        [helper.make_tensor_value_info('y', TensorProto.FLOAT, [None, 3])],
        [numpy_helper.from_array(np.array([1, 2, 3], dtype=np.float32), 'table'),
         numpy_helper.from_array(np.array([0, 1, 7], dtype=np.int64), 'index')])
    save_onnx(make_model(graph), 'run_fails.onnx')


# ----------------------------------------------------------------------------------------------------------------------


def main():
    os.makedirs(OUT, exist_ok=True)
    make_xgb()
    make_onnx()
    # The lgbm_* entries are make_lightgbm.py's (it needs a LightGBM binary), drift_* make_drift.py's, rollout_*
    # make_rollout.py's, xgb_cat_* make_xgboost_categorical.py's: keep them.
    path = os.path.join(OUT, 'manifest.json')
    kept = []
    if os.path.exists(path):
        with open(path) as f:
            kept = [e for e in json.load(f)
                    if e['format'] == 'lightgbm' or e['name'].startswith(('drift_', 'rollout_', 'xgb_cat_'))]
    write_json(path, MANIFEST + kept, indent=1)
    for entry in MANIFEST:
        print(f"{entry['name']:20s} {entry['file']}")
    print(f'wrote {len(MANIFEST)} manifest entries (+ zipmap.onnx, two_inputs.onnx, run_fails.onnx) to {OUT}')


if __name__ == '__main__':
    sys.exit(main())
