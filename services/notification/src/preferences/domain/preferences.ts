import { NotFoundError, ValidationError, type FieldError } from '@herald/runtime';
import { isDuplicateKeyError } from '@herald/runtime/mongo';
import { SUBSCRIBER_ID_PREFIX, type AuthenticatedUser } from '@herald/runtime/http';
import { type Channel } from '@herald/contracts';
import { type ServiceContext } from '../../kernel/context';
import {
  type ChangedByKind,
  type ChannelSwitches,
  type PreferenceRecord,
  type PreferenceSettings,
  type QuietHours,
} from '../data/preference-model';
import { isTimeZone, quietUntil } from './quiet-hours';

/** Changes kept on the document: enough to answer "who turned this off, and when". */
export const MAX_AUDIT = 20;

/** Settings as the API shows and takes them: categories keyed by category key. */
export interface SettingsView {
  channels: ChannelSwitches;
  categories: Record<string, ChannelSwitches>;
  timeZone?: string;
  quietHours?: QuietHours;
}

/** One change as the API shows it: who, when, from what, to what. */
export interface ChangeView {
  at: string;
  by: string;
  byKind: string;
  from: SettingsView;
  to?: SettingsView;
}

/** Preferences as the API shows them, with the last changes (newest first). */
export interface PreferencesView extends SettingsView {
  updatedAt?: string;
  changes?: ChangeView[];
}

export type PreferencesInput = SettingsView;

/** Who made a change, as the audit names them. */
export interface ChangedBy {
  by: string;
  byKind: ChangedByKind;
}

const EMPTY_SETTINGS: PreferenceSettings = { channels: {}, categories: [] };

function settingsView(settings: PreferenceSettings): SettingsView {
  return {
    channels: settings.channels,
    categories: Object.fromEntries(settings.categories.map((entry) => [entry.category, entry.channels])),
    ...(settings.timeZone ? { timeZone: settings.timeZone } : {}),
    ...(settings.quietHours ? { quietHours: settings.quietHours } : {}),
  };
}

function settingsOf(record: PreferenceSettings | null): PreferenceSettings {
  if (!record) return EMPTY_SETTINGS;
  return {
    channels: record.channels,
    categories: record.categories,
    ...(record.timeZone ? { timeZone: record.timeZone } : {}),
    ...(record.quietHours ? { quietHours: record.quietHours } : {}),
  };
}

function viewOf(record: PreferenceRecord | null): PreferencesView {
  if (!record) return { channels: {}, categories: {} };
  return {
    ...settingsView(record),
    updatedAt: record.updatedAt.toISOString(),
    changes: [...record.audit].reverse().map((change) => ({
      at: change.at.toISOString(),
      by: change.by,
      byKind: change.byKind,
      from: settingsView(change.from),
      ...(change.to ? { to: settingsView(change.to) } : {}),
    })),
  };
}

export async function getPreferences(ctx: ServiceContext, recipientId: string): Promise<PreferencesView> {
  return viewOf(await ctx.models.preferences.findById(recipientId).lean<PreferenceRecord>());
}

/**
 * How the audit names a principal changing a recipient's preferences: an
 * admin user acting on someone else's is `admin`, anyone else their kind.
 */
export function changedByPrincipal(principal: AuthenticatedUser, recipientId: string): ChangedBy {
  if (principal.kind === 'user' && principal.role === 'admin' && principal.id !== recipientId) {
    return { by: principal.id, byKind: 'admin' };
  }
  return { by: principal.id, byKind: principal.kind };
}

/**
 * What a request's settings break beyond their schema, each naming its field:
 * a category nobody created, a time zone the runtime does not know, a quiet
 * window without a time zone or whose ends are equal (it would be empty, or
 * the whole day: neither says what the recipient meant).
 */
