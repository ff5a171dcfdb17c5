/**
 * Issue #19's performance goals, checked against a scenario's figures, so the
 * tables (and the charts' goal marks) say met or not met. Pure: figures in,
 * verdicts out.
 */

/** Which system a gateway-scenario row measured; rows written before the key existed are recognised by their label. */
export type SystemKey = 'gateway' | 'bare-express' | 'fastapi-rq' | 'synchronous';

export interface GatewayRow {
  system: string;
  key?: SystemKey;
  connections: number;
  load: { requestsPerSecond: number; p50: number; p99: number; non2xx: number; errors: number };
}

export function systemKey(row: GatewayRow): SystemKey {
  if (row.key) return row.key;
  if (row.system.startsWith('queue gateway')) return 'gateway';
  if (row.system.startsWith('bare Express')) return 'bare-express';
  if (row.system.startsWith('synchronous')) return 'synchronous';
  return 'fastapi-rq';
}

export const GATEWAY_GOALS = { shareOfBareExpress: 0.6, p99Ms: 50, p99Connections: 64, timesFastapiRq: 3 } as const;
export const MEMORY_GOAL_MIB = 120;

export interface GoalCheck {
  goal: string;
  target: string;
  measured: string;
  /** null: not measured in this run (e.g. the Python baseline was skipped). */
  met: boolean | null;
}

export const verdict = (met: boolean | null) => (met === null ? 'not measured' : met ? '**met**' : 'not met');

export function gatewayGoals(rows: GatewayRow[]): GoalCheck[] {
  const find = (key: SystemKey, connections: number) => rows.find((r) => systemKey(r) === key && r.connections === connections)?.load;
  const connections = [...new Set(rows.map((r) => r.connections))].sort((a, b) => a - b);
  const checks: GoalCheck[] = [];
  for (const c of connections) {
    const gateway = find('gateway', c);
    if (!gateway) continue;
    const bare = find('bare-express', c);
    const share = bare ? gateway.requestsPerSecond / bare.requestsPerSecond : NaN;
    checks.push({
      goal: `requests/s against the bare Express handler, ${c} connections`,
      target: `≥ ${GATEWAY_GOALS.shareOfBareExpress * 100} %`,
      measured: bare ? `${(share * 100).toFixed(0)} %` : '—',
      met: bare ? share >= GATEWAY_GOALS.shareOfBareExpress : null,
    });
    const fastapi = find('fastapi-rq', c);
    const times = fastapi ? gateway.requestsPerSecond / fastapi.requestsPerSecond : NaN;
    checks.push({
      goal: `requests/s against FastAPI + RQ, ${c} connections`,
      target: `≥ ${GATEWAY_GOALS.timesFastapiRq}×`,
      measured: fastapi ? `${times.toFixed(2)}×` : '—',
      met: fastapi ? times >= GATEWAY_GOALS.timesFastapiRq : null,
    });
    if (c === GATEWAY_GOALS.p99Connections) {
      checks.push({
        goal: `p99, ${c} connections`,
        target: `≤ ${GATEWAY_GOALS.p99Ms} ms`,
        measured: `${gateway.p99} ms`,
        met: gateway.p99 <= GATEWAY_GOALS.p99Ms,
      });
    }
    checks.push({
      goal: `non-2xx and errors, ${c} connections`,
      target: '0',
      measured: String(gateway.non2xx + gateway.errors),
      met: gateway.non2xx + gateway.errors === 0,
    });
  }
  return checks;
}

export function goalsTable(checks: GoalCheck[]): string[] {
  return [
    '| goal (issue #19) | target | measured | |',
    '|---|---|---|---|',
    ...checks.map((g) => `| ${g.goal} | ${g.target} | ${g.measured} | ${verdict(g.met)} |`),
  ];
}
