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
  /** `answered` (2xx received) is absent from runs recorded before it was. */
  load: { requestsPerSecond: number; answered?: number; p50: number; p99: number; non2xx: number; errors: number };
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
    // A run in which the gateway answered nothing has no non-2xx and latencies of 0: that is no pass.
    const silent = gateway.answered === 0;
    const against = (key: SystemKey, target: string, passes: (r: number) => boolean, shown: (r: number) => string): Omit<GoalCheck, 'goal'> => {
      const other = find(key, c);
      const r = other ? gateway.requestsPerSecond / other.requestsPerSecond : NaN;
      return Number.isFinite(r) ? { target, measured: shown(r), met: passes(r) } : { target, measured: '—', met: null };
    };
    checks.push({
      goal: `requests/s against the bare Express handler, ${c} connections`,
      ...against(
        'bare-express',
        `≥ ${GATEWAY_GOALS.shareOfBareExpress * 100} %`,
        (r) => r >= GATEWAY_GOALS.shareOfBareExpress,
        (r) => `${(r * 100).toFixed(0)} %`,
      ),
    });
    checks.push({
      goal: `requests/s against FastAPI + RQ, ${c} connections`,
      ...against(
        'fastapi-rq',
        `≥ ${GATEWAY_GOALS.timesFastapiRq}×`,
        (r) => r >= GATEWAY_GOALS.timesFastapiRq,
        (r) => `${r.toFixed(2)}×`,
      ),
    });
    if (c === GATEWAY_GOALS.p99Connections) {
      checks.push({
        goal: `p99, ${c} connections`,
        target: `≤ ${GATEWAY_GOALS.p99Ms} ms`,
        measured: silent ? 'no answer' : `${gateway.p99} ms`,
        met: !silent && gateway.p99 <= GATEWAY_GOALS.p99Ms,
      });
    }
    checks.push({
      goal: `non-2xx and errors, ${c} connections`,
      target: '0',
      measured: silent ? 'no answer' : String(gateway.non2xx + gateway.errors),
      met: !silent && gateway.non2xx + gateway.errors === 0,
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
