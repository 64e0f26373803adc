/** A server environment with games switched on and short rounds (a games.json written for tests and benches). */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GameConfigData } from '../economy/games/game-config';

export function gamesEnv(over: { windowMs?: number; pauseMs?: number; moveMs?: number; acceptMs?: number; play?: Partial<GameConfigData['play']>; antiCheat?: Partial<GameConfigData['antiCheat']> } = {}): Record<string, string> {
  const base = JSON.parse(readFileSync(join(__dirname, '..', '..', 'config', 'games.json'), 'utf8')) as GameConfigData;
  const config: GameConfigData = {
    ...base,
    wheel: { ...base.wheel, windowMs: over.windowMs ?? 1500, pauseMs: over.pauseMs ?? 200 },
    duel: { ...base.duel, moveMs: over.moveMs ?? 5000, acceptMs: over.acceptMs ?? 5000 },
    play: { ...base.play, ...over.play },
    antiCheat: { ...base.antiCheat, ...over.antiCheat },
  };
  const file = join(mkdtempSync(join(tmpdir(), 'hb-games-')), 'games.json');
  writeFileSync(file, JSON.stringify(config));
  return { HALOBUZZ_GAMES: '1', HALOBUZZ_GAMES_FILE: file, HALOBUZZ_GIFT_PER_SECOND: '1000', HALOBUZZ_GIFT_BURST: '1000' };
}

