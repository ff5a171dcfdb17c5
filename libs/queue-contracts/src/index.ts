import 'reflect-metadata';

export * from './queue-names';
export * from './limits';
export * from './names';
export * from './chat-request.dto';
export * from './search-request.dto';
export * from './conversation.dto';
export * from './query-job.payload';
export * from './ingest-job.payload';
export * from './query-result';
export * from './job-status';
export * from './validate';
export * from './job-events';
export * from './openai-chat-request.dto';
export * from './webhook';
