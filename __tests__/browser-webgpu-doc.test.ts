/**
 * docs/GPU.md's "WebGPU in the browser" tables are written from their record
 * (docs/results/browser-webgpu.json) by scripts/docs-tables.ts, with scripts/browser-webgpu.ts's
 * renderer; docs-tables.test.ts fails on any difference. Here: the record is of a run that worked.
 */
import * as fs from 'fs';
import * as path from 'path';
import { BrowserWebGPURecord } from '../scripts/browser-webgpu';
import { BLOCKS } from '../scripts/docs-tables';

const ROOT = path.resolve(__dirname, '..');

test('docs/GPU.md shows, from docs/results/browser-webgpu.json, a run that found an adapter with the demo\'s switches and trained on it', () => {
  expect(BLOCKS.find((b) => b.name === 'browser-webgpu')).toMatchObject({ files: ['docs/GPU.md'], records: ['docs/results/browser-webgpu.json'] });
  const record = JSON.parse(fs.readFileSync(path.join(ROOT, 'docs/results/browser-webgpu.json'), 'utf8')) as BrowserWebGPURecord;
  expect(record.page.webgpuStatus).toMatchObject({ available: true, software: true });
  for (const m of Object.values(record.page.models)) {
    expect(m.programsPerStep).toBeGreaterThan(0);
    expect(m.worstLossDifference).toBeLessThan(1e-4);
  }
});
