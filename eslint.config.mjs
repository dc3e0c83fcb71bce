// ESLint for the TypeScript library (ts/), its tests and benchmarks, and the JavaScript
// scripts, examples and demo. `npm run lint` checks; `npm run format` applies the fixes.
//
// Three levels of rules:
//   1. ts/ (the published library): typescript-eslint's type-checked recommended rules,
//      which see through types (unhandled promises, `any` leaking out, base-to-string).
//   2. test/, bench/ (TypeScript that is not shipped): its recommended rules without type
//      information, and no line-length ceiling (tables of cases and expected values).
//   3. JavaScript: ESLint's recommended rules, with Node and browser globals.
// And on every file the style rules below (@stylistic): those the code already follows,
// measured rule by rule on the tree, so that they describe it rather than rewrite it.
// (Prettier, at its closest — width 120, single quotes — gave a diff of 9067 lines, removed
// plus added, on the 19527 of ts/, test/ and bench/; these rules fix 9 places.)
import js from '@eslint/js';
import stylistic from '@stylistic/eslint-plugin';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// Left out because the code is split on them, not because they are wrong:
// operator-linebreak (about 75 breaks before an operator and 75 after), multiline-ternary,
// indent-binary-ops and max-statements-per-line (short guards share a line: `{ a; return b; }`);
// list-style, which replaces the deprecated bracket-spacing rules, also wants a line per
// item once a list wraps (1088 places), where the code packs items into full lines.
const style = {
  '@stylistic/indent': ['error', 2, {
    // A return type that does not fit goes on the next line, indented: `f(...):\n  { a: A } {`.
    ignoredNodes: ['TSTypeAnnotation > TSTypeLiteral'],
  }],
  '@stylistic/quotes': ['error', 'single', { avoidEscape: true, allowTemplateLiterals: 'always' }],
  '@stylistic/semi': ['error', 'always'],
  '@stylistic/comma-dangle': ['error', 'always-multiline'],
  '@stylistic/brace-style': ['error', '1tbs', { allowSingleLine: true }],
  '@stylistic/arrow-parens': ['error', 'always'],
  '@stylistic/quote-props': ['error', 'as-needed'],
  // `;` between members; a closing `}` on the last member's line (`{ a: A;\n  b: B }`) needs none.
  '@stylistic/member-delimiter-style': ['error', { multilineDetection: 'last-member' }],
  '@stylistic/space-before-function-paren': ['error', { anonymous: 'always', named: 'never', asyncArrow: 'always' }],
  '@stylistic/lines-between-class-members': ['error', 'always', { exceptAfterSingleLine: true }],
  '@stylistic/no-multiple-empty-lines': ['error', { max: 1, maxEOF: 0, maxBOF: 0 }],
  '@stylistic/padded-blocks': ['error', 'never'],
  '@stylistic/spaced-comment': ['error', 'always'],
  '@stylistic/dot-location': ['error', 'property'],
  '@stylistic/generator-star-spacing': ['error', 'after'],
  '@stylistic/yield-star-spacing': ['error', 'after'],
  '@stylistic/wrap-iife': ['error', 'inside'],
  ...Object.fromEntries([
    'arrow-spacing', 'block-spacing', 'comma-spacing', 'computed-property-spacing', 'eol-last', 'function-call-spacing',
    'key-spacing', 'keyword-spacing', 'linebreak-style', 'new-parens', 'no-extra-semi', 'no-floating-decimal',
    'no-mixed-spaces-and-tabs', 'no-multi-spaces', 'no-tabs', 'no-trailing-spaces', 'no-whitespace-before-property',
    'rest-spread-spacing', 'semi-spacing', 'space-before-blocks', 'space-in-parens', 'space-infix-ops',
    'space-unary-ops', 'switch-colon-spacing', 'template-curly-spacing', 'type-annotation-spacing',
    'type-generic-spacing', 'type-named-tuple-spacing',
  ].map((rule) => [`@stylistic/${rule}`, 'error'])),
};

// A ceiling, not the habit (lines wrap near 120): max-len cannot fix a line, and at 120 it
// would flag 140 lines that read well as they are; at 140 it flags a handful.
const maxLen = ['error', {
  code: 140, ignoreUrls: true, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true,
}];

export default defineConfig([
  {
    ignores: [
      'dist/', 'pkg/', 'target/', 'crates/', 'docs/api/', 'test-results/', '.vitest-attachments/',
      'bench/results/', 'test/fixtures/',
    ],
  },
  {
    files: ['**/*.{js,mjs,cjs,ts}'],
    extends: [js.configs.recommended],
    plugins: { '@stylistic': stylistic },
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: { ...style, '@stylistic/max-len': maxLen },
  },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommended],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', {
        // `_x` marks a binding kept for its position; a `using` binding exists to be disposed.
        argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_',
        ignoreUsingDeclarations: true,
      }],
    },
  },
  {
    files: ['ts/**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // Indexed reads carry `!` (`a[i]!`) by convention, the index being in range by
      // construction; without noUncheckedIndexedAccess the rule calls each one unnecessary,
      // and it cannot ignore `!` alone.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
    },
  },
  {
    files: ['test/**', 'bench/**'],
    rules: { '@stylistic/max-len': 'off' },
  },
  // Findings not fixed yet, allowed file by file: drop an entry once its file is clean.
  {
    files: ['ts/init.ts'],
    rules: { '@typescript-eslint/prefer-promise-reject-errors': 'off' },
  },
  {
    files: ['ts/models/config.ts', 'ts/models/encoder-config.ts', 'ts/models/encoder.ts'],
    rules: { 'preserve-caught-error': 'off', '@typescript-eslint/no-base-to-string': 'off' },
  },
]);
