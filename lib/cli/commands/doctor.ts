import type { CommandModule } from 'yargs';
import { doctor, formatDoctor } from '../../backends';
import { withJsonOption } from '../common-options';
import { printJson, printText } from '../output';

export const doctorCommand: CommandModule<object, { json: boolean }> = {
  command: 'doctor',
  describe: 'Say which backend runs here and why not the others; versions, CPU and GPU facts',
  builder: (y) => withJsonOption(y) as never,
  handler: async (args) => {
    const report = await doctor();
    if (args.json) printJson(report);
    else printText(formatDoctor(report));
  },
};
