/**
 * The ceiling: raw uWebSockets.js pub/sub with no actors, no auth, no store and no limits, speaking just
 * enough of protocol v1 (hello, join, chat → ROOM_CHAT) for the load generator. What this machine can do
 * at all; HaloBuzz's fan-out is reported as a share of it.
 */
import uWS from 'uWebSockets.js';
import { decode, encode, replyFrame, roomChatFrame } from '../../protocol/codec';
import { ClientOp } from '../../protocol/codes';

const app = uWS.App();
app.ws('/ws', {
  compression: uWS.DISABLED,
  maxPayloadLength: 64 * 1024,
  maxBackpressure: 64 * 1024 * 1024,
  idleTimeout: 0,
  message: (ws, message) => {
    const f = decode(message) as unknown[];
    const ref = f[1] as number;
    switch (f[0]) {
      case ClientOp.HELLO:
        ws.send(replyFrame(ref, {}), true);
        return;
      case ClientOp.JOIN:
        ws.subscribe(f[2] as string);
        ws.send(replyFrame(ref, { seq: 0 }), true);
        return;
      case ClientOp.CHAT:
        app.publish(f[2] as string, roomChatFrame(f[2] as string, 0, Date.now(), '', f[3] as string), true);
        return;
      default:
        ws.send(encode([65, ref, 101, 'unsupported']), true);
    }
  },
});
app.listen('127.0.0.1', Number(process.env.PORT ?? 0), (socket) => {
  if (!socket) process.exit(1);
  console.log(JSON.stringify({ event: 'listening', port: uWS.us_socket_local_port(socket) }));
});
process.on('SIGTERM', () => process.exit(0));
