import { type FieldError } from '@herald/runtime';
import { fieldErrorsFromValidation } from '@herald/runtime/http';

/** The one detail of a webhook that is not signed correctly: nothing about what was wrong with it. */
export const NOT_SIGNED = 'The webhook is not signed correctly';

/** What the routes' requests carry with `attachValidation` on. */
interface ValidatedRequest<Body> {
  body: Body;
  validationError?: {
    validation: Parameters<typeof fieldErrorsFromValidation>[1];
    validationContext?: string;
  };
  log: { warn(details: object, message: string): void };
}

export type SignedBody<Body> = { valid: true; body: Body } | { valid: false; errors: FieldError[] };

/**
 * The webhook routes validate their body with `attachValidation`: Fastify
 * checks the schema but leaves the verdict on the request, so the handler
 * checks the signature first and asks for the body only after it: the
 * body as its schema types it, or the field errors (logged here).
 */
export function signedWebhookBody<Body>(request: ValidatedRequest<Body>, provider: string): SignedBody<Body> {
  const failure = request.validationError;
  if (!failure) return { valid: true, body: request.body };
  const errors = fieldErrorsFromValidation(failure.validationContext, failure.validation);
  request.log.warn({ provider, errors }, 'a signed webhook does not match its schema');
  return { valid: false, errors };
}
