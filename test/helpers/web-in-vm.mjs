// Loads dist/web.js as an ES module in a node:vm context whose only globals beyond the language's own (Uint8Array,
// ArrayBuffer, Promise, …) are `crypto` and `TextEncoder`: no require, no process, no Buffer, and a linker that
// refuses every import. Signs and verifies the vectors there, with bytes made in that context, and prints the
// results as JSON. Needs --experimental-vm-modules (vm.SourceTextModule); run by test/web.test.ts.
// Usage: node --experimental-vm-modules web-in-vm.mjs <dist/web.js> <vectors dir>
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import vm from 'node:vm';

const [webFile, vectorsDir] = process.argv.slice(2);
const context = vm.createContext({ crypto: globalThis.crypto, TextEncoder });
const imports = [];
const mod = new vm.SourceTextModule(readFileSync(webFile, 'utf8'), { context, identifier: 'dist/web.js' });
await mod.link((specifier) => {
  imports.push(specifier);
  throw new Error(`dist/web.js imports ${specifier}`);
});
await mod.evaluate();
const { sign, verify } = mod.namespace;

// What the context has: the language, crypto and TextEncoder, nothing of Node.
const globals = vm.runInContext('({ require: typeof require, process: typeof process, Buffer: typeof Buffer, module: typeof module, crypto: typeof crypto })', context);
const { secret, vectors } = JSON.parse(readFileSync(join(vectorsDir, 'vectors.json'), 'utf8'));
// Bytes of the context's own realm, as code running there would have them.
const InnerUint8Array = vm.runInContext('Uint8Array', context);
const results = [];
for (const v of vectors) {
  const bytes = InnerUint8Array.from(readFileSync(join(vectorsDir, v.file)));
  results.push({
    file: v.file,
    signature: await sign(bytes, secret),
    fromArrayBuffer: await sign(bytes.buffer, secret),
    valid: await verify(bytes, secret, v.signature),
    upper: await verify(bytes.buffer, secret, v.signature.toUpperCase()),
    junk: await verify(bytes, secret, 'not hex'),
  });
}
process.stdout.write(JSON.stringify({ imports, globals, results, text: await sign('Grüße 🎉', secret) }));
