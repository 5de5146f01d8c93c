import { KindGuard, type TObject, type TSchema } from '@sinclair/typebox';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';

export interface ValidationIssue {
  /** JSON Pointer into the message, e.g. `/payload/recipient/email`. */
  path: string;
  message: string;
}

/*
 * TypeBox reports a failed union as "Expected union value" and nothing more.
 * Herald's unions are of two kinds, and each gets a useful issue instead:
 * - literal unions (statuses, channels) list the values they accept;
 * - object unions told apart by a literal property (`channel`, `kind`) report
 *   the issues of the branch the value names, so an email job without an
 *   address says `/payload/recipient/email`.
 */

function literalValues(union: TSchema): unknown[] | undefined {
  const branches = union.anyOf as TSchema[];
  return branches.every(KindGuard.IsLiteral) ? branches.map((branch) => branch.const) : undefined;
}

function discriminatorOf(branches: TSchema[]): string | undefined {
  const objects = branches.filter(KindGuard.IsObject);
  const first = objects[0];
  if (!first || objects.length !== branches.length) return undefined;
  return Object.keys(first.properties).find((key) =>
    objects.every((branch) => KindGuard.IsLiteral(branch.properties[key])),
  );
}

const listValues = (values: unknown[]) =>
  values.map((value) => JSON.stringify(value).replaceAll('"', "'")).join(', ');

function unionIssues(error: ValueError): ValidationIssue[] {
  const literals = literalValues(error.schema);
  if (literals) return [{ path: error.path, message: `Expected one of ${listValues(literals)}` }];

  const branches = error.schema.anyOf as TObject[];
  const key = discriminatorOf(branches);
  const value: unknown = error.value;
  if (key === undefined || typeof value !== 'object' || value === null) {
    return [{ path: error.path, message: error.message }];
  }
  const named = (value as Record<string, unknown>)[key];
  const branchErrors = error.errors[branches.findIndex((branch) => branch.properties[key]?.const === named)];
  if (branchErrors) return [...issuesOf(branchErrors)];

  const accepted = branches.map((branch) => branch.properties[key]?.const);
  return [{ path: `${error.path}/${key}`, message: `Expected one of ${listValues(accepted)}` }];
}

/** Lazily, so a caller that stops after a few issues never walks the rest of a huge broken message. */
export function* issuesOf(errors: Iterable<ValueError>): Generator<ValidationIssue> {
  const missing = new Set<string>();
  for (const error of errors) {
    // TypeBox follows "Expected required property" with the absent value's type error: one issue says it.
    if (missing.has(error.path)) continue;
    if (error.type === ValueErrorType.ObjectRequiredProperty) missing.add(error.path);
    if (error.type === ValueErrorType.Union) yield* unionIssues(error);
    else yield { path: error.path, message: error.message };
  }
}
