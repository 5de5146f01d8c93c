import { Type } from '@sinclair/typebox';
import { MAX_TOKEN_LENGTH } from './domain/token';

export const UnsubscribeQuery = Type.Object({
  token: Type.String({
    minLength: 1,
    maxLength: MAX_TOKEN_LENGTH,
    pattern: '^[A-Za-z0-9_.-]+$',
    description: 'the signed link token, as List-Unsubscribe and {{unsubscribeUrl}} carry it',
  }),
});

export const UnsubscribePage = Type.String({ description: 'a small HTML page' });
