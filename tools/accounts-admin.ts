/**
 * `npm run accounts -- <command>`: operator access to accounts, in the store the configuration names
 * (MongoDB with MONGODB_URL, else the data folder's accounts.sqlite).
 *
 *   grant <email> <role>     add a role (e.g. admin: may read /v1/admin/security-events); effective at next sign-in
 *   revoke <email> <role>    remove a role
 *   show <email>             the account's id, roles and live sessions
 */
import { loadConfig } from '../config/config';
import { openAccountStore } from '../adapters/accounts/open-account-store';

async function main(argv: string[]): Promise<number> {
  const [command, email, role] = argv;
  const config = loadConfig();
  const store = await openAccountStore({ mongodbUrl: config.engines.mongodbUrl, dataDir: config.dataDir });
  try {
    const user = email ? await store.userByEmail(email.trim().toLowerCase()) : null;
    if (!user || !command) {
      process.stderr.write(user || !command ? 'usage: npm run accounts -- grant|revoke|show <email> [role]\n' : `no account ${email}\n`);
      return 64;
    }
    if ((command === 'grant' || command === 'revoke') && !/^[a-z]{1,20}$/.test(role ?? '')) {
      process.stderr.write('role must be lowercase letters, e.g. admin\n');
      return 64;
    }
    if (command === 'grant') await store.setRoles(user.id, [...new Set([...user.roles, role!])]);
    else if (command === 'revoke') await store.setRoles(user.id, user.roles.filter((r) => r !== role));
    else if (command !== 'show') return 64;
    const after = (await store.userById(user.id))!;
    process.stdout.write(`${JSON.stringify({ id: after.id, email: after.email, roles: after.roles, sessions: (await store.sessionsOf(after.id)).length }, null, 2)}\n`);
    return 0;
  } finally {
    await store.close();
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code), (err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
