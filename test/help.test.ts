import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runBin, runCli } from './helpers/cli.js';

// Help (issue 17): `onepush help <command>` is `onepush <command> --help`, and every flag is shown in use by an example
// (test/help-examples.test.ts runs every example, so each of them works as printed).

const programHelp = (await runCli(['--help'])).stdout;
/** The commands `onepush --help` lists (without commander's own `help`). */
const commands = [...programHelp.slice(programHelp.indexOf('\nCommands:')).matchAll(/^ {2}([a-z]+)\b/gm)].map((m) => m[1] as string).filter((c) => c !== 'help');

/** The `$ …` example lines of a help text. */
const examplesOf = (help: string): string[] => help.split('\n').filter((l) => l.startsWith('  $ ')).map((l) => l.slice(4));

/** The long flags of a help text's Options section (--help aside: every command has it). */
function longFlags(help: string): string[] {
  const start = help.indexOf('\nOptions:');
  const end = help.indexOf('\n\n', start + 1);
  return [...help.slice(start, end).matchAll(/^ {2}(?:-\w, )?(--[\w-]+)/gm)].map((m) => m[1] as string).filter((f) => f !== '--help');
}

describe('onepush help <command>', () => {
  test('the commands are all there (and the new ones)', () => {
    assert.ok(commands.length >= 13, commands.join(' '));
    for (const c of ['listen', 'trigger', 'schema', 'completion']) assert.ok(commands.includes(c), c);
  });

  for (const command of commands) {
    test(`help ${command} prints exactly what ${command} --help prints`, async () => {
      const [viaHelp, viaFlag] = await Promise.all([runCli(['help', command]), runCli([command, '--help'])]);
      assert.equal(viaFlag.code, 0, viaFlag.stderr);
      assert.equal(viaHelp.code, 0, viaHelp.stderr);
      assert.equal(viaHelp.stderr, '');
      assert.equal(viaHelp.stdout, viaFlag.stdout);
      assert.match(viaHelp.stdout, new RegExp(`^Usage: onepush ${command} `));
    });
  }

  test('help listen (the built CLI): the same bytes as listen --help', async () => {
    const [viaHelp, viaFlag] = await Promise.all([runBin(['help', 'listen']), runBin(['listen', '--help'])]);
    assert.equal(viaHelp.code, 0, viaHelp.stderr);
    assert.equal(viaHelp.stdout, viaFlag.stdout);
  });

  test('help alone and help help: the program\'s help; a misspelt command: exit 2 with a did-you-mean, as onepush lisen', async () => {
    for (const args of [['help'], ['help', 'help']]) {
      const r = await runCli(args);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, programHelp);
    }
    const [viaHelp, direct] = await Promise.all([runCli(['help', 'lisen']), runCli(['lisen'])]);
    assert.equal(viaHelp.code, 2);
    assert.equal(viaHelp.stdout, '');
    assert.equal(viaHelp.stderr, "onepush: unknown command 'lisen'\nhint: did you mean listen? or see onepush --help\n");
    assert.equal(viaHelp.stderr, direct.stderr);
  });
});

describe('every flag has an example', () => {
  const program = examplesOf(programHelp);
  test('every long flag of the program appears in one of its examples', () => {
    for (const flag of longFlags(programHelp)) assert.ok(program.some((e) => new RegExp(`(^|\\s)${flag}(=|\\s|$)`).test(e)), `onepush ${flag}: no example`);
  });
  for (const command of commands) {
    test(`every long flag of ${command} appears in an example of its help (or the program's)`, async () => {
      const help = (await runCli([command, '--help'])).stdout;
      const examples = [...examplesOf(help), ...program.filter((e) => e.startsWith(`onepush ${command} `))];
      assert.ok(examplesOf(help).length > 0, `${command} has no example`);
      const missing = longFlags(help).filter((flag) => !examples.some((e) => new RegExp(`(^|\\s)${flag}(=|\\s|$)`).test(e)));
      assert.deepEqual(missing, [], `${command}: no example uses ${missing.join(', ')}`);
    });
  }
});
