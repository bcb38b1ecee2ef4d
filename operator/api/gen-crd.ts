/**
 * `npm run gen:crd`: writes crds/scoring.dev_scoringmodels.yaml from the zod schema, and the same CRD as the Helm
 * chart's template.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHART_CRD_FILE, CRD_FILE, renderChartCRD, renderCRD } from './crd.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
for (const [file, text] of [
  [CRD_FILE, renderCRD()],
  [CHART_CRD_FILE, renderChartCRD()],
] as const) {
  const path = join(root, file);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  console.log(`wrote ${file}`);
}
