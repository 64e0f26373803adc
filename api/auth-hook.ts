/**
 * Authentication the Fastify way: a route whose schema asks for a bearer token (`security`, which is also
 * what OpenAPI shows) gets it checked in an onRequest hook, before its body is read or validated, and
 * finds the verified claims on `req.claims`. `config.roles` restricts a route further (an admin passes
 * every role check). Handlers never parse the Authorization header themselves.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AccessClaims } from '../core/auth/jwt';
import type { AuthService } from './auth-service';
import { ApiError } from './errors';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set for routes that require a bearer token, after it was verified; null elsewhere. */
    claims: AccessClaims | null;
  }
  interface FastifyContextConfig {
    /** Roles allowed on this route (any of them); `admin` is always allowed. Needs `schema.security`. */
    roles?: readonly string[];
  }
}

export function registerAuth(app: FastifyInstance, auth: AuthService): void {
  app.decorateRequest('claims', null);
  app.addHook('onRequest', async (req) => {
    const schema = req.routeOptions.schema as { security?: unknown[] } | undefined;
    if (!schema?.security || schema.security.length === 0) return;
    const claims = await auth.authenticate(req.headers.authorization);
    const roles = req.routeOptions.config.roles;
    if (roles && !claims.roles?.some((r) => r === 'admin' || roles.includes(r))) throw new ApiError('HB_API_FORBIDDEN', `this needs the role ${roles.join(' or ')}`);
    req.claims = claims;
  });
}

/** The verified claims of a route that declares `security` (the hook has run). */
export function claimsOf(req: FastifyRequest): AccessClaims {
  if (!req.claims) throw new ApiError('HB_API_UNAUTHENTICATED');
  return req.claims;
}
