import { ValidationError, type FieldError } from '@herald/runtime';
import { Channels, type Channel } from '@herald/contracts';
import { durationMs } from '../../kernel/durations';
import {
  APPLICATION_EVENT,
  END,
  EngagementEvents,
  isEngagementEvent,
  StepTypes,
  type BranchCondition,
  type StepDefinition,
  type StepType,
} from './types';

/*
 * A definition is checked whole before it is stored, and every problem is
 * reported with the step it is about (`/body/steps/2`, `step "remind": …`):
 * an unknown step type, a missing or malformed field, a jump to a step that
 * does not exist, a cycle (a run must always end), a digest without a
 * window, a template the notification service does not have (or that has
 * no content for the step's channel).
 */

const STEP_ID = /^[a-z0-9_-]{1,64}$/;
const MAX_STEPS = 50;

/** The templates a definition may use: key → channels (the read model fed by `template.changed`). */
export type TemplateChannels = Map<string, readonly string[]>;

class Problems {
  readonly list: FieldError[] = [];
  add(index: number | null, stepId: string | undefined, message: string) {
    const field = index === null ? '/body/steps' : `/body/steps/${index}`;
    this.list.push({ field, message: stepId ? `step "${stepId}": ${message}` : message });
  }
}

const isString = (value: unknown): value is string => typeof value === 'string' && value.length > 0;

function checkDuration(problems: Problems, index: number, id: string, field: string, value: unknown) {
  if (value === undefined) {
    problems.add(index, id, `${field} is required (a duration such as 30m)`);
    return;
  }
  if (!isString(value) || durationMs(value) === undefined) {
    problems.add(index, id, `${field} must be a duration such as 90s, 30m, 1h or 7d (at most 90 days)`);
  }
}

function checkPath(
  problems: Problems,
  index: number,
  id: string,
  field: string,
  value: unknown,
  required: boolean,
) {
  if (value === undefined && !required) return;
  if (!isString(value) || !/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(value)) {
    problems.add(index, id, `${field} must be a path of the trigger's data, such as order.id`);
  }
}

/** The fields each type allows, beside `id`, `type` and `next`. */
const FIELDS: Record<StepType, string[]> = {
  channel: ['channel', 'template'],
  delay: ['duration', 'until'],
  digest: ['window', 'key'],
  throttle: ['limit', 'window', 'key'],
  branch: ['if', 'then', 'else'],
  'cancel-on': ['event', 'step'],
};

function checkStep(
  problems: Problems,
  step: Record<string, unknown>,
  index: number,
  templates: TemplateChannels,
) {
  const id = step.id as string;
  const type = step.type as StepType;
  for (const field of Object.keys(step)) {
    if (!['id', 'type', 'next', ...FIELDS[type]].includes(field)) {
      problems.add(index, id, `${type} steps have no field "${field}"`);
    }
  }
  switch (type) {
    case 'channel': {
      if (!(Channels as readonly unknown[]).includes(step.channel)) {
        problems.add(index, id, `channel must be one of ${Channels.join(', ')}`);
      }
      if (!isString(step.template)) {
        problems.add(index, id, 'template is required (the key of a notification template)');
        break;
      }
      const channels = templates.get(step.template);
      if (!channels) problems.add(index, id, `template "${step.template}" does not exist`);
      else if (!channels.includes(step.channel as Channel)) {
        problems.add(index, id, `template "${step.template}" has no ${String(step.channel)} content`);
      }
      break;
    }
    case 'delay':
      if ((step.duration === undefined) === (step.until === undefined)) {
        problems.add(index, id, 'a delay needs exactly one of duration or until');
      } else if (step.duration !== undefined) checkDuration(problems, index, id, 'duration', step.duration);
      else checkPath(problems, index, id, 'until', step.until, true);
      break;
    case 'digest':
      if (step.window === undefined)
        problems.add(index, id, 'a digest needs a window (a duration such as 1h)');
      else checkDuration(problems, index, id, 'window', step.window);
      checkPath(problems, index, id, 'key', step.key, true);
      break;
    case 'throttle':
      if (!Number.isInteger(step.limit) || (step.limit as number) < 1 || (step.limit as number) > 100_000) {
        problems.add(index, id, 'limit must be a whole number from 1 to 100000');
      }
      checkDuration(problems, index, id, 'window', step.window);
      checkPath(problems, index, id, 'key', step.key, false);
      break;
    case 'branch':
      checkCondition(problems, index, id, step.if);
      break;
    case 'cancel-on':
      if (typeof step.event === 'string' && isEngagementEvent(step.event)) break;
      if (typeof step.event !== 'string' || !APPLICATION_EVENT.test(step.event)) {
        problems.add(
          index,
          id,
          `event must be one of ${EngagementEvents.join(', ')} (with step), or an application event key of 1–64 a-z, 0-9, _ . : - starting with a letter or digit`,
        );
      } else if (step.step !== undefined) {
        problems.add(index, id, `an application event ("${step.event}") watches no step: remove step`);
      }
      break;
  }
}

