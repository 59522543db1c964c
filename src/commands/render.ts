import type { ChalkInstance } from 'chalk';
import type { EventKind } from '../core/event-types.js';
import { eventInfo } from '../core/event-types.js';

// Shared rendering bits for the pretty output of every command.

/** Colour by kind (issue #3): delivery green, engagement blue, bounce/complaint red, unsubscribe yellow. */
export function kindColor(c: ChalkInstance, kind: EventKind | undefined): (text: string) => string {
  switch (kind) {
    case 'delivery':
      return c.green;
    case 'engagement':
      return c.blue;
    case 'problem':
      return c.red;
    case 'unsubscribe':
      return c.yellow;
    default:
      return c.magenta;
  }
}

/** A type name coloured by its kind (unknown types magenta). */
export function colorType(c: ChalkInstance, type: string): string {
  return kindColor(c, eventInfo(type)?.kind)(type);
}

/** A status code coloured: 2xx green, 4xx yellow, 5xx and errors red. */
export function colorStatus(c: ChalkInstance, status: number | string): string {
  const n = typeof status === 'number' ? status : Number.NaN;
  const text = String(status);
  if (n >= 200 && n < 300) return c.green(text);
  if (n >= 400 && n < 500) return c.yellow(text);
  return c.red(text);
}
