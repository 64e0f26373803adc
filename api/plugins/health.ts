/** /health (liveness), /ready (every engine and worker up), and optionally /metrics (the registry shared with the socket core). */
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import type { CoreMetrics } from '../../core/metrics';

/** `metrics` null: /metrics is not served on this port (the socket port serves it; see HALOBUZZ_API_METRICS). */
export const healthPlugin: FastifyPluginAsync<{ metrics: CoreMetrics | null; ready: () => Promise<boolean> }> = async (app, opts) => {
  app.get('/health', { schema: { tags: ['ops'], summary: 'Liveness', response: { 200: Type.Object({ status: Type.Literal('ok') }) } } }, async () => ({ status: 'ok' as const }));
  const Ready = Type.Object({ ready: Type.Boolean() });
  app.get('/ready', { schema: { tags: ['ops'], summary: 'Readiness: workers up, not draining, every configured engine answering', response: { 200: Ready, 503: Ready } } }, async (_req, reply) => {
    const ready = await opts.ready();
    return reply.status(ready ? 200 : 503).send({ ready });
  });
  const metrics = opts.metrics;
  if (!metrics) return;
  app.get('/metrics', { schema: { tags: ['ops'], summary: 'Prometheus metrics (only with HALOBUZZ_API_METRICS=1)', response: { 200: { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } } } } }, async (_req, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
};
