/**
 * Every table (and paragraph of figures) in README.md and docs/RESULTS.md is what
 * scripts/docs-tables.ts writes from its JSON records today: an edit by hand, or a record changed
 * without rewriting the docs (`node dist/scripts/docs-tables.js --write`), fails here, naming the
 * block. The mechanism itself is checked on a made-up repository.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BLOCKS, DocBlock, checkDocs, placedBlocks, renderBlock, wrapProse, writeDocs } from '../scripts/docs-tables';
import { ROOT } from '../scripts/repo-root';

describe('the docs of this repository', () => {
  it('hold exactly what their records give, in every block', () => {
    expect(checkDocs().map((p) => p.message)).toEqual([]);
  });

  it('mark every registered block once, in each file named for it, and no other', () => {
    for (const file of [...new Set(BLOCKS.flatMap((b) => b.files))]) {
      const placed = placedBlocks(fs.readFileSync(path.join(ROOT, file), 'utf8'), file).map((p) => p.name).sort();
      expect(placed).toEqual(BLOCKS.filter((b) => b.files.includes(file)).map((b) => b.name).sort());
    }
  });

  it('quote the figures the issue found wrong as their records have them', () => {
    // Line breaks as spaces: the prose is wrapped.
    const flat = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8').replace(/\s+/g, ' ');
    const readme = flat('README.md');
    const results = flat('docs/RESULTS.md');
    // cnn-20k/train.json: seconds 2763.1, trainSeconds 2732.5.
    expect(readme).toContain('**46 min 03 s** wall time, 45 min 33 s of it training');
    expect(results).toContain('**46 min 03 s** (training 2,732.5 s');
    // speed-vs-peers-reference-blas.json: two-layer-net 3.80x PyTorch, 4.03x NumPy.
    expect(readme).toContain('3.80x against PyTorch, 4.03x against NumPy (two-layer-net)');
    // speed.json: the cnn on cpu at 0.3614 samples/s, batch 50.
    expect(results).toContain('`cpu` backend takes 138 s per step (0.36 samples/s)');
    // recipes/deep-mlp.json: first epoch mean loss 3457.85.
    expect(results).toContain('mean loss 3,457.85 in its first');
    for (const unrecorded of ['524 tests', 'about 2 minutes', 'about 3 minutes', '20-45x', '158-166', '~139', '24,600-30,700', '127,000', '224 ms per step', 'about 75 minutes', '69 KiB']) {
      expect(`${readme}\n${results}`).not.toContain(unrecorded);
    }
  });
});

describe('the mechanism, on a made-up repository', () => {
  let root: string;
  const block: DocBlock = {
    name: 'speeds',
    files: ['DOC.md'],
    records: ['results/speeds.json'],
    render: (read) => {
      const r = read<{ rows: Array<[string, number]> }>('results/speeds.json');
      return ['| model | samples/s |', '|---|---:|', ...r.rows.map(([m, v]) => `| ${m} | ${v} |`)].join('\n');
    },
  };
  const doc = (body: string) => `# Doc\n\nBefore.\n\n<!-- table:speeds -->\n${body}\n<!-- /table:speeds -->\n\nAfter.\n`;
  const record = (rows: Array<[string, number]>) => fs.writeFileSync(path.join(root, 'results/speeds.json'), JSON.stringify({ rows }));
  const read = () => fs.readFileSync(path.join(root, 'DOC.md'), 'utf8');

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'docs-tables-'));
    fs.mkdirSync(path.join(root, 'results'));
    record([['mlp', 100], ['cnn', 3]]);
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('writes a block from its record between its markers, leaving the rest, and then checks clean', async () => {
    fs.writeFileSync(path.join(root, 'DOC.md'), doc('stale'));
    expect(checkDocs(root, [block]).map((p) => p.message)).toEqual([
      'DOC.md: table:speeds differs from what its records give (results/speeds.json); first difference: "stale" where the records give "| model | samples/s |"',
    ]);
    expect(await writeDocs(root, [block])).toEqual(['DOC.md']);
    expect(read()).toBe(doc('| model | samples/s |\n|---|---:|\n| mlp | 100 |\n| cnn | 3 |'));
    expect(checkDocs(root, [block])).toEqual([]);
    expect(await writeDocs(root, [block])).toEqual([]);
  });

  it('fails when the record changes and the doc is not rewritten, naming the line', async () => {
    fs.writeFileSync(path.join(root, 'DOC.md'), doc(''));
    await writeDocs(root, [block]);
    record([['mlp', 100], ['cnn', 4]]);
    expect(checkDocs(root, [block]).map((p) => p.message)).toEqual([expect.stringContaining('first difference: "| cnn | 3 |" where the records give "| cnn | 4 |"')]);
  });

  it('names missing, unknown, unpaired and nested markers, and writes nothing then', async () => {
    fs.writeFileSync(path.join(root, 'DOC.md'), '# Doc\n\nno markers\n');
    expect(checkDocs(root, [block]).map((p) => p.message)).toEqual(['DOC.md: no <!-- table:speeds --> ... <!-- /table:speeds --> for the block written from results/speeds.json']);
    await expect(writeDocs(root, [block])).rejects.toThrow(/no <!-- table:speeds -->/);
    fs.writeFileSync(path.join(root, 'DOC.md'), `${doc('')}<!-- table:other -->\n<!-- /table:other -->\n`);
    expect(checkDocs(root, [block]).map((p) => p.message)).toContain("DOC.md: table:other has no entry in scripts/docs-tables.ts's BLOCKS");
    expect(() => placedBlocks('a\n<!-- table:x -->\nb\n', 'D.md')).toThrow('D.md:2: table:x is never closed');
    expect(() => placedBlocks('<!-- table:x -->\n<!-- table:y -->\n', 'D.md')).toThrow('D.md:2: <!-- table:y --> inside table:x (opened at line 1)');
    expect(() => placedBlocks('<!-- /table:x -->\n', 'D.md')).toThrow('D.md:1: <!-- /table:x --> closes nothing');
    expect(() => placedBlocks('<!-- table:x -->\n<!-- /table:x -->\n<!-- table:x -->\n<!-- /table:x -->\n', 'D.md')).toThrow('D.md:3: a second table:x');
    const before = read();
    await expect(writeDocs(root, [block])).rejects.toThrow(/table:other has no entry/);
    expect(read()).toBe(before);
  });

  it('lets a block read only the records its entry lists, and names a missing one', () => {
    const sneaky: DocBlock = { ...block, render: (readRecord) => String(readRecord('results/other.json')) };
    expect(() => renderBlock(sneaky, root)).toThrow('table:speeds reads results/other.json, which its entry in scripts/docs-tables.ts does not list among its records');
    fs.rmSync(path.join(root, 'results/speeds.json'));
    expect(() => renderBlock(block, root)).toThrow('table:speeds: its record results/speeds.json is missing');
  });

  it('wraps prose to 100 columns, list items with a hanging indent, and leaves tables alone', () => {
    const long = Array.from({ length: 30 }, (_, i) => `word${i}`).join(' ');
    const wrapped = wrapProse(`${long}\n\n- ${long}\n- short\n\n| a | ${long} |`);
    const [para, list, table] = wrapped.split('\n\n');
    for (const l of [...para!.split('\n'), ...list!.split('\n')]) expect(l.length).toBeLessThanOrEqual(100);
    expect(para!.split(/\s+/)).toEqual(long.split(' '));
    expect(list!.split('\n').slice(1).every((l) => l.startsWith('  ') || l.startsWith('- '))).toBe(true);
    expect(list!.split('\n').at(-1)).toBe('- short');
    expect(table).toBe(`| a | ${long} |`);
  });
});
