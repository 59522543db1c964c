// Limits that keep every input bounded (README: Limits).

/** The longest delay a Node timer takes (2^31-1 ms, ~24.8 days); a longer one fires at once, with a warning. */
export const MAX_TIMER_MS = 2_147_483_647;

/** A delay made safe for setTimeout: within [0, MAX_TIMER_MS], NaN as 0. */
export function timerMs(ms: number): number {
  return ms > MAX_TIMER_MS ? MAX_TIMER_MS : ms > 0 ? ms : 0;
}
