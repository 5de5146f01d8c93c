import { type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { registerFormats } from './formats';
import { MessageSchemas, isMessageType, type AnyMessage } from './messages';
import { issuesOf, type ValidationIssue } from './validation-issues';

registerFormats();

export type { ValidationIssue };
export type ValidationResult<T> = { ok: true; value: T } | { ok: false; errors: ValidationIssue[] };

/** Enough to diagnose a poison message; a dead-letter header carrying hundreds of issues helps nobody. */
const maxReportedIssues = 20;

// Compiling is costly and schemas are module constants: compile each once, and let a discarded schema go.
const compiled = new WeakMap<TSchema, TypeCheck<TSchema>>();

function compiledCheck<S extends TSchema>(schema: S): TypeCheck<S> {
  const cached = compiled.get(schema) as TypeCheck<S> | undefined;
  if (cached) return cached;
  const check = TypeCompiler.Compile(schema);
  compiled.set(schema, check);
  return check;
}

export function validateMessage<S extends TSchema>(schema: S, value: unknown): ValidationResult<Static<S>> {
  const check = compiledCheck(schema);
  if (check.Check(value)) return { ok: true, value };
  const errors: ValidationIssue[] = [];
  for (const issue of issuesOf(check.Errors(value))) {
    if (errors.push(issue) >= maxReportedIssues) break;
  }
  return { ok: false, errors };
}

/** For a queue that carries several message types: picks the schema by the envelope's `type`. */
export function validateKnownMessage(value: unknown): ValidationResult<AnyMessage> {
  const type = typeof value === 'object' && value !== null ? (value as { type?: unknown }).type : undefined;
  if (!isMessageType(type)) {
    return { ok: false, errors: [{ path: '/type', message: 'Unknown message type' }] };
  }
  return validateMessage(MessageSchemas[type], value) as ValidationResult<AnyMessage>;
}
