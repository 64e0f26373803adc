/**
 * The gift catalog: id, display name, coin price and animation tier, under a version number. The server
 * reads prices from here; a client only names the gift and the count.
 */
import { readFileSync } from 'node:fs';

export interface Gift {
  readonly id: string;
  readonly name: string;
  readonly price: number;
  /** Animation tier shown by clients: 1 small … 4 full-screen. */
  readonly tier: 1 | 2 | 3 | 4;
}

export interface GiftCatalogData {
  readonly version: number;
  readonly gifts: readonly Gift[];
}

export class GiftCatalog {
  private readonly byId: ReadonlyMap<string, Gift>;

  constructor(readonly data: GiftCatalogData) {
    if (!Number.isInteger(data.version) || data.version < 1) throw new Error('gift catalog: version must be a positive integer');
    const byId = new Map<string, Gift>();
    for (const g of data.gifts) {
      if (!/^[A-Za-z0-9_:.-]{1,64}$/.test(g.id)) throw new Error(`gift catalog: bad id ${JSON.stringify(g.id)}`);
      if (!Number.isSafeInteger(g.price) || g.price < 1) throw new Error(`gift catalog: ${g.id} needs a positive whole price`);
      if (![1, 2, 3, 4].includes(g.tier)) throw new Error(`gift catalog: ${g.id} tier must be 1–4`);
      if (byId.has(g.id)) throw new Error(`gift catalog: duplicate id ${g.id}`);
      byId.set(g.id, g);
    }
    this.byId = byId;
  }

  static fromFile(path: string): GiftCatalog {
    return new GiftCatalog(JSON.parse(readFileSync(path, 'utf8')) as GiftCatalogData);
  }

  get version(): number {
    return this.data.version;
  }

  get(id: string): Gift | undefined {
    return this.byId.get(id);
  }
}
