import { Type } from '@sinclair/typebox';
import { SubscriberExternalId, TopicKey } from '@herald/contracts';
import { MAX_MEMBERS_PER_CALL } from './domain/members';

const strict = { additionalProperties: false } as const;

export const TopicParams = Type.Object({ key: TopicKey }, strict);
export const TopicName = Type.String({ minLength: 1, maxLength: 200 });

export const CreateTopicBody = Type.Object({ key: TopicKey, name: TopicName }, strict);
export const RenameTopicBody = Type.Object({ name: TopicName }, strict);

export const TopicView = Type.Object(
  {
    key: Type.String(),
    name: Type.String(),
    memberCount: Type.Optional(Type.Integer({ minimum: 0 })),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
    revision: Type.Integer(),
  },
  { title: 'Topic' },
);

export const ListQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  },
  strict,
);

export const TopicList = Type.Object({
  items: Type.Array(TopicView),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});

export const MembersBody = Type.Object(
  {
    subscriberIds: Type.Array(SubscriberExternalId, {
      minItems: 1,
      maxItems: MAX_MEMBERS_PER_CALL,
      description: `external ids of subscribers, at most ${MAX_MEMBERS_PER_CALL} a call`,
    }),
  },
  strict,
);

export const MembersAdded = Type.Object({
  added: Type.Integer({ minimum: 0 }),
  alreadyMembers: Type.Integer({ minimum: 0 }),
  unknown: Type.Array(Type.String(), { description: 'ids that are no subscriber: not added' }),
});

export const MembersRemoved = Type.Object({
  removed: Type.Integer({ minimum: 0 }),
  notMembers: Type.Array(Type.String()),
});

export const MemberList = Type.Object({
  items: Type.Array(
    Type.Object({ externalId: Type.String(), addedAt: Type.String({ format: 'date-time' }) }),
  ),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});

export const SubscriberTopicsParams = Type.Object({ externalId: SubscriberExternalId }, strict);

export const SubscriberTopicList = Type.Object({
  items: Type.Array(
    Type.Object({
      key: Type.String(),
      name: Type.String(),
      addedAt: Type.String({ format: 'date-time' }),
    }),
  ),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});

export const ImportQuery = Type.Object(
  {
    createTopic: Type.Boolean({
      default: false,
      description: 'create the topic (named after its key) if it does not exist, instead of 404',
    }),
  },
  strict,
);

const Rejection = Type.Object({ line: Type.Integer(), reason: Type.String() });

export const ImportReport = Type.Object(
  {
    importId: Type.String(),
    topic: Type.String(),
    topicCreated: Type.Boolean(),
    state: Type.Literal('completed'),
    rows: Type.Integer({ minimum: 0, description: 'data rows read (the header excluded)' }),
    created: Type.Integer({ minimum: 0 }),
    updated: Type.Integer({ minimum: 0 }),
    unchanged: Type.Integer({ minimum: 0 }),
    rejectedCount: Type.Integer({ minimum: 0 }),
    rejected: Type.Array(Rejection, { description: 'the first 1,000 rejected rows, with their line' }),
  },
  { title: 'TopicImportReport' },
);

export const ImportParams = Type.Object(
  { key: TopicKey, importId: Type.String({ minLength: 1, maxLength: 64 }) },
  strict,
);

export const ImportRecord = Type.Object(
  {
    importId: Type.String(),
    topic: Type.String(),
    state: Type.Union([Type.Literal('running'), Type.Literal('completed'), Type.Literal('failed')]),
    created: Type.Integer(),
    updated: Type.Integer(),
    unchanged: Type.Integer(),
    rejectedCount: Type.Integer(),
    rejected: Type.Array(Rejection),
    lastLine: Type.Integer({ description: 'the last line read' }),
    error: Type.Optional(Type.String()),
    startedAt: Type.String({ format: 'date-time' }),
    finishedAt: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { title: 'TopicImport' },
);

export const ImportList = Type.Object({ items: Type.Array(ImportRecord) });
