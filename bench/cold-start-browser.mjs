// Cold start of the default entry in Debian's Chromium (headless, playwright-core): each
// sample is a fresh browser context that loads a page importing <dist>/index.js and awaiting
// init(); prints the medians per dist directory. Several directories (e.g. a build of an older
// commit) are measured in one run, their samples alternating, so their ratio holds under load.
//
//   node bench/cold-start-browser.mjs [samples] [dist-dir...]   (default 15, ./dist; needs a build)
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const [samplesArg, ...dirArgs] = process.argv.slice(2);
const samples = Number(samplesArg ?? 15);
const dirs = dirArgs.length > 0 ? dirArgs.map((d) => resolve(d)) : [fileURLToPath(new URL('../dist', import.meta.url))];
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// /page/<i> is the page for dirs[i]; /<i>/<file> serves that directory's files.
const page = (i) => `<script type="module">
const t0 = performance.now();
const { init } = await import('/${i}/index.js');
const t1 = performance.now();
const info = await init();
window.__result = { importMs: t1 - t0, initMs: performance.now() - t1, build: info.build };
</script>`;
const server = createServer(async (req, res) => {
  const [, first, ...rest] = (req.url ?? '/').split('?')[0].split('/');
  if (first === 'page') {
    res.setHeader('Content-Type', 'text/html');
    res.end(page(Number(rest[0])));
    return;
  }
  const dir = dirs[Number(first)];
  try {
    if (dir === undefined || rest.includes('..')) throw new Error('not found');
    const body = await readFile(join(dir, ...rest));
    res.setHeader('Content-Type', req.url.endsWith('.wasm') ? 'application/wasm' : 'text/javascript');
    res.end(body);
  } catch {
    res.statusCode = 404;
    res.end();
  }
});
await new Promise((done) => server.listen(0, '127.0.0.1', done));
const origin = `http://127.0.0.1:${server.address().port}`;
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: FLAGS });
const version = browser.version();
const runs = dirs.map(() => []);
try {
  for (let s = 0; s < samples; s++) {
    for (let i = 0; i < dirs.length; i++) {
      const context = await browser.newContext();
      const tab = await context.newPage();
      await tab.goto(`${origin}/page/${i}`);
      await tab.waitForFunction(() => window.__result !== undefined, undefined, { timeout: 60_000 });
      runs[i].push(await tab.evaluate(() => window.__result));
      await context.close();
    }
  }
} finally {
  await browser.close();
  server.close();
}
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
console.log(`Chromium ${version}, ${samples} fresh contexts per directory`);
dirs.forEach((d, i) => console.log(`${d}: ${runs[i][0].build} build, import median ${median(runs[i].map((r) => r.importMs)).toFixed(1)} ms, `
  + `init() median ${median(runs[i].map((r) => r.initMs)).toFixed(1)} ms`));
