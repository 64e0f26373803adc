/**
 * For signed webhooks only: inside the scope it is called on, JSON bodies arrive as the exact raw bytes
 * (the signature covers them); everywhere else the API stays JSON-parsed.
 */
import type { FastifyInstance } from 'fastify';

export function rawJsonBody(scope: FastifyInstance): void {
  scope.removeContentTypeParser('application/json');
  scope.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
}
