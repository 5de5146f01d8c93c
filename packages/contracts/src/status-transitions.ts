import { isTerminal, type DeliveryStatus, type ProgressStatus, type TerminalStatus } from './status';

/*
 * Status reports arrive late, twice and out of order: the worker publishes
 * after each attempt, provider webhooks come whenever the provider sends
 * them, and a redelivered message repeats an old report. So a channel's
 * status only moves forward: a stale report is ignored, never applied.
 */

/** How far a delivery has got. `sending` and `retrying` share a rank because they alternate while attempts repeat. */
const progressRank: Record<ProgressStatus, number> = {
  queued: 0,
  sending: 1,
  retrying: 1,
  sent: 2,
  delivered: 3,
};

/**
 * The furthest progress after which each outcome can still be true.
 *
 * `suppressed`, `failed` and `dead` are verdicts on the attempts, reached
 * before a provider accepted the message. Once it is `sent`, such a report
 * describes an attempt that a later one superseded (a slow retry failure
 * reported after the success): applying it would undo a success. That is
 * also why a provider's report of a failure *after* accepting the message
 * must be recorded as `bounced`, not `failed`.
 *
 * `bounced` can follow `delivered`: Mailgun reports `delivered` when the
 * recipient's server accepts the message, and that server can still send an
 * asynchronous bounce later. The later verdict is the truer one, and a bounce
 * is what feeds the suppression list, so it is applied on every channel.
 */
const latestRankBefore: Record<TerminalStatus, number> = {
  suppressed: progressRank.retrying,
  // never queued, so no report should arrive; ranked like `suppressed`, which is also decided at accept
  skipped: progressRank.retrying,
  // decided before the job was published (a pending notification cancelled), like `skipped`
  cancelled: progressRank.retrying,
  failed: progressRank.retrying,
  dead: progressRank.retrying,
  bounced: progressRank.delivered,
};

/**
 * Outcomes whose job sits in the dead-letter queue: retries exhausted
 * (`dead`) or a permanent error (`failed`). An admin can replay those after
 * fixing the cause. `bounced` and `suppressed` are never replayed: sending
 * again to an address that rejects mail hurts the sender's reputation.
 */
export const ReplayableStatuses = ['failed', 'dead'] as const satisfies readonly TerminalStatus[];

export function isReplayable(status: DeliveryStatus): boolean {
  return (ReplayableStatuses as readonly DeliveryStatus[]).includes(status);
}

export type TransitionRejection = 'same' | 'backwards' | 'terminal';
export type TransitionDecision = { apply: true } | { apply: false; reason: TransitionRejection };

export interface TransitionOptions {
  /**
   * An admin's replay from the dead-letter queue: the only way out of an
   * outcome, and only from a replayable one back to `queued`. A flag rather
   * than a general rule, so a stray `queued` report can never revive a
   * delivery.
   */
  replay?: boolean;
}

// Fresh objects each time: a caller that annotates a decision cannot change the next one.
const apply = (): TransitionDecision => ({ apply: true });
const reject = (reason: TransitionRejection): TransitionDecision => ({ apply: false, reason });

/**
 * Whether a reported status replaces the current one. `same` tells the caller
 * the status value does not change; for `retrying` a report with a higher
 * attempt number may still refresh the attempt and next-attempt time.
 */
export function decideTransition(
  current: DeliveryStatus,
  next: DeliveryStatus,
  options: TransitionOptions = {},
): TransitionDecision {
  if (current === next) return reject('same');
  if (isTerminal(current)) {
    const replaying = options.replay === true && isReplayable(current) && next === 'queued';
    return replaying ? apply() : reject('terminal');
  }
  const currentRank = progressRank[current];
  if (isTerminal(next)) return currentRank <= latestRankBefore[next] ? apply() : reject('backwards');
  // Skipping ahead is fine (`delivered` before `sent`): a webhook can beat the worker's own report.
  return progressRank[next] >= currentRank ? apply() : reject('backwards');
}
