#!/usr/bin/env node
/**
 * The published package.json without the repository's own `prepare` script.
 *
 * In the repository, `prepare` builds dist/ on `npm install` / `npm ci` (the README's quick start
 * and CI need it). In the published package it would be a script that needs dev tools (tsc,
 * esbuild); npm does not run it for registry installs, but git installs and other package managers
 * would, and audits flag it. So `npm pack` / `npm publish` build first, then `prepack` runs
 * `strip` (package.json without `scripts.prepare`, the original kept beside it) and `postpack`
 * runs `restore`. A pack that failed in between leaves the original in package.json.packing;
 * `restore` puts it back, and `strip` refuses to run over it.
 *
 *   node scripts/pack-manifest.cjs strip | restore
 *
 * Plain JavaScript, not TypeScript: it must run before and without a build.
 */
'use strict';
const fs = require('fs');
const path = require('path');

const dir = process.cwd();
const manifest = path.join(dir, 'package.json');
const backup = path.join(dir, 'package.json.packing');
/** Scripts of the repository's own installs, left out of the published manifest. */
const REPO_ONLY_SCRIPTS = ['prepare'];

function fail(message) {
  process.stderr.write(`pack-manifest: ${message}\n`);
  process.exit(1);
}

function strip() {
  if (fs.existsSync(backup)) fail(`${backup} exists: an earlier pack did not finish; run \`node scripts/pack-manifest.cjs restore\` first`);
  if (!fs.existsSync(path.join(dir, 'dist', 'lib', 'index.js'))) fail('dist/lib/index.js is missing: build first (npm run build)');
  const text = fs.readFileSync(manifest, 'utf8');
  const json = JSON.parse(text);
  for (const name of REPO_ONLY_SCRIPTS) delete json.scripts?.[name];
  fs.writeFileSync(backup, text);
  fs.writeFileSync(manifest, `${JSON.stringify(json, null, 2)}\n`);
}

function restore() {
  if (!fs.existsSync(backup)) return;
  fs.renameSync(backup, manifest);
}

const command = process.argv[2];
if (command === 'strip') strip();
else if (command === 'restore') restore();
else fail(`usage: node scripts/pack-manifest.cjs strip | restore (got ${command === undefined ? 'nothing' : JSON.stringify(command)})`);
