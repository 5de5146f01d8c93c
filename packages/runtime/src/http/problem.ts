import { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { AppError, TooManyRequestsError, ValidationError, type FieldError } from '../errors';

/** RFC 9457 problem details, as every Herald service answers errors. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance?: string;
  requestId?: string;
  errors?: FieldError[];
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export function problemType(code: string): string {
  // A URN names the problem without pretending there is a page to fetch.
  return `urn:herald:problem:${code}`;
}

interface AjvIssue {
  instancePath: string;
  message?: string;
  keyword: string;
  params: Record<string, unknown>;
}

/** Turns Fastify's (Ajv's) validation output into one entry per bad field. */
export function fieldErrorsFromValidation(context: string | undefined, issues: AjvIssue[]): FieldError[] {
  const seen = new Map<string, FieldError>();
  for (const issue of issues) {
    let field = `/${context ?? 'body'}${issue.instancePath}`;
    if (issue.keyword === 'required' && typeof issue.params.missingProperty === 'string') {
      field += `/${issue.params.missingProperty}`;
    }
    if (issue.keyword === 'additionalProperties' && typeof issue.params.additionalProperty === 'string') {
      field += `/${issue.params.additionalProperty}`;
      seen.set(field, { field, message: 'is not allowed' });
      continue;
    }
    // Ajv reports every branch of a failed union; the first message per field is the useful one.
    if (!seen.has(field)) seen.set(field, { field, message: issue.message ?? 'is invalid' });
  }
  return [...seen.values()];
}

export function toProblem(error: unknown, request: FastifyRequest): Problem {
  const base = { instance: request.url.split('?')[0], requestId: String(request.id) };
  const fastifyError = error as FastifyError & { validation?: AjvIssue[] };

  if (fastifyError?.validation) {
    const errors = fieldErrorsFromValidation(fastifyError.validationContext, fastifyError.validation);
    const invalid = new ValidationError('The request is invalid', errors);
    return { ...problemOf(invalid), ...base, errors };
  }
  if (error instanceof AppError) {
    const problem: Problem = { ...problemOf(error), ...base };
    if (error instanceof ValidationError && error.errors.length > 0) problem.errors = error.errors;
    return problem;
  }
  // Fastify's own client errors (malformed JSON, body too large, wrong content type)
  // carry a safe message and a 4xx status.
  const status = fastifyError?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code = (fastifyError.code ?? 'bad_request').replace(/^FST_ERR_/, '').toLowerCase();
    const app = new AppError(status, code, fastifyError.message);
    return { ...problemOf(app), ...base };
  }
  const internal = new AppError(500, 'internal_error', 'An unexpected error occurred');
  return { ...problemOf(internal), ...base };
}

function problemOf(error: AppError): Problem {
  return {
    type: problemType(error.code),
    title: error.title,
    status: error.status,
    detail: error.detail,
    code: error.code,
  };
}

export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem);
}

/** The one error handler: typed errors → problem+json; anything else → a generic 500. */
export function registerProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const problem = toProblem(error, request);
    if (problem.status >= 500) {
      request.log.error({ err: error }, 'request failed');
    } else {
      request.log.info({ code: problem.code, status: problem.status }, 'request rejected');
    }
    if (error instanceof TooManyRequestsError) {
      void reply.header('retry-after', String(error.retryAfterSeconds));
    }
    return sendProblem(reply, problem);
  });

  app.setNotFoundHandler((request, reply) => {
    const problem = toProblem(
      new AppError(404, 'route_not_found', `No route for ${request.method} ${request.url.split('?')[0]}`),
      request,
    );
    return sendProblem(reply, problem);
  });
}
