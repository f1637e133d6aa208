/**
 * A program whose shader the GPU rejects must not silently do nothing: Dawn only logs the
 * rejection (asynchronously), so lib/kernels/webgpu/program.ts collects it and the next program
 * run throws a KernelError naming the program. Runs on the adapter helpers/webgpu.ts chose
 * (lavapipe in CI), in a child, since Dawn's log lines go to the process's stderr.
 */
import { spawnSync } from 'child_process';
import { describeTitle, webgpuHere } from './helpers/webgpu';
import { REPO, built } from './helpers/webgpu-child';

const here = webgpuHere();

(here.run ? describe : describe.skip)(describeTitle('a shader the GPU rejects', here), () => {
  it('throws at the next program run, naming the program, instead of leaving outputs unwritten', () => {
    const script = `
      const tf = require('@tensorflow/tfjs');
      const backends = require(${built('lib/backends/index.js')});
      const { allocate, runProgram } = require(${built('lib/kernels/webgpu/program.js')});
      (async () => {
        await backends.useBackend('webgpu', { allowSoftwareWebGPU: true });
        const b = tf.backend();
        const x = tf.ones([4]);
        const attempt = (code) => {
          const out = allocate(b, [4]);
          try {
            runProgram(b, { name: 'BrokenProgram', variant: code, outputs: [out], inputs: [x], workgroupSize: 4, workgroups: 1, code });
            return 'ran';
          } catch (e) {
            return String(e.message);
          } finally {
            b.disposeData(out.dataId);
          }
        };
        const first = attempt('fn run(index : i32, local : i32) { out0[index] = in0[index] + notDeclared; }');
        await tf.ones([1]).data(); // the queue drains; Dawn's verdict arrives
        await new Promise((r) => setTimeout(r, 200));
        const second = attempt('fn run(index : i32, local : i32) { out0[index] = in0[index]; }');
        process.stdout.write('\\n' + JSON.stringify({ first, second }), () => process.exit(0));
      })().catch((e) => { process.stdout.write('\\n' + JSON.stringify({ error: String(e && e.stack || e) }), () => process.exit(0)); });`;
    const r = spawnSync(process.execPath, ['-e', script], { cwd: REPO, encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...here.env } });
    // tf.js's webgpu backend logs the invalid pipeline's later uses on stdout: the answer is the last line.
    const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as { first?: string; second?: string; error?: string };
    expect(out.error).toBeUndefined();
    // The rejection is only known after the queue answers: the first run is recorded as usual.
    expect(out.first).toBe('ran');
    expect(out.second).toMatch(/^BrokenProgram: the GPU rejected this program's shader or pipeline: .+/);
  }, 120_000);
});
