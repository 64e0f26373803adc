/** WebSocket factory for Node.js (which has no global WebSocket before v22), backed by `ws`. */
import WebSocket from 'ws';
import type { WebSocketLike } from './client';

export function nodeWebSocket(url: string): WebSocketLike {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  ws.binaryType = 'arraybuffer';
  return ws as unknown as WebSocketLike;
}
