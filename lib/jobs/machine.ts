import * as tf from '@tensorflow/tfjs';
import * as os from 'os';

export interface MachineFacts {
  cpu: string;
  cores: number;
  memoryBytes: number;
  platform: string;
  node: string;
  tfjs: string;
}

/** What a recorded number was measured on. */
export function machineFacts(): MachineFacts {
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryBytes: os.totalmem(),
    platform: `${os.platform()} ${os.arch()}`,
    node: process.version,
    tfjs: tf.version.tfjs,
  };
}
