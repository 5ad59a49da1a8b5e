#!/usr/bin/env node
/**
 * Lint the theme app extension with Shopify's theme-check (@shopify/theme-check-node, pinned in
 * package.json) and the `theme-check:theme-app-extension` rule set (theme-check.yml).
 *
 *   node tools/theme-check/check.js [extension root]   (default: extensions/notifyme-theme)
 *
 * Prints one line per offense (`path:line:col severity Check: message`) and exits 1 when any
 * offense has severity error (warnings and info are printed, not fatal), 2 when the run itself
 * fails. Offline by design: theme-check's Liquid docs (filters, objects, tags, schemas) are the
 * ones bundled in the pinned @shopify/theme-check-docs-updater, never downloaded — so a result
 * changes only when package-lock.json does, and CI needs no network beyond `npm ci`.
 */
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

// theme-check-docs-updater fetches fresh docs from raw.githubusercontent.com into its cache unless
// SHOPIFY_TLD_ROOT names a local copy. Point both at an empty scratch directory: every download
// fails at once and the docs bundled in the package are used. Must be set before the require.
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'notifyme-theme-check-'));
process.env.XDG_CACHE_HOME = scratch;
process.env.SHOPIFY_TLD_ROOT = path.join(scratch, 'no-remote-docs');

const { themeCheckRun, Severity } = require('@shopify/theme-check-node');

const root = path.resolve(process.argv[2] || path.join(__dirname, '..', '..', 'extensions', 'notifyme-theme'));
const config = path.join(__dirname, 'theme-check.yml');
const NAMES = { [Severity.ERROR]: 'error', [Severity.WARNING]: 'warning', [Severity.INFO]: 'info' };

async function main() {
  const { offenses, theme } = await themeCheckRun(root, config);
  for (const o of offenses) {
    const file = path.relative(root, new URL(o.uri).pathname);
    const { line, character } = o.start;
    console.log(`${file}:${line + 1}:${character + 1} ${NAMES[o.severity]} ${o.check}: ${o.message}`);
  }
  const errors = offenses.filter((o) => o.severity === Severity.ERROR).length;
  console.log(`theme-check: ${theme.length} files, ${errors} errors, ${offenses.length - errors} other offenses`);
  return errors ? 1 : 0;
}

main()
  .then((code) => { process.exitCode = code; })
  .catch((error) => { console.error(error); process.exitCode = 2; })
  .finally(() => fs.rmSync(scratch, { recursive: true, force: true }));
