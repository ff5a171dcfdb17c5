import { gatewayGoals, goalsTable, type GatewayRow } from './goals';

const row = (system: string, key: GatewayRow['key'], connections: number, requestsPerSecond: number, p99: number, non2xx = 0): GatewayRow => ({
  system,
  key,
  connections,
  load: { requestsPerSecond, p50: p99 / 2, p99, non2xx, errors: 0 },
});

describe("issue #19's gateway goals", () => {
  it('are met at 60 % of bare Express, 3× FastAPI + RQ, p99 ≤ 50 ms at 64 connections and no non-2xx', () => {
    const checks = gatewayGoals([row('gateway', 'gateway', 64, 3000, 50), row('bare', 'bare-express', 64, 5000, 20), row('py', 'fastapi-rq', 64, 1000, 90)]);
    expect(checks.map((c) => [c.target, c.measured, c.met])).toEqual([
      ['≥ 60 %', '60 %', true],
      ['≥ 3×', '3.00×', true],
      ['≤ 50 ms', '50 ms', true],
      ['0', '0', true],
    ]);
  });

  it('are not met just below each bound, and not measured when the baseline is missing', () => {
    const checks = gatewayGoals([row('gateway', 'gateway', 64, 2990, 51, 3), row('bare', 'bare-express', 64, 5000, 20)]);
    expect(checks.map((c) => [c.goal, c.met])).toEqual([
      ['requests/s against the bare Express handler, 64 connections', false],
      ['requests/s against FastAPI + RQ, 64 connections', null],
      ['p99, 64 connections', false],
      ['non-2xx and errors, 64 connections', false],
    ]);
    expect(goalsTable(checks).slice(2)).toEqual([
      '| requests/s against the bare Express handler, 64 connections | ≥ 60 % | 60 % | not met |',
      '| requests/s against FastAPI + RQ, 64 connections | ≥ 3× | — | not measured |',
      '| p99, 64 connections | ≤ 50 ms | 51 ms | not met |',
      '| non-2xx and errors, 64 connections | 0 | 3 | not met |',
    ]);
  });

  it('read rows written before rows had keys by their label, and check the p99 only at 64 connections', () => {
    const checks = gatewayGoals([
      row('queue gateway (this service)', undefined, 64, 809.2, 176),
      row('bare Express handler', undefined, 64, 3778.5, 51),
      row('queue gateway (this service)', undefined, 256, 1127.6, 2114),
      row('bare Express handler', undefined, 256, 4299.7, 141),
    ]);
    expect(checks.filter((c) => c.goal.startsWith('p99'))).toHaveLength(1);
    expect(checks.find((c) => c.goal.includes('bare Express handler, 256'))?.measured).toBe('26 %');
  });

  it('are not met by a run in which the gateway answered nothing (no non-2xx, latencies of 0)', () => {
    const silent: GatewayRow = {
      system: 'gateway',
      key: 'gateway',
      connections: 64,
      load: { requestsPerSecond: 0, answered: 0, p50: 0, p99: 0, non2xx: 0, errors: 0 },
    };
    const checks = gatewayGoals([silent, row('bare', 'bare-express', 64, 45, 3000), row('py', 'fastapi-rq', 64, 0, 0)]);
    expect(checks.map((c) => [c.measured, c.met])).toEqual([
      ['0 %', false],
      ['—', null],
      ['no answer', false],
      ['no answer', false],
    ]);
  });
});
