#!/usr/bin/python3
"""Draws the dashboard's panels from what Prometheus answered (bench/dashboard.ts writes the JSON).

    /usr/bin/python3 scripts/plot_dashboard.py panels.json docs/dashboard.png

Needs Debian's python3-matplotlib. One subplot per panel, in the dashboard's order, with its title and legends; a
stat panel is drawn as its series too, so that its history shows.
"""
import json
import math
import sys

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

SCALE = {'s': (1000, 'ms'), 'percentunit': (100, '%')}


def main(data_file, out):
    with open(data_file) as f:
        data = json.load(f)
    panels = data['panels']
    cols = 3
    rows = math.ceil(len(panels) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 5.2, rows * 3.0), squeeze=False)
    for ax, panel in zip(axes.flat, panels):
        factor, unit = SCALE.get(panel.get('unit') or '', (1, panel.get('unit') or ''))
        for s in panel['series']:
            xs = [p[0] for p in s['points']]
            ys = [p[1] * factor if p[1] is not None and math.isfinite(p[1]) else float('nan') for p in s['points']]
            ax.plot(xs, ys, label=s['legend'] or None, linewidth=1.4)
        title = panel['title'] + (f' ({unit})' if unit and unit not in ('short', 'none') else '')
        ax.set_title(title, fontsize=10, loc='left')
        ax.grid(True, alpha=0.3)
        ax.tick_params(labelsize=8)
        ax.set_xlabel('s', fontsize=8)
        if not panel['series']:
            ax.text(0.5, 0.5, 'no data', ha='center', va='center', transform=ax.transAxes, color='grey')
        elif any(s['legend'] for s in panel['series']):
            ax.legend(fontsize=7, loc='upper left')
    for ax in list(axes.flat)[len(panels):]:
        ax.axis('off')
    fig.suptitle(
        f"ScoringModel {data['model']}: the dashboard's queries over {data['seconds']} s of real scrapes "
        f"(rate interval {data['rateInterval']})",
        fontsize=11,
    )
    fig.tight_layout()
    fig.savefig(out, dpi=80)


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
