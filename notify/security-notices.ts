/**
 * Security notifications from the account's own security log: every event the auth service writes goes
 * through `logEvent`, so wrapping that one method tells the user about a sign-in and about MFA being
 * turned on or off, without the auth service knowing notifications exist. Security notifications cannot
 * be switched off (notify/preferences.ts).
 */
import type { AccountStore } from '../adapters/accounts/account-store';
import type { Notifier } from './notifier';

/** Security-log event types that tell the user, and the template message each uses. */
const NOTICES: Readonly<Record<string, string>> = { login: 'new_sign_in', mfa_enabled: 'mfa_enabled', mfa_disabled: 'mfa_disabled' };

export function withSecurityNotices(accounts: AccountStore, notifier: Notifier, onError: (err: unknown) => void): AccountStore {
  return new Proxy(accounts, {
    get(target, prop, receiver) {
      if (prop !== 'logEvent') {
        const value = Reflect.get(target, prop, receiver) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      }
      return async (e: Parameters<AccountStore['logEvent']>[0]) => {
        await target.logEvent(e);
        const event = NOTICES[e.type];
        if (!event || !e.userId) return;
        notifier.notify({ id: `security:${e.userId}:${e.type}:${e.ts}`, user: e.userId, kind: 'security', data: { event, ip: e.ip || 'an unknown address' } }).catch(onError);
      };
    },
  });
}
