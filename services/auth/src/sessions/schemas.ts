import { Type } from '@sinclair/typebox';

export const RefreshBody = Type.Object(
  { refreshToken: Type.String({ minLength: 1, maxLength: 512 }) },
  { additionalProperties: false },
);

export const TokenPairView = Type.Object(
  {
    accessToken: Type.String(),
    refreshToken: Type.String(),
    expiresIn: Type.Integer({ description: 'seconds until the access token expires' }),
    tokenType: Type.Literal('Bearer'),
  },
  { title: 'TokenPair' },
);
