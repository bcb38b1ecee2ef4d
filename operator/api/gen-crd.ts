/** `npm run gen:crd`: writes crds/scoring.dev_scoringmodels.yaml from the zod schema. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CRD_FILE, renderCRD } from './crd.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const path = join(root, CRD_FILE);
mkdirSync(dirname(path), { recursive: true });
writeFileSync(path, renderCRD());
console.log(`wrote ${CRD_FILE}`);
