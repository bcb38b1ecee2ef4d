#!/usr/bin/env bash
# Copies the monitoring kit's files that the Helm chart renders with monitoring.enabled (config/prometheus's PodMonitor,
# ServiceMonitor, scraper and PrometheusRule; config/grafana's dashboard) into charts/scoring-operator/files/, byte for
# byte: Helm's .Files.Get reads only inside the chart. Run it after changing any of them; the chart's test runs it
# into a temporary directory and fails unless the chart's copy is what it writes.
# Usage: bash scripts/sync-chart-monitoring.sh [OUT_DIR]   (default charts/scoring-operator/files)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/charts/scoring-operator/files}"
rm -rf "$out/prometheus" "$out/grafana"
mkdir -p "$out/prometheus" "$out/grafana"
# Not networkpolicy.yaml: an example to edit and apply by hand, outside the kit's kustomization.
for f in scorer-podmonitor.yaml operator-servicemonitor.yaml operator-metrics-scraper.yaml prometheusrule.yaml; do
  cp "$root/config/prometheus/$f" "$out/prometheus/$f"
done
cp "$root/config/grafana/scoring-model.json" "$out/grafana/scoring-model.json"
