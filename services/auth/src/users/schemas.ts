import { Type } from '@sinclair/typebox';
import { UserView } from '../accounts/schemas';

export const UserListQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    role: Type.Optional(Type.Union([Type.Literal('user'), Type.Literal('admin')])),
    emailPrefix: Type.Optional(Type.String({ minLength: 1, maxLength: 254 })),
  },
  { additionalProperties: false },
);

export const UserList = Type.Object({
  items: Type.Array(UserView),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});

export const UserIdParams = Type.Object({ id: Type.String({ pattern: '^[0-9a-f]{24}$' }) });

export const AdminUserChangeBody = Type.Object(
  {
    role: Type.Optional(Type.Union([Type.Literal('user'), Type.Literal('admin')])),
    disabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);