async function invalidFields(ctx: ServiceContext, input: PreferencesInput): Promise<FieldError[]> {
  const keys = Object.keys(input.categories);
  const found = await Promise.all(keys.map((key) => ctx.categories.find(key)));
  const errors: FieldError[] = keys
    .filter((_, index) => found[index] === null)
    .map((key) => ({ field: `/body/categories/${key}`, message: 'must be the key of an existing category' }));
  if (input.timeZone !== undefined && !isTimeZone(input.timeZone)) {
    errors.push({ field: '/body/timeZone', message: 'must be an IANA time zone, e.g. Europe/Paris' });
  }
  if (input.quietHours) {
    if (input.timeZone === undefined) {
      errors.push({ field: '/body/timeZone', message: 'is required with quietHours' });
    }
    if (input.quietHours.start === input.quietHours.end) {
      errors.push({ field: '/body/quietHours/end', message: 'must differ from start' });
    }
  }
  return errors;
}

/**
 * Replaces a recipient's preferences, recording who changed them, what they
 * were before and what they became (the last `MAX_AUDIT` changes). Every
 * category named must exist, a time zone must be known and a quiet window
 * must have two different ends: 400 naming the field otherwise.
 */
export async function setPreferences(
  ctx: ServiceContext,
  recipientId: string,
  principal: AuthenticatedUser,
  input: PreferencesInput,
): Promise<PreferencesView> {
  const errors = await invalidFields(ctx, input);
  if (errors.length > 0) {
    throw new ValidationError(
      `The preferences are invalid: ${errors.map((error) => `${error.field} ${error.message}`).join('; ')}`,
      errors,
    );
  }
  const settings: PreferenceSettings = {
    channels: input.channels,
    categories: Object.keys(input.categories).map((category) => ({
      category,
      channels: input.categories[category]!,
    })),
    ...(input.timeZone ? { timeZone: input.timeZone } : {}),
    ...(input.quietHours ? { quietHours: input.quietHours } : {}),
  };
  const { record } = await changeSettings(
    ctx,
    recipientId,
    changedByPrincipal(principal, recipientId),
    () => settings,
  );
  return viewOf(record);
}

/** Attempts at a change that lost a race with another one, before giving up. */
const MAX_ATTEMPTS = 5;

/**
 * Writes `change(before)` as a recipient's settings, with its audit entry,
 * only over the revision it was computed from (a concurrent change makes it
 * read and compute again), so every entry's `from` is what it replaced.
 * `change` returning null means nothing changes: nothing is written or
 * audited (an unsubscribe repeated).
 */
export async function changeSettings(
  ctx: ServiceContext,
  recipientId: string,
  changer: ChangedBy,
  change: (before: PreferenceSettings) => PreferenceSettings | null,
): Promise<{ record: PreferenceRecord | null; changed: boolean }> {
  const model = ctx.models.preferences;
  for (let attempt = 1; ; attempt += 1) {
    const before = await model.findById(recipientId).lean<PreferenceRecord>();
    const from = settingsOf(before);
    const to = change(from);
    if (to === null) return { record: before, changed: false };
    const at = ctx.now();
    const absent = (['timeZone', 'quietHours'] as const).filter((field) => to[field] === undefined);
    try {
      const record = await model
        .findOneAndUpdate(
          before
            ? { _id: recipientId, revision: before.revision }
            : { _id: recipientId, revision: { $exists: false } },
          {
            $set: { ...to, updatedAt: at },
            ...(absent.length > 0 ? { $unset: Object.fromEntries(absent.map((field) => [field, ''])) } : {}),
            $inc: { revision: 1 },
            $push: { audit: { $each: [{ at, ...changer, from, to }], $slice: -MAX_AUDIT } },
          },
          { upsert: true, returnDocument: 'after' },
        )
        .lean<PreferenceRecord>();
      ctx.preferences.invalidate(recipientId);
      ctx.log.info({ recipientId, by: changer.by, byKind: changer.byKind }, 'preferences changed');
      return { record, changed: true };
    } catch (error) {
      // another change won the race (its revision moved, or it created the document first)
      if (!isDuplicateKeyError(error) || attempt >= MAX_ATTEMPTS) throw error;
    }
  }
}

/**
 * Mutes one category's email for a recipient (the one-click unsubscribe, a
 * provider's unsubscribe report). Idempotent: already muted, nothing is
 * written. The category is not checked: the caller holds proof that we sent
 * that recipient email in it.
 */
