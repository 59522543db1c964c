import { UsageError } from '../core/errors.js';
import type { Context } from './context.js';

/** `onepush trigger`: not built yet. */
export async function run(..._args: [...unknown[], Context]): Promise<number> {
  throw new UsageError('onepush trigger is not available yet');
}
