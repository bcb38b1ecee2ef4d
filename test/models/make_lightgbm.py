#!/usr/bin/python3
"""Build the LightGBM model fixtures in test/fixtures/generated/ (lgbm_*) with the real LightGBM command-line tool.

Run with Debian's Python (numpy) and an installed `lightgbm` CLI (see README.md for the version that wrote the
committed files):

    /usr/bin/python3 test/models/make_lightgbm.py --lightgbm /path/to/lightgbm --version 4.6.0
    LIGHTGBM=/path/to/lightgbm /usr/bin/python3 test/models/make_lightgbm.py --version 4.6.0

For every model NAME it writes seeded training data (CSV, label first) to a temporary directory, trains with
`lightgbm config=lightgbm/NAME.conf data=NAME.train.csv output_model=NAME.txt`, copies the model file to
test/fixtures/generated/NAME.txt, builds the evaluation rows (training rows with nulls punched in, an all-null row,
zeros, +-1000, the mean, rows sitting exactly on split thresholds and one ulp above them, for zero_as_missing rows
with 0.0, -0.0 and values inside LightGBM's zero band, and for categorical features every category seen in training,
unseen, negative, non-integer, NaN and past-INT_MAX values), and has LightGBM predict them from that saved file
(`lightgbm config=lightgbm/predict.conf input_model=... data=... output_result=...`). NAME.expected.json is LightGBM's
own output, with 17 significant digits. The lgbm_* entries of manifest.json are replaced; make_models.py keeps them.

The manifest names the CLI's LightGBM version as --version gives it.
Deterministic: fixed numpy seeds, num_threads=1, deterministic=true in every .conf.
"""
import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

from fixture_io import to_json_rows, write_json

HERE = os.path.dirname(os.path.abspath(__file__))
CONF = os.path.join(HERE, 'lightgbm')
OUT = os.path.normpath(os.path.join(HERE, '..', 'fixtures', 'generated'))
SEED = 20240607
TOL = 1e-9
# LightGBM's kZeroThreshold is the float 1e-35f, as a double 1.0000000180025095e-35
K_ZERO = float(np.float32(1e-35))

MANIFEST = []


# ----------------------------------------------------------------------------------------------------------------------
# helpers


def write_csv(path, X, y):
    """label first; repr() round-trips every double and precise_float_parser=true reads it back exactly."""
    with open(path, 'w') as f:
        for label, row in zip(y, np.asarray(X, dtype=np.float64)):
            f.write(','.join([repr(float(label))] + ['nan' if math.isnan(v) else repr(float(v)) for v in row]))
            f.write('\n')


def run(lightgbm, cwd, *args):
    proc = subprocess.run([lightgbm, *args], cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f'{lightgbm} {" ".join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}')


def parse_trees(path):
    """[{'feature', 'threshold', 'decision', 'left', 'right', 'cat_boundaries', 'cat_threshold'}] per tree."""
    trees, cur = [], None
    with open(path) as f:
        for line in f:
            line = line.rstrip('\n')
            if line.startswith('end of trees'):
                break
            if line.startswith('Tree='):
                cur = {}
                trees.append(cur)
            elif cur is not None and '=' in line:
                k, v = line.split('=', 1)
                cur[k] = v.split()
    out = []
    for t in trees:
        out.append({
            'feature': [int(v) for v in t.get('split_feature', [])],
            'threshold': [float(v) for v in t.get('threshold', [])],
            'decision': [int(v) for v in t.get('decision_type', [])],
            'left': [int(v) for v in t.get('left_child', [])],
            'right': [int(v) for v in t.get('right_child', [])],
            'cat_boundaries': [int(v) for v in t.get('cat_boundaries', [])],
            'cat_threshold': [int(v) for v in t.get('cat_threshold', [])],
        })
    return out


def depth(tree):
    if not tree['feature']:
        return 0

    def d(n):
        return 0 if n < 0 else 1 + max(d(tree['left'][n]), d(tree['right'][n]))
    return d(0)


