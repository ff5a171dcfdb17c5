export { currentContext, runWithContext, type LogContext } from './context';
export { createLogger, errorMessage, type Logger, type LoggerOptions } from './logger';
