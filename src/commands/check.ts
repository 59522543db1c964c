import { UsageError } from '../core/errors.js';
import type { Context } from './context.js';

/** `onepush check`: not built yet. */
export async function run(..._args: [...unknown[], Context]): Promise<number> {
  throw new UsageError('onepush check is not available yet');
}
