// Peak memory and time of loading a model folder with `fromFolder` (the weights streamed into WASM
// memory as the file is read) against reading the file's bytes first and giving them to `load`, each
// load in a process of its own (peak RSS: Linux's VmHWM; the tokenizers package imported before the
// baseline in both):
//
//   npm run build && node --import tsx bench/folder-load.ts [--model=smollm|minilm] [--weights=auto,int8] [--runs=2]
//
// The folder is written to a temporary directory: random weights of SmolLM-135M's shape
// (bench/model-weights.ts) or MiniLM-L6's (bench/encoder-weights.ts), float32, tensors in name order
// as safetensors' save_file writes them, with a test fixture's tokenizer.json (loading does not care
// whose). Prints one JSON line per load, then the medians.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MINILM_L6, encoderHfConfig, encoderTensorList } from './encoder-weights.js';
import { SMOLLM_135M, hfConfig, safetensorsOf, tensorList } from './model-weights.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const arg = (name: string, fallback: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;

interface Load { how: 'folder' | 'bytes'; weights: string; ms: number; peakRssMiB: number; baseRssMiB: number; wasmPeakMiB: number; weightMiB: number }

if (process.argv[2] === '--child') {
  // One load: <dir> <decoder|encoder> <folder|bytes> <weights>
  const [dir, kind, how, weights] = process.argv.slice(3) as [string, string, 'folder' | 'bytes', string];
  const { init, memoryStats } = await import('../dist/index.js');
  const { CausalLM, EncoderModel } = await import('../dist/models/index.js');
  await init();
  await import('@huggingface/tokenizers');
  const Model = kind === 'decoder' ? CausalLM : EncoderModel;
  const mib = (b: number) => Math.round((b / 2 ** 20) * 10) / 10;
  const base = process.memoryUsage.rss();
  const t0 = performance.now();
  const model = how === 'folder'
    ? await Model.fromFolder(dir, { weights: weights as never })
    : Model.load(readFileSync(path.join(dir, 'config.json'), 'utf8'), readFileSync(path.join(dir, 'model.safetensors')), { weights: weights as never });
  const ms = performance.now() - t0;
  // The high-water mark of this process's own memory (Linux: VmHWM). Not resourceUsage().maxRSS: a
  // spawned process starts with its parent's maximum (which here held the file it wrote).
  const hwm = /VmHWM:\s*(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  if (hwm === undefined) throw new Error('this bench reads VmHWM from /proc/self/status (Linux)');
  const out: Load = {
    how, weights, ms: Math.round(ms), peakRssMiB: mib(Number(hwm) * 1024), baseRssMiB: mib(base),
    wasmPeakMiB: mib(memoryStats().peakBytes), weightMiB: mib(model.weightBytes),
  };
  console.log(JSON.stringify(out));
} else {
  const which = arg('model', 'smollm'), formats = arg('weights', 'auto,int8').split(','), runs = Number(arg('runs', '2'));
  const decoder = which === 'smollm';
  if (!decoder && which !== 'minilm') throw new Error(`--model must be smollm or minilm, got ${which}`);
  const dir = mkdtempSync(path.join(tmpdir(), 'wasm-attention-folder-load-'));
  try {
    const list = (decoder ? tensorList(SMOLLM_135M) : encoderTensorList(MINILM_L6)).slice().sort((a, b) => (a.name < b.name ? -1 : 1));
    writeFileSync(path.join(dir, 'model.safetensors'), safetensorsOf(decoder ? SMOLLM_135M : MINILM_L6, list, 'F32'));
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify(decoder ? hfConfig(SMOLLM_135M) : encoderHfConfig(MINILM_L6)));
    copyFileSync(path.join(root, `test/fixtures/text/${decoder ? 'gpt2' : 'bert'}/tokenizer.json`), path.join(dir, 'tokenizer.json'));
    const loads: Load[] = [];
    for (let r = 0; r < runs; r++) {
      for (const weights of formats) {
        // Alternate which way goes first, so neither always meets a colder page cache.
        for (const how of (r % 2 === 0 ? ['folder', 'bytes'] : ['bytes', 'folder']) as Load['how'][]) {
          const p = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', dir, decoder ? 'decoder' : 'encoder', how, weights],
            { cwd: root, encoding: 'utf8' });
          if (p.status !== 0) throw new Error(`a load failed: ${p.stderr}`);
          const line = p.stdout.trim().split('\n').pop()!;
          console.log(line);
          loads.push(JSON.parse(line) as Load);
        }
      }
    }
    const median = (xs: number[]) => {
      const s = xs.slice().sort((a, b) => a - b), m = s.length >> 1;
      return Math.round((s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2) * 10) / 10;
    };
    for (const weights of formats) {
      for (const how of ['folder', 'bytes'] as const) {
        const l = loads.filter((x) => x.weights === weights && x.how === how);
        console.log(`${which} ${weights} ${how === 'folder' ? 'fromFolder' : 'load(readFileSync(file))'}: peak RSS ${median(l.map((x) => x.peakRssMiB))} MiB ` +
          `(${median(l.map((x) => x.baseRssMiB))} before the load), ${l[0]!.weightMiB} MiB of weights, ${median(l.map((x) => x.ms))} ms (medians of ${l.length})`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
