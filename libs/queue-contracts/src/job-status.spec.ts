import { FINAL_STATUSES, JOB_STATUSES } from './index';

describe('job statuses', () => {
  it('lists each status once', () => {
    expect(new Set(JOB_STATUSES).size).toBe(JOB_STATUSES.length);
  });

  it('only calls known statuses final', () => {
    for (const status of FINAL_STATUSES) expect(JOB_STATUSES).toContain(status);
  });

  it.each(['queued', 'active', 'retrying'] as const)('does not treat %p as final, since the job can still change', (status) => {
    expect(FINAL_STATUSES.has(status)).toBe(false);
  });

  it.each(['completed', 'failed', 'cancelled'] as const)('treats %p as final', (status) => {
    expect(FINAL_STATUSES.has(status)).toBe(true);
  });
});
