import { bearerToken, ValidationError, type HttpApp } from '@herald/runtime';
import { getUser, updateProfile } from '../../domain/accounts';
import { sessionIdOf } from '../../domain/access-tokens';
import { type AuthContext } from '../../domain/context';
import { resendVerification } from '../../domain/email-verification';
import { revokeSessions } from '../../domain/sessions';
import { ResendAccepted, UpdateMeBody, UserView, problems } from '../schemas';

/** The signed-in user's own account; runs in the context where `authenticate` is an onRequest hook. */
export function accountRoutes(ctx: AuthContext) {
  return async function routes(app: HttpApp): Promise<void> {
    const tags = ['account'];
    const security = [{ bearerAuth: [] }];

    app.get(
      '/me',
      { schema: { tags, security, response: { 200: UserView, ...problems(401, 403) } } },
      async (request) => getUser(ctx, request.user.id),
    );

    app.patch(
      '/me',
      {
        schema: {
          tags,
          security,
          body: UpdateMeBody,
          response: { 200: UserView, ...problems(400, 401, 403, 429) },
        },
      },
      async (request) => {
        const { currentPassword, newPassword, ...profile } = request.body;
        if ((currentPassword === undefined) !== (newPassword === undefined)) {
          throw new ValidationError('A password change needs both the current and the new password', [
            {
              field: currentPassword === undefined ? '/body/currentPassword' : '/body/newPassword',
              message: 'is required',
            },
          ]);
        }
        const password =
          currentPassword && newPassword ? { current: currentPassword, new: newPassword } : undefined;
        const sessionId = sessionIdOf(bearerToken(request.headers.authorization) ?? '');
        return updateProfile(ctx, request.user.id, sessionId, { ...profile, password }, String(request.id));
      },
    );

    app.post(
      '/logout-all',
      { schema: { tags, security, response: { 204: { type: 'null' }, ...problems(401) } } },
      async (request, reply) => {
        await revokeSessions(ctx, request.user.id);
        return reply.code(204).send();
      },
    );

    app.post(
      '/verify-email/resend',
      { schema: { tags, security, response: { 202: ResendAccepted, ...problems(401, 409, 429) } } },
      async (request, reply) => {
        const { expiresAt } = await resendVerification(ctx, request.user.id, String(request.id));
        return reply.code(202).send({ expiresAt: expiresAt.toISOString() });
      },
    );
  };
}
