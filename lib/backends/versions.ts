import * as tf from '@tensorflow/tfjs';
import { installedVersion } from '../runtime';

/**
 * Why a tf.js backend package cannot serve the tf.js this process runs: each version pins its own
 * tfjs-core, so another version brings a second tf.js whose engine its kernels register on, not
 * this library's (npm installs one where an app's tf.js is older than the newest backend in the
 * peer range). Undefined when the versions match or the package's cannot be read.
 */
export function versionMismatch(pkg: string, version: string | undefined = installedVersion(pkg)): string | undefined {
  const core = tf.version_core;
  if (version === undefined || version === core) return undefined;
  return `${pkg} ${version} is not the version of this tf.js (${core}): it would load a second tf.js; npm i ${pkg}@${core}`;
}