def categories_left(tree, node):
    """The categories a categorical split sends left: the bits of its words in cat_threshold."""
    cat = int(tree['threshold'][node])
    words = tree['cat_threshold'][tree['cat_boundaries'][cat]:tree['cat_boundaries'][cat + 1]]
    return [32 * i + b for i, w in enumerate(words) for b in range(32) if (w >> b) & 1]


def split_stats(trees):
    """Counts of numerical splits by missing type (None/Zero/NaN) and default direction, thresholds <= 0, zero
    thresholds; of categorical splits: one-category, several categories, bitsets of more than one 32-bit word."""
    s = {'none': 0, 'zero_left': 0, 'zero_right': 0, 'nan_left': 0, 'nan_right': 0, 'negative': 0, 'at_zero': 0,
         'inf': 0, 'cat_one': 0, 'cat_several': 0, 'cat_words': 0, 'cat_largest': -1}
    for t in trees:
        for node, (thr, dt) in enumerate(zip(t['threshold'], t['decision'])):
            if dt & 1:
                cats = categories_left(t, node)
                s['cat_one' if len(cats) == 1 else 'cat_several'] += 1
                s['cat_words'] += max(cats) >= 32
                s['cat_largest'] = max(s['cat_largest'], max(cats))
                continue
            missing, left = (dt >> 2) & 3, (dt >> 1) & 1
            if missing == 0:
                s['none'] += 1
            else:
                s[f"{'zero' if missing == 1 else 'nan'}_{'left' if left else 'right'}"] += 1
            if thr < 0:
                s['negative'] += 1
            if abs(thr) == K_ZERO:
                s['at_zero'] += 1
            if math.isinf(thr):
                s['inf'] += 1
    return s


def describe(trees, s):
    kinds = [('none', 'missing None'), ('nan_left', 'NaN default-left'), ('nan_right', 'NaN default-right'),
             ('zero_left', 'Zero default-left'), ('zero_right', 'Zero default-right')]
    splits = ', '.join(f'{s[k]} {label}' for k, label in kinds if s[k])
    thresholds = f"{s['negative']} thresholds < 0, {s['at_zero']} at +-kZeroThreshold"
    if s['inf']:
        thresholds += f", {s['inf']} inf"
    if s['cat_one'] or s['cat_several']:
        splits += (f"; categorical: {s['cat_one']} one-category, {s['cat_several']} several, {s['cat_words']} past "
                   f"one 32-bit word, largest category left {s['cat_largest']}")
    return f'{len(trees)} trees, max depth {max(depth(t) for t in trees)}; splits: {splits}; {thresholds}'


def threshold_rows(trees, base, limit):
    """Rows with one feature exactly on a split threshold (goes left: value <= threshold), then one ulp above it."""
    rows, seen = [], set()
    for t in trees:
        for f, thr, dt in zip(t['feature'], t['threshold'], t['decision']):
            if dt & 1 or (f, thr) in seen:
                continue
            seen.add((f, thr))
            r = base[len(seen) % len(base)].copy()
            r[f] = thr
            rows.append(r)
            r = r.copy()
            r[f] = np.nextafter(thr, np.inf)
            rows.append(r)
            if len(rows) >= 2 * limit:
                return rows
    return rows


def eval_rows(X, nan_features, n_head=30, n_nan=8):
    """n_head training rows (the first n_nan get a null in one of nan_features), an all-null row, zeros, +-1000, mean."""
    d = X.shape[1]
    head = X[:n_head].copy()
    for i in range(n_nan):
        head[i, nan_features[i % len(nan_features)]] = np.nan
    head[n_nan, :] = np.nan
    return [*head, np.zeros(d), np.full(d, 1000.0), np.full(d, -1000.0), np.nanmean(X, axis=0)]


