import { NotFoundError } from '@herald/runtime';
import { SUBSCRIBER_ID_PREFIX, type AuthenticatedUser } from '@herald/runtime/http';
import { type Channel } from '@herald/contracts';
import { type ServiceContext } from '../../kernel/context';
import {
  type ChannelSwitches,
  type PreferenceRecord,
  type PreferenceSettings,
} from '../data/preference-model';
import { UnprocessableFieldsError } from '../../templates/domain/errors';

/** Changes kept on the document: enough to answer "who turned this off, and when". */
export const MAX_AUDIT = 20;

/** Preferences as the API shows and takes them: categories keyed by category key. */
export interface PreferencesView {
  channels: ChannelSwitches;
  categories: Record<string, ChannelSwitches>;
  updatedAt?: string;
  /** the last changes, newest first */
  changes?: { at: string; by: string; byKind: string }[];
}

export type PreferencesInput = Pick<PreferencesView, 'channels' | 'categories'>;

function viewOf(record: PreferenceRecord | null): PreferencesView {
  if (!record) return { channels: {}, categories: {} };
  return {
    channels: record.channels,
    categories: Object.fromEntries(record.categories.map((entry) => [entry.category, entry.channels])),
    updatedAt: record.updatedAt.toISOString(),
    changes: [...record.audit]
      .reverse()
      .map((change) => ({ at: change.at.toISOString(), by: change.by, byKind: change.byKind })),
  };
}

export async function getPreferences(ctx: ServiceContext, recipientId: string): Promise<PreferencesView> {
  return viewOf(await ctx.models.preferences.findById(recipientId).lean<PreferenceRecord>());
}

/**
 * Replaces a recipient's preferences, recording who changed them and what
 * they were before (the last `MAX_AUDIT` changes). Every category named must
 * exist: 422 `unknown_category` naming `/body/categories/<key>`.
 */
export async function setPreferences(
  ctx: ServiceContext,
  recipientId: string,
  by: AuthenticatedUser,
  input: PreferencesInput,
): Promise<PreferencesView> {
  const keys = Object.keys(input.categories);
  const found = await Promise.all(keys.map((key) => ctx.categories.find(key)));
  const unknown = keys.filter((_, index) => found[index] === null);
  if (unknown.length > 0) {
    throw new UnprocessableFieldsError(
      'unknown_category',
      `No category has the key ${unknown.map((key) => `'${key}'`).join(', ')}`,
      unknown.map((key) => ({
        field: `/body/categories/${key}`,
        message: 'must be the key of an existing category',
      })),
    );
  }
  const settings: PreferenceSettings = {
    channels: input.channels,
    categories: keys.map((category) => ({ category, channels: input.categories[category]! })),
  };
  const before = await ctx.models.preferences.findById(recipientId).lean<PreferenceRecord>();
  const from: PreferenceSettings = before
    ? { channels: before.channels, categories: before.categories }
    : { channels: {}, categories: [] };
  const at = ctx.now();
  const record = await ctx.models.preferences
    .findOneAndUpdate(
      { _id: recipientId },
      {
        $set: { ...settings, updatedAt: at },
        $inc: { revision: 1 },
        $push: { audit: { $each: [{ at, by: by.id, byKind: by.kind, from }], $slice: -MAX_AUDIT } },
      },
      { upsert: true, returnDocument: 'after' },
    )
    .lean<PreferenceRecord>();
  ctx.preferences.invalidate(recipientId);
  ctx.log.info({ recipientId, by: by.id, byKind: by.kind }, 'preferences changed');
  return viewOf(record);
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
