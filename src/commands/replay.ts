import { UsageError } from '../core/errors.js';
import type { Context } from './context.js';

/** `onepush replay`: not built yet. */
export async function run(..._args: [...unknown[], Context]): Promise<number> {
  throw new UsageError('onepush replay is not available yet');
}
