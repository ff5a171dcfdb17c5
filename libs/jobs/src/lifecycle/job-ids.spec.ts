import { validate, version } from 'uuid';
import { idempotentJobId, newJobId } from './job-ids';

describe('job ids', () => {
  it('derives the same UUID v5 from the same tenant and Idempotency-Key, every time and in every process', () => {
    // Pinned: a gateway of another version must map a retried request to the same job.
    expect(idempotentJobId('acme', 'key-1')).toBe('4f0e717d-ce4f-5bb9-b316-bc850634298f');
    expect(idempotentJobId('acme', 'key-1')).toBe(idempotentJobId('acme', 'key-1'));
    expect(version(idempotentJobId('acme', 'key-1'))).toBe(5);
  });

  it('keeps tenants and keys apart', () => {
    const ids = new Set([
      idempotentJobId('acme', 'key-1'),
      idempotentJobId('globex', 'key-1'),
      idempotentJobId('acme', 'key-2'),
      idempotentJobId('acme\nkey', '1'),
    ]);
    expect(ids.size).toBe(4);
  });

  it('makes new ids random UUIDs', () => {
    const [a, b] = [newJobId(), newJobId()];
    expect(validate(a) && version(a) === 4).toBe(true);
    expect(a).not.toBe(b);
  });
});
