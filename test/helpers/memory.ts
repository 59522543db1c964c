import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// What this process holds once the garbage collector has run: a figure that depends on what the code keeps, not on
// when the collector last ran or how loaded the machine is (unlike a process's RSS).

setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

/** Collects garbage: once, then again after a turn of the loop (backing stores of collected buffers go then). */
export async function gc(): Promise<void> {
  collect();
  await new Promise((resolve) => setImmediate(resolve));
  collect();
}

/** The bytes this process holds after a full collection: the V8 heap and the backing stores of buffers. */
export async function heldBytes(): Promise<number> {
  await gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

export const MiB = 1024 * 1024;
