// `node --import tsx scripts/screenshots.ts`: the README's pictures of the inspector, made from a real run. Starts
// a tiny app (200, and 500 for email.complained), `onepush listen` on a free port with a secret forwarding to it,
// sends a realistic mix with `onepush trigger` (every type, one redelivery, and one body re-serialised after it was
// signed), then opens the page in Chromium at 1280×800, light scheme, and writes docs/inspector-list.png (the list)
// and docs/inspector-detail.png (the complaint the app refused: its signature explained and its forward attempts).
// Needs the build (npm run build) and Chromium (/usr/bin/chromium, or ONEPUSH_CHROMIUM).
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../test/helpers/browser.js';

// The functions run in the page use its globals (the node program has no DOM lib).
declare const document: any;

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BIN = join(ROOT, 'bin/onepush.js');
const SECRET = 'whsec_screenshots';
const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
delete env.ONEPUSH_WEBHOOK_SECRET;

// The app, a process of its own (this one is busy driving the browser, which would show as the app's latency):
// refuses complaints (500), takes the rest. It prints its port once it listens.
const APP = `
require('node:http').createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let type = '';
    try { type = String(JSON.parse(Buffer.concat(chunks).toString('utf8')).type); } catch {}
    const refuse = type === 'email.complained';
    res.writeHead(refuse ? 500 : 200, { 'content-type': 'application/json' });
    res.end(refuse ? JSON.stringify({ error: "complaint handler crashed: TypeError: Cannot read properties of undefined (reading 'feedback_type')" }) : '{"received":true}');
  });
}).listen(0, '127.0.0.1', function () { console.log(this.address().port); });
`;
const app = spawn(process.execPath, ['-e', APP], { stdio: ['ignore', 'pipe', 'inherit'] });
const appPort = await new Promise<string>((resolve, reject) => {
  createInterface({ input: app.stdout }).once('line', resolve);
  app.once('exit', (code) => reject(new Error(`the app exited (${code})`)));
});
const appUrl = `http://127.0.0.1:${appPort}/webhooks/onepush`;

const listener: ChildProcess = spawn(process.execPath, [BIN, 'listen', '--port', '0', '--json', '--secret', SECRET, '--no-save', '--forward-to', appUrl, '--max-attempts', '3'], {
  cwd: ROOT,
  env,
  stdio: ['ignore', 'pipe', 'inherit'],
});
try {
  const lines = createInterface({ input: listener.stdout! });
  const ready = await new Promise<{ url: string; inspector: string }>((resolve, reject) => {
    lines.on('line', (l) => {
      if (l.includes('"kind":"ready"')) resolve(JSON.parse(l) as { url: string; inspector: string });
    });
    listener.once('exit', (code) => reject(new Error(`listen exited (${code})`)));
  });

  // Not spawnSync: the app runs in this process, and must answer while trigger runs.
  const trigger = async (...args: string[]): Promise<void> => {
    const child = spawn(process.execPath, [BIN, 'trigger', ...args, '--to', ready.url, '--secret', SECRET], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const [code] = (await once(child, 'exit')) as [number | null];
    if (code !== 0) throw new Error(`trigger ${args.join(' ')}: ${stderr}`);
  };
  await trigger('email.sent');
  await trigger('email.delivered', '--duplicate');
  await trigger('email.opened');
  await trigger('email.clicked');
  await trigger('email.bounced', '--set', 'data.to=["maria.garcia@example.org"]', '--set', 'data.email_id="em_01JD9B2K4M6N8P0Q2R4S6T8V0W"');
  // A body re-serialised (pretty-printed) after it was signed: refused, and explained.
  const event = JSON.parse(readFileSync(join(ROOT, 'fixtures/email.unsubscribed.json'), 'utf8')) as Record<string, unknown>;
  const compact = JSON.stringify(event);
  const res = await fetch(ready.url, {
    method: 'POST',
    body: JSON.stringify(event, null, 2),
    headers: { 'content-type': 'application/json', 'x-onepush-signature': createHmac('sha256', SECRET).update(compact).digest('hex') },
  });
  await res.arrayBuffer();
  await trigger('email.complained');

  const browser = await launchChromium();
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light', deviceScaleFactor: 1 });
    const page = await context.newPage();
    await page.goto(ready.inspector);
    await page.waitForSelector('#status.conn-live');
    // Every accepted event forwarded for good (delivered, or given up after 3 attempts).
    await page.waitForFunction(
      () => {
        const rows = [...document.querySelectorAll('#list .row[data-n]')];
        const accepted = rows.filter((r: any) => r.querySelector('.status')?.textContent === '200');
        return rows.length === 8 && accepted.length === 7 && accepted.every((r: any) => r.querySelector('.forwards .badge') && !r.querySelector('.fw-retrying'));
      },
      null,
      { timeout: 60_000 },
    );
    mkdirSync(join(ROOT, 'docs'), { recursive: true });
    await page.mouse.move(0, 0);
    await page.screenshot({ path: join(ROOT, 'docs/inspector-list.png') });

    // The complaint the app refused: open it, show its raw body (one line) so the attempts fit.
    await page.locator('#list .row[data-n]', { has: page.locator('.type', { hasText: 'email.complained' }) }).click();
    await page.waitForSelector('#detail-attempts .attempt');
    await page.click('#tab-raw');
    await page.waitForFunction(() => document.querySelectorAll('#detail-attempts .attempt').length === 3);
    // Scrolled to the signature, so every attempt (the last one given up) is in the picture too.
    await page.evaluate(() => {
      const detail = document.getElementById('detail');
      const signature = document.getElementById('detail-verification').closest('section');
      detail.scrollTop = signature.offsetTop - detail.offsetTop - 8;
    });
    await page.mouse.move(0, 0);
    await page.screenshot({ path: join(ROOT, 'docs/inspector-detail.png') });
    console.log('wrote docs/inspector-list.png and docs/inspector-detail.png');
  } finally {
    await browser.close();
  }
} finally {
  listener.kill('SIGINT');
  if (listener.exitCode === null) await once(listener, 'exit');
  app.kill();
}
