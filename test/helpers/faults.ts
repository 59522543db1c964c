import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { buildSample, asFixture } from '../../src/core/samples.js';
import { startBin, startCli, type InProcessCli, type LiveCli } from './cli.js';

// Shared pieces of the fault suite (issue #5): a distinctive secret every output is searched for, signed events,
// a running `listen --json` (in-process, or the built CLI), a flaky app process.

/** The secret of the whole fault suite: no output, log, capture or error may contain it. */
export const SECRET = 'whsec_FaultSuite_9f8e7d6c5b4a39281706';

export const hmac = (body: string | Buffer, secret = SECRET): string => createHmac('sha256', secret).update(body).digest('hex');

const delivered = asFixture(JSON.parse(readFileSync(fileURLToPath(new URL('../../fixtures/email.delivered.json', import.meta.url)), 'utf8')));

/** A compact, realistic event with the given id. */
export function eventBody(id: string): string {
  return JSON.stringify(buildSample(delivered, { now: new Date('2026-11-27T10:00:00.000Z'), id, emailId: `em_${id.slice(4)}` }));
}

export interface Listener<Cli extends InProcessCli | LiveCli = InProcessCli | LiveCli> {
  cli: Cli;
  ready: { url: string; host: string; port: number; [k: string]: unknown };
  origin: string;
  /** The parsed NDJSON lines printed so far. */
  lines(): Array<Record<string, unknown>>;
  /** Resolves with the first parsed line that matches; rejects if the CLI ends first. */
  waitFor(match: (l: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
}

const parse = (line: string): Record<string, unknown> => {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return {};
  }
};

async function ready<Cli extends InProcessCli | LiveCli>(cli: Cli): Promise<Listener<Cli>> {
  const line = JSON.parse(await cli.waitForLine((l) => parse(l).kind === 'ready')) as Listener['ready'];
  return {
    cli,
    ready: line,
    origin: `http://127.0.0.1:${line.port}`,
    lines: () => cli.stdoutLines.map(parse),
    waitFor: async (match) => parse(await cli.waitForLine((l) => match(parse(l)))),
  };
}

/** Starts `onepush listen --json --port 0 …` in-process and waits for its ready line. */
export function startListener(args: string[], env: Record<string, string | undefined> = {}): Promise<Listener<InProcessCli>> {
  return ready(startCli(['listen', '--json', '--port', '0', ...args], { env }));
}

/** Starts the built `onepush listen --json --port 0 …` as a child process (in `cwd`) and waits for its ready line. */
export function startListenerBin(args: string[], cwd?: string): Promise<Listener<LiveCli>> {
  return ready(startBin(['listen', '--json', '--port', '0', ...args], cwd === undefined ? {} : { cwd }));
}

/** The flaky app of test/helpers/flaky-app.mjs: answers 200 after logging each id; killed with SIGKILL. */
export async function startFlakyApp(port: number, log: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./flaky-app.mjs', import.meta.url)), String(port), log], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const rl = createInterface({ input: child.stdout! });
  await new Promise<void>((resolve, reject) => {
    rl.on('line', (l) => {
      if (l === 'ready') resolve();
    });
    child.once('exit', (code) => reject(new Error(`the flaky app exited (${code}) before it was ready`)));
  });
  return child;
}

export async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

/** Asserts-by-throwing that no text holds the secret (in full, or all but its first 4 characters). */
export function assertNoSecret(texts: Iterable<[where: string, text: string]>): number {
  let checked = 0;
  for (const [where, text] of texts) {
    checked += text.length;
    if (text.includes(SECRET) || text.includes(SECRET.slice(4))) throw new Error(`the secret appears in ${where}`);
  }
  return checked;
}

/**
 * One request written by hand on its own connection, for what HTTP clients refuse to send (header values that
 * are not ASCII): resolves with the answer's status.
 */
export async function rawPost(port: number, path: string, headers: Record<string, string>, body: string | Buffer): Promise<number> {
  const { connect } = await import('node:net');
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
  const head = [`POST ${path} HTTP/1.1`, 'host: 127.0.0.1', 'connection: close', `content-length: ${bytes.length}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)].join('\r\n');
  const socket = connect(port, '127.0.0.1');
  socket.end(Buffer.concat([Buffer.from(`${head}\r\n\r\n`, 'utf8'), bytes]));
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  await once(socket, 'close');
  const m = /^HTTP\/1\.1 (\d{3})/.exec(Buffer.concat(chunks).toString('latin1'));
  if (!m) throw new Error('no HTTP answer');
  return Number(m[1]);
}
