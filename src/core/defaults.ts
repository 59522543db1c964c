// Every default a user can meet in more than one place: the listener's address, the capture log, and the times
// OnePush and onepush allow. Commands, use cases and messages take them from here, so they cannot drift apart.

/** The listener's port. */
export const DEFAULT_PORT = 4242;
/** The path OnePush webhooks are posted to when a shorthand gives none. */
export const DEFAULT_PATH = '/webhooks/onepush';
/** The listener's URL: the default target of `trigger` and `replay`. */
export const DEFAULT_TARGET = `http://localhost:${DEFAULT_PORT}${DEFAULT_PATH}`;
/** The capture log `listen` writes and `replay`/`verify`/the forward hints read, relative to the working folder. */
export const DEFAULT_CAPTURE_LOG = '.onepush/events.ndjson';
/** How long OnePush waits for an endpoint's answer before it counts a delivery as failed. */
export const LATENCY_BUDGET_MS = 5000;
/** Per-attempt timeout of every delivery onepush makes (trigger, replay, forwarding): OnePush's own budget. */
export const DELIVERY_TIMEOUT_MS = LATENCY_BUDGET_MS;
/** Per-request timeout of `check`: longer than the budget, so a slow answer is measured rather than cut off. */
export const CHECK_TIMEOUT_MS = 10_000;
/** `onepush inspect`'s port: the one after the listener's (listen serves the inspector on its own port). */
export const DEFAULT_INSPECT_PORT = DEFAULT_PORT + 1;
