import { createRequire, syncBuiltinESMExports } from 'node:module';

// Preloaded by `npm run test:unit` (node --import): every test whose name says it runs the built CLI or library
// ("(the built CLI)", "(the built library)") is skipped, so a change to src/ can be checked in-process without a
// full build. (Node 20 has no --test-skip-pattern, and --test-name-pattern also runs the tests of a suite whose own
// name matches.) `npm test` runs everything; `npm run test:e2e` only those.

const BUILT = /\(the built (CLI|library)/;
const REASON = 'runs the built CLI or library: npm run test:e2e';
const require = createRequire(import.meta.url);
const nodeTest = require('node:test') as Record<string, unknown>;

type TestFn = (...args: unknown[]) => unknown;
for (const name of ['test', 'it']) {
  const original = nodeTest[name] as TestFn & Record<string, unknown>;
  const wrapped = function (this: unknown, ...args: unknown[]): unknown {
    if (typeof args[0] === 'string' && BUILT.test(args[0])) {
      if (typeof args[1] === 'object' && args[1] !== null) args[1] = { ...args[1], skip: REASON };
      else args.splice(1, 0, { skip: REASON });
    }
    return original.apply(this, args);
  };
  Object.assign(wrapped, original);
  nodeTest[name] = wrapped;
}
syncBuiltinESMExports();
