/**
 * Kernels this library installs on one backend, beside the backend's own or in place of them,
 * and takes out again: the wasm training kernels (index.ts) and the webgpu ones (webgpu/index.ts).
 * A replaced kernel's config is kept in `originals`, where the replacement finds it to fall back
 * on, and is registered again on uninstall.
 */
import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError } from '../errors';

export class KernelSet<Name extends string> {
  constructor(
    readonly backendName: string,
    readonly names: readonly Name[],
    private readonly funcs: Readonly<Record<Name, tf.KernelFunc>>,
    readonly originals: Map<string, tf.KernelConfig>,
  ) {}

  isInstalled(name: Name): boolean {
    return tf.getKernel(name, this.backendName)?.kernelFunc === this.funcs[name];
  }

  /** Throws InvalidArgumentError (`kernels`) for a name not in the set. */
  check(wanted: readonly string[]): asserts wanted is readonly Name[] {
    for (const name of wanted) {
      if (!(this.names as readonly string[]).includes(name)) {
        throw new InvalidArgumentError('kernels', `unknown kernel ${JSON.stringify(name)}; expected some of ${this.names.join(', ')}`);
      }
    }
  }

  /** Installs `wanted` (idempotent) and takes the others out. */
  select(wanted: readonly Name[]): void {
    for (const name of this.names) {
      if (wanted.includes(name)) this.install(name);
      else this.uninstall(name);
    }
  }

  installed(): Name[] {
    return this.names.filter((name) => this.isInstalled(name));
  }

  private install(name: Name): void {
    if (this.isInstalled(name)) return;
    const current = tf.getKernel(name, this.backendName);
    if (current != null) {
      this.originals.set(name, current);
      tf.unregisterKernel(name, this.backendName);
    }
    // The original's setup (on wasm, the cwrap of its C++ entry point) must still run when the
    // backend is initialised after this call: a replacement falls back to the original's kernelFunc.
    tf.registerKernel({
      kernelName: name,
      backendName: this.backendName,
      kernelFunc: this.funcs[name],
      setupFunc: current?.setupFunc,
      disposeFunc: current?.disposeFunc,
    });
  }

  private uninstall(name: Name): void {
    if (!this.isInstalled(name)) return;
    tf.unregisterKernel(name, this.backendName);
    // A kernel the backend lacked (wasm's Conv2DBackpropFilter) has no original: it is just removed.
    const original = this.originals.get(name);
    if (original != null) {
      tf.registerKernel(original);
      this.originals.delete(name);
    }
  }
}
