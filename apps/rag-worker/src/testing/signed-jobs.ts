import { signJob, type JobSigningConfig } from '@rag/jobs';
import { QueueName } from '@rag/queue-contracts';

/**
 * Workers refuse jobs their producers did not sign, so tests that put jobs
 * on a queue by hand (standing in for the gateway or the CLI) sign them with
 * the key the processor under test is given.
 */
export const TEST_SIGNING: JobSigningConfig = Object.freeze({ JOB_SIGNING_KEY: 'test-job-signing-key-0123456789abcdef' });

export const signedQuery = <T extends object>(payload: T) => signJob(TEST_SIGNING, QueueName.Query, payload);
export const signedIngest = <T extends object>(payload: T) => signJob(TEST_SIGNING, QueueName.Ingest, payload);
