// The library: every use case of the CLI (listen, inspect, trigger, replay, check, simulate, verify, sign, redact) as a function of options
// and callbacks that returns its outcome as data, never prints and never exits; and the core they are built on.
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
export { eventJsonSchema, eventsJsonSchema, eventsTypeScript, type JsonSchema } from './core/json-schema.js';
export { buildSample, asFixture, type Fixture, type SampleOptions, type SampleOverrides } from './core/samples.js';
export { makeId } from './core/ids.js';
export { encodeCapture, decodeCapture, captureBody, CaptureError, type Capture, type CaptureInput } from './core/capture.js';
export { OnepushError, InvalidInput, UsageError, CheckFailed } from './core/errors.js';
export { resolveTarget } from './core/target.js';
export { DEFAULT_TARGET, DEFAULT_PORT, DEFAULT_PATH, DEFAULT_CAPTURE_LOG, DEFAULT_INSPECT_PORT, DELIVERY_TIMEOUT_MS, LATENCY_BUDGET_MS } from './core/defaults.js';
export { inspect, createInspector, type Inspector, type InspectorOptions, type InspectServer, type InspectServerOptions } from './app/inspect.js';
export type { InspectRow, InspectDetail, InspectFilter, InspectInfo, RecordPage, ActionResult, SentRequest } from './core/inspect-model.js';
export {
  deliver,
  isRetryable,
  type DeliverRequest,
  type DeliverOptions,
  type DeliveryResult,
} from './adapters/delivery.js';
export { CaptureLogError } from './adapters/capture-store.js';
export { replay, ReplayStopped, type ReplayOptions, type ReplayOutcome, type ReplayDelivery, type ReplayNote } from './app/replay.js';
export { trigger, triggerRequests, type TriggerOptions, type TriggerEvents, type TriggerRequest, type TriggerOutcome } from './app/trigger.js';
export { check, checkCases, checkRoutes, type CheckOptions, type CheckOutcome, type CheckRoutesOptions, type CheckRoutesOutcome, type EndpointOutcome, type CaseReport, type RequestReport } from './app/check.js';
export { CaseSelectionError, type CaseName, type Result as CheckResult } from './core/check-cases.js';
export { verifyBody, verifyCaptureLog, NotACaptureLog, type VerifyOptions, type VerifyResult } from './app/verify.js';
export { type Summary } from './core/report.js';
export { redact, redactedName, type RedactOptions, type RedactOutcome, type RedactedFile } from './app/redact.js';
export { Redactor, DEFAULT_REDACT_SEED, type RedactedCapture } from './core/redact.js';
export {
  startListener,
  startListener as listen,
  isLoopback,
  ForwardLoopError,
  type Listener,
  type ListenerOptions,
  type ListenEvent,
  type ListenSummary,
  type ForwardResult,
  type NotRouted,
  type EndpointSummary,
} from './app/listen.js';
export {
  simulate,
  campaign,
  campaignOutcomes,
  DEFAULT_RETRY_SCHEDULE,
  type SimulateOptions,
  type SimulateReport,
  type SimulateProgress,
  type TypeReport,
  type EndpointReport,
  type ErrorGroup,
} from './app/simulate.js';
export { DEFAULT_MIX, recipientOutcome, type Mix, type CampaignOptions, type CampaignEvent, type RecipientOutcome } from './core/campaign.js';
export { parseRoute, parseRoutes, routeEvent, type Route } from './core/routes.js';