def zero_rows(X, features):
    """Per feature: exactly 0.0, -0.0, 1e-36, +-1.00000001e-35 (inside LightGBM's zero band |x| <= 1e-35f, beyond the
    double 1e-35) and 2e-35 (outside it), the other features from a training row."""
    rows = []
    base = np.nan_to_num(X[40:40 + len(features)], nan=0.5)
    for j, f in enumerate(features):
        for v in (0.0, -0.0, 1e-36, 1.00000001e-35, -1.00000001e-35, 2e-35):
            r = base[j].copy()
            r[f] = v
            rows.append(r)
    rows.append(np.zeros(X.shape[1]))
    rows.append(np.full(X.shape[1], 1.00000001e-35))
    return rows


# Values of a categorical feature beyond the categories seen in training. LightGBM 4.6.0 (Tree::CategoricalDecision)
# sends NaN right, converts the value with static_cast<int> (truncation: -0.5 and 1e-36 are category 0), sends a
# negative int right, and a category left only when its bit is in the split's bitset (an unseen one, past the bitset
# or not, goes right). Past INT_MAX the cast is undefined in C++; x86-64 gives INT_MIN (right), and 2^32 + 3 must not
# wrap around to category 3.
ODD_CATEGORIES = [-1.0, -2.0, -0.5, -0.999, -0.0, 1e-36, -1e30, -2147483648.0, -2147483649.0, 0.5, 1.5, 2.999, 31.75,
                  32.5, 63.0, 64.0, 127.0, 128.0, 1000.0, 2147483647.0, 2147483648.0, 4294967296.0, 4294967299.0,
                  1e30, float('nan')]


def category_rows(X, features):
    """Per categorical feature: every category seen in training, one past the largest and the values above; the other
    features from training rows."""
    rows = []
    base = X[60:90]
    for f in features:
        seen = np.unique(X[:, f][~np.isnan(X[:, f])])
        above = seen.max() + 1
        for k, v in enumerate([*seen, above, above + 0.5, *ODD_CATEGORIES]):
            r = base[k % len(base)].copy()
            r[f] = v
            rows.append(r)
    return rows


# ----------------------------------------------------------------------------------------------------------------------
# data


def nan_signal(rng, n, d):
    """Normal features; NaN in 0 (target up: the missing values go with the high side, right of the splits), in 1
    (target down: left), in 2 (no signal)."""
    X = rng.normal(size=(n, d))
    s = 1.2 * X[:, 0] + 0.8 * X[:, 1] + 0.5 * X[:, 2] * X[:, 3] - 0.4 * X[:, d - 1]
    m0, m1 = rng.random(n) < 0.12, rng.random(n) < 0.12
    s = s + np.where(m0, 2.0, 0.0) - np.where(m1, 2.0, 0.0)
    X[m0, 0] = np.nan
    X[m1, 1] = np.nan
    X[rng.random(n) < 0.06, 2] = np.nan
    return X, s


def data_regression(rng):
    X, s = nan_signal(rng, 700, 6)
    X[:, 4] = rng.integers(-3, 4, size=len(X))                  # integer-valued, thresholds between integers
    X[:, 5] = np.where(rng.random(len(X)) < 0.2, 0.0, X[:, 5] * 5)  # exact zeros, no NaN (missing type None)
    y = 10.0 + 3.0 * s + 0.4 * X[:, 4] + 0.2 * X[:, 5] + rng.normal(scale=0.3, size=len(X))
    return X, y


def data_binary_nan(rng):
    X, s = nan_signal(rng, 900, 5)
    return X, (s + rng.normal(scale=0.6, size=len(X)) > 0).astype(float)


def data_zero_as_missing(rng):
    n = 900
    X = rng.normal(size=(n, 6))
    z = rng.random((n, 4)) < np.array([0.25, 0.25, 0.15, 0.3])
    s = 1.0 * X[:, 0] - 0.8 * X[:, 1] + 0.6 * X[:, 2] + 0.5 * X[:, 3] + 0.7 * X[:, 5]
    s = s + np.where(z[:, 0], 1.8, 0.0) - np.where(z[:, 1], 1.8, 0.0) + np.where(z[:, 3], 0.6, 0.0)
    X[:, :4][z] = 0.0                                             # exact zeros in features 0-3
    X[rng.random(n) < 0.05, 2] = np.nan                           # NaN counts as zero too
    X[:, 4] = np.exp(X[:, 4])                                     # strictly positive, never zero in training
    s = s + 0.3 * np.log(X[:, 4])
    return X, (s + rng.normal(scale=0.5, size=n) > 0).astype(float)


