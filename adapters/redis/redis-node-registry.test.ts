import t from 'tap';
import { RedisNodeRegistry } from './redis-node-registry';
import { nodeRegistryConformance } from '../registry/node-registry.conformance';
import { engineUrl } from '../../test/helpers/services';

const url = engineUrl(t, 'redis');
if (url) {
  const prefix = `regtest-${process.pid}-${Date.now()}`;
  nodeRegistryConformance(t, 'redis', (scope, ttlMs) => RedisNodeRegistry.connect(url, `${prefix}-${scope}`, ttlMs));
}
