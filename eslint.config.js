import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The operator and the scorer share only contract/ (env names, formats, settings, URI rules, process metrics): each
 * image builds its own folder and contract/, so an import across would break the other's build or ship its code.
 */
const importsOf = (files, folders, message) => {
  // An import path that climbs out of its folder into one of `folders` ("/" spelt \x2F for esquery's selectors).
  const path = String.raw`^(\.\.\x2F)+(${folders.join('|')})(\x2F|$)`;
  return {
    files,
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: path, message }] }],
      // import() and import('...').Type, which no-restricted-imports does not see.
      'no-restricted-syntax': [
        'error',
        { selector: `ImportExpression[source.value=/${path}/]`, message },
        { selector: `TSImportType[source.value=/${path}/]`, message },
      ],
    },
  };
};

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '**/*.py'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  importsOf(['operator/**'], ['scorer'], 'operator/ may not import scorer/: what both need belongs in contract/.'),
  importsOf(['scorer/**'], ['operator'], 'scorer/ may not import operator/: what both need belongs in contract/.'),
  importsOf(
    ['contract/**'],
    ['operator', 'scorer'],
    'contract/ imports neither operator/ nor scorer/: both import it.',
  ),
);
