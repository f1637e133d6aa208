/**
 * Renders the recipe-reproduction table for docs/RESULTS.md from the JSON that
 * scripts/reproduce-recipes.sh keeps (one `mnist-nets train --json` output per preset).
 *
 *   node dist/scripts/recipes-table.js docs/results/recipes > /tmp/table.md
 */
import * as fs from 'fs';
import * as path from 'path';
import { markdownTable, formatNumber, formatDuration } from '../lib/report';
import { PRESET_IDS, PRESETS } from '../lib/recipes';
import type { TrainJobResult } from '../lib/jobs/train-job';

export function recipesTable(dir: string): string {
  const rows: Array<Array<string>> = [];
  for (const id of PRESET_IDS) {
    const file = path.join(dir, `${id}.json`);
    if (!fs.existsSync(file)) continue;
    const r = JSON.parse(fs.readFileSync(file, 'utf8')) as TrainJobResult;
    const reported = PRESETS[id].reported.testAccuracy;
    const delta = reported === undefined ? '' : ` (${((r.testAccuracy - reported) * 100).toFixed(2)} pp)`;
    const length = r.hyperparameters.steps ? `${r.steps} steps` : `${formatNumber(r.epochs)} epochs (${r.steps} steps)`;
    rows.push([
      `\`${id}\``,
      PRESETS[id].reported.text,
      `test ${(r.testAccuracy * 100).toFixed(2)}%${delta}, train ${(r.trainAccuracy * 100).toFixed(2)}%`,
      length,
      formatDuration(r.seconds),
      formatNumber(r.samplesPerSec),
      r.backend,
      `\`npx mnist-nets train --model ${id} --seed ${r.seed}\``,
    ]);
  }
  return markdownTable(['preset', 'source reports', 'measured here', 'length', 'wall time', 'train samples/s', 'backend', 'command'], rows);
}

if (require.main === module) {
  const dir = process.argv[2] ?? 'docs/results/recipes';
  process.stdout.write(`${recipesTable(dir)}\n`);
}
