/**
 * MediaTokenIssuer: tokens that let a client publish or watch a room's live video on the media network.
 * The Agora implementation signs RTC tokens locally with the App ID and certificate (no network call).
 */
import { RtcRole, RtcTokenBuilder } from 'agora-token';
import { fnv1a } from '../../common/hash';

export interface MediaToken {
  readonly token: string;
  readonly appId: string;
  readonly channel: string;
  readonly uid: number;
  readonly role: 'host' | 'audience';
  readonly expiresAt: number;
}

export interface MediaTokenIssuer {
  issue(channel: string, user: string, role: 'host' | 'audience', nowMs: number): MediaToken;
}

export class AgoraTokenIssuer implements MediaTokenIssuer {
  constructor(private readonly appId: string, private readonly certificate: string, private readonly ttlSec: number) {}

  issue(channel: string, user: string, role: 'host' | 'audience', nowMs: number): MediaToken {
    // Agora uids are 32-bit unsigned and 0 means "assign one"; derive a stable non-zero uid from the user id.
    const uid = fnv1a(user) || 1;
    const token = RtcTokenBuilder.buildTokenWithUid(this.appId, this.certificate, channel, uid,
      role === 'host' ? RtcRole.PUBLISHER : RtcRole.SUBSCRIBER, this.ttlSec, this.ttlSec);
    return { token, appId: this.appId, channel, uid, role, expiresAt: Math.floor(nowMs / 1000) + this.ttlSec };
  }
}

export const agoraSatisfiesPort = AgoraTokenIssuer satisfies new (appId: string, certificate: string, ttlSec: number) => MediaTokenIssuer;
