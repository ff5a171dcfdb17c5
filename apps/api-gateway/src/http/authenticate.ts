import { OPEN_PRINCIPAL, bearerKey, type Authenticator, type Principal } from '@rag/auth';
import type { ApiKeyScope } from '@rag/config';
import { runWithContext } from '@rag/observability';
import type { RequestHandler } from 'express';
import { HttpError } from './http-error';

declare module 'express-serve-static-core' {
  interface Request {
    /** Who is calling; set by `authenticate` for every route but the health checks. */
    principal: Principal;
  }
}

const CHALLENGE = 'Bearer realm="rag"';

/** A 401 with the WWW-Authenticate challenge that tells the client how to sign in. */
class Unauthorized extends HttpError {
  constructor(message: string, challenge: string) {
    super(401, 'unauthorized', message, undefined, { headers: { 'WWW-Authenticate': challenge } });
  }
}

/**
 * Resolves `Authorization: Bearer <key>` to a principal. With auth off every
 * caller is the `default` tenant with every scope.
 */
export function authenticate(auth: Authenticator): RequestHandler {
  return async (req, _res, next) => {
    if (!(await auth.required())) {
      req.principal = OPEN_PRINCIPAL;
      return runWithContext({ tenant: OPEN_PRINCIPAL.tenant }, next);
    }
    const header = req.get('authorization');
    if (!header) throw new Unauthorized('an API key is required: send it as Authorization: Bearer <key>', CHALLENGE);
    const key = bearerKey(header);
    const principal = key ? await auth.verify(key) : null;
    if (!principal)
      throw new Unauthorized(
        'the API key is not valid (unknown, revoked or malformed); send Authorization: Bearer <key>',
        `${CHALLENGE}, error="invalid_token"`,
      );
    req.principal = principal;
    // Every log line of the rest of the request names the tenant.
    runWithContext({ tenant: principal.tenant }, next);
  };
}

/** 403 unless the caller's key carries `scope`. */
export function requireScope(scope: ApiKeyScope): RequestHandler {
  return (req, _res, next) => {
    if (!req.principal?.scopes.includes(scope)) {
      throw new HttpError(403, 'forbidden', `this API key lacks the "${scope}" scope; create one with it (rag-ingest keys create --scopes ${scope})`);
    }
    next();
  };
}

/** 403 unless the caller's key carries one of `scopes` (e.g. a tenant's `admin` or the global `operator`). */
export function requireAnyScope(...scopes: ApiKeyScope[]): RequestHandler {
  return (req, _res, next) => {
    if (!scopes.some((scope) => req.principal?.scopes.includes(scope))) {
      throw new HttpError(
        403,
        'forbidden',
        `this API key lacks the "${scopes.join('" or "')}" scope; create one with it (rag-ingest keys create --scopes ${scopes[0]})`,
      );
    }
    next();
  };
}
