import type { CommandModule } from 'yargs';
import { readIdxFile } from '../../idx';
import { printJson, printText } from '../output';

interface InfoArgs {
  file: string;
  json: boolean;
}

export const infoCommand: CommandModule<object, InfoArgs> = {
  command: 'info <file>',
  describe: "Show an IDX file's element type, dimensions and element count",
  builder: (y) =>
    y
      .positional('file', { type: 'string', demandOption: true, describe: 'IDX file, gzipped or plain' })
      .option('json', { type: 'boolean', default: false, describe: 'Print one JSON object on stdout' }) as never,
  handler: async (args) => {
    const arr = await readIdxFile(args.file);
    const elements = arr.dims.reduce((a, b) => a * b, 1);
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < arr.data.length; i++) {
      const v = arr.data[i];
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const info = {
      file: args.file,
      type: arr.type,
      dims: arr.dims,
      rank: arr.dims.length,
      elements,
      min: elements ? min : null,
      max: elements ? max : null,
    };
    if (args.json) printJson(info);
    else printText(`${args.file}: ${arr.type}, dims [${arr.dims.join(', ')}], ${elements.toLocaleString('en-US')} elements, values ${info.min}..${info.max}`);
  },
};