def data_multiclass_deep(rng):
    n = 3000
    X = rng.normal(size=(n, 8))
    X[:, 6] = np.where(rng.random(n) < 0.3, 0.0, X[:, 6])        # exact zeros: thresholds at +-kZeroThreshold
    X[:, 7] = rng.integers(-5, 6, size=n)                          # negative integers
    s = (X[:, 0] * X[:, 1] + np.sin(2 * X[:, 2]) + 0.6 * X[:, 3] - 0.5 * np.abs(X[:, 4]) + 0.3 * X[:, 5] ** 2
         + np.where(X[:, 6] == 0, 0.8, -0.4 * X[:, 6]) + 0.15 * X[:, 7])
    m0 = rng.random(n) < 0.1
    s = s + np.where(m0, 1.5, 0.0)
    X[m0, 0] = np.nan
    s = s + rng.normal(scale=0.4, size=n)
    return X, np.digitize(s, np.quantile(s, [1 / 3, 2 / 3])).astype(float)


def data_rf(rng):
    X, s = nan_signal(rng, 700, 5)
    return X, 5.0 * s + rng.normal(scale=0.3, size=len(X))


def data_poisson(rng):
    X, s = nan_signal(rng, 800, 5)
    return X, rng.poisson(np.exp(0.4 * s)).astype(float)


def data_regression_sqrt(rng):
    X, s = nan_signal(rng, 700, 5)
    return X, np.sign(s) * s * s * 4.0 + rng.normal(scale=0.3, size=len(X))


def data_cat_binary(rng):
    """Feature 0: categories 0-99 (7, 50 and 77 never seen), each with an effect; feature 1: categories 0-2; features
    2-4 numerical. NaN in features 0 (its own effect), 1 and 2; feature 0 also has a few negative values (LightGBM
    counts them as missing in training)."""
    n = 3000
    X = rng.normal(size=(n, 5))
    cats = np.setdiff1d(np.arange(100), [7, 50, 77])
    X[:, 0] = rng.choice(cats, size=n)
    X[:, 1] = rng.integers(0, 3, size=n)
    effect0 = rng.normal(scale=1.2, size=100)
    effect1 = np.array([0.8, -0.6, 0.1])
    s = effect0[X[:, 0].astype(int)] + effect1[X[:, 1].astype(int)] + 0.8 * X[:, 2] - 0.5 * X[:, 3] + 0.3 * X[:, 4]
    m0, m1 = rng.random(n) < 0.05, rng.random(n) < 0.05
    s = s + np.where(m0, 1.5, 0.0)
    X[m0, 0] = np.nan
    X[m1, 1] = np.nan
    X[rng.random(n) < 0.08, 2] = np.nan
    X[rng.random(n) < 0.01, 0] = -1.0
    return X, (s + rng.normal(scale=0.5, size=n) > 0).astype(float)


def data_cat_multiclass(rng):
    """Features 0-1 numerical; feature 2: categories 0, 3, 6, ..., 198 (bitsets up to 7 words); feature 3: 0-7.
    NaN in features 0 and 2."""
    n = 3000
    X = rng.normal(size=(n, 4))
    X[:, 2] = 3 * rng.integers(0, 67, size=n)
    X[:, 3] = rng.integers(0, 8, size=n)
    effect2 = rng.normal(size=(199, 3))
    effect3 = rng.normal(scale=0.7, size=(8, 3))
    s = effect2[X[:, 2].astype(int)] + effect3[X[:, 3].astype(int)]
    s[:, 0] += 0.8 * X[:, 0]
    s[:, 1] += 0.8 * X[:, 1]
    X[rng.random(n) < 0.05, 0] = np.nan
    X[rng.random(n) < 0.05, 2] = np.nan
    s = s + rng.normal(scale=0.5, size=s.shape)
    return X, np.argmax(s, axis=1).astype(float)


