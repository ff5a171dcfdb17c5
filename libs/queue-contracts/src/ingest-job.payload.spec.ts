import { DropVersionPayload, IngestJobPayload } from './index';
import { accepted, issueFields, rejected } from './validation.spec-helper';

const RUN_ID = '3f1c2a9e-7b4d-4e1a-9c2f-0d8e6b5a4c3b';

/** A document job shaped like the ones the CLI and the gateway queue. */
const ingestJob = () => ({ run_id: RUN_ID, tenant: 'acme', collection: 'handbook', doc_id: 'policies/leave.md', content_hash: 'a'.repeat(64), bytes: 42 });
/** The delayed drop a reindex queues. */
const dropJob = () => ({ run_id: RUN_ID, tenant: 'acme', collection: 'handbook', version: 1 });

const cases: [string, new () => object, () => Record<string, unknown>][] = [
  ['IngestJobPayload', IngestJobPayload, ingestJob],
  ['DropVersionPayload', DropVersionPayload, dropJob],
];

describe.each(cases)('%s', (_name, type, valid) => {
  it('accepts the payload its producer builds, also after a JSON round trip', () => {
    const value = accepted(type, valid());
    expect(accepted(type, JSON.parse(JSON.stringify(value)))).toEqual(value);
  });

  it.each([['not-a-run'], [RUN_ID.toUpperCase()], [`${RUN_ID}\n`], [42]])('refuses the run id %j, naming run_id', (runId) => {
    const issues = rejected(type, { ...valid(), run_id: runId });
    expect(issueFields(issues)).toEqual(['run_id']);
  });
});
