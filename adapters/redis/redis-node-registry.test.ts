import t from 'tap';
import { RedisNodeRegistry } from './redis-node-registry';
import { nodeRegistryConformance } from '../registry/node-registry.conformance';
import { engineUrl, type Engine } from '../../test/helpers/services';

for (const engine of ['redis', 'redis-cluster'] as Engine[]) {
  t.test(engine === 'redis' ? 'a single Redis' : 'a 3-master Redis Cluster', async (t) => {
    const url = engineUrl(t, engine);
    if (!url) return;
    const prefix = `regtest-${process.pid}-${Date.now()}`;
    nodeRegistryConformance(t, engine, (scope, ttlMs) => RedisNodeRegistry.connect(url, `${prefix}-${scope}`, ttlMs));
  });
}
