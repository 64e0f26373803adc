/**
 * Entry point of one actor worker thread. It owns an ActorHost and its own store connection, receives
 * command batches from the core and returns effect batches, both as transferred MessagePack buffers.
 */
import { PendingLedgerCalls } from '../adapters/ledger/pending-ledger';
import { parentPort, workerData } from 'node:worker_threads';
import { ActorHost, type ActorHostOptions } from './actor-host';
import { GiftCatalog, type GiftCatalogData } from '../economy/gift-catalog';
import { openLedger, type LedgerSettings } from '../adapters/ledger/open-ledger';
import { BatchCodec } from './batch-codec';
import { eff, type Command, type Effect, type WorkerControl, type WorkerStatus } from './messages';
import { openRealtimeStore, type StoreSettings } from '../adapters/store/open-realtime-store';
import { createLogger, type LogSettings } from '../common/logger';
import { GameConfig, type GameConfigData } from '../economy/games/game-config';
import { openPlayStore, type PlayStoreSettings } from '../adapters/games/open-play-store';
import { PlayGuard } from '../economy/games/play-guard';
import type { PlayFlag } from '../adapters/games/play-store';
import { ChatFilter, type FilterConfigData } from '../moderation/chat-filter';
import { openFollowStore, type FollowStoreSettings } from '../adapters/social/open-follow-store';

export interface WorkerInit {
  readonly index: number;
  readonly store: StoreSettings;
  readonly host: ActorHostOptions;
  readonly statsIntervalMs: number;
  /** The main thread's log settings (a worker's stdout is never a terminal) and its fields. */
  readonly log: LogSettings & { readonly base: Record<string, unknown> };
  readonly ledger: LedgerSettings;
  readonly catalog: GiftCatalogData;
  /** Games: their config and the play store file (null: games off). */
  readonly games: { readonly config: GameConfigData; readonly playStore: PlayStoreSettings } | null;
  /** Moderation: the chat filter's config, and where followers-only chat looks up follows. */
  readonly moderation: { readonly filter: FilterConfigData; readonly follows: FollowStoreSettings };
}

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('worker-main must run in a worker thread');
  const init = workerData as WorkerInit;
  const log = createLogger(init.log, { ...init.log.base, worker: init.index });
  const codec = new BatchCodec();
  const store = await openRealtimeStore(init.store);
  const ledgerCalls = new PendingLedgerCalls();
  const ledger = ledgerCalls.wrap(await openLedger(init.ledger));
  const catalog = new GiftCatalog(init.catalog);
  const playStore = init.games ? await openPlayStore(init.games.playStore) : null;
  const gameConfig = init.games ? new GameConfig(init.games.config) : null;
  const security = log.child({ component: 'security' });
  // A flag goes to the security log and, as a game_flag event, to analytics (an effect batch of its own).
  const onFlag = (flag: PlayFlag) => {
    security.warn({ type: 'play_flag', userId: flag.user, flag }, 'play_flag');
    if (!init.host.room.analytics) return;
    const bytes = codec.encode([eff.analytics({ id: `flag:${flag.id}`, ts: flag.at, type: 'game_flag', user: flag.user, flag: flag.kind })]);
    port.postMessage(bytes, [bytes.buffer]);
  };
  const filter = new ChatFilter(init.moderation.filter);
  const follows = await openFollowStore(init.moderation.follows);
  // Filter decisions, counted here and reported with the stats (the main thread owns /metrics).
  const filterCounts = new Map<string, number>();
  const onFilter = (rule: string, action: string) => {
    const key = `${rule}\u0000${action}`;
    filterCounts.set(key, (filterCounts.get(key) ?? 0) + 1);
  };
  const games = gameConfig && playStore ? { config: gameConfig, guard: new PlayGuard(playStore, gameConfig.data.play, gameConfig.data.antiCheat, onFlag) } : undefined;
  const status = (s: WorkerStatus) => port.postMessage(s);
  const fatal = (error: unknown) => {
    // The store is the truth: if we cannot write it, restart and rebuild from it.
    log.fatal({ err: error }, 'actor worker failed; exiting so the supervisor rebuilds it from the store');
    log.flush();
    process.exit(1);
  };
  const host = new ActorHost({ store, ledger, catalog, filter, follows, onFilter, ...(games ? { games } : {}) }, init.host, (effects: Effect[]) => {
    const bytes = codec.encode(effects);
    port.postMessage(bytes, [bytes.buffer]);
  }, fatal, (error) => {
    log.error({ err: error }, 'deferred actor work failed');
  });
  host.start();

  port.on('message', (msg: Uint8Array | WorkerControl | { type: 'system'; batch: Uint8Array }) => {
    if (msg instanceof Uint8Array) {
      host.dispatch(codec.decode(msg) as Command[]);
      return;
    }
    switch (msg.type) {
      case 'system':
        host.dispatch(codec.decode(msg.batch) as Command[], true);
        return;
      case 'drain':
        void host.drain().then(async () => {
          host.stop();
          await store.close();
          await ledger.close();
          await playStore?.close();
          await follows.close();
          status({ type: 'drained', worker: init.index });
        }, fatal);
        return;
      case 'quiesce':
        void host.drain().then(() => status({ type: 'quiesced', worker: init.index, id: msg.id }), fatal);
        return;
      case 'evict':
        host.evict(msg.kind, msg.partitions, msg.count);
        // Answered like a quiesce: by then every earlier batch was handled.
        status({ type: 'quiesced', worker: init.index, id: msg.id });
        return;
      case 'broadcast':
        host.broadcast(msg.command);
        return;
      case 'crash':
        // Test hook (only reachable with debug endpoints on): die the way a bug would.
        setImmediate(() => {
          throw new Error('injected worker crash');
        });
        return;
    }
  });

  const timer = setInterval(() => {
    const filtered = [...filterCounts].map(([key, n]) => [...key.split('\u0000'), n] as [string, string, number]);
    filterCounts.clear();
    const pending = ledgerCalls.snapshot();
    status({ type: 'stats', worker: init.index, ...host.stats(), filtered, ledgerPending: pending.pending, ledgerOldestMs: pending.oldestMs });
  }, init.statsIntervalMs);
  timer.unref();
  status({ type: 'ready', worker: init.index });
}

main().catch((err) => {
  const init = workerData as WorkerInit;
  const log = createLogger(init.log, { ...init.log.base, worker: init.index });
  log.fatal({ err }, 'actor worker could not start');
  log.flush();
  process.exit(1);
});
