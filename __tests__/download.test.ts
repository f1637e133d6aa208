import { execFile, spawnSync } from 'child_process';
import { createHash } from 'crypto';
import { existsSync, promises as fsp, readdirSync, statSync } from 'fs';
import * as http from 'http';
import * as https from 'https';
import type { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import { DatasetError, InvalidArgumentError } from '../lib/errors';
import { encodeIdx } from '../lib/idx';
import {
  DatasetFileTable,
  MNIST_FILES,
  MNIST_MIRRORS,
  FASHION_MNIST_MIRRORS,
  downloadDataset,
  downloadFile,
  loadMnist,
  mirrorUrl,
  readDatasetFiles,
  redirectTarget,
} from '../lib/datasets';
import { isolateEnv } from './helpers/env';
import { allOf, skipUnless } from './helpers/skips';

import { MNIST_DIR } from './helpers/mnist-dir';
import { describeWithMnist, itWithMnist, withMnist } from './helpers/needs-mnist';

/** Why the tests that serve the official files skip without them: the md5s checked are the published ones. */
const SERVES = 'serves the official files, whose published md5s the download checks';
const LABELS = MNIST_FILES.trainLabels; // 28,881 bytes: real, and small enough to fetch many times
const LABELS_BYTES = 28_881;

let tmp: string;
/** Files the /custom/ route serves, for tests that need their own small dataset. */
let customDir: string;
let base: string;
const requests: string[] = [];
let server: http.Server;
/** The folder /paced/ watches: the client's download into it paces the server. */
let pacedDir = '';
/** Parts /paced/ sends, each its own read for the client. */
const PACED_PARTS = 8;

/** Bytes the client has written so far into the one (temp) file in `dir`. */
function bytesWrittenIn(dir: string): number {
  try {
    return readdirSync(dir).reduce((n, f) => n + statSync(path.join(dir, f)).size, 0);
  } catch {
    return 0;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * /good/<f> serves a file; /missing/ 404s; /altered/<f> flips a byte; /close/<f> announces the full
 * length and hangs up halfway; /stall/<f> sends headers and then nothing; /paced/<f> sends eight parts, each only once the client has written the one before
 * into its temp file in `pacedDir`; /trickle/<f> sends 64 bytes every 20 ms (never idle, never done in time);
 * /chunked/<f> sends no Content-Length; /redirect/<n>/<f> redirects n times; /loop/<f> redirects
 * forever; /custom/<f> serves from customDir.
 */
async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  requests.push(req.url ?? '');
  const parts = (req.url ?? '/').split('/').filter(Boolean);
  const route = parts[0];
  const name = parts[parts.length - 1];
  if (route === 'missing' || name === undefined || name.includes('..')) {
    res.writeHead(404).end('not here');
    return;
  }
  if (route === 'redirect') {
    const n = Number(parts[1]);
    res.writeHead(302, { location: n > 1 ? `/redirect/${n - 1}/${name}` : `/good/${name}` }).end();
    return;
  }
  if (route === 'loop') {
    res.writeHead(301, { location: `/loop/${name}` }).end();
    return;
  }
  let body: Buffer;
  try {
    body = await fsp.readFile(path.join(route === 'custom' ? customDir : MNIST_DIR, name));
  } catch {
    res.writeHead(404).end();
    return;
  }
  switch (route) {
    case 'good':
    case 'custom':
      res.writeHead(200, { 'content-length': body.length }).end(body);
      return;
    case 'altered': {
      const copy = Buffer.from(body);
      copy[Math.floor(copy.length / 2)] ^= 0xff;
      res.writeHead(200, { 'content-length': copy.length }).end(copy);
      return;
    }
    case 'close':
      res.writeHead(200, { 'content-length': body.length });
      res.write(body.subarray(0, body.length >> 1), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    case 'stall':
      res.writeHead(200, { 'content-length': body.length });
      res.flushHeaders();
      return;
    case 'paced': {
      res.writeHead(200, { 'content-length': body.length });
      const step = Math.ceil(body.length / PACED_PARTS);
      for (let i = 0; i < body.length; i += step) {
        while (bytesWrittenIn(pacedDir) < i) await sleep(2);
        res.write(body.subarray(i, i + step));
      }
      res.end();
      return;
    }
    case 'trickle': {
      res.writeHead(200, { 'content-length': body.length });
      let sent = 0;
      const timer = setInterval(() => {
        if (sent >= body.length) {
          clearInterval(timer);
          res.end();
          return;
        }
        res.write(body.subarray(sent, sent + 64));
        sent += 64;
      }, 20);
      res.on('close', () => clearInterval(timer));
      return;
    }
    case 'chunked':
      res.writeHead(200);
      res.write(body.subarray(0, 1000));
      res.end(body.subarray(1000));
      return;
    default:
      res.writeHead(404).end();
  }
}

beforeAll(async () => {
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'download-test-'));
  customDir = await fsp.mkdtemp(path.join(tmp, 'served-'));
  server = http.createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await fsp.rm(tmp, { recursive: true, force: true });
});

isolateEnv();
beforeEach(() => {
  requests.length = 0;
});

async function emptyDir(prefix: string): Promise<string> {
  return fsp.mkdtemp(path.join(tmp, prefix));
}

async function md5Of(file: string): Promise<string> {
  return createHash('md5').update(await fsp.readFile(file)).digest('hex');
}

async function downloadError(p: Promise<unknown>): Promise<DatasetError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DatasetError);
  return err as DatasetError;
}

