import type { machineFacts } from '../lib/jobs/machine';

/** The fields a measuring script's record opens with: what it measured, the command that reruns it, when, where, on which backend and data. */
export interface RecordHeader {
  what: string;
  command: string;
  date: string;
  machine: ReturnType<typeof machineFacts>;
  backend: string;
  dataset: string;
}
