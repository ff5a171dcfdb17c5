export { basicAuthKey, bearerKey, generateApiKey, hashApiKey, sameHash } from './api-key';
export { ApiKeyInputError, ApiKeyStore, checkScopes, type ApiKeyRecord, type GrantedBy } from './api-key.store';
export { Authenticator, OPEN_PRINCIPAL, authCache, isLoopbackHost, openAuthenticator, type Principal } from './authenticator';
export { TrackedCache, type TrackedCacheOptions } from './tracked-cache';
