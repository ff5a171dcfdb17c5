import type { FakeEndpoint, FaultSpec } from './options';

export interface ActiveFault {
  spec: FaultSpec;
  /** Matching requests still to fault; undefined means until cleared. */
  remaining: number | undefined;
}

/** The one active fault and how many more requests it applies to. */
export class FaultSwitch {
  private active: ActiveFault | undefined;

  set(spec: FaultSpec | null | undefined): void {
    this.active = spec ? { spec: { ...spec }, remaining: spec.times } : undefined;
  }

  current(): ActiveFault | undefined {
    return this.active && { spec: { ...this.active.spec }, remaining: this.active.remaining };
  }

  /** The fault for this request, counted against `times`; undefined when none applies. */
  take(endpoint: FakeEndpoint): FaultSpec | undefined {
    const active = this.active;
    if (!active || (active.spec.endpoints && !active.spec.endpoints.includes(endpoint))) return undefined;
    if (active.remaining !== undefined) {
      active.remaining--;
      if (active.remaining <= 0) this.active = undefined;
    }
    return active.spec;
  }
}
