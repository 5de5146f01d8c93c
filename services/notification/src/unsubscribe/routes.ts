import { ProblemDetails } from '@herald/contracts';
import { type HttpApp, type ScopeRoutes } from '@herald/runtime/http';
import { type ServiceContext } from '../kernel/context';
import { InvalidUnsubscribeToken, categoryName, claimOf, unsubscribeByLink } from './domain/unsubscribe';
import { getPreferences } from '../preferences/domain/preferences';
import { PAGE_HEADERS, confirmationPage, invalidLinkPage, unsubscribedPage } from './page';
import { UnsubscribePage, UnsubscribeQuery } from './schemas';

const tags = ['preferences'];
/** RFC 8058's body is `List-Unsubscribe=One-Click`; a browser's form adds nothing bigger. */
const BODY_LIMIT = 1024;

function registerUnsubscribeRoutes(app: HttpApp, ctx: ServiceContext): void {
  // The one-click POST comes form-encoded (RFC 8058: urlencoded or multipart) and says nothing the
  // token does not: the body is read (bounded) and ignored, whatever its type.
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_request, _body, done) =>
    done(null, undefined),
  );

  app.get(
    '/',
    {
      schema: {
        tags,
        summary: 'The confirmation page of a one-click unsubscribe link (changes nothing)',
        querystring: UnsubscribeQuery,
        // a bad or expired link answers a 400 HTML page (a string, sent as is); a token that fails
        // the schema, the usual problem+json

        response: { 200: UnsubscribePage, 400: ProblemDetails, 503: ProblemDetails },
      },
    },
    async (request, reply) => {
      let claim;
      try {
        claim = claimOf(ctx, request.query.token);
      } catch (error) {
        if (!(error instanceof InvalidUnsubscribeToken)) throw error;
        return reply
          .code(400)
          .headers(PAGE_HEADERS)
          .send(invalidLinkPage(error.reason === 'expired'));
      }
      const current = await getPreferences(ctx, claim.recipientId);
      const muted = current.categories[claim.category]?.email === false;
      const name = await categoryName(ctx, claim.category);
      return reply.headers(PAGE_HEADERS).send(confirmationPage(name, request.query.token, muted));
    },
  );

  app.post(
    '/',
    {
      bodyLimit: BODY_LIMIT,
      schema: {
        tags,
        summary: 'One-click unsubscribe (RFC 8058): mutes the category by email, no login; idempotent',
        querystring: UnsubscribeQuery,
        response: { 200: UnsubscribePage, 400: ProblemDetails, 503: ProblemDetails },
      },
    },
    async (request, reply) => {
      const { claim } = await unsubscribeByLink(ctx, request.query.token);
      const name = await categoryName(ctx, claim.category);
      return reply.headers(PAGE_HEADERS).send(unsubscribedPage(name));
    },
  );
}

/**
 * `/api/v1/unsubscribe?token=…`: public, as mailbox providers and recipients
 * call it without any login; the signed token is the only credential.
 */
export const unsubscribeRoutes =
  (ctx: ServiceContext): ScopeRoutes =>
  (app) =>
    registerUnsubscribeRoutes(app, ctx);
