import { type UserRole } from '@herald/contracts';

/** Why a token that still verifies may not be used on this instance. */
export interface AccessRefusal {
  code: 'account_disabled' | 'role_changed';
  status: 401 | 403;
  message: string;
}

interface KnownState {
  role: UserRole;
  disabled: boolean;
  /** the event's occurredAt, ms: an older event never overwrites a newer one */
  at: number;
}

/**
 * What this instance has learnt from `user.updated` about accounts: whether
 * each is disabled, and its role. Tokens live up to their TTL whatever auth
 * decides meanwhile; this is how realtime refuses them sooner. Bounded: past
 * `maxEntries` the account heard of longest ago is forgotten, and for it the
 * token's remaining lifetime applies again (see the README).
 */
export class AccountStates {
  private readonly states = new Map<string, KnownState>();

  constructor(private readonly maxEntries: number) {}

  /** Records a snapshot; false (and nothing recorded) when an event of this user that happened later is known. */
  record(snapshot: { userId: string; role: UserRole; disabled?: boolean }, occurredAt: string): boolean {
    const at = Date.parse(occurredAt);
    const known = this.states.get(snapshot.userId);
    if (known && known.at > at) return false;
    this.states.delete(snapshot.userId); // re-inserted last: the Map's order is the eviction order
    this.states.set(snapshot.userId, { role: snapshot.role, disabled: snapshot.disabled === true, at });
    while (this.states.size > this.maxEntries) {
      this.states.delete(this.states.keys().next().value!);
    }
    return true;
  }

  /**
   * Why a token of `user` (with the role it carries) is refused here, if it
   * is. `user.updated` speaks of accounts only: a subscriber (inbox token) is
   * never judged by it, whatever id an event names.
   */
  refusal(user: { kind?: string; id: string; role: string }): AccessRefusal | undefined {
    if (user.kind === 'subscriber') return undefined;
    const known = this.states.get(user.id);
    if (!known) return undefined;
    if (known.disabled) return { code: 'account_disabled', status: 403, message: 'The account is disabled' };
    if (known.role !== user.role) {
      return {
        code: 'role_changed',
        status: 401,
        message: "The account's role changed since this token was issued: refresh it",
      };
    }
    return undefined;
  }

  get size(): number {
    return this.states.size;
  }
}
