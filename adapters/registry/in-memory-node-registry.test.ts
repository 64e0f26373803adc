import t from 'tap';
import { InMemoryNodeRegistry } from './in-memory-node-registry';
import { nodeRegistryConformance } from './node-registry.conformance';

// One registry per scope, shared by every open() in it (as nodes share one Redis).
const scopes = new Map<string, InMemoryNodeRegistry>();
nodeRegistryConformance(t, 'in-memory', async (scope, ttlMs) => {
  let reg = scopes.get(scope);
  if (!reg) scopes.set(scope, (reg = new InMemoryNodeRegistry(ttlMs)));
  return reg;
});
