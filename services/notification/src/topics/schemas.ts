import { Type } from '@sinclair/typebox';
import { TopicKey } from '@herald/contracts';

const strict = { additionalProperties: false } as const;

/** `recipient: { topic }` on a send: every live member of the topic (auth's topics, #24). */
export const TopicRecipient = Type.Object(
  {
    topic: Type.String({
      pattern: TopicKey.pattern,
      description: "a topic's key: the send goes to each of its members",
    }),
  },
  strict,
);

export const TopicSendAccepted = Type.Object(
  {
    topicSendId: Type.String(),
    topic: Type.String(),
    state: Type.Union(
      [
        Type.Literal('scheduled'),
        Type.Literal('running'),
        Type.Literal('completed'),
        Type.Literal('cancelled'),
      ],
      { description: 'scheduled: waiting for sendAt; cancelled: before it started' },
    ),
    recipientCount: Type.Integer({
      minimum: 0,
      description: 'members when the send was accepted, then when its fan-out started',
    }),
    processedCount: Type.Integer({ minimum: 0 }),
    createdAt: Type.String({ format: 'date-time' }),
    sendAt: Type.Optional(
      Type.String({ format: 'date-time', description: 'a scheduled send: when it starts' }),
    ),
    completedAt: Type.Optional(Type.String({ format: 'date-time' })),
    cancelledAt: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { title: 'TopicSendAccepted' },
);

const Rates = Type.Object({
  delivered: Type.Number({ description: 'delivered / sent' }),
  bounced: Type.Number({ description: 'bounced / sent' }),
  opened: Type.Number({ description: 'opened / delivered' }),
  clicked: Type.Number({ description: 'clicked / delivered' }),
  unsubscribed: Type.Number({ description: 'unsubscribed / delivered' }),
  complained: Type.Number({ description: 'complained / delivered' }),
});

const ChannelStats = Type.Object({
  recipients: Type.Integer(),
  sent: Type.Integer({ description: 'accepted by the provider (then delivered or bounced)' }),
  delivered: Type.Integer(),
  bounced: Type.Integer(),
  failed: Type.Integer(),
  suppressed: Type.Integer(),
  skipped: Type.Integer({ description: "muted by the recipient's preferences" }),
  pending: Type.Integer(),
  opened: Type.Integer(),
  clicked: Type.Integer(),
  unsubscribed: Type.Integer(),
  complained: Type.Integer(),
  rates: Rates,
});

export const TopicSendStats = Type.Object(
  {
    ...TopicSendAccepted.properties,
    notified: Type.Integer({ description: 'members who got a notification' }),
    channels: Type.Object({
      email: Type.Optional(ChannelStats),
      sms: Type.Optional(ChannelStats),
      in_app: Type.Optional(ChannelStats),
    }),
  },
  { title: 'TopicSendStats' },
);

export const TopicSendParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }, strict);

export const TopicSendListQuery = Type.Object(
  {
    topic: Type.Optional(Type.String({ pattern: TopicKey.pattern, description: "only this topic's sends" })),
    state: Type.Optional(TopicSendAccepted.properties.state),
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
    cursor: Type.Optional(
      Type.String({
        pattern: '^[0-9a-f]{24}$',
        description: "the previous page's nextCursor: the page after it",
      }),
    ),
  },
  strict,
);

export const TopicSendList = Type.Object(
  {
    items: Type.Array(TopicSendAccepted),
    nextCursor: Type.Union([Type.String(), Type.Null()], {
      description: 'pass as cursor for the next (older) page; null on the last',
    }),
  },
  { title: 'TopicSendList' },
);
