import 'reflect-metadata';

export { EnvSchema } from './env.schema';
export { ConfigError, isSecretKey, loadConfig, loadConfigOrExit, maskedConfig, maskUrlCredentials, secretValues, type Config } from './load-config';
export { API_KEY_SCOPES, ListSettingError, TENANT_PATTERN, parseApiKeysSetting, parseCorsOrigins, type ApiKeyScope, type ApiKeySetting } from './api-keys-setting';
export { APP_VERSION } from './version';
