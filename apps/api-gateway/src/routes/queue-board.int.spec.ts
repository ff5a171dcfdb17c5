import { runApp } from '@rag/testing';

// bull-board (an Express app of its own, its templates) serves only operators who open /admin/queues:
// a gateway loads it with the first such request, not at start (issue #19's memory goal).
describe('the queue dashboard loads on first use (a real child process)', () => {
  it("does not load bull-board with the gateway's app", async () => {
    const run = await runApp('apps/api-gateway/src/routes/queue-board.probe.ts', {});
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({ bullBoard: false });
  });
});
