import 'reflect-metadata';

export {
  AUTH_MODES,
  EMBEDDING_BACKENDS,
  EnvSchema,
  LLM_BACKENDS,
  LOG_LEVELS,
  NODE_ENVS,
  VECTOR_STORES,
  type AuthMode,
  type EmbeddingBackend,
  type LlmBackend,
  type LogLevel,
  type NodeEnv,
  type VectorStoreBackend,
} from './env.schema';
export { ConfigError, isSecretKey, loadConfig, loadConfigOrExit, maskedConfig, maskUrlCredentials, secretValues, type Config } from './load-config';
export { API_KEY_SCOPES, ListSettingError, parseApiKeysSetting, parseCorsOrigins, type ApiKeyScope, type ApiKeySetting } from './api-keys-setting';
export { APP_VERSION } from './version';
export { duplicateRedis, hasHashTag, isRedisCluster, openRedis, parseRedisNodes, redisNodeFor, type RedisNode, type RedisSettings } from './redis-connection';
