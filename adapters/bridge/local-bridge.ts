/** The realtime bridge inside one process: the API and the socket node share memory, so calls go straight through. */
import type { RealtimeBridge, RealtimeBridgeNode, RoomPresence } from './realtime-bridge';

export class LocalBridge implements RealtimeBridge {
  /** `publicUrl`: this node's socket URL for clients (HALOBUZZ_PUBLIC_URL), or null. */
  constructor(private readonly node: RealtimeBridgeNode, private readonly publicUrl: string | null = null) {}

  async roomPresence(rooms: readonly string[]): Promise<Map<string, RoomPresence>> {
    return new Map(rooms.map((r) => {
      const viewers = this.node.viewers(r);
      return [r, { viewers, nodes: viewers > 0 && this.publicUrl ? [this.publicUrl] : [] }];
    }));
  }

  async revokeSessions(sids: readonly string[]): Promise<void> {
    this.node.revoke(sids);
  }

  async endStream(room: string, owner: string): Promise<void> {
    this.node.endStream(room, owner);
  }

  async deliver(user: string, frame: Uint8Array): Promise<void> {
    this.node.deliver(user, frame);
  }

  async moderate(room: string, by: string, action: string, args: readonly unknown[]): Promise<void> {
    this.node.moderate(room, by, action, args);
  }

  async shadowMute(user: string, until: number | null): Promise<void> {
    this.node.shadowMute(user, until);
  }

  async analyticsOptOut(user: string, declined: boolean): Promise<void> {
    this.node.analyticsOptOut(user, declined);
  }
}
