/**
 * Operator steps on a running server's accounts, done the way the operator tool does them: in the store
 * the server's configuration names (MongoDB when it was given MONGODB_URL, else its data folder).
 */
import { openAccountStore } from '../../adapters/accounts/open-account-store';

export async function setRoles(server: { dataDir: string; env?: Readonly<Record<string, string>> }, userId: string, roles: readonly string[]): Promise<void> {
  const store = await openAccountStore({ mongodbUrl: server.env?.MONGODB_URL || null, dataDir: server.dataDir });
  try {
    await store.setRoles(userId, roles);
  } finally {
    await store.close();
  }
}
