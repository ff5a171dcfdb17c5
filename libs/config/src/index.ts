import 'reflect-metadata';

export { EnvSchema } from './env.schema';
export { ConfigError, isSecretKey, loadConfig, loadConfigOrExit, maskedConfig, maskUrlCredentials, type Config } from './load-config';
