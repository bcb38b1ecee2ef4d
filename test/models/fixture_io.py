"""What the fixture scripts (make_models.py, make_lightgbm.py, make_drift.py) write alike: JSON rows and files."""

import json
import math

import numpy as np


def to_json_rows(X):
    """2-D float array -> list of lists, NaN -> None (JSON null)."""
    return [[None if math.isnan(v) else float(v) for v in r] for r in np.asarray(X, dtype=np.float64)]


def write_json(path, obj, indent=None):
    with open(path, 'w') as f:
        json.dump(obj, f, allow_nan=False, indent=indent)
        f.write('\n')
