#!/usr/bin/python3
"""Build the XGBoost categorical fixtures (xgb_cat_*) in test/fixtures/generated/.

Run with Debian's Python (xgboost 1.7, numpy; pandas is not needed):

    /usr/bin/python3 test/models/make_xgboost_categorical.py

Deterministic: fixed seeds, single-threaded XGBoost, tree_method hist with enable_categorical (categorical features
declared with DMatrix(feature_types=['c', 'q', ...])). Every model is saved twice, as JSON (NAME.json) and as UBJSON
(NAME_ubj.ubj), and each file has a manifest entry of its own (NAME and NAME_ubj) whose expected values are the
predictions of a Booster loaded from that file. The evaluation rows are training rows (with nulls), then rows that
set one categorical feature to every category seen in training, to categories never seen (just above the largest,
past a 32-bit word of the split's bitfield, 2^24 - 1, 2^24, 1e30), to negative and non-integer values and to null,
then an all-null row. It replaces only the xgb_cat_* manifest entries; make_models.py keeps them.
"""
import json
import os
import sys

import numpy as np
import xgboost as xgb

from fixture_io import to_json_rows, write_json

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, '..', 'fixtures', 'generated'))
SEED = 20240613
XGB_TOL = 1e-5
PREFIX = 'xgb_cat_'

# Values of a categorical feature that no training row has: unseen integers, XGBoost's out-of-range bound
# (categories must be < 2^24), negative and non-integer values. All float32-representable, as XGBoost reads them.
ODD_CATEGORIES = [-1.0, -0.5, -1e30, 0.5, 2.5, 31.75, 16777215.0, 16777216.0, 1e30]


def trees_of(booster):
    return json.loads(booster.save_raw(raw_format='json'))['learner']['gradient_booster']['model']['trees']


def categorical_stats(booster):
    """(#categorical splits, #one-category splits, #splits with several, largest category in a split,
    #categorical splits defaulting left, #defaulting right)."""
    n = one = several = left = right = 0
    largest = -1
    for t in trees_of(booster):
        for k, node in enumerate(t['categories_nodes']):
            n += 1
            size = t['categories_sizes'][k]
            begin = t['categories_segments'][k]
            cats = t['categories'][begin:begin + size]
            largest = max(largest, max(cats))
            if size == 1:
                one += 1
            else:
                several += 1
            if t['default_left'][node]:
                left += 1
            else:
                right += 1
    return n, one, several, largest, left, right


