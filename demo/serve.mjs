// Serves the repository over HTTP on localhost for the demo page (npm run demo).
// /demo/ is the page; /dist/ the bundles (the separate-file bundle fetches
// /dist/wasm-attention-{relaxed-simd,simd,scalar}.wasm, beside itself).
//
//   node demo/serve.mjs [port]        (default 8080; prints the URL)
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.wasm': 'application/wasm', '.json': 'application/json', '.map': 'application/json',
  '.png': 'image/png', '.svg': 'image/svg+xml',
};

/** Maps a request path to a file under the repository, or null when it is outside. */
function fileFor(pathname) {
  if (pathname === '/' || pathname === '/demo') return null;
  const file = normalize(join(root, decodeURIComponent(pathname)));
  if (!file.startsWith(root) || file.split(sep).includes('node_modules')) return undefined;
  return file.endsWith(sep) ? join(file, 'index.html') : file;
}

/** Starts the server on `port` (0: any free port); resolves with its URL. */
export function startServer(port = 8080) {
  const server = createServer(async (req, res) => {
    const { pathname } = new URL(req.url ?? '/', 'http://localhost');
    const file = fileFor(pathname);
    if (file === null) {
      res.writeHead(302, { Location: '/demo/' }).end();
      return;
    }
    try {
      if (file === undefined) throw new Error('outside');
      const body = await readFile(file);
      res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-store' });
      res.end(body);
    } catch {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`not found: ${pathname}`);
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      resolve({ server, url: `http://localhost:${server.address().port}/demo/` });
    });
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { url } = await startServer(Number(process.argv[2] ?? process.env.PORT ?? 8080));
  console.log(`wasm-attention demo: ${url}   (build first: npm run build; Ctrl+C stops)`);
}
