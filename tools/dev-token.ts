/**
 * `npm run token -- <user> [--ttl seconds] [--sid id]`: prints an access token signed with the configured
 * secret, for trying the socket before the auth API exists.
 */
import { loadConfig } from '../config/config';
import { signAccessToken } from '../core/auth/jwt';

function main(argv: string[]): void {
  const user = argv[0];
  if (!user || !/^[A-Za-z0-9_:.-]{1,64}$/.test(user)) {
    console.error('usage: npm run token -- <user-id> [--ttl seconds] [--sid session-id]');
    process.exit(64);
  }
  const config = loadConfig();
  const ttlIdx = argv.indexOf('--ttl');
  const sidIdx = argv.indexOf('--sid');
  const ttl = ttlIdx > 0 ? Number(argv[ttlIdx + 1]) : config.auth.devTokenTtlSec;
  const token = signAccessToken({
    sub: user,
    ttlSec: ttl,
    issuer: config.auth.jwtIssuer,
    audience: config.auth.jwtAudience,
    ...(sidIdx > 0 ? { sid: argv[sidIdx + 1]! } : {}),
  }, config.auth.jwtSecret);
  process.stdout.write(`${token}\n`);
}

main(process.argv.slice(2));
