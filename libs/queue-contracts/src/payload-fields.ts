import { IsOptional, IsString, Matches } from 'class-validator';
import { Limits } from './limits';
import { NAME_PATTERN, nameRuleMessage } from './names';

/** Several decorators as one, applied in the order TypeScript applies them when stacked (the last one first). */
export function stacked(...decorators: PropertyDecorator[]): PropertyDecorator {
  return (target, key) => [...decorators].reverse().forEach((decorate) => decorate(target, key));
}

/** A tenant or collection name (NAME_PATTERN); the message names `field`. */
export const IsName = (field: 'tenant' | 'collection') => stacked(IsString(), Matches(NAME_PATTERN, { message: nameRuleMessage(field) }));

/** A request id (Limits.requestIdPattern), as the gateway or CLI gave it. */
/** An ingest run's id (a rebuild's too). */
export const IsRunId = () => stacked(IsString(), Matches(Limits.runIdPattern, { message: 'run_id is not a valid run id' }));

export const IsRequestId = () => stacked(IsString(), Matches(Limits.requestIdPattern, { message: 'request_id is not a valid request id' }));

/**
 * HMAC of the queue name and the rest of the payload (libs/jobs signJob),
 * by the producer that queued it. Workers verify it before anything else
 * and refuse a job without a valid one; optional here so that check, not
 * validation, is what answers.
 */
export const IsJobSignature = () => stacked(IsOptional(), IsString(), Matches(Limits.jobSignaturePattern, { message: 'signature is not a job signature' }));

/** A W3C `traceparent` (Limits.traceparentPattern), optional: the trace the job's spans join (see @rag/observability tracing). */
export const IsTraceparent = () =>
  stacked(IsOptional(), IsString(), Matches(Limits.traceparentPattern, { message: 'traceparent is not a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>)' }));
