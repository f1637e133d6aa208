/**
 * What checking a dataset's md5s on use costs: the first use (every file hashed), a later use (the
 * remembered verdicts, a stat per file) and a whole load for scale, in one process, five rounds,
 * each with a fresh cache so the first use really is one.
 *
 *   node dist/scripts/dataset-check-cost.js --data-dir DIR [--dataset mnist|fashion-mnist]
 *
 * Times on a shared machine are noisy; compare the ratios within one run.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import yargs from 'yargs';
import { DATASET_NAMES, DatasetName, datasetInfo, loadDataset, locateDataset, verifyDatasetFiles } from '../lib/datasets';

const ROUNDS = 5;

async function ms(f: () => Promise<unknown>): Promise<number> {
  const t = process.hrtime.bigint();
  await f();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

async function main(): Promise<void> {
  const args = await yargs(process.argv.slice(2))
    .option('data-dir', { type: 'string', demandOption: true, describe: 'Directory holding the four files' })
    .option('dataset', { choices: DATASET_NAMES, default: 'mnist' as DatasetName })
    .strict()
    .parse();
  const name = args.dataset as DatasetName;
  const { found } = await locateDataset(name, { dataDir: args['data-dir'] });
  if (found === null) throw new Error(`no ${name} in ${args['data-dir']}`);
  const table = datasetInfo(name).files;
  const rows: { first: number; again: number; load: number }[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'check-cost-'));
    try {
      const first = await ms(() => verifyDatasetFiles(found.files, table, { cacheDir }));
      const again = await ms(() => verifyDatasetFiles(found.files, table, { cacheDir }));
      const load = await ms(() => loadDataset(name, { dataDir: args['data-dir'], cacheDir, log: () => undefined }));
      rows.push({ first, again, load });
    } finally {
      fs.rmSync(cacheDir, { recursive: true, force: true });
    }
  }
  const median = (k: keyof (typeof rows)[number]) => rows.map((r) => r[k]).sort((a, b) => a - b)[Math.floor(ROUNDS / 2)];
  for (const r of rows) console.log(`first use ${r.first.toFixed(1)} ms, later use ${r.again.toFixed(2)} ms, whole load ${r.load.toFixed(0)} ms`);
  const [first, again, load] = [median('first'), median('again'), median('load')];
  console.log(
    `${name}, median of ${ROUNDS}: first use ${first.toFixed(1)} ms, later use ${again.toFixed(2)} ms, whole load ${load.toFixed(0)} ms; ` +
      `first use / load ${(first / load).toFixed(3)}, later use / load ${(again / load).toFixed(4)}`,
  );
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