describeWithMnist(SERVES, 'downloadFile', () => {
  it('fetches from a good mirror, verifies the md5 and leaves only the file', async () => {
    const dir = path.join(await emptyDir('good-'), 'nested', 'mnist');
    const lines: string[] = [];
    const file = await downloadFile(LABELS, dir, { mirrors: [`${base}/good/`], log: (l) => lines.push(l) });
    expect(file).toBe(path.join(dir, LABELS.name));
    expect(await md5Of(file)).toBe(LABELS.md5);
    expect(await fsp.readdir(dir)).toEqual([LABELS.name]);
    expect(lines[0]).toBe(`downloading ${base}/good/${LABELS.name}`);
    expect(lines[lines.length - 1]).toMatch(/train-labels-idx1-ubyte.gz: 28.2 KiB, md5 ok/);
  });

  it('goes on to the next mirror after a 404', async () => {
    const dir = await emptyDir('404-');
    const lines: string[] = [];
    const file = await downloadFile(LABELS, dir, { mirrors: [`${base}/missing/`, `${base}/good`], log: (l) => lines.push(l) });
    expect(await md5Of(file)).toBe(LABELS.md5);
    expect(lines.some((l) => l.includes(`${base}/missing/${LABELS.name} failed: HTTP 404 Not Found`))).toBe(true);
    expect(requests).toEqual([`/missing/${LABELS.name}`, `/good/${LABELS.name}`]);
  });

  it('rejects altered bytes by md5: nothing cached, an error naming the mirror', async () => {
    const dir = await emptyDir('altered-');
    const err = await downloadError(downloadFile(LABELS, dir, { mirrors: [`${base}/altered/`], log: () => {} }));
    expect(err.message).toContain(`could not download ${LABELS.name} into ${dir}`);
    expect(err.message).toMatch(new RegExp(`altered/${LABELS.name}: md5 mismatch: got [0-9a-f]{32}, expected ${LABELS.md5} \\(28881 bytes\\)`));
    expect(await fsp.readdir(dir)).toEqual([]);
  });

  it('a mirror with altered bytes, then a good one', async () => {
    const dir = await emptyDir('altered-good-');
    const file = await downloadFile(LABELS, dir, { mirrors: [`${base}/altered/`, `${base}/good/`], log: () => {} });
    expect(await md5Of(file)).toBe(LABELS.md5);
    expect(await fsp.readdir(dir)).toEqual([LABELS.name]);
  });

  it('a server closing mid-transfer leaves no file and no temp file', async () => {
    const dir = await emptyDir('close-');
    const err = await downloadError(downloadFile(LABELS, dir, { mirrors: [`${base}/close/`], log: () => {} }));
    expect(err.message).toMatch(/close\/train-labels-idx1-ubyte.gz: connection closed after \d+ of 28881 bytes/);
    expect(await fsp.readdir(dir)).toEqual([]);
  });

  it('a stalled server times out, leaving nothing', async () => {
    // Were the inactivity timeout not applied, this would wait for the stalled server until jest's timeout.
    const dir = await emptyDir('stall-');
    const err = await downloadError(downloadFile(LABELS, dir, { mirrors: [`${base}/stall/`], timeoutMs: 300, log: () => {} }));
    expect(err.message).toMatch(/stall\/train-labels-idx1-ubyte.gz: no data for 300 ms after 0 of 28881 bytes/);
    expect(await fsp.readdir(dir)).toEqual([]);
  }, 30_000);

  it('gives up on a server that trickles bytes once the per-mirror deadline passes, then tries the next mirror', async () => {
    const dir = await emptyDir('trickle-');
    const lines: string[] = [];
    // 64 bytes every 20 ms never trips a 1 s inactivity timeout, and would take ~9 s for 28,881 bytes.
    const file = await downloadFile(LABELS, dir, { mirrors: [`${base}/trickle/`, `${base}/good/`], timeoutMs: 1000, deadlineMs: 600, log: (l) => lines.push(l) });
    expect(await md5Of(file)).toBe(LABELS.md5);
    const cut = lines.map((l) => /trickle\/train-labels-idx1-ubyte.gz failed: took longer than 600 ms \(deadline\) after (\d+) of 28881 bytes/.exec(l)).find(Boolean);
    expect(cut).toBeTruthy();
    // Cut early in the trickle (about 2,000 bytes in by 600 ms; the server's timer and the
    // deadline's share one event loop, so a loaded machine delays both alike).
    expect(Number(cut![1])).toBeLessThan(28881 / 2);
    expect(await fsp.readdir(dir)).toEqual([LABELS.name]);
  }, 30_000);

  it('fsyncs the downloaded bytes before renaming them into place', async () => {
    const dir = await emptyDir('fsync-');
    const probe = await fsp.open(path.join(dir, 'probe'), 'w');
    const handleProto = Object.getPrototypeOf(probe) as { sync: () => Promise<void> };
    await probe.close();
    await fsp.rm(path.join(dir, 'probe'));
    const sync = jest.spyOn(handleProto, 'sync');
    const rename = jest.spyOn(fsp, 'rename');
    try {
      await downloadFile(LABELS, dir, { mirrors: [`${base}/good/`], log: () => {} });
      const toDest = rename.mock.calls.findIndex(([, to]) => to === path.join(dir, LABELS.name));
      expect(toDest).toBeGreaterThanOrEqual(0);
      expect(sync).toHaveBeenCalled();
      expect(sync.mock.invocationCallOrder[0]).toBeLessThan(rename.mock.invocationCallOrder[toDest]);
    } finally {
      sync.mockRestore();
      rename.mockRestore();
    }
  });

  it('follows up to 5 redirects and refuses more', async () => {
    const dir = await emptyDir('redirect-');
    await downloadFile(LABELS, dir, { mirrors: [`${base}/redirect/5/`], log: () => {} });
    expect(requests).toHaveLength(6);
    const other = await emptyDir('loop-');
    const err = await downloadError(downloadFile(LABELS, other, { mirrors: [`${base}/loop/`], log: () => {} }));
    expect(err.message).toMatch(/loop\/train-labels-idx1-ubyte.gz: more than 5 redirects/);
    expect(await fsp.readdir(other)).toEqual([]);
  });

  it('accepts a response without Content-Length (md5 still decides)', async () => {
    const dir = await emptyDir('chunked-');
    expect(await md5Of(await downloadFile(LABELS, dir, { mirrors: [`${base}/chunked/`], log: () => {} }))).toBe(LABELS.md5);
  });

  it('logs throttled progress with bytes, total and percent: one line a second at most', async () => {
    pacedDir = await emptyDir('paced-');
    const lines: string[] = [];
    // A clock driven by the bytes written: the whole file takes 2.5 s of it, however the machine
    // is loaded. Eight parts (so at least eight reads) in 2.5 s under a 1 s throttle: exactly two
    // lines, the first after 1 s, the second after 2 s (at the latest with the last part).
    const now = () => (2500 * bytesWrittenIn(pacedDir)) / LABELS_BYTES;
    await downloadFile(LABELS, pacedDir, { mirrors: [`${base}/paced/`], log: (l) => lines.push(l), now });
    const progress = lines.filter((l) => /%\)$/.test(l));
    expect(progress).toHaveLength(2);
    const percents = progress.map((l) => Number(/\((\d+)%\)$/.exec(l)![1]));
    expect(percents[0]).toBeGreaterThanOrEqual(40);
    expect(percents[0]).toBeLessThan(60);
    expect(percents[1]).toBeGreaterThanOrEqual(80);
    expect(progress[0]).toMatch(/^ {2}train-labels-idx1-ubyte.gz: [\d.]+ KiB \/ 28.2 KiB \(\d+%\)$/);
    await expect(downloadFile(LABELS, pacedDir, { mirrors: [`${base}/good/`], now: 'soon' as never })).rejects.toThrow(/^now: must be a function/);
  });

  it('when every mirror fails, the error names each one and why', async () => {
    const dir = await emptyDir('all-fail-');
    const mirrors = [`${base}/missing/`, `${base}/altered/`, `${base}/close/`, 'http://127.0.0.1:1/'];
    const err = await downloadError(downloadFile(LABELS, dir, { mirrors, log: () => {} }));
    expect(err.attempts).toHaveLength(4);
    expect(err.attempts[0]).toBe(`${base}/missing/${LABELS.name}: HTTP 404 Not Found`);
    expect(err.attempts[1]).toMatch(/md5 mismatch/);
    expect(err.attempts[2]).toMatch(/of 28881 bytes/);
    expect(err.attempts[3]).toMatch(/^http:\/\/127.0.0.1:1\/train-labels-idx1-ubyte.gz: .*ECONNREFUSED/);
    for (const a of err.attempts) expect(err.message).toContain(a);
    expect(await fsp.readdir(dir)).toEqual([]);
  });

  it('checks its arguments first', async () => {
    const dir = await emptyDir('args-');
    const cases: [Promise<unknown>, string][] = [
      [downloadFile(LABELS, dir, { mirrors: [] }), 'mirrors'],
      [downloadFile(LABELS, dir, { mirrors: ['file:///etc/'] }), 'mirrors'],
      [downloadFile({ name: '../x.gz', md5: LABELS.md5 }, dir, { mirrors: [base] }), 'file.name'],
      [downloadFile({ name: 'x.gz', md5: 'abc' }, dir, { mirrors: [base] }), 'file.md5'],
      [downloadFile(LABELS, dir, { mirrors: [base], timeoutMs: 0 }), 'timeoutMs'],
      [downloadFile(LABELS, dir, { mirrors: [base], deadlineMs: -1 }), 'deadlineMs'],
    ];
    for (const [p, argument] of cases) {
      const err = await p.then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect((err as InvalidArgumentError).argument).toBe(argument);
    }
    expect(requests).toEqual([]);
  });
});

