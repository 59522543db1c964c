import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from './helpers/cli.js';

// Did-you-mean hints come from the commands and options commander knows, not from its error text: an option
// given as --name=value, a program-level option and a command's own are all suggested; nothing is for junk.

for (const [args, error, hint] of [
  [['listen', '--secert=whsec_x'], "unknown option '--secert=whsec_x'", 'did you mean --secret? or see onepush listen --help'],
  [['--debgu', 'events'], "unknown option '--debgu'", 'did you mean --debug? or see onepush events --help'],
  [['trigger', 'email.sent', '--too', '3000'], "unknown option '--too'", 'did you mean --to? or see onepush trigger --help'],
  [['replay', '--qwertyuiop'], "unknown option '--qwertyuiop'", 'see onepush replay --help'],
  [['evnets'], "unknown command 'evnets'", 'did you mean events? or see onepush --help'],
] as const) {
  test(`onepush ${args.join(' ')} → exit 2, "${hint}"`, async () => {
    const r = await runCli([...args]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, `onepush: ${error}\nhint: ${hint}\n`);
  });
}
