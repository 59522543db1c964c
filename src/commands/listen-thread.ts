import { parentPort, workerData } from 'node:worker_threads';
import { Abandoned, itemRenderer, writeFully, type OutputBatch, type ThreadData, type ThreadMessage } from './listen-output.js';

// The output thread of `onepush listen` (see listen-output.ts): batches of events in, rendered lines out to stdout,
// in the order they came, each batch acknowledged once written. 'close' ends it once everything before it is
// written; the main thread may give up on a stalled stdout first (the shared stop flag).

const { settings, fd, stop } = workerData as ThreadData;
const render = itemRenderer(settings);
const stopFlag = new Int32Array(stop);
const port = parentPort;
let closed = false;

const say = (m: ThreadMessage): void => port?.postMessage(m);

port?.on('message', (message: OutputBatch | 'close') => {
  if (message === 'close') {
    // Everything before it was written (unless the reader went away, or the main thread gave up on it).
    if (!closed) say({ done: true });
    port.close();
    return;
  }
  if (closed) return;
  try {
    // Rendered and written a few items at a time, not the whole batch as one text: a batch of large events would
    // otherwise be held three times over (records, text, bytes).
    let text = '';
    for (const item of message.items) {
      for (const piece of render(item)) {
        if (piece.length < 64 * 1024) text += piece;
        else {
          // A large payload is written as it is: joined to the text around it, it would be copied once more.
          if (text !== '') writeFully(fd, text, stopFlag);
          text = '';
          writeFully(fd, piece, stopFlag);
        }
      }
      if (text.length >= 64 * 1024) {
        writeFully(fd, text, stopFlag);
        text = '';
      }
    }
    if (text !== '') writeFully(fd, text, stopFlag);
    say({ ack: message.id });
  } catch (e) {
    closed = true;
    const code = (e as NodeJS.ErrnoException).code;
    // The reader is gone (`onepush listen --json | head`): the main thread decides what that means.
    if (code === 'EPIPE') say({ closed: true });
    // The main thread gave up on a stalled stdout: nothing more is written, the thread ends.
    else if (e instanceof Abandoned) port.close();
    else throw e;
  }
});
