/** /health (liveness), /ready (every engine and worker up), /metrics (the registry shared with the socket core). */
import type { FastifyPluginAsync } from 'fastify';
import type { CoreMetrics } from '../../core/metrics';

export const healthPlugin: FastifyPluginAsync<{ metrics: CoreMetrics; ready: () => Promise<boolean> }> = async (app, opts) => {
  app.get('/health', { schema: { tags: ['ops'], summary: 'Liveness' } }, async () => ({ status: 'ok' }));
  app.get('/ready', { schema: { tags: ['ops'], summary: 'Readiness: workers up, not draining, every configured engine answering' } }, async (_req, reply) => {
    const ready = await opts.ready();
    return reply.status(ready ? 200 : 503).send({ ready });
  });
  app.get('/metrics', { schema: { tags: ['ops'], summary: 'Prometheus metrics' } }, async (_req, reply) => {
    reply.header('content-type', opts.metrics.registry.contentType);
    return opts.metrics.registry.metrics();
  });
};
