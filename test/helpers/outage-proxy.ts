/** A TCP proxy that can be switched off and on: an engine outage without stopping the engine. */
import { connect, createServer, type Socket } from 'node:net';

export interface OutageProxy {
  readonly url: string;
  down(): void;
  up(): void;
  close(): void;
}

export async function outageProxy(target: URL): Promise<OutageProxy> {
  let open = true;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    if (!open) return client.destroy();
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `${target.protocol}//127.0.0.1:${(server.address() as { port: number }).port}`,
    down: () => {
      open = false;
      for (const s of sockets) s.destroy();
    },
    up: () => void (open = true),
    close: () => server.close(),
  };
}
