// Preload (`node --require`) that records every package loaded from node_modules, by CommonJS require or by ESM
// import, and writes the sorted list of package names to $ONEPUSH_RECORD_LOADS at exit (test/lazy-imports).
'use strict';
const Module = require('node:module');
const { writeFileSync } = require('node:fs');
const { pathToFileURL } = require('node:url');

const out = process.env.ONEPUSH_RECORD_LOADS;
const seen = new Set();
const PKG = /[\\/]node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)/;

function note(file) {
  const m = PKG.exec(String(file));
  if (m) seen.add(m[1].replace(/\\/g, '/'));
}

const load = Module._load;
Module._load = function (request, parent, isMain) {
  try {
    note(Module._resolveFilename(request, parent, isMain));
  } catch {
    // unresolvable: the real load reports it
  }
  return load.apply(this, arguments);
};

// ESM imports (`await import('ora')`) go through the loader: a resolve hook, in the hooks thread, appends what it
// resolves to a side file, merged here at exit.
if (typeof Module.register === 'function') {
  Module.register(pathToFileURL(`${__dirname}/record-loads-hooks.mjs`), { data: { file: `${out}.esm` } });
}

process.on('exit', () => {
  try {
    const esm = require('node:fs').readFileSync(`${out}.esm`, 'utf8');
    for (const line of esm.split('\n')) note(decodeURIComponent(line));
  } catch {
    // no ESM import happened
  }
  writeFileSync(out, `${[...seen].sort().join('\n')}\n`);
});
