#!/usr/bin/python3
"""Build the drift fixtures in test/fixtures/generated/ (drift_churn*): training data, a model, and numpy's numbers.

Run with Debian's Python (numpy, xgboost 1.7):

    /usr/bin/python3 test/models/make_drift.py

Deterministic: fixed seeds, single-threaded XGBoost. It writes:
- drift_churn.train.csv: 2000 churn-like training rows with a header, 5 numeric features (total_charges has empty
  cells, missing values; contract_months takes three values, support_calls a few);
- drift_churn.json: an XGBoost binary:logistic model trained on them, with drift_churn.inputs.json and
  drift_churn.expected.json (XGBoost's own predictions) and its manifest.json entry, like make_models.py's models
  (the drift_* entries are replaced; make_models.py keeps them);
- drift_churn.numpy.json: what the baseline of that CSV must hold, computed here with numpy alone, not by the code
  under test: per feature and for the model's output (XGBoost's predictions on the training rows), the bin edges
  (np.quantile, method='linear', at 1/10 ... 9/10 of the non-missing values, then np.unique), each bin's count
  (np.searchsorted(edges, value, side='left'), missing values in a last bin) and share (count / rows); bins of
  chosen values (each edge, one ulp either side, far outside, missing); and PSI cases: live bin counts (live data
  drawn like the training data, then shifted, then degenerate) with numpy's PSI, shares floored at PSI_FLOOR.
"""
import json
import math
import os
import sys

import numpy as np
import xgboost as xgb

from fixture_io import to_json_rows, write_json

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, '..', 'fixtures', 'generated'))
SEED = 20240611
XGB_TOL = 1e-5
NAME = 'drift_churn'
BINS = 10
# contract/drift.ts's PSI_FLOOR
PSI_FLOOR = 1e-4
FEATURES = ['tenure_months', 'monthly_charges', 'total_charges', 'support_calls', 'contract_months']


# ----------------------------------------------------------------------------------------------------------------------
# helpers


def csv_cell(v):
    """Empty for missing; integers without a fraction; repr() round-trips every other double."""
    if math.isnan(v):
        return ''
    return str(int(v)) if v == int(v) and abs(v) < 1e15 else repr(float(v))


def write_csv(path, names, X):
    with open(path, 'w') as f:
        f.write(','.join(names) + '\n')
        for row in np.asarray(X, dtype=np.float64):
            f.write(','.join(csv_cell(v) for v in row) + '\n')


def data(rng, n):
    """Churn-like rows: features X [n, 5] (NaN = missing) and the churn probability behind them."""
    tenure = rng.integers(1, 73, size=n).astype(np.float64)
    monthly = np.round(rng.uniform(18.0, 119.0, size=n), 2)
    total = np.round(monthly * tenure * rng.uniform(0.95, 1.05, size=n), 2)
    calls = rng.poisson(1.3, size=n).astype(np.float64)
    contract = rng.choice([1.0, 12.0, 24.0], size=n, p=[0.55, 0.25, 0.2])
    # Like the Telco data set's TotalCharges: some rows have none.
    total[rng.random(n) < 0.05] = np.nan
    logit = 0.8 - 0.05 * tenure + 0.025 * (monthly - 70.0) + 0.4 * calls - 0.09 * contract
    return np.column_stack([tenure, monthly, total, calls, contract]), 1.0 / (1.0 + np.exp(-logit))


# ----------------------------------------------------------------------------------------------------------------------
# numpy's baseline: what the code under test must reproduce


def histogram(values):
    """Edges, per-bin counts (missing last) and shares of one column, by numpy alone."""
    values = np.asarray(values, dtype=np.float64)
    present = values[~np.isnan(values)]
    levels = np.arange(1, BINS) / BINS
    edges = np.unique(np.quantile(present, levels, method='linear'))
    counts = np.bincount(np.searchsorted(edges, present, side='left'), minlength=len(edges) + 1).tolist()
    counts.append(int(np.isnan(values).sum()))
    assert sum(counts) == len(values)
    return {
        'edges': edges.tolist(),
        'counts': counts,
        'shares': (np.array(counts, dtype=np.float64) / len(values)).tolist(),
    }


