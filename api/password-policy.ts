/**
 * Which passwords an account may have (NIST SP 800-63B style: length and a blocklist, no composition
 * rules). A password is refused when it is one of the ~49,000 most common passwords, or when zxcvbn
 * estimates it guessable within about a million tries (score 0–1: keyboard walks, repeats, a common
 * word plus digits, the user's own email or name). The list and the estimator come from the maintained
 * @zxcvbn-ts packages, not from a hand-written list.
 */
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { adjacencyGraphs, dictionary } from '@zxcvbn-ts/language-common';

export const MIN_PASSWORD_LENGTH = 10;
const MIN_SCORE = 2;

export class PasswordPolicy {
  private readonly common: ReadonlySet<string>;
  private readonly estimator: ZxcvbnFactory;

  constructor() {
    this.common = new Set((dictionary['passwords-common'] as string[]).map((p) => p.toLowerCase()));
    this.estimator = new ZxcvbnFactory({ dictionary: { ...dictionary }, graphs: adjacencyGraphs });
  }

  /** Why `password` is refused (a sentence for the user), or null when it is acceptable. */
  weakness(password: string, userInputs: readonly string[] = []): string | null {
    if ([...password].length < MIN_PASSWORD_LENGTH) return `use at least ${MIN_PASSWORD_LENGTH} characters`;
    if (this.common.has(password.toLowerCase())) return 'this is one of the most common passwords; choose another';
    const result = this.estimator.check(password, [...userInputs]);
    if (result.score < MIN_SCORE) return 'this password is easy to guess (a pattern, a common word with digits, or your own name or email); add words or characters';
    return null;
  }
}
