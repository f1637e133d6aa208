/**
 * The recipe-reproduction table of docs/RESULTS.md, from the JSON that scripts/reproduce-recipes.sh
 * keeps (one `mnist-nets train --json` output per preset). scripts/docs-tables.ts writes it into
 * the docs (`node dist/scripts/docs-tables.js --write`); this prints it alone:
 *
 *   node dist/scripts/recipes-table.js [docs/results/recipes]
 */
import * as fs from 'fs';
import * as path from 'path';
import { markdownTable, formatNumber, formatDuration } from '../lib/report';
import { PRESET_IDS, PRESETS, PresetId } from '../lib/recipes';
import type { TrainJobResult } from '../lib/jobs/train-job';

/** One row per run, in the order given. */
export function recipesTable(runs: readonly TrainJobResult[]): string {
  const rows = runs.map((r) => {
    const id = r.model as PresetId;
    const reported = PRESETS[id].reported.testAccuracy;
    const delta = reported === undefined ? '' : ` (${((r.testAccuracy - reported) * 100).toFixed(2)} pp)`;
    const length = r.hyperparameters['steps'] ? `${r.steps} steps` : `${formatNumber(r.epochs)} epochs (${r.steps} steps)`;
    return [
      `\`${id}\``,
      PRESETS[id].reported.text,
      `test ${(r.testAccuracy * 100).toFixed(2)}%${delta}, train ${(r.trainAccuracy * 100).toFixed(2)}%`,
      length,
      formatDuration(r.seconds),
      formatNumber(r.samplesPerSec),
      r.backend,
      `\`npx mnist-nets train --model ${id} --seed ${r.seed}\``,
    ];
  });
  return markdownTable(['preset', 'source reports', 'measured here', 'length', 'wall time', 'train samples/s', 'backend', 'command'], rows);
}

/** The runs recorded in `dir`, in preset order (presets without a record left out). */
export function recordedRecipes(dir: string): TrainJobResult[] {
  return PRESET_IDS.map((id) => path.join(dir, `${id}.json`))
    .filter((file) => fs.existsSync(file))
    .map((file) => JSON.parse(fs.readFileSync(file, 'utf8')) as TrainJobResult);
}

if (require.main === module) {
  process.stdout.write(`${recipesTable(recordedRecipes(process.argv[2] ?? 'docs/results/recipes'))}\n`);
}
