import { Type, type Static } from '@sinclair/typebox';
import { Channel } from '@herald/contracts';

export const CATEGORY_KEY_PATTERN = '^[a-z][a-z0-9._-]{0,63}$';

export const CategoryKey = Type.String({ pattern: CATEGORY_KEY_PATTERN, maxLength: 64 });

const DefaultChannels = Type.Array(Channel, { maxItems: 3, uniqueItems: true });
const Name = Type.String({ minLength: 1, maxLength: 120 });
const Description = Type.String({ maxLength: 500 });

export const CreateCategoryBody = Type.Object(
  {
    key: CategoryKey,
    name: Name,
    description: Type.Optional(Description),
    defaultChannels: Type.Optional(DefaultChannels),
    critical: Type.Optional(Type.Boolean({ description: 'delivered whatever the preferences say' })),
  },
  { additionalProperties: false },
);
export type CreateCategoryBody = Static<typeof CreateCategoryBody>;

export const UpdateCategoryBody = Type.Object(
  {
    name: Type.Optional(Name),
    description: Type.Optional(Description),
    defaultChannels: Type.Optional(DefaultChannels),
    critical: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateCategoryBody = Static<typeof UpdateCategoryBody>;

export const CategoryParams = Type.Object({ key: CategoryKey });

export const CategoryView = Type.Object({
  key: Type.String(),
  name: Type.String(),
  description: Type.Optional(Type.String()),
  defaultChannels: Type.Array(Channel),
  critical: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
export type CategoryView = Static<typeof CategoryView>;

export const CategoryList = Type.Object({ items: Type.Array(CategoryView) });
