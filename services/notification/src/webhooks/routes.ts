import { type ScopeRoutes } from '@herald/runtime/http';
import { type ServiceContext } from '../kernel/context';
import { sendGridPublicKey } from './domain/signatures';
import { registerMailgunWebhook } from './mailgun-route';
import { registerSendGridWebhook } from './sendgrid-route';
import { registerStatsRoute } from './stats-routes';
import { registerSuppressionRoutes } from './suppression-routes';
import { registerTwilioWebhook } from './twilio-route';

/**
 * The providers' webhooks, mounted at `WebhookPaths.prefix`. Providers carry
 * no token: this scope has no `authenticate` hook; each route checks its
 * provider's signature instead.
 */
export function providerWebhookRoutes(ctx: ServiceContext): ScopeRoutes {
  const { settings } = ctx;
  return (app) => {
    // Malformed JSON is a body nobody signed: it reaches the handler as no body and gets the
    // provider's "not signed" answer, not the parser's 400 (which Mailgun would retry).
    const parseJson = app.getDefaultJsonParser('error', 'error');
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser(
      'application/json',
      { parseAs: 'string', bodyLimit: settings.webhookBodyLimitBytes },
      (request, body, done) =>
        parseJson(request, String(body), (error, value) => done(null, error ? undefined : value)),
    );
    registerMailgunWebhook(app, {
      ctx,
      signingKey: settings.mailgunWebhookSigningKey,
      maxAgeMs: settings.webhookMaxAgeMs,
      bodyLimit: settings.webhookBodyLimitBytes,
    });
    registerTwilioWebhook(app, {
      ctx,
      authToken: settings.twilioAuthToken,
      publicBaseUrl: settings.publicBaseUrl,
      bodyLimit: settings.webhookBodyLimitBytes,
    });
    registerSendGridWebhook(app, {
      ctx,
      ...(settings.sendgridWebhookPublicKey
        ? { publicKey: readSendGridKey(settings.sendgridWebhookPublicKey) }
        : {}),
      maxAgeMs: settings.webhookMaxAgeMs,
      bodyLimit: settings.webhookBodyLimitBytes,
    });
  };
}

/** A key pasted wrong stops the start naming its variable, rather than rejecting every event. */
function readSendGridKey(base64Der: string) {
  try {
    return sendGridPublicKey(base64Der);
  } catch (error) {
    throw new Error(
      `SENDGRID_WEBHOOK_PUBLIC_KEY is not a base64 DER P-256 public key: ${(error as Error).message}`,
    );
  }
}

/** The admin's suppression list; mount inside `adminScope`. */
export const suppressionRoutes =
  (ctx: ServiceContext): ScopeRoutes =>
  (app) =>
    registerSuppressionRoutes(app, ctx.models.suppressions);

/** The admin's delivery and engagement stats; mount inside `adminScope`. */
export const statsRoutes =
  (ctx: ServiceContext): ScopeRoutes =>
  (app) =>
    registerStatsRoute(app, ctx.models.notifications);
