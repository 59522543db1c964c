// The library API (SPEC.md §4): the core of onepush for tests in users' code.
export { sign, verify, explain, type Body, type Explanation } from './core/signature.js';
export {
  EVENT_TYPES,
  EVENT_CATALOGUE,
  isEventType,
  type EventType,
  type EventKind,
  type EventTypeInfo,
} from './core/event-types.js';
export {
  eventSchemas,
  onepushEventSchema,
  validateEvent,
  type OnepushEvent,
  type EmailSentEvent,
  type EmailDeliveredEvent,
  type EmailOpenedEvent,
  type EmailClickedEvent,
  type EmailBouncedEvent,
  type EmailComplainedEvent,
  type EmailUnsubscribedEvent,
  type SchemaIssue,
} from './core/schemas.js';
export { buildSample, asFixture, type Fixture, type SampleOptions, type SampleOverrides } from './core/samples.js';
export { makeId } from './core/ids.js';
export { encodeCapture, decodeCapture, captureBody, CaptureError, type Capture, type CaptureInput } from './core/capture.js';
export { OnepushError, UsageError, CheckFailed } from './core/errors.js';
export { resolveTarget } from './core/target.js';
export { DEFAULT_TARGET, DEFAULT_PORT, DEFAULT_PATH, DEFAULT_CAPTURE_LOG, DELIVERY_TIMEOUT_MS, LATENCY_BUDGET_MS } from './core/defaults.js';
export {
  deliver,
  isRetryable,
  type DeliverRequest,
  type DeliverOptions,
  type DeliveryResult,
} from './adapters/delivery.js';
export { CaptureLogError } from './adapters/capture-store.js';
export { replay, type ReplayOptions, type ReplayOutcome, type ReplayDelivery, type ReplayNote } from './app/replay.js';
export { type Summary } from './core/report.js';
export {
  startListener,
  isLoopback,
  ForwardLoopError,
  type Listener,
  type ListenerOptions,
  type ListenEvent,
  type ListenSummary,
  type ForwardResult,
} from './app/listen.js';
