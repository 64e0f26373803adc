/**
 * Who declined analytics, held in memory by every process that records events (the ConsentSink asks it
 * for each event). It keeps each user's explicit choice; a user who never chose gets the server's default
 * (config/privacy.json `defaults.analytics`). Filled from the consent store when the API starts and kept
 * current through the realtime bridge when a user changes their mind, on every socket node.
 */
export class AnalyticsOptOuts {
  private readonly choices = new Map<string, boolean>();

  /** `declinedByDefault`: analytics is opt-in on this server (nobody is recorded until they agree). */
  constructor(private readonly declinedByDefault = false) {}

  set(user: string, declined: boolean): void {
    if (declined === this.declinedByDefault) this.choices.delete(user);
    else this.choices.set(user, declined);
  }

  has(user: string): boolean {
    return this.choices.get(user) ?? this.declinedByDefault;
  }
}
