import { ValidationError } from '@herald/runtime';
import { authenticated, bearerToken, type HttpApp } from '@herald/runtime/http';
import { type AuthContext } from '../context';
import { sessionIdOf } from '../keys/domain/access-tokens';
import { problems } from '../problems';
import { TokenPairView } from '../sessions/schemas';
import { checkEmail } from './domain/email-address';
import { login } from './domain/login';
import { getUser, updateProfile } from './domain/profile';
import { register } from './domain/registration';
import {
  EmailCheckView,
  LoginBody,
  RegisterBody,
  RegistrationAccepted,
  UpdateMeBody,
  UserView,
  ValidateEmailBody,
} from './schemas';

/**
 * Register, log in and check an address (anyone: they prove identity with a
 * password, if at all); the signed-in user's own account under `authenticated`.
 */
export function accountRoutes(ctx: AuthContext) {
  return async function routes(app: HttpApp): Promise<void> {
    const tags = ['auth'];

    app.post(
      '/register',
      {
        schema: { tags, body: RegisterBody, response: { 202: RegistrationAccepted, ...problems(400, 429) } },
      },
      async (request, reply) =>
        reply.code(202).send(await register(ctx, request.body, String(request.id), request.ip)),
    );

    app.post(
      '/login',
      {
        schema: { tags, body: LoginBody, response: { 200: TokenPairView, ...problems(400, 401, 403, 429) } },
      },
      async (request) => login(ctx, request.body, request.ip),
    );

    app.post(
      '/validate-email',
      { schema: { tags, body: ValidateEmailBody, response: { 200: EmailCheckView, ...problems(400) } } },
      async (request) => checkEmail(request.body.email),
    );

    await app.register(authenticated(ownAccountRoutes(ctx)));
  };
}

function ownAccountRoutes(ctx: AuthContext) {
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
        const change = { ...profile, password };
        return updateProfile(ctx, request.user.id, sessionId, change, String(request.id), request.ip);
      },
    );
  };
}