# name, data, nan features (nulls in the evaluation rows), extra checks, note
MODELS = [
    ('lgbm_regression', data_regression, [0, 1, 2], {'nan_both': True, 'at_zero': True},
     'objective regression; NaN in features 0-2 in training (missing type NaN), features 3-5 have none (missing type '
     'None: null -> 0.0); feature 4 integer-valued, feature 5 20% exact zeros'),
    ('lgbm_binary_nan', data_binary_nan, [0, 1, 2], {'nan_both': True},
     'objective binary sigmoid:0.7; NaN in features 0-2 in training, so missing values go left at some splits and '
     'right at others'),
    ('lgbm_zero_as_missing', data_zero_as_missing, [0, 2, 4], {'zero_both': True},
     'objective binary, zero_as_missing=true (missing type Zero: null, 0.0 and |x| <= 1e-35f are missing); '
     'features 0-3 have exact zeros in training, feature 4 none; rows with 0.0, -0.0, 1e-36, +-1.00000001e-35, 2e-35'),
    ('lgbm_multiclass_deep', data_multiclass_deep, [0, 3, 6], {'nan_both': False, 'at_zero': True, 'many': True},
     'objective multiclass, 3 classes x 100 iterations, num_leaves=16 leaf-wise with no depth limit; negative '
     'thresholds, feature 6 30% exact zeros, feature 7 integers -5..5, NaN in feature 0'),
    ('lgbm_rf', data_rf, [0, 1, 2], {'nan_both': True},
     'boosting rf (average_output: the mean of 20 trees), objective regression, bagging 0.7, feature_fraction 0.8; '
     'NaN in features 0-2'),
    ('lgbm_poisson', data_poisson, [0, 1, 2], {},
     'objective poisson (exp of the raw score); NaN in features 0-2'),
    ('lgbm_regression_sqrt', data_regression_sqrt, [0, 1, 2], {},
     'objective regression with reg_sqrt=true ("regression sqrt": sign(raw) * raw^2); NaN in features 0-2'),
    ('lgbm_cat_binary', data_cat_binary, [0, 1, 2], {'categorical': [0, 1], 'cat_one': True},
     'objective binary, categorical_feature=0,1: feature 0 categories 0-99 (7, 50, 77 unseen), feature 1 categories '
     '0-2 (one-category splits, max_cat_to_onehot=4); NaN in features 0-2; rows with every category seen, unseen, '
     'negative, non-integer, NaN and past INT_MAX'),
    ('lgbm_cat_multiclass', data_cat_multiclass, [0, 2], {'categorical': [2, 3]},
     'objective multiclass, 3 classes, categorical_feature=2,3: feature 2 categories 0, 3, ..., 198, feature 3 '
     'categories 0-7; NaN in features 0 and 2; rows with every category seen, unseen, negative, non-integer, NaN and '
     'past INT_MAX'),
]


# ----------------------------------------------------------------------------------------------------------------------


