/**
 * Preloaded (`node --expose-gc -r`) into a server the memory scenario measures, in every thread: SIGUSR2
 * runs a full garbage collection on the main thread and tells each worker thread to run one too. A
 * server's RSS right after a connect storm holds the storm's garbage (at 2,000 connections that was most
 * of the ~10 KB per connection the fan-out run reported); RSS after collection is what the connections
 * keep. Only ever loaded by the bench: a server started without it would die of the signal.
 */
import { BroadcastChannel, isMainThread } from 'node:worker_threads';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc) {
  const channel = new BroadcastChannel('halobuzz-bench-gc');
  if (isMainThread) {
    process.on('SIGUSR2', () => {
      gc();
      channel.postMessage('gc');
    });
  } else {
    channel.onmessage = () => gc();
  }
  channel.unref(); // never what keeps a thread alive
}
