import { FormatRegistry, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler';
import { Hash } from '@sinclair/typebox/value';
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
  const check = compile(schema);
  compiled.set(schema, check);
  return check;
}

/**
 * What `uniqueItems` compares: a string or a number as itself (a string and a number never
 * collide: one is a string, the other a number), anything else by TypeBox's hash. TypeBox hashes
 * every element, strings too, with 64-bit BigInt arithmetic per character: for the channel list of
 * each notification announced, that was 1 % of the notification service's CPU.
 */
export function uniqueItemKey(value: unknown): unknown {
  return typeof value === 'string' || typeof value === 'number' ? value : Hash(value);
}

function formatCheck(format: string, value: string): boolean {
  const check = FormatRegistry.Get(format);
  return check !== undefined && check(value);
}

/**
 * `TypeCompiler.Compile` with `uniqueItemKey` for `hash`: the same generated code, given the same
 * format registry. A schema with a custom kind (none of the contracts has one) needs the
 * compiler's own registry of instances: it is compiled by TypeCompiler as it is.
 */
export function compile<S extends TSchema>(schema: S): TypeCheck<S> {
  const code = TypeCompiler.Code(schema, [], { language: 'javascript' });
  if (/\bkind\(/.test(code)) return TypeCompiler.Compile(schema);
  const factory = new Function('kind', 'format', 'hash', code) as (
    kind: () => boolean,
    format: typeof formatCheck,
    hash: typeof uniqueItemKey,
  ) => (value: unknown) => boolean;
  return new TypeCheck(
    schema,
    [],
    factory(() => false, formatCheck, uniqueItemKey),
    code,
  );
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
