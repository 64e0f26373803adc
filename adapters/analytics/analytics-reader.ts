/** AnalyticsReader: read-only SQL over the analytics store, for the analyst API and the dashboard. */
export interface AnalyticsReader {
  rows(sql: string): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}
