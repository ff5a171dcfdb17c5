export { AppError, CancelledError, INTERNAL_ERROR, PermanentError, RetryableError, isCancellation, isPermanent, type AppErrorOptions } from './errors';
