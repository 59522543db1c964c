import { spawn } from 'node:child_process';

// `--open`: the user's browser on a page onepush serves. Best effort: the page's address is printed either way.

/** The command that opens a URL on this platform. */
function opener(url: string, platform: NodeJS.Platform): [string, string[]] {
  if (platform === 'darwin') return ['open', [url]];
  if (platform === 'win32') return ['cmd', ['/c', 'start', '""', url]];
  return ['xdg-open', [url]];
}

/**
 * Opens `url` (an http URL onepush made, never one from outside) in the user's browser; resolves with why it could
 * not, or undefined when the opener started. ONEPUSH_BROWSER names another program (tests use it).
 */
export function openBrowser(url: string, env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): Promise<string | undefined> {
  if (!/^http:\/\/[\w.:[\]-]+\/$/.test(url)) return Promise.resolve(`not a page address: ${url}`);
  const [command, args] = env.ONEPUSH_BROWSER ? [env.ONEPUSH_BROWSER, [url]] : opener(url, platform);
  return new Promise((resolve) => {
    let child;
    try {
      child = spawn(command, args, { stdio: 'ignore', detached: true, env });
    } catch (e) {
      resolve((e as Error).message);
      return;
    }
    child.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ENOENT' ? `${command} not found` : e.message));
    child.once('spawn', () => {
      child.unref();
      resolve(undefined);
    });
  });
}
