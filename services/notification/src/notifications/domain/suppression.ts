import { type Channel } from '@herald/contracts';
import { type Recipient } from '../data/notification-model';
import { suppressionKey } from '../../webhooks/data/webhook-models';
import { type ServiceContext } from '../../kernel/context';

/** The address each delivery channel sends to. */
function addressOf(recipient: Recipient, channel: Channel): string | undefined {
  if (channel === 'email') return recipient.email;
  if (channel === 'sms') return recipient.phone;
  return undefined;
}

/**
 * For each recipient, the channels whose address is on the suppression list:
 * one query for the whole batch, so a broadcast page costs one lookup.
 */
export async function suppressedChannels(
  ctx: ServiceContext,
  drafts: { recipient: Recipient; channels: Channel[] }[],
): Promise<Channel[][]> {
  const addresses = new Set<string>();
  for (const draft of drafts)
    for (const channel of draft.channels) {
      const address = addressOf(draft.recipient, channel);
      if (address) addresses.add(suppressionKey(address));
    }
  if (addresses.size === 0) return drafts.map(() => []);
  const found = await ctx.models.suppressions
    .find({ _id: { $in: [...addresses] } }, { _id: 1 })
    .lean<{ _id: string }[]>();
  const suppressed = new Set(found.map((entry) => entry._id));
  return drafts.map((draft) =>
    draft.channels.filter((channel) => {
      const address = addressOf(draft.recipient, channel);
      return address !== undefined && suppressed.has(suppressionKey(address));
    }),
  );
}
