import { UsageError } from '../core/errors.js';
import type { Context } from './context.js';

/** `onepush listen`: not built yet. */
export async function run(..._args: [...unknown[], Context]): Promise<number> {
  throw new UsageError('onepush listen is not available yet');
}
