/**
 * `npm run bench -- <scenario> [--quick] [--key value ...]`: runs one scenario and prints its numbers.
 * Scenarios: fanout, gifts. Parameters override the scenario's defaults, e.g. `--viewers 5000 --rate 100`.
 */
import { fanoutDefaults, fanoutQuick, runFanout, type FanoutParams } from './fanout.bench';
import { giftDefaults, giftQuick, runGifts, type GiftParams } from './gifts.bench';

function parseParams<T extends object>(defaults: T, args: string[]): T {
  const out = { ...defaults } as Record<string, number>;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--') || a === '--quick') continue;
    const key = a.slice(2);
    if (!(key in out)) throw new Error(`unknown parameter --${key}; known: ${Object.keys(out).join(', ')}`);
    const value = Number(args[++i]);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`--${key} needs a positive number`);
    out[key] = value;
  }
  return out as T;
}

async function main(): Promise<void> {
  const [scenario, ...rest] = process.argv.slice(2);
  const quick = rest.includes('--quick');
  switch (scenario) {
    case 'fanout':
      await runFanout(parseParams<FanoutParams>(quick ? fanoutQuick : fanoutDefaults, rest));
      return;
    case 'gifts':
      await runGifts(parseParams<GiftParams>(quick ? giftQuick : giftDefaults, rest), process.env.MONGODB_URL);
      return;
    default:
      console.error('usage: npm run bench -- fanout [--quick] [--viewers N --senders N --rate N --seconds N --payload N --workers N]');
      console.error('       npm run bench -- gifts [--quick] [--fans N --seconds N --workers N]   (MONGODB_URL set: also on MongoDB)');
      process.exit(64);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
