/**
 * RoomDirectory: the durable list of live rooms for discovery (who owns a room, its title, country and
 * locale, whether it is live). Viewer counts are not stored here: they come from the socket side.
 */
import type { PersonalData } from '../privacy/personal-data';
export interface RoomListing {
  readonly id: string;
  readonly owner: string;
  readonly title: string;
  readonly country: string | null;
  readonly locale: string | null;
  readonly live: boolean;
  readonly startedAt: number;
  readonly endedAt: number | null;
  /** The countries the host made the room available in (ISO alpha-2); null or absent: everywhere (docs/regions.md). */
  readonly allowedCountries?: readonly string[] | null;
}

export interface RoomDirectory extends PersonalData {
  /** Adds a live room, unless its owner already has one live: one live room per host at a time. */
  create(room: RoomListing): Promise<'created' | { liveRoom: string }>;
  get(id: string): Promise<RoomListing | null>;
  /** Marks the room ended; false when it was not live or not owned by `owner`. */
  end(id: string, owner: string, now: number): Promise<boolean>;
  live(filter: { country?: string; locale?: string }): Promise<RoomListing[]>;
  /** The owner's live room, if any (a public profile's "live now"). */
  liveRoomOf(owner: string): Promise<RoomListing | null>;
  close(): Promise<void>;
}
