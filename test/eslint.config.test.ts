/**
 * eslint.config.js keeps the operator and the scorer apart: operator/ imports nothing of scorer/, scorer/ nothing of
 * operator/, and contract/, which both import, neither. The repository's own configuration lints probe sources as if
 * they sat in each folder.
 */
import { ESLint } from 'eslint';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const eslint = new ESLint({ cwd: ROOT });

/** The import errors ESLint reports for `code` as the file at `path` (relative to the repository). */
async function importErrors(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, path) });
  return result!.messages
    .filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'no-restricted-syntax')
    .map((m) => m.message);
}

describe('the boundary between operator/ and scorer/', () => {
  it.each([
    [
      'operator/status.ts',
      "import { ModelLoadError } from '../scorer/errors.js';\nexport { ModelLoadError };",
      'operator/',
    ],
    ['operator/api/v1alpha1.ts', "export { SCORER_ENV } from '../../scorer/config.js';", 'operator/'],
    ['operator/main.ts', "export type T = import('../scorer/model.js').Model;", 'operator/'],
    [
      'scorer/errors.ts',
      "import type { ScoringModel } from '../operator/api/v1alpha1.js';\nexport type S = ScoringModel;",
      'scorer/',
    ],
    ['scorer/load/index.ts', "export const m = import('../../operator/status.js');", 'scorer/'],
    ['contract/env.ts', "export { SCORER_PORT } from '../scorer/config.js';", 'contract/'],
    ['contract/formats.ts', "export { CONDITION } from '../operator/status.js';", 'contract/'],
  ])('%s: %j is refused', async (path, code, folder) => {
    const errors = await importErrors(path, code);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(`${folder} `);
    expect(errors[0]).toContain('contract/');
  });

  it('lets both import contract/ and their own modules', async () => {
    expect(
      await importErrors(
        'operator/desired/deployment.ts',
        "import { SCORER_ENV } from '../../contract/env.js';\nimport { LABELS } from './labels.js';\nexport { SCORER_ENV, LABELS };",
      ),
    ).toEqual([]);
    expect(
      await importErrors(
        'scorer/load/index.ts',
        "import { locate } from '../../contract/uri.js';\nimport type { ScorerConfig } from '../config.js';\nexport type C = ScorerConfig;\nexport { locate };",
      ),
    ).toEqual([]);
  });
});
