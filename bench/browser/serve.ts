/**
 * A static file server for the browser benchmark, bound to 127.0.0.1, serving the
 * repository root: `.wasm` as application/wasm (needed for streaming compilation),
 * JavaScript modules as text/javascript, and `X.js` requests for which only `X.ts`
 * exists transpiled from TypeScript on the fly (type-only imports are erased). Other
 * directories can be mounted under a URL prefix (e.g. model files written to a temporary
 * directory); their files are streamed, not read whole.
 */
import { createReadStream } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import ts from 'typescript';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.css': 'text/css',
};

async function exists(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

/**
 * Starts the server on a free port; resolves to it and its base URL. `mounts` maps URL
 * prefixes (`/models/`) to directories served as they are.
 */
export async function serve(root: string, mounts: Readonly<Record<string, string>> = {}): Promise<{ server: Server; url: string }> {
  const server = createServer(async (req, res) => {
    try {
      const urlPath = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
      const mount = Object.keys(mounts).find((prefix) => urlPath.startsWith(prefix));
      if (mount !== undefined) {
        const dir = path.resolve(mounts[mount]!), file = path.join(dir, urlPath.slice(mount.length));
        if (!file.startsWith(dir + path.sep) || !(await exists(file))) {
          res.writeHead(404).end(`not found: ${urlPath}`);
          return;
        }
        res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
          'content-length': (await stat(file)).size, 'cache-control': 'no-store' });
        createReadStream(file).pipe(res);
        return;
      }
      const file = path.join(root, urlPath);
      if (!file.startsWith(root + path.sep)) {
        res.writeHead(403).end('outside the repository');
        return;
      }
      const ext = path.extname(file);
      if (await exists(file)) {
        res.writeHead(200, { 'content-type': TYPES[ext] ?? 'application/octet-stream', 'cache-control': 'no-store' });
        res.end(await readFile(file));
        return;
      }
      const source = ext === '.js' ? file.slice(0, -3) + '.ts' : null;
      if (source && (await exists(source))) {
        const out = ts.transpileModule(await readFile(source, 'utf8'), {
          compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
          fileName: source,
        });
        res.writeHead(200, { 'content-type': TYPES['.js']!, 'cache-control': 'no-store' });
        res.end(out.outputText);
        return;
      }
      res.writeHead(404).end(`not found: ${urlPath}`);
    } catch (e) {
      res.writeHead(500).end(String(e));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('server has no port');
  return { server, url: `http://127.0.0.1:${address.port}` };
}
