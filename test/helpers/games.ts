/** Helpers for end-to-end tests: a games configuration, polling, API users and calls. */
import { setRoles } from './accounts';

export { gamesEnv } from '../../tools/games-env';

/** Polls `probe` until it returns something truthy (that value), or fails after `timeoutMs`. */
export async function until<T>(label: string, probe: () => T | Promise<T>, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A registered API user (optionally staff): its id and an API access token. */
export async function apiUser(server: { api: string; dataDir: string; env?: Readonly<Record<string, string>> }, name: string, admin = false): Promise<{ id: string; token: string }> {
  const post = async (path: string, body: unknown) => (await fetch(`${server.api}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json() as Promise<{ user: { id: string }; tokens: { accessToken: string } }>;
  const email = `${name}-${Date.now()}-${Math.random().toString(36).slice(2)}@example.com`;
  const password = 'correct horse battery staple';
  const r = await post('/v1/auth/register', { email, password, displayName: name });
  if (!admin) return { id: r.user.id, token: r.tokens.accessToken };
  await setRoles(server, r.user.id, ['user', 'admin']);
  return { id: r.user.id, token: (await post('/v1/auth/login', { email, password })).tokens.accessToken };
}

/** A JSON call to the server's HTTP API: status and parsed body (null when empty). */
export function apiCaller(server: { api: string }) {
  return async (method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; body: Record<string, any> }> => {
    const res = await fetch(`${server.api}${path}`, {
      method, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as Record<string, any> };
  };
}
