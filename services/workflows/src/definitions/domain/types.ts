import { type Channel } from '@herald/contracts';

/*
 * A workflow definition, in the domain's own terms (the HTTP schema in
 * ../schemas.ts takes the same shape loosely, so that what is wrong with a
 * step is reported by step here, naming it, rather than as a union mismatch).
 * Steps run in order; `next` (any step) and a branch's `then`/`else` jump to
 * another step by id, or to `end`.
 */

export const END = 'end';

/** What a branch or a `cancel-on` can wait for about a notification a channel step sent. */
export const EngagementEvents = ['read', 'seen', 'delivered'] as const;
export type EngagementEvent = (typeof EngagementEvents)[number];

interface StepBase {
  /** unique within the definition: `[a-z0-9_-]`, 1–64 */
  id: string;
  /** the step to go to after this one (default: the next in the list); `end` finishes the run */
  next?: string;
}

/** Sends one notification on one channel, rendered from a notification template. */
export interface ChannelStep extends StepBase {
  type: 'channel';
  channel: Channel;
  template: string;
}

/** Waits a duration, or until the time found at a path of the trigger's data. */
export interface DelayStep extends StepBase {
  type: 'delay';
  duration?: string;
  until?: string;
}

/**
 * Runs of the same workflow, recipient and digest key (a path of the data)
 * within `window` of the first become one: the first run carries on after
 * the window with every event, in order; the others end `digested`.
 */
export interface DigestStep extends StepBase {
  type: 'digest';
  window: string;
  key: string;
}

/** At most `limit` runs per `window` per recipient (and key, a path of the data) go on; the rest end `throttled`. */
export interface ThrottleStep extends StepBase {
  type: 'throttle';
  limit: number;
  window: string;
  key?: string;
}

export type BranchCondition =
  { event: EngagementEvent; step: string } | { data: string; equals?: unknown; exists?: boolean };

/** Goes to `then` when the condition holds, else to `else` (each defaults to the next step). */
export interface BranchStep extends StepBase {
  type: 'branch';
  if: BranchCondition;
  then?: string;
  else?: string;
}

/**
 * An application's own event key (`payment.received`), posted to
 * `POST /workflows/events`; never one of the engagement events.
 */
export const APPLICATION_EVENT = /^[a-z0-9][a-z0-9_.:-]{0,63}$/;

export function isEngagementEvent(event: string): event is EngagementEvent {
  return (EngagementEvents as readonly string[]).includes(event);
}

/**
 * From here on, the run is cancelled as soon as the event happens: an
 * engagement event (read, seen, delivered) of the named channel step's
 * notification, or an application event key (no `step`) posted for the
 * run's recipient.
 */
export interface CancelOnStep extends StepBase {
  type: 'cancel-on';
  event: string;
  step?: string;
}

export type StepDefinition = ChannelStep | DelayStep | DigestStep | ThrottleStep | BranchStep | CancelOnStep;
export type StepType = StepDefinition['type'];
export const StepTypes: readonly StepType[] = [
  'channel',
  'delay',
  'digest',
  'throttle',
  'branch',
  'cancel-on',
];

export interface DefinitionInput {
  name?: string;
  description?: string;
  category?: string;
  steps: Record<string, unknown>[];
}

export interface WorkflowView {
  key: string;
  version: number;
  name?: string;
  description?: string;
  category?: string;
  /** the steps as stored (each a `StepDefinition`) */
  steps: Record<string, unknown>[];
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}
