import { type HttpApp } from '@herald/runtime/http';
import { publicJwks } from './domain/access-tokens';
import { type SigningKeyRing } from './domain/signing-keys';
import { Jwks } from './schemas';

export function jwksRoute(keys: SigningKeyRing) {
  const body = publicJwks(keys);
  return async function routes(app: HttpApp): Promise<void> {
    app.get(
      '/.well-known/jwks.json',
      { schema: { tags: ['keys'], response: { 200: Jwks } }, logLevel: 'warn' },
      async (_request, reply) => {
        // Verifiers cache it anyway; a short public cache spares auth a burst after a rotation.
        void reply.header('cache-control', 'public, max-age=300');
        return body;
      },
    );
  };
}
