import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { type FieldError } from '@herald/runtime';
import { fieldErrorsFromValidation } from '@herald/runtime/http';
import { type VariablesSchema } from '../data/content-types';

/*
 * A template's `variables` is a JSON Schema for the `data` of a send.
 * Compiled with ajv once per version (the compiled template holds the
 * function), so a send only runs it. `useDefaults`: a default declared in
 * the schema fills an absent variable. `strict`: an unknown keyword in an
 * admin's schema is an error at save time, not a silently ignored typo.
 */
export function createVariablesCompiler() {
  const ajv = new Ajv({
    allErrors: true,
    useDefaults: true,
    strict: true,
    strictTypes: false,
    logger: false,
  });
  addFormats(ajv);
  return {
    /**
     * Throws (with ajv's message) when the schema itself is invalid.
     * `release` frees it when the version leaves the template cache. An
     * `$id` is dropped: two versions of one template may carry the same
     * one, and ajv refuses a second schema under an id it holds.
     */
    compile(schema: VariablesSchema): { validate: ValidateFunction; release: () => void } {
      const {
        $id: _id,
        $schema: _dialect,
        ...own
      } = schema as VariablesSchema & { $id?: unknown; $schema?: unknown };
      const validate = ajv.compile(own);
      return { validate, release: () => ajv.removeSchema(own) };
    },
  };
}
export type VariablesCompiler = ReturnType<typeof createVariablesCompiler>;

/**
 * Checks `data` (a copy: defaults are filled in), naming each bad variable
 * by its JSON pointer in the request, e.g. `/body/template/data/name`.
 */
export function checkData(
  validate: ValidateFunction,
  data: Record<string, unknown>,
  pointer: string,
): { data: Record<string, unknown>; errors: FieldError[] } {
  const copy = structuredClone(data);
  if (validate(copy)) return { data: copy, errors: [] };
  return { data: copy, errors: fieldErrorsFromValidation(pointer.replace(/^\//, ''), validate.errors ?? []) };
}
