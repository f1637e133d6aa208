/**
 * Runs before every test file: tf.js's production flag, which only silences tf.js's own console
 * warnings, among them tfjs-backend-cpu's "install tfjs-node" banner on the first tensor of a
 * test that builds a model without choosing a backend. The library's backend selection silences
 * that banner for users itself (lib/backends/select.ts); tests should not print it either.
 */
import { env } from '@tensorflow/tfjs';

env().set('PROD', true);