export async function muteCategoryEmail(
  ctx: ServiceContext,
  recipientId: string,
  category: string,
  changer: ChangedBy,
): Promise<{ changed: boolean }> {
  const { changed } = await changeSettings(ctx, recipientId, changer, (before) => {
    const entry = before.categories.find((one) => one.category === category);
    if (entry?.channels.email === false) return null;
    return {
      ...before,
      categories: entry
        ? before.categories.map((one) =>
            one.category === category ? { category, channels: { ...one.channels, email: false } } : one,
          )
        : [...before.categories, { category, channels: { email: false } }],
    };
  });
  return { changed };
}

/** A subscriber's recipient id, once the read model knows it (404 otherwise). */
export async function subscriberRecipientId(ctx: ServiceContext, externalId: string): Promise<string> {
  const subscriber = await ctx.subscribers.byExternalId(externalId);
  if (!subscriber) throw new NotFoundError('subscriber_not_found', `No subscriber '${externalId}'`);
  return `${SUBSCRIBER_ID_PREFIX}${externalId}`;
}

/** A channel is muted when it is off globally or off for the category. */
export function mutedBy(
  preferences: Pick<PreferenceRecord, 'channels' | 'categories'>,
  category: string,
  channels: readonly Channel[],
): Channel[] {
  const forCategory = preferences.categories.find((entry) => entry.category === category)?.channels ?? {};
  return channels.filter(
    (channel) => preferences.channels[channel] === false || forCategory[channel] === false,
  );
}

/**
 * The channels of one notification that its recipient muted: none for a
 * critical category or a recipient with no inbox identity (an outside
 * address). An unknown category (a notification this service makes itself
 * under a key nobody created) respects preferences. One batched lookup
 * (`ctx.preferences`) for the recipients stored together.
 */
export async function mutedChannels(
  ctx: ServiceContext,
  draft: { recipient: { userId?: string }; category?: string; channels: Channel[] },
): Promise<Channel[]> {
  const recipientId = draft.recipient.userId;
  if (!recipientId) return [];
  const category = await ctx.categories.find(draft.category ?? 'general');
  if (category?.critical) return [];
  const preferences = await ctx.preferences.byRecipient(recipientId);
  return preferences ? mutedBy(preferences, draft.category ?? 'general', draft.channels) : [];
}

/**
 * The channels quiet hours hold back: everything that makes a device buzz or ring (email, SMS, a
 * browser's push notification); in-app reaches the inbox at once, silently. A held push job is
 * built when it leaves, so it goes to the subscriptions the recipient has at the window's end.
 */
const HELD_BY_QUIET_HOURS: readonly Channel[] = ['email', 'sms', 'push'];

/** Channels held back by quiet hours, and until when. */
export interface QuietHold {
  channels: Channel[];
  until: Date;
}

/**
 * The email, SMS and push of a non-critical notification due (`dueAt`: now, or
 * its `sendAt`) inside its recipient's quiet window wait for the window's
 * end, in the recipient's time zone. None for a critical category, a
 * recipient without an inbox identity or without quiet hours.
 */
export async function quietHold(
  ctx: ServiceContext,
  draft: { recipient: { userId?: string }; category?: string; channels: Channel[] },
  dueAt: Date,
): Promise<QuietHold | undefined> {
  const recipientId = draft.recipient.userId;
  const channels = draft.channels.filter((channel) => HELD_BY_QUIET_HOURS.includes(channel));
  if (!recipientId || channels.length === 0) return undefined;
  const preferences = await ctx.preferences.byRecipient(recipientId);
  if (!preferences?.quietHours || !preferences.timeZone) return undefined;
  const category = await ctx.categories.find(draft.category ?? 'general');
  if (category?.critical) return undefined;
  let until: Date | null;
  try {
    until = quietUntil(dueAt, preferences.timeZone, preferences.quietHours);
  } catch (error) {
    // a zone checked when it was set that this runtime's tz database no longer knows: send, never fail
    ctx.log.warn({ err: error, recipientId, timeZone: preferences.timeZone }, 'quiet hours ignored');
    return undefined;
  }
  return until ? { channels, until } : undefined;
}