def bins_of(edges, values):
    """np.searchsorted(side='left'); missing values in the last bin, len(edges) + 1."""
    edges = np.asarray(edges, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    found = np.searchsorted(edges, values, side='left')
    return np.where(np.isnan(values), len(edges) + 1, found).tolist()


def live_counts(edges, values):
    values = np.asarray(values, dtype=np.float64)
    return np.bincount(bins_of(edges, values), minlength=len(edges) + 2).tolist()


def psi(shares, counts):
    counts = np.asarray(counts, dtype=np.float64)
    a = np.maximum(counts / counts.sum(), PSI_FLOOR)
    e = np.maximum(np.asarray(shares, dtype=np.float64), PSI_FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


def bin_cases(name, edges):
    """Each edge, one ulp either side of it, between edges, far outside, -0.0 and 0.0, missing."""
    e = np.asarray(edges, dtype=np.float64)
    values = np.concatenate([
        e, np.nextafter(e, -np.inf), np.nextafter(e, np.inf), (e[:-1] + e[1:]) / 2,
        [e[0] - 1000.0, e[-1] + 1000.0, -1e300, 1e300, -0.0, 0.0, np.nan],
    ])
    return {
        'name': name,
        'edges': e.tolist(),
        'values': [None if math.isnan(v) else float(v) for v in values],
        'bins': bins_of(e, values),
    }


# ----------------------------------------------------------------------------------------------------------------------


def eval_rows(X_train, n_train_rows, nan_rows):
    """The first training rows (the first nan_rows get a null in feature 0 or 1), an all-null row, then extras."""
    head = X_train[:n_train_rows].copy()
    for i in range(nan_rows):
        head[i, i % 2] = np.nan
    head[nan_rows, :] = np.nan
    d = X_train.shape[1]
    return np.vstack([head, np.zeros(d), np.full(d, 1000.0), np.full(d, -1000.0), np.nanmean(X_train, axis=0)])


def main():
    rng = np.random.default_rng(SEED)
    os.makedirs(OUT, exist_ok=True)

    X, p = data(rng, 2000)
    y = (rng.random(len(p)) < p).astype(np.float64)
    write_csv(os.path.join(OUT, f'{NAME}.train.csv'), FEATURES, X)

    # The CSV is what the baseline is made from: read the numbers back from it.
    with open(os.path.join(OUT, f'{NAME}.train.csv')) as f:
        assert f.readline().strip() == ','.join(FEATURES)
        X_csv = np.array([[np.nan if c == '' else float(c) for c in line.rstrip('\n').split(',')] for line in f])
    assert np.array_equal(X_csv, X, equal_nan=True)

    params = {'objective': 'binary:logistic', 'max_depth': 3, 'eta': 0.3, 'tree_method': 'hist', 'seed': SEED,
              'nthread': 1}
    booster = xgb.train(params, xgb.DMatrix(X, label=y, missing=np.nan), num_boost_round=20)
    path = os.path.join(OUT, f'{NAME}.json')
    booster.save_model(path)
    model = xgb.Booster()
    model.load_model(path)

    # Prediction fixtures, like make_models.py's.
    X_eval = eval_rows(X, 34, 6)
    pred = model.predict(xgb.DMatrix(X_eval, missing=np.nan))
    write_json(os.path.join(OUT, f'{NAME}.inputs.json'), {'X': to_json_rows(X_eval)})
    write_json(os.path.join(OUT, f'{NAME}.expected.json'), {'score': pred.tolist()})
    entry = {
        'name': NAME,
        'file': f'{NAME}.json',
        'format': 'xgboost',
        'library': f'XGBoost {xgb.__version__} binary:logistic',
        'tolerance': XGB_TOL,
        'outputs': ['score'],
        'note': f'the drift fixture: trained on {NAME}.train.csv (churn-like, 5 named features, missing values in '
                'total_charges); rows 0-5 have a null in feature 0 or 1, row 6 is all null',
    }

    # The baseline, by numpy: features from the CSV's numbers, the output from XGBoost's predictions on them (float32,
    # taken as the doubles they are).
    train_pred = model.predict(xgb.DMatrix(X, missing=np.nan)).astype(np.float64)
    features = [dict(name=name, **histogram(X[:, j])) for j, name in enumerate(FEATURES)]
    outputs = [dict(name='score', **histogram(train_pred))]
    contract = features[FEATURES.index('contract_months')]
    assert contract['edges'] == [1.0, 12.0, 24.0], contract['edges']
    assert all(len(h['edges']) == BINS - 1 for h in features if h['name'] not in ('contract_months', 'support_calls'))
    assert features[FEATURES.index('total_charges')]['counts'][-1] > 0

    # Live data drawn like the training data, then shifted: bin counts against the baseline's edges, and the PSI.
    live, _ = data(np.random.default_rng(SEED + 1), 1000)
    shifted = live.copy()
    shifted[:, 0] = np.minimum(shifted[:, 0] + 24.0, 96.0)
    shifted[:, 1] = shifted[:, 1] * 1.3
    cases = []

    def case(name, h, values):
        counts = live_counts(h['edges'], values)
        cases.append({'name': name, 'shares': h['shares'], 'counts': counts, 'psi': psi(h['shares'], counts)})

    for j, h in enumerate(features):
        case(f'{h["name"]}, live data drawn like the training data', h, live[:, j])
    case('tenure_months, live data shifted by +24', features[0], shifted[:, 0])
    case('monthly_charges, live data times 1.3', features[1], shifted[:, 1])
    case('total_charges, every live value missing', features[2], np.full(200, np.nan))
    case('support_calls, every live value in one bin', features[3], np.zeros(50))
    live_pred = model.predict(xgb.DMatrix(live, missing=np.nan)).astype(np.float64)
    shifted_pred = model.predict(xgb.DMatrix(shifted, missing=np.nan)).astype(np.float64)
    case('score, on live data drawn like the training data', outputs[0], live_pred)
    case('score, on shifted live data', outputs[0], shifted_pred)
    unshifted = [c['psi'] for c in cases[:len(FEATURES)]]
    assert max(unshifted) < 0.05, unshifted
    assert min(c['psi'] for c in cases[len(FEATURES):len(FEATURES) + 4]) > 0.2, cases
    assert cases[-1]['psi'] > cases[-2]['psi']

    expected = {
        'note': f'numpy {np.__version__}: edges = np.unique(np.quantile(present, np.arange(1, {BINS}) / {BINS}, '
                "method='linear')); bin = np.searchsorted(edges, value, side='left'), missing last; share = count / "
                f'rows; psi = sum((a - e) * ln(a / e)), shares floored at {PSI_FLOOR}',
        'csv': f'{NAME}.train.csv',
        'model': f'{NAME}.json',
        'rows': len(X),
        'bins': BINS,
        'features': features,
        'outputs': outputs,
        'bin_of': [bin_cases(h['name'], h['edges']) for h in features + outputs],
        'psi': cases,
    }
    write_json(os.path.join(OUT, f'{NAME}.numpy.json'), expected, indent=1)

    path = os.path.join(OUT, 'manifest.json')
    with open(path) as f:
        others = [e for e in json.load(f) if not e['name'].startswith('drift_')]
    write_json(path, others + [entry], indent=1)
    print(f'wrote {NAME}.train.csv ({len(X)} rows), {NAME}.json, {NAME}.inputs.json, {NAME}.expected.json, '
          f'{NAME}.numpy.json and its manifest entry to {OUT}')


if __name__ == '__main__':
    sys.exit(main())
