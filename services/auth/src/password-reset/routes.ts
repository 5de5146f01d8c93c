import { type HttpApp } from '@herald/runtime/http';
import { type AuthContext } from '../context';
import { problems } from '../problems';
import { confirmPasswordReset, requestPasswordReset } from './domain/password-reset';
import { PasswordResetAccepted, PasswordResetBody, PasswordResetConfirmBody } from './schemas';

/** Both public: the request proves nothing (and reveals nothing), the confirm proves itself with the emailed token. */
export function passwordResetRoutes(ctx: AuthContext) {
  return async function routes(app: HttpApp): Promise<void> {
    const tags = ['auth'];

    app.post(
      '/password-reset',
      {
        schema: {
          tags,
          body: PasswordResetBody,
          response: { 202: PasswordResetAccepted, ...problems(400, 429) },
        },
      },
      async (request, reply) =>
        reply
          .code(202)
          .send(await requestPasswordReset(ctx, request.body.email, request.ip, String(request.id))),
    );

    app.post(
      '/password-reset/confirm',
      {
        schema: {
          tags,
          body: PasswordResetConfirmBody,
          response: { 204: { type: 'null' }, ...problems(400) },
        },
      },
      async (request, reply) => {
        await confirmPasswordReset(ctx, request.body.token, request.body.newPassword, String(request.id));
        return reply.code(204).send();
      },
    );
  };
}