def eval_rows(X, cat_features, n_categories):
    rows = [X[:24]]
    base = np.nan_to_num(X[24:40], nan=0.0)
    k = 0
    for f, n_cat in zip(cat_features, n_categories):
        values = list(range(n_cat)) + [n_cat, n_cat + 1, 32 * ((n_cat + 31) // 32), 63, 64, 1000] + ODD_CATEGORIES
        values.append(np.nan)
        for v in values:
            r = base[k % len(base)].copy()
            r[f] = v
            rows.append(r[None, :])
            k += 1
    rows.append(np.full((1, X.shape[1]), np.nan))
    return np.vstack(rows)


def categorical_fixture(name, params, X, y, feature_types, rounds, note):
    """Trains with the categorical features of feature_types ('c'), saves NAME.json and NAME.ubj, writes both
    fixtures (inputs and the loaded file's predictions) and returns their manifest entries."""
    cat_features = [i for i, t in enumerate(feature_types) if t == 'c']
    n_categories = [int(np.nanmax(X[:, f])) + 1 for f in cat_features]
    dtrain = xgb.DMatrix(X, label=y, missing=np.nan, feature_types=feature_types, enable_categorical=True)
    params = dict(params, tree_method='hist', seed=SEED, nthread=1)
    booster = xgb.train(params, dtrain, num_boost_round=rounds)
    X_eval = eval_rows(X, cat_features, n_categories)
    deval = xgb.DMatrix(X_eval, missing=np.nan, feature_types=feature_types, enable_categorical=True)

    n, one, several, largest, left, right = categorical_stats(booster)
    assert one > 0 and several > 0, f'{name}: {one} one-category splits, {several} with several'
    assert largest >= 32, f'{name}: no split holds a category past the first 32-bit word ({largest})'
    assert left > 0 and right > 0, f'{name}: categorical default_left only one way ({left} left, {right} right)'
    n_trees = len(trees_of(booster))

    entries = []
    preds = []
    for suffix, ext, described in (('', 'json', 'JSON'), ('_ubj', 'ubj', 'UBJSON')):
        # The file is named after its entry: the scorer names the model after the file.
        path = os.path.join(OUT, f'{name}{suffix}.{ext}')
        booster.save_model(path)
        loaded = xgb.Booster()
        loaded.load_model(path)
        assert trees_of(loaded) == trees_of(booster), path
        pred = loaded.predict(deval)
        assert np.array_equal(pred, booster.predict(deval)), path
        preds.append(pred)
        write_json(os.path.join(OUT, f'{name}{suffix}.inputs.json'), {'X': to_json_rows(X_eval)})
        write_json(os.path.join(OUT, f'{name}{suffix}.expected.json'), {'score': pred.tolist()})
        entries.append({
            'name': f'{name}{suffix}',
            'file': f'{name}{suffix}.{ext}',
            'format': 'xgboost',
            'library': f'XGBoost {xgb.__version__} {params["objective"]} (enable_categorical, {described})',
            'tolerance': XGB_TOL,
            'outputs': ['score'],
            'note': f'{note} ({n_trees} trees; {n} categorical splits: {one} on one category, {several} on several, '
                    f'categories up to {largest}; default_left: {left} left, {right} right)',
        })
    assert np.array_equal(preds[0], preds[1]), name
    return entries


def main():
    rng = np.random.default_rng(SEED)
    entries = []

    # binary:logistic: f0 has 40 categories (partition splits, bitfields of two words), f1 3 (one-hot splits, as
    # 3 < max_cat_to_onehot=4), f4 6; f2 and f3 numerical; nulls in f0, f1 and f2.
    n = 1200
    f0 = rng.integers(0, 40, n).astype(float)
    f1 = rng.integers(0, 3, n).astype(float)
    f4 = rng.integers(0, 6, n).astype(float)
    num = rng.normal(size=(n, 2))
    effect0 = rng.normal(size=40) * 1.5
    s = effect0[f0.astype(int)] + np.array([0.8, -0.6, 0.0])[f1.astype(int)] + np.array(
        [0.5, -0.5, 0.3, 0.0, -0.9, 0.6])[f4.astype(int)] + num[:, 0] - 0.5 * num[:, 1]
    X = np.column_stack([f0, f1, num, f4])
    for f, rate in ((0, 0.08), (1, 0.1), (2, 0.05)):
        X[rng.random(n) < rate, f] = np.nan
    y = (s + rng.normal(scale=0.5, size=n) > 0).astype(float)
    entries += categorical_fixture(
        'xgb_cat_binary', dict(objective='binary:logistic', max_depth=4, eta=0.3), X, y, ['c', 'c', 'q', 'q', 'c'], 12,
        'binary:logistic, features 0, 1 and 4 categorical (40, 3 and 6 categories), 2 and 3 numerical')

    # multi:softprob, 3 classes, max_cat_to_onehot=1 (every categorical split a partition): f1 has 50 categories.
    n = 900
    f1 = rng.integers(0, 50, n).astype(float)
    f3 = rng.integers(0, 4, n).astype(float)
    num = rng.normal(size=(n, 2))
    s = (rng.normal(size=50) * 1.2)[f1.astype(int)] + np.array([0.4, -0.4, 0.9, -0.9])[f3.astype(int)] + num[:, 0]
    X = np.column_stack([num[:, 0], f1, num[:, 1], f3])
    for f, rate in ((1, 0.1), (3, 0.05), (0, 0.05)):
        X[rng.random(n) < rate, f] = np.nan
    y = np.digitize(s, np.quantile(s, [1 / 3, 2 / 3])).astype(float)
    entries += categorical_fixture(
        'xgb_cat_softprob', dict(objective='multi:softprob', num_class=3, max_depth=3, max_cat_to_onehot=1),
        X, y, ['q', 'c', 'q', 'c'], 6,
        'multi:softprob, 3 classes, max_cat_to_onehot=1; features 1 and 3 categorical (50 and 4 categories)')

    path = os.path.join(OUT, 'manifest.json')
    with open(path) as f:
        others = [e for e in json.load(f) if not e['name'].startswith(PREFIX)]
    write_json(path, others + entries, indent=1)
    for e in entries:
        print(f"{e['name']:22s} {e['file']}")
    print(f'wrote {len(entries)} manifest entries to {OUT}')


if __name__ == '__main__':
    sys.exit(main())
