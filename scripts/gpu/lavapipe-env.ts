/**
 * The environment that puts Dawn (in Node) or Chromium on Mesa's lavapipe, as
 * scripts/gpu/lavapipe.sh prints it: the one way tests, CI, the browser survey and developers find
 * the software Vulkan driver. Node-only.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

/** The repository root: the nearest folder above this file (source or dist/) holding package.json. */
function repoRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

/** The provisioning script. */
export const LAVAPIPE_SCRIPT = path.join(repoRoot(), 'scripts', 'gpu', 'lavapipe.sh');

/** lavapipe.sh's exit status when it is asked not to download and nothing is provisioned. */
export const NOT_PROVISIONED_STATUS = 3;

/** What lavapipe.sh prints: the variables to set (VK_DRIVER_FILES, LD_LIBRARY_PATH, ...), and Mesa's version. */
export interface LavapipeEnv {
  env: Record<string, string>;
  /** The Debian version of mesa-vulkan-drivers, e.g. `25.0.7-2~bpo12+1`. */
  version: string;
  /** What the provisioning wrote in its stamp: the .debs, their bytes, how long it took, when. */
  provisioned: Record<string, string>;
}

/** Why there is no lavapipe: not provisioned (the reason names the command), or the script failed. */
export interface NoLavapipe {
  reason: string;
}

/**
 * Reads lavapipe's environment from `scripts/gpu/lavapipe.sh --format json`; with `offline` (the
 * default) it never downloads, so a machine where nobody ran the script gets a reason naming the
 * command to run.
 */
export function lavapipeEnv(options: { offline?: boolean } = {}): LavapipeEnv | NoLavapipe {
  const args = [LAVAPIPE_SCRIPT, '--format', 'json', ...(options.offline === false ? [] : ['--offline'])];
  const r = spawnSync('bash', args, { encoding: 'utf8', timeout: 600_000 });
  const said = (r.stderr ?? '').trim().split('\n').filter(Boolean).pop() ?? '';
  if (r.error) return { reason: `cannot run bash ${LAVAPIPE_SCRIPT}: ${r.error.message}` };
  if (r.status === NOT_PROVISIONED_STATUS) return { reason: said.replace(/^lavapipe: /, 'lavapipe is ') };
  if (r.status !== 0) return { reason: `bash ${args.join(' ')} exited ${r.status ?? r.signal}: ${said}` };
  const env = JSON.parse(r.stdout) as Record<string, string>;
  const stamp = path.join(path.dirname(env.VK_DRIVER_FILES ?? ''), 'ready');
  const provisioned = fs.existsSync(stamp)
    ? Object.fromEntries(fs.readFileSync(stamp, 'utf8').split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]))
    : {};
  return { env, version: env.MNIST_NETS_LAVAPIPE ?? 'unknown', provisioned };
}
