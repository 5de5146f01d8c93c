import { type Static } from '@sinclair/typebox';
import { LiteralUnion } from './literal-union';
import { WorkRoutingKeys, type WorkRoutingKey } from './names';

/** Every way Herald can reach a user. */
export const Channels = ['in_app', 'email', 'sms', 'push'] as const;
export const Channel = LiteralUnion(Channels);
export type Channel = Static<typeof Channel>;

/** Channels handed to the delivery worker; an in-app notification is delivered by being stored. */
export const DeliveryChannels = ['email', 'sms', 'push'] as const satisfies readonly Channel[];
export const DeliveryChannel = LiteralUnion(DeliveryChannels);
export type DeliveryChannel = Static<typeof DeliveryChannel>;

export function isDeliveryChannel(channel: Channel): channel is DeliveryChannel {
  return (DeliveryChannels as readonly Channel[]).includes(channel);
}

/** The work-exchange routing key of a delivery channel: one queue per channel (see names.ts). */
export function workRoutingKeyFor(channel: DeliveryChannel): WorkRoutingKey {
  return WorkRoutingKeys[channel];
}
