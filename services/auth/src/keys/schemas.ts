import { Type } from '@sinclair/typebox';

export const Jwks = Type.Object({
  keys: Type.Array(
    Type.Object(
      { kid: Type.String(), kty: Type.String(), use: Type.Literal('sig'), alg: Type.String() },
      { additionalProperties: true },
    ),
  ),
});
