import { JobName, QueueName } from './index';

// These strings are keys of live data in Redis. If this test fails because a
// name changed on purpose, ship a migration note with the change (drain the
// old queue or move its jobs) before updating the expectation.
describe('queue and job names', () => {
  it('keeps the queue names exactly as deployed', () => {
    expect(QueueName).toEqual({ Query: 'rag-query', Ingest: 'rag-ingest', Webhooks: 'rag-webhooks' });
  });

  it('keeps the job names exactly as deployed', () => {
    expect(JobName).toEqual({
      Answer: 'answer',
      IngestDocument: 'ingest-document',
      DeliverWebhook: 'deliver-webhook',
      DropCollectionVersion: 'drop-collection-version',
    });
  });

  it('gives each queue its own name', () => {
    const names = Object.values(QueueName);
    expect(new Set(names).size).toBe(names.length);
  });
});
