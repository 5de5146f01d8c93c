import { authenticated, type HttpApp } from '@herald/runtime/http';
import { UserView } from '../accounts/schemas';
import { type AuthContext } from '../context';
import { problems } from '../problems';
import { requestPhoneVerification, verifyPhone } from './domain/phone-verification';
import { PhoneBody, PhoneVerificationSentView, PhoneVerifyBody } from './schemas';

/** The signed-in user's phone: a number becomes theirs only through the code texted to it. */
export function phoneRoutes(ctx: AuthContext) {
  return async function routes(app: HttpApp): Promise<void> {
    await app.register(authenticated(ownPhoneRoutes(ctx)));
  };
}

function ownPhoneRoutes(ctx: AuthContext) {
  return async function routes(app: HttpApp): Promise<void> {
    const tags = ['account'];
    const security = [{ bearerAuth: [] }];

    app.post(
      '/me/phone',
      {
        schema: {
          tags,
          security,
          body: PhoneBody,
          response: { 202: PhoneVerificationSentView, ...problems(400, 401, 403, 409, 429) },
        },
      },
      async (request, reply) => {
        const sent = await requestPhoneVerification(
          ctx,
          request.user.id,
          request.body.phone,
          String(request.id),
        );
        return reply.code(202).send({ phone: sent.phone, expiresAt: sent.expiresAt.toISOString() });
      },
    );

    app.post(
      '/me/phone/verify',
      {
        schema: {
          tags,
          security,
          body: PhoneVerifyBody,
          response: { 200: UserView, ...problems(400, 401, 403, 409) },
        },
      },
      async (request) => verifyPhone(ctx, request.user.id, request.body.code, String(request.id)),
    );
  };
}
