import { Type, type TLiteral, type TUnion } from '@sinclair/typebox';

type LiteralsOf<T extends readonly string[]> = { -readonly [K in keyof T]: TLiteral<T[K]> };

/**
 * A union of string literals built from the same `as const` list the code
 * iterates over, so the list and the schema cannot drift apart. Two values at
 * least: TypeBox collapses a one-member union into the bare literal.
 */
export function LiteralUnion<const T extends readonly [string, string, ...string[]]>(
  values: T,
): TUnion<LiteralsOf<T>> {
  return Type.Union(values.map((value) => Type.Literal(value))) as unknown as TUnion<LiteralsOf<T>>;
}