function checkCondition(problems: Problems, index: number, id: string, condition: unknown) {
  if (condition === null || typeof condition !== 'object') {
    problems.add(index, id, 'if is required: { event, step } or { data, equals | exists }');
    return;
  }
  const value = condition as Record<string, unknown>;
  if ('event' in value) {
    if (!(EngagementEvents as readonly unknown[]).includes(value.event)) {
      problems.add(index, id, `if.event must be one of ${EngagementEvents.join(', ')}`);
    }
    if (!isString(value.step)) problems.add(index, id, 'if.step must name a channel step');
    return;
  }
  checkPath(problems, index, id, 'if.data', value.data, true);
}

/** The step a branch condition or a cancel-on watches, when it names one. */
function watchedStep(step: Record<string, unknown>): string | undefined {
  if (step.type === 'cancel-on') {
    return typeof step.event === 'string' && isEngagementEvent(step.event)
      ? (step.step as string)
      : undefined;
  }
  if (step.type === 'branch' && step.if && typeof step.if === 'object' && 'event' in step.if) {
    return (step.if as { step?: string }).step;
  }
  return undefined;
}

/** Where each step can go next: its `next` (or the following step), and a branch's `then` and `else`. */
export function successors(steps: readonly Record<string, unknown>[], index: number): string[] {
  const step = steps[index]!;
  const following = (steps[index + 1]?.id as string | undefined) ?? END;
  const next = (step.next as string | undefined) ?? following;
  if (step.type !== 'branch') return [next];
  return [(step.then as string | undefined) ?? next, (step.else as string | undefined) ?? next];
}

function checkJumps(problems: Problems, steps: Record<string, unknown>[]) {
  const ids = new Map(steps.map((step, index) => [step.id as string, index]));
  steps.forEach((step, index) => {
    for (const field of ['next', 'then', 'else'] as const) {
      const target = step[field];
      if (target === undefined) continue;
      if (!isString(target) || (target !== END && !ids.has(target))) {
        problems.add(
          index,
          step.id as string,
          `${field} must be the id of a step or "end", not "${String(target)}"`,
        );
      }
    }
    const watched = watchedStep(step);
    if (watched !== undefined) {
      const at = ids.get(watched);
      if (at === undefined || steps[at]!.type !== 'channel') {
        problems.add(index, step.id as string, `"${watched}" is not a channel step of this workflow`);
      } else if (at >= index) {
        problems.add(index, step.id as string, `"${watched}" must come before this step`);
      }
    }
  });
}

/** The first cycle found, as the ids along it, or undefined: every run must reach the end. */
function findCycle(steps: Record<string, unknown>[]): string[] | undefined {
  const index = new Map(steps.map((step, at) => [step.id as string, at]));
  const state = new Map<number, 'open' | 'done'>();
  const path: number[] = [];
  const visit = (at: number): string[] | undefined => {
    if (state.get(at) === 'done') return undefined;
    if (state.get(at) === 'open') {
      const from = path.indexOf(at);
      return [...path.slice(from), at].map((one) => steps[one]!.id as string);
    }
    state.set(at, 'open');
    path.push(at);
    for (const target of successors(steps, at)) {
      const next = index.get(target);
      if (next === undefined) continue;
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(at, 'done');
    return undefined;
  };
  for (let at = 0; at < steps.length; at++) {
    const cycle = visit(at);
    if (cycle) return cycle;
  }
  return undefined;
}

/**
 * Checks a definition's steps; throws 400 naming every problem by step, or
 * returns them typed.
 */
export function validateSteps(
  steps: Record<string, unknown>[],
  templates: TemplateChannels,
): StepDefinition[] {
  const problems = new Problems();
  if (steps.length === 0 || steps.length > MAX_STEPS) {
    problems.add(null, undefined, `a workflow has from 1 to ${MAX_STEPS} steps`);
  }
  const seen = new Set<string>();
  steps.forEach((step, index) => {
    const id = step.id;
    if (!isString(id) || !STEP_ID.test(id) || id === END) {
      problems.add(index, undefined, `step ${index}: id must be 1–64 of a-z, 0-9, _ and - (and not "end")`);
      return;
    }
    if (seen.has(id)) problems.add(index, id, 'another step has this id');
    seen.add(id);
    if (!(StepTypes as readonly unknown[]).includes(step.type)) {
      problems.add(index, id, `unknown step type "${String(step.type)}" (one of ${StepTypes.join(', ')})`);
      return;
    }
    checkStep(problems, step, index, templates);
  });
  if (problems.list.length === 0) checkJumps(problems, steps);
  if (problems.list.length === 0) {
    const cycle = findCycle(steps);
    if (cycle) {
      const at = steps.findIndex((step) => step.id === cycle[0]);
      problems.add(at, cycle[0], `leads back to itself: ${cycle.join(' → ')} (a run must always end)`);
    }
  }
  if (problems.list.length > 0)
    throw new ValidationError('The workflow definition is invalid', problems.list);
  return steps as unknown as StepDefinition[];
}

/** The template keys a definition's channel steps use. */
export function templateKeys(steps: Record<string, unknown>[]): string[] {
  return [
    ...new Set(
      steps
        .filter((step) => step.type === 'channel' && isString(step.template))
        .map((step) => step.template as string),
    ),
  ];
}

export type { BranchCondition };
