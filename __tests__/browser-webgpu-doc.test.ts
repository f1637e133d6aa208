/**
 * docs/GPU.md's "WebGPU in the browser" tables are written from their record
 * (docs/results/browser-webgpu.json) by scripts/browser-webgpu.ts: the text must be what the
 * script writes from the record today, so an edit by hand or a stale record fails here.
 */
import * as fs from 'fs';
import * as path from 'path';
import { BrowserWebGPURecord, markedSection, tables } from '../scripts/browser-webgpu';

const ROOT = path.resolve(__dirname, '..');

test('docs/GPU.md holds the tables scripts/browser-webgpu.ts writes from docs/results/browser-webgpu.json', () => {
  const record = JSON.parse(fs.readFileSync(path.join(ROOT, 'docs/results/browser-webgpu.json'), 'utf8')) as BrowserWebGPURecord;
  const doc = fs.readFileSync(path.join(ROOT, 'docs/GPU.md'), 'utf8');
  const shown = markedSection(doc);
  expect(shown).toBeDefined();
  expect(shown).toBe(tables(record));
  // The record is of a run that found an adapter with the demo's switches and trained on it.
  expect(record.page.webgpuStatus).toMatchObject({ available: true, software: true });
  for (const m of Object.values(record.page.models)) {
    expect(m.programsPerStep).toBeGreaterThan(0);
    expect(m.worstLossDifference).toBeLessThan(1e-4);
  }
});

test('markedSection finds nothing in a text without the markers', () => {
  expect(markedSection('# no markers here\n')).toBeUndefined();
});
