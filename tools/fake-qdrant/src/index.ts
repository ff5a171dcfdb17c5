export { startFakeQdrant, type FakeQdrant, type FakeQdrantOptions, type InjectedFault, type RecordedRequest } from './fake-qdrant';
export { QDRANT_OPENAPI_PATH, QdrantApiValidator } from './openapi-validator';
