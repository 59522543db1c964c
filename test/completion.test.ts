import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EVENT_TYPES } from '../src/index.js';
import { runBin, runCli } from './helpers/cli.js';
import { onPath } from './helpers/tools.js';

// `onepush completion bash|zsh|fish` (issue 17): the bash script is sourced in a real bash and its function called on
// partial command lines, as bash calls it on Tab; zsh and fish scripts are at least parsed by their shells.

const tmp = mkdtempSync(join(tmpdir(), 'onepush-completion-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** The long flags of a command, from its --help (what commander knows). */
async function longFlagsOf(command: string): Promise<string[]> {
  const help = (await runCli([command, '--help'])).stdout;
  const options = help.slice(help.indexOf('Options:'), help.indexOf('\nExamples:') === -1 ? undefined : help.indexOf('\nExamples:'));
  return [...new Set([...options.matchAll(/^ {2}(?:-\w, )?(--[\w-]+)/gm)].map((m) => m[1] as string))];
}

/** The commands `onepush --help` lists. */
async function commands(): Promise<string[]> {
  const help = (await runCli(['--help'])).stdout;
  const section = help.slice(help.indexOf('Commands:'));
  return [...section.matchAll(/^ {2}([a-z]+)\b/gm)].map((m) => m[1] as string);
}

describe('onepush completion bash, in bash', { skip: onPath('bash') ? false : 'needs bash' }, () => {
  const script = join(tmp, 'onepush.bash');
  const project = join(tmp, 'project');
  before(async () => {
    const r = await runCli(['completion', 'bash']);
    assert.equal(r.code, 0, r.stderr);
    writeFileSync(script, r.stdout);
    mkdirSync(join(project, 'logs'), { recursive: true });
    writeFileSync(join(project, 'a.ndjson'), '');
    writeFileSync(join(project, 'event.json'), '{}');
  });

  /** COMPREPLY for each command line (the cursor at its end, as after a Tab), from one bash that sourced the script. */
  function complete(lines: string[], cwd = project): string[][] {
    const calls = lines.map((line) =>
      [
        `COMP_LINE=${JSON.stringify(line)}; COMP_POINT=\${#COMP_LINE}`,
        // bash splits the line into words; a trailing space starts an empty word.
        `read -ra COMP_WORDS <<< "$COMP_LINE"; [[ "$COMP_LINE" == *" " ]] && COMP_WORDS+=("")`,
        `COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 ))`,
        `COMPREPLY=(); _onepush onepush "\${COMP_WORDS[COMP_CWORD]}" "\${COMP_WORDS[COMP_CWORD-1]}"`,
        `printf '%s\\n' "\${COMPREPLY[@]}" | sort | tr '\\n' ' '; echo`,
      ].join('\n'),
    );
    const r = spawnSync('bash', ['--norc', '--noprofile', '-c', `source ${JSON.stringify(script)}\n${calls.join('\n')}`], { cwd, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    return r.stdout
      .split('\n')
      .slice(0, lines.length)
      .map((l) => l.split(' ').filter((w) => w !== ''));
  }

  test('it registers _onepush for onepush', () => {
    const r = spawnSync('bash', ['--norc', '-c', `source ${JSON.stringify(script)}; complete -p onepush`], { encoding: 'utf8' });
    assert.equal(r.stdout.trim(), 'complete -F _onepush onepush');
  });

  // `--forw` is the start of --forward-timeout too: both are offered (bash then completes their common `--forward-t`).
  test('the lines of the issue: tr → trigger, email.b → email.bounced, listen --forw → --forward-to, replay → a.ndjson', () => {
    assert.deepEqual(complete(['onepush tr', 'onepush trigger email.b', 'onepush listen --forw', 'onepush replay ']), [
      ['trigger'],
      ['email.bounced'],
      ['--forward-timeout', '--forward-to'],
      ['a.ndjson', 'logs'],
    ]);
  });

  test('event types where a type is taken, also as the next of a comma-separated list', () => {
    assert.deepEqual(complete(['onepush trigger ', 'onepush trigger --count 2 email.c', 'onepush schema email.u', 'onepush replay --type email.o', 'onepush listen --events email.bounced,email.c', 'onepush trigger email.sent email.d']), [
      [...EVENT_TYPES].sort(),
      ['email.clicked', 'email.complained'],
      ['email.unsubscribed'],
      ['email.opened'],
      ['email.bounced,email.clicked', 'email.bounced,email.complained'],
      ['email.delivered'],
    ]);
  });

  test('files where a file is taken: capture logs (and folders) for sources, any file for --save, --data, --fixture', () => {
    assert.deepEqual(complete(['onepush inspect ', 'onepush verify a', 'onepush listen --save ', 'onepush trigger --fixture e', 'onepush replay --to ']), [
      ['a.ndjson', 'logs'],
      ['a.ndjson'],
      ['a.ndjson', 'event.json', 'logs'],
      ['event.json'],
      [],
    ]);
  });

  test('choices and commands: completion <shell>, schema --format, help <command>', () => {
    assert.deepEqual(complete(['onepush completion ', 'onepush schema --format ', 'onepush help li', 'onepush --de']), [
      ['bash', 'fish', 'zsh'],
      ['json-schema', 'typescript'],
      ['listen'],
      ['--debug'],
    ]);
  });

  test('it cannot drift: every command of --help, and every long flag of each, completes', async () => {
    const names = await commands();
    assert.ok(names.includes('schema') && names.includes('completion'), names.join(' '));
    const [all] = complete(['onepush ']);
    assert.deepEqual(all?.filter((c) => c !== 'help').sort(), names.filter((c) => c !== 'help').sort());
    const flags = await Promise.all(names.filter((c) => c !== 'help').map(async (c) => [c, await longFlagsOf(c)] as const));
    const lines = flags.map(([c]) => `onepush ${c} --`);
    const got = complete(lines);
    flags.forEach(([c, expected], i) => {
      assert.ok(expected.length > 0, c);
      for (const flag of expected) assert.ok(got[i]?.includes(flag), `onepush ${c} --: ${flag} missing from ${got[i]?.join(' ')}`);
    });
  });
});

describe('onepush completion zsh and fish: their shells parse them', () => {
  test('zsh -n (the built CLI)', { skip: onPath('zsh') ? false : 'zsh is not installed' }, async () => {
    const r = await runBin(['completion', 'zsh']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^#compdef onepush\n/);
    const file = join(tmp, '_onepush');
    writeFileSync(file, r.stdout);
    const z = spawnSync('zsh', ['-n', file], { encoding: 'utf8' });
    assert.equal(z.status, 0, z.stderr);
    // Loaded for real, under compinit: it defines _onepush and registers it for onepush.
    const loaded = spawnSync('zsh', ['-f', '-c', `autoload -U compinit && compinit -u -D && source ${JSON.stringify(file)} && print -r -- $_comps[onepush]`], { encoding: 'utf8', env: { ...process.env, HOME: tmp } });
    assert.equal(loaded.status, 0, loaded.stderr);
    assert.equal(loaded.stdout.trim(), '_onepush');
  });

  test('fish -n, and fish offers the commands and event types', { skip: onPath('fish') ? false : 'fish is not installed' }, async () => {
    const r = await runCli(['completion', 'fish']);
    assert.equal(r.code, 0, r.stderr);
    const file = join(tmp, 'onepush.fish');
    writeFileSync(file, r.stdout);
    const f = spawnSync('fish', ['-n', file], { encoding: 'utf8' });
    assert.equal(f.status, 0, f.stderr);
    const env = { ...process.env, HOME: tmp, XDG_CONFIG_HOME: join(tmp, 'config'), XDG_DATA_HOME: join(tmp, 'data') };
    const asked = (line: string): string[] => {
      const c = spawnSync('fish', ['--no-config', '-c', `source ${JSON.stringify(file)}; complete -C ${JSON.stringify(line)}`], { encoding: 'utf8', env, cwd: tmp });
      assert.equal(c.status, 0, c.stderr);
      return c.stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\t')[0] as string);
    };
    assert.deepEqual(asked('onepush tr'), ['trigger']);
    assert.deepEqual(asked('onepush trigger email.b'), ['email.bounced']);
    assert.deepEqual(asked('onepush listen --forw').sort(), ['--forward-timeout', '--forward-to']);
    mkdirSync(join(tmp, 'fish-project', 'logs'), { recursive: true });
    writeFileSync(join(tmp, 'fish-project', 'a.ndjson'), '');
    writeFileSync(join(tmp, 'fish-project', 'event.json'), '');
    assert.deepEqual(asked('onepush replay fish-project/').sort(), ['fish-project/a.ndjson', 'fish-project/logs/']);
  });

  test('an unknown shell: exit 2 and the choices', async () => {
    const r = await runCli(['completion', 'powershell']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Allowed choices are bash, zsh, fish\.\nhint: see onepush completion --help\n$/);
  });
});
