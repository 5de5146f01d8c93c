import { ValidationError, type FieldError } from '@herald/runtime';

/**
 * A 422 that names the offending fields, in the same problem+json `errors`
 * shape as a schema failure. The runtime's `ValidationError` is the class
 * the error handler copies `errors` from, but it is always a 400: a request
 * that is well-formed yet cannot be rendered (a variable missing, a template
 * that does not compile) is 422, so the status is set after the fact.
 */
export class UnprocessableFieldsError extends ValidationError {
  override readonly status: number = 422;

  constructor(code: string, detail: string, errors: FieldError[]) {
    super(detail, errors, code);
  }
}

/** A template's content that does not compile or breaks a rule; names each part (locale + field). */
export const invalidTemplate = (errors: FieldError[]) =>
  new UnprocessableFieldsError(
    'template_invalid',
    `The template is invalid: ${errors.map((error) => `${error.field} ${error.message}`).join('; ')}`,
    errors,
  );