describe('redirects', () => {
  it('the policy: https may go to https, http to either; https to http and other schemes are refused', () => {
    const from = new URL('https://mirror.example/data/x.gz');
    expect(redirectTarget(from, '/other/x.gz').href).toBe('https://mirror.example/other/x.gz');
    expect(redirectTarget(from, 'https://cdn.example/x.gz').href).toBe('https://cdn.example/x.gz');
    expect(redirectTarget(new URL('http://mirror.example/x.gz'), 'https://cdn.example/x.gz').href).toBe('https://cdn.example/x.gz');
    expect(redirectTarget(new URL('http://mirror.example/x.gz'), 'http://cdn.example/x.gz').href).toBe('http://cdn.example/x.gz');
    expect(() => redirectTarget(from, 'http://cdn.example/x.gz')).toThrow(
      'refused a redirect from https://mirror.example/data/x.gz to http://cdn.example/x.gz: it would drop https',
    );
    expect(() => redirectTarget(from, 'file:///etc/passwd')).toThrow(/refused a redirect .* to file:\/\/\/etc\/passwd: not http\(s\)/);
  });

  /**
   * End to end over real TLS: a throwaway self-signed certificate for 127.0.0.1, trusted by a child
   * process through NODE_EXTRA_CA_CERTS (read only at start-up, hence the child), which runs the
   * built downloadFile against an https server that serves the file or redirects to plain http.
   */
  const openssl = skipUnless(spawnSync('openssl', ['version']).status === 0, 'no `openssl` command to make a certificate with (apt-get install openssl)');
  const DIST_DOWNLOAD = path.resolve(__dirname, '../dist/lib/datasets/download.js');
  allOf(openssl, withMnist(SERVES)).it('over https: a good mirror works, a redirect from https to http is refused', async () => {
    if (!existsSync(DIST_DOWNLOAD)) throw new Error(`${DIST_DOWNLOAD} is missing: run \`npm run build\``);
    const certDir = await emptyDir('tls-');
    const [key, cert] = [path.join(certDir, 'key.pem'), path.join(certDir, 'cert.pem')];
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
      '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8' });
    expect(made.stderr).not.toMatch(/error/i);
    const secure = https.createServer({ key: await fsp.readFile(key), cert: await fsp.readFile(cert) }, (req, res) => {
      const name = path.basename(req.url ?? '');
      if (req.url?.startsWith('/to-http/')) res.writeHead(302, { location: `${base}/good/${name}` }).end();
      else if (req.url?.startsWith('/to-https/')) res.writeHead(302, { location: `/good/${name}` }).end();
      else if (req.url?.startsWith('/good/')) {
        fsp.readFile(path.join(MNIST_DIR, name)).then((body) => res.writeHead(200, { 'content-length': body.length }).end(body), () => res.writeHead(404).end());
      } else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => secure.listen(0, '127.0.0.1', resolve));
    const tlsBase = `https://127.0.0.1:${(secure.address() as AddressInfo).port}`;
    const download = (mirror: string, dir: string) =>
      new Promise<{ ok?: string; error?: string }>((resolve, reject) => {
        const script = `require(${JSON.stringify(DIST_DOWNLOAD)}).downloadFile(${JSON.stringify(LABELS)}, ${JSON.stringify(dir)}, { mirrors: [${JSON.stringify(mirror)}], log: () => {} })
          .then((ok) => console.log(JSON.stringify({ ok })), (e) => console.log(JSON.stringify({ error: e.message })));`;
        execFile(process.execPath, ['-e', script], { env: { ...process.env, NODE_EXTRA_CA_CERTS: cert } }, (err, stdout) =>
          err ? reject(err) : resolve(JSON.parse(stdout.trim().split('\n').pop() as string)),
        );
      });
    try {
      const good = await emptyDir('tls-good-');
      expect(await download(`${tlsBase}/to-https/`, good)).toEqual({ ok: path.join(good, LABELS.name) });
      expect(await md5Of(path.join(good, LABELS.name))).toBe(LABELS.md5);
      const bad = await emptyDir('tls-downgrade-');
      const r = await download(`${tlsBase}/to-http/`, bad);
      expect(r.error).toContain(`${tlsBase}/to-http/${LABELS.name}: refused a redirect from ${tlsBase}/to-http/${LABELS.name} to ${base}/good/${LABELS.name}: it would drop https`);
      expect(requests).toEqual([]);
      expect(await fsp.readdir(bad)).toEqual([]);
    } finally {
      secure.closeAllConnections();
      await new Promise((resolve) => secure.close(resolve));
    }
  }, 30_000);
});

