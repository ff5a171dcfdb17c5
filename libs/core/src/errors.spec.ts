import { AppError, CancelledError, INTERNAL_ERROR, PermanentError, RetryableError, isCancellation, isPermanent } from './errors';

class CollectionGone extends PermanentError {
  override readonly code = 'collection_not_found';
}

describe('the error taxonomy', () => {
  it('classifies each kind by class, with its default code', () => {
    const retryable = new RetryableError('timed out');
    const permanent = new PermanentError('bad input');
    const cancelled = new CancelledError('job 1 was cancelled');
    expect([retryable, permanent, cancelled].map((e) => [e.code, isPermanent(e), isCancellation(e)])).toEqual([
      ['temporary_failure', false, false],
      ['permanent_failure', true, false],
      ['cancelled', true, true],
    ]);
    expect(retryable).toBeInstanceOf(AppError);
  });

  it('lets a subclass name its code and a caller give a plainer public message', () => {
    expect(new CollectionGone('collection "x" does not exist').code).toBe('collection_not_found');
    const error = new RetryableError('POST http://10.0.0.5/v1/chat failed', { code: 'llm_unavailable', publicMessage: 'the model could not be reached' });
    expect([error.code, error.publicMessage, error.message]).toEqual([
      'llm_unavailable',
      'the model could not be reached',
      'POST http://10.0.0.5/v1/chat failed',
    ]);
    expect(new PermanentError('shown as is').publicMessage).toBe('shown as is');
  });

  it('names the concrete class and keeps the cause', () => {
    const cause = new Error('ECONNRESET');
    const error = new CollectionGone('gone', { cause });
    expect([error.name, error.cause]).toEqual(['CollectionGone', cause]);
  });

  it('treats errors that are not ours as retryable and not cancelled, whatever fields they carry', () => {
    const lookalike = Object.assign(new Error('x'), { permanent: true, cancelled: true });
    expect([isPermanent(lookalike), isCancellation(lookalike), isPermanent(undefined), isPermanent('permanent')]).toEqual([false, false, false, false]);
    expect(INTERNAL_ERROR).toBe('internal_error');
  });
});