def make(lightgbm, version, tmp, index, name, data, nan_features, checks, note):
    rng = np.random.default_rng(SEED + index)
    X, y = data(rng)
    conf = os.path.join(CONF, f'{name}.conf')
    write_csv(os.path.join(tmp, f'{name}.train.csv'), X, y)
    run(lightgbm, tmp, f'config={conf}', f'data={name}.train.csv', f'output_model={name}.txt')
    model_path = os.path.join(OUT, f'{name}.txt')
    shutil.copyfile(os.path.join(tmp, f'{name}.txt'), model_path)

    trees = parse_trees(model_path)
    stats = split_stats(trees)
    if checks.get('nan_both'):
        assert stats['nan_left'] > 0 and stats['nan_right'] > 0, f'{name}: NaN routed one way only: {stats}'
    if checks.get('zero_both'):
        assert stats['zero_left'] > 0 and stats['zero_right'] > 0, f'{name}: zero routed one way only: {stats}'
        assert stats['nan_left'] == stats['nan_right'] == 0, f'{name}: {stats}'
    if checks.get('at_zero'):
        assert stats['at_zero'] > 0, f'{name}: no threshold at +-kZeroThreshold: {stats}'
    if checks.get('many'):
        assert len(trees) >= 300 and stats['negative'] > 0, f'{name}: {len(trees)} trees, {stats}'
    categorical = checks.get('categorical', [])
    if categorical:
        assert stats['cat_several'] > 0 and stats['cat_words'] > 0, f'{name}: {stats}'
    else:
        assert stats['cat_one'] == stats['cat_several'] == 0, f'{name}: categorical splits: {stats}'
    if checks.get('cat_one'):
        assert stats['cat_one'] > 0, f'{name}: no one-category split: {stats}'

    rows = eval_rows(X, nan_features)
    rows += threshold_rows(trees, np.nan_to_num(X[30:60], nan=0.25), 16 if checks.get('many') else 10)
    if checks.get('zero_both') or checks.get('at_zero'):
        rows += zero_rows(X, range(X.shape[1]))
    rows += category_rows(X, categorical)
    X_eval = np.vstack(rows)
    assert np.isnan(X_eval).any(), name

    write_csv(os.path.join(tmp, f'{name}.eval.csv'), X_eval, np.zeros(len(X_eval)))
    run(lightgbm, tmp, f'config={os.path.join(CONF, "predict.conf")}', f'input_model={model_path}',
        f'data={name}.eval.csv', f'output_result={name}.pred.txt')
    with open(os.path.join(tmp, f'{name}.pred.txt')) as f:
        pred = [[float(v) for v in line.split('\t')] for line in f.read().splitlines()]
    assert len(pred) == len(X_eval), name
    score = [p[0] for p in pred] if all(len(p) == 1 for p in pred) else pred

    write_json(os.path.join(OUT, f'{name}.inputs.json'), {'X': to_json_rows(X_eval)})
    write_json(os.path.join(OUT, f'{name}.expected.json'), {'score': score})
    objective = next(line[len('objective='):] for line in open(model_path) if line.startswith('objective=')).strip()
    MANIFEST.append({
        'name': name,
        'file': f'{name}.txt',
        'format': 'lightgbm',
        'library': f'LightGBM {version} CLI, objective {objective}',
        'tolerance': TOL,
        'outputs': ['score'],
        'note': f'{note} ({describe(trees, stats)}; {len(X_eval)} rows)',
    })
    size = os.path.getsize(model_path)
    print(f'{name:22s} {size / 1024:7.1f} KiB  {describe(trees, stats)}')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--lightgbm', default=os.environ.get('LIGHTGBM'), help='the lightgbm CLI binary ($LIGHTGBM)')
    ap.add_argument('--version', required=True, help="the CLI's LightGBM version, for the manifest")
    args = ap.parse_args()
    if not args.lightgbm:
        ap.error('give the lightgbm binary with --lightgbm or $LIGHTGBM')
    lightgbm = os.path.abspath(args.lightgbm)
    version = args.version

    os.makedirs(OUT, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix='lgbm-fixtures-') as tmp:
        for index, model in enumerate(MODELS):
            make(lightgbm, version, tmp, index, *model)

    path = os.path.join(OUT, 'manifest.json')
    with open(path) as f:
        entries = json.load(f)
    # in place of the old entries, so that the other scripts' entries keep their order
    at = next((i for i, e in enumerate(entries) if e['format'] == 'lightgbm'), len(entries))
    before = [e for e in entries[:at] if e['format'] != 'lightgbm']
    after = [e for e in entries[at:] if e['format'] != 'lightgbm']
    write_json(path, before + MANIFEST + after, indent=1)
    print(f'wrote {len(MANIFEST)} LightGBM manifest entries to {path}')


if __name__ == '__main__':
    sys.exit(main())
