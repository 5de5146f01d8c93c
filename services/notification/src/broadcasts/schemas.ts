import { Type, type Static } from '@sinclair/typebox';
import { UserRole } from '@herald/contracts';
import { Instant, content, contentOrTemplate, strict } from '../notifications/schemas';

export const BroadcastBody = Type.Object(
  {
    audience: Type.Union([
      Type.Object({ all: Type.Literal(true) }, strict),
      Type.Object({ role: UserRole }, strict),
    ]),
    ...content,
  },
  { ...strict, ...contentOrTemplate, title: 'Broadcast' },
);
export type BroadcastBody = Static<typeof BroadcastBody>;

export const BroadcastProgress = Type.Object(
  {
    id: Type.String(),
    state: Type.Union([Type.Literal('running'), Type.Literal('completed')]),
    recipientCount: Type.Integer({ minimum: 0 }),
    processedCount: Type.Integer({ minimum: 0 }),
    createdAt: Instant,
    completedAt: Type.Optional(Instant),
  },
  { title: 'BroadcastProgress' },
);
export type BroadcastProgress = Static<typeof BroadcastProgress>;
