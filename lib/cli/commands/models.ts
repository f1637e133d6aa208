import type { CommandModule } from 'yargs';
import { forwardFlops, layerSummary } from '../../models/summary';
import { PRESET_IDS, PRESETS } from '../../recipes';
import { describeOptimizer } from '../../training/optimizers';
import { markdownTable } from '../../report';
import { printJson, printText } from '../output';

export const modelsCommand: CommandModule<object, { json: boolean }> = {
  command: 'models',
  describe: 'List every preset: id, family, parameters, layers, recipe',
  builder: (y) => y.option('json', { type: 'boolean', default: false, describe: 'Print a JSON array on stdout' }) as never,
  handler: async (args) => {
    const rows = PRESET_IDS.map((id) => {
      const p = PRESETS[id];
      const model = p.build({ seed: 0 });
      try {
        return {
          id,
          family: p.family,
          title: p.title,
          source: p.source,
          architecture: p.architecture,
          params: model.countParams(),
          flopsPerSample: forwardFlops(model),
          layout: p.layout,
          layers: layerSummary(model),
          recipe: { ...p.recipe, optimizerText: describeOptimizer(p.recipe.optimizer) },
          reported: p.reported.text,
        };
      } finally {
        model.dispose();
      }
    });
    if (args.json) return printJson(rows);
    printText(
      markdownTable(
        ['id', 'family', 'architecture', 'params', 'recipe', 'source reports'],
        rows.map((r) => [
          r.id,
          r.family,
          r.architecture,
          r.params.toLocaleString('en-US'),
          `${r.recipe.optimizerText}, batch ${r.recipe.batchSize}, ${r.recipe.steps ? `${r.recipe.steps} steps` : `${r.recipe.epochs} epochs`}`,
          r.reported,
        ]),
        ['l', 'l', 'l', 'r', 'l', 'l'],
      ),
    );
  },
};
