import { parentPort, workerData } from 'node:worker_threads';
import { outputRenderer, writeFully, type OutputSettings } from './listen-output.js';

// The output thread of `onepush listen` (see listen-output.ts): batches of events in, rendered lines out to stdout,
// in the order they came. 'close' ends it once everything before it is written.

const { settings, fd } = workerData as { settings: OutputSettings; fd: number };
const render = outputRenderer(settings);
const port = parentPort;
let closed = false;

port?.on('message', (message: unknown) => {
  if (message === 'close') {
    port.close();
    return;
  }
  if (closed) return;
  const text = render(message as Parameters<typeof render>[0]);
  if (text === '') return;
  try {
    writeFully(fd, text);
  } catch (e) {
    // The reader is gone (`onepush listen --json | head`): the main thread decides what that means.
    closed = true;
    if ((e as NodeJS.ErrnoException).code === 'EPIPE') port.postMessage({ closed: true });
    else throw e;
  }
});
