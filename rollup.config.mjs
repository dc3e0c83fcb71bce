// Bundles ts/ into dist/. The .wasm binaries are embedded by @rollup/plugin-wasm
// ('auto-inline': base64, decoded with Buffer in Node and atob elsewhere), so the
// bundle needs no server configuration and no file lookup at run time.
import typescript from '@rollup/plugin-typescript';
import { wasm } from '@rollup/plugin-wasm';

const plugins = () => [
  wasm({ targetEnv: 'auto-inline' }),
  typescript({ tsconfig: './tsconfig.build.json', declaration: false, declarationMap: false, outDir: 'dist' }),
];

export default [
  {
    input: 'ts/index.ts',
    output: { file: 'dist/index.js', format: 'es', sourcemap: true },
    plugins: plugins(),
  },
  {
    input: 'ts/baseline/index.ts',
    output: { file: 'dist/baseline/index.js', format: 'es', sourcemap: true },
    plugins: plugins(),
  },
];
