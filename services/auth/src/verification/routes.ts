import { authenticated, type HttpApp } from '@herald/runtime/http';
import { type AuthContext } from '../context';
import { problems } from '../problems';
import { resendVerification, verifyEmail } from './domain/email-verification';
import { ResendAccepted, VerifyEmailBody } from './schemas';

/** Verifying proves itself with the token from the email; asking for a new email needs the access token. */
export function verificationRoutes(ctx: AuthContext) {
  return async function routes(app: HttpApp): Promise<void> {
    app.post(
      '/verify-email',
      {
        schema: {
          tags: ['auth'],
          body: VerifyEmailBody,
          response: { 204: { type: 'null' }, ...problems(400, 409) },
        },
      },
      async (request, reply) => {
        await verifyEmail(ctx, request.body.token, String(request.id));
        return reply.code(204).send();
      },
    );

    await app.register(
      authenticated(async (signedIn: HttpApp) => {
        signedIn.post(
          '/verify-email/resend',
          {
            schema: {
              tags: ['account'],
              security: [{ bearerAuth: [] }],
              response: { 202: ResendAccepted, ...problems(401, 409, 429) },
            },
          },
          async (request, reply) => {
            const { expiresAt } = await resendVerification(ctx, request.user.id, String(request.id));
            return reply.code(202).send({ expiresAt: expiresAt.toISOString() });
          },
        );
      }),
    );
  };
}
