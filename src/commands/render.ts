import type { ChalkInstance } from 'chalk';
import type { EventKind } from '../core/event-types.js';

// The one colour-by-kind of every command's pretty output (listen's event lines, `events`).

/** Colour by kind: delivery green, engagement blue, bounce/complaint red, unsubscribe yellow. */
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