describe('downloadDataset', () => {
  it('fetches only what the cache lacks, from a custom file table', async () => {
    const images = encodeIdx({ type: 'u8', dims: [2, 28, 28], data: new Uint8Array(2 * 784).fill(200) }, { gzip: true });
    await fsp.writeFile(path.join(customDir, 'small-images.gz'), images);
    const md5 = createHash('md5').update(images).digest('hex');
    const table: DatasetFileTable = {
      trainImages: { name: 'small-images.gz', md5, rawMd5: '', dims: [2, 28, 28] },
      trainLabels: { name: 'small-labels.gz', md5: LABELS.md5, rawMd5: '', dims: [2] },
      testImages: { name: 'small-test-images.gz', md5, rawMd5: '', dims: [2, 28, 28] },
      testLabels: { name: 'small-test-labels.gz', md5: LABELS.md5, rawMd5: '', dims: [2] },
    };
    await fsp.copyFile(path.join(customDir, 'small-images.gz'), path.join(customDir, 'small-test-images.gz'));
    const cache = await emptyDir('cache-');
    // The labels are already cached (under an accepted un-gzipped name), so only images are fetched.
    await fsp.mkdir(path.join(cache, 'mnist'));
    const labels = encodeIdx({ type: 'u8', dims: [2], data: Uint8Array.from([4, 2]) });
    await fsp.writeFile(path.join(cache, 'mnist', 'small-labels'), labels);
    await fsp.writeFile(path.join(cache, 'mnist', 'small-test-labels'), labels);
    const located = await downloadDataset('mnist', { cacheDir: cache, files: table, mirrors: [`${base}/custom/`], log: () => {} });
    expect(requests.sort()).toEqual(['/custom/small-images.gz', '/custom/small-test-images.gz']);
    expect(located.source.kind).toBe('download');
    expect(located.source.description).toContain('2 files fetched, the rest already cached');
    const raw = await readDatasetFiles(located.files);
    expect(raw.train.count).toBe(2);
    expect(Array.from(raw.test.labels)).toEqual([4, 2]);
    expect(raw.train.images[0]).toBe(200);
    expect((await fsp.readdir(path.join(cache, 'mnist'))).sort()).toEqual(['small-images.gz', 'small-labels', 'small-test-images.gz', 'small-test-labels']);
  });

  itWithMnist(SERVES, 'loadMnist downloads all four real files from a local mirror into the cache, then reads the cache', async () => {
    const cache = await emptyDir('full-');
    const lines: string[] = [];
    const ds = await loadMnist({ cacheDir: cache, mirrors: [`${base}/missing/`, `${base}/good/`], allowSample: false, log: (l) => lines.push(l) });
    expect(ds.source).toMatchObject({ kind: 'download', path: path.join(cache, 'mnist') });
    expect([ds.train.count, ds.test.count]).toEqual([60000, 10000]);
    expect(Array.from(ds.train.labels.subarray(0, 10))).toEqual([5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    expect(Array.from(ds.test.labels.subarray(0, 10))).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    const names = Object.values(MNIST_FILES).map((f) => f.name);
    expect((await fsp.readdir(path.join(cache, 'mnist'))).sort()).toEqual([...names].sort());
    for (const f of Object.values(MNIST_FILES)) expect(await md5Of(path.join(cache, 'mnist', f.name))).toBe(f.md5);
    expect(lines.filter((l) => l.endsWith('md5 ok'))).toHaveLength(4);

    requests.length = 0;
    const again = await loadMnist({ cacheDir: cache, mirrors: [`${base}/good/`], limit: 10, log: () => {} });
    expect(again.source.kind).toBe('cache');
    expect(requests).toEqual([]);
  });

  it('a failed download caches nothing and fails the load when the sample is not allowed', async () => {
    const cache = await emptyDir('fail-');
    const p = loadMnist({ cacheDir: cache, mirrors: [`${base}/close/`], allowSample: false, log: () => {} });
    const err = await downloadError(p);
    expect(err.message).toMatch(/MNIST not found and not downloaded/);
    expect(err.message).toContain(`${base}/close/train-images-idx3-ubyte.gz`);
    expect(await fsp.readdir(path.join(cache, 'mnist'))).toEqual([]);
  });
});

describe('mirror tables', () => {
  it('lists the public mirrors in the documented order', () => {
    expect(MNIST_MIRRORS).toEqual(['https://storage.googleapis.com/cvdf-datasets/mnist/', 'https://ossci-datasets.s3.amazonaws.com/mnist/']);
    expect(FASHION_MNIST_MIRRORS).toEqual([
      'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/',
      'https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/',
    ]);
    expect(mirrorUrl('http://a/b', 'c.gz')).toBe('http://a/b/c.gz');
    expect(mirrorUrl('http://a/b/', 'c.gz')).toBe('http://a/b/c.gz');
  });
});
