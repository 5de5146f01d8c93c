import { type HttpApp } from '@herald/runtime';
import { checkEmail } from '../../domain/email-address';
import { register } from '../../domain/accounts';
import { verifyEmail } from '../../domain/email-verification';
import { login, logout, refresh } from '../../domain/sessions';
import { type AuthContext } from '../../domain/context';
import {
  EmailCheckView,
  LoginBody,
  RefreshBody,
  RegisterBody,
  TokenPairView,
  UserView,
  ValidateEmailBody,
  VerifyEmailBody,
  problems,
} from '../schemas';

/** Routes anyone may call: they prove identity themselves (a password, a refresh or verification token). */
export function publicAuthRoutes(ctx: AuthContext) {
  return async function routes(app: HttpApp): Promise<void> {
    const tags = ['auth'];

    app.post(
      '/register',
      { schema: { tags, body: RegisterBody, response: { 201: UserView, ...problems(400, 409, 429) } } },
      async (request, reply) =>
        reply.code(201).send(await register(ctx, request.body, String(request.id), { clientIp: request.ip })),
    );

    app.post(
      '/login',
      {
        schema: { tags, body: LoginBody, response: { 200: TokenPairView, ...problems(400, 401, 403, 429) } },
      },
      async (request) => login(ctx, request.body, request.ip),
    );

    app.post(
      '/refresh',
      { schema: { tags, body: RefreshBody, response: { 200: TokenPairView, ...problems(400, 401, 403) } } },
      async (request) => refresh(ctx, request.body.refreshToken),
    );

    app.post(
      '/logout',
      { schema: { tags, body: RefreshBody, response: { 204: { type: 'null' }, ...problems(400) } } },
      async (request, reply) => {
        await logout(ctx, request.body.refreshToken);
        return reply.code(204).send();
      },
    );

    app.post(
      '/verify-email',
      { schema: { tags, body: VerifyEmailBody, response: { 204: { type: 'null' }, ...problems(400, 409) } } },
      async (request, reply) => {
        await verifyEmail(ctx, request.body.token, String(request.id));
        return reply.code(204).send();
      },
    );

    app.post(
      '/validate-email',
      { schema: { tags, body: ValidateEmailBody, response: { 200: EmailCheckView, ...problems(400) } } },
      async (request) => checkEmail(request.body.email),
    );
  };
}
