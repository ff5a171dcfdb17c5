/**
 * A W3C trace context `traceparent` (version 00, lowercase hex, trace and
 * parent ids not all zeros): what a question's job carries so the worker's
 * spans join the gateway's trace. Here, at the bottom, because the job's
 * contract (queue-contracts) and the tracing (observability) both read it and
 * neither may depend on the other.
 */
export const TRACEPARENT_PATTERN = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;
