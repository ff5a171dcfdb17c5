import { FaultSwitch } from './fault-switch';
import { DEFAULT_MAX_RECORDED_REQUESTS, validateRuntimeOptions, type FakeOpenAIRuntimeOptions } from './options';

/** One request as the fake received it. */
export interface RecordedRequest {
  method: string;
  /** Without the query string, e.g. `/v1/embeddings`. */
  path: string;
  /** Lower-cased names. `authorization` is kept here and left out of GET /__admin/requests. */
  headers: Record<string, string>;
  /** Parsed JSON body; null when there was none. */
  body: unknown;
}

type StoredOptions = Omit<FakeOpenAIRuntimeOptions, 'fault'>;

/** What the routes read and the admin API changes: current options, the active fault, recorded requests. */
export class FakeState {
  options: StoredOptions;
  readonly faults = new FaultSwitch();
  /** Cleared in place by reset(), so a reference held by a test stays live. */
  readonly requests: RecordedRequest[] = [];
  private readonly initial: FakeOpenAIRuntimeOptions;

  constructor(initial: FakeOpenAIRuntimeOptions) {
    this.initial = { ...validateRuntimeOptions(initial) };
    const { fault, ...rest } = this.initial;
    this.options = rest;
    this.faults.set(fault);
  }

  /** Merges options; a key given as undefined goes back to its default, `fault: null` clears the fault. */
  setOptions(partial: FakeOpenAIRuntimeOptions): void {
    const { fault, ...rest } = validateRuntimeOptions(partial);
    if ('fault' in partial) this.faults.set(fault);
    this.options = { ...this.options, ...rest };
  }

  /** Back to the options given at start, no fault (unless one was given at start), no recorded requests. */
  reset(): void {
    const { fault, ...rest } = this.initial;
    this.options = { ...rest };
    this.faults.set(fault);
    this.requests.length = 0;
  }

  record(request: RecordedRequest): void {
    const max = this.options.maxRecordedRequests ?? DEFAULT_MAX_RECORDED_REQUESTS;
    this.requests.push(request);
    if (this.requests.length > max) this.requests.splice(0, this.requests.length - max);
  }
}
