import { ConflictError } from '../errors';

const DUPLICATE_KEY_CODES = new Set([11000, 11001]);

export interface DriverError {
  code?: unknown;
  message?: unknown;
  keyPattern?: unknown;
  keyValue?: unknown;
}

/**
 * The one test for "a unique index refused this write": the driver's codes
 * 11000/11001, or the E11000 text that bulk-write errors and
 * mongo-java-server carry without a code.
 */
export function isDuplicateKeyError(error: unknown): error is DriverError {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as DriverError;
  if (typeof code === 'number' && DUPLICATE_KEY_CODES.has(code)) return true;
  return typeof message === 'string' && message.includes('E11000 duplicate key');
}

function objectKeys(value: unknown): string[] {
  return typeof value === 'object' && value !== null ? Object.keys(value) : [];
}

/**
 * The fields of the violated unique index. mongod ≥ 4.4 reports them as
 * `keyPattern` / `keyValue`; mongo-java-server (and bulk-write errors)
 * only in the message: `… index: email_1 dup key: { email: "a@b.c" }`.
 */
function duplicateKeyFields(error: DriverError): string[] {
  const fromPattern = objectKeys(error.keyPattern);
  if (fromPattern.length) return fromPattern;
  const fromValue = objectKeys(error.keyValue);
  if (fromValue.length) return fromValue;

  const message = typeof error.message === 'string' ? error.message : '';
  const dupKey = /dup key: \{(.*)\}/s.exec(message)?.[1];
  if (dupKey) {
    // blank out quoted values first: they may hold anything, commas and colons included
    const keys = dupKey
      .replace(/"(?:[^"\\]|\\.)*"/g, '""')
      .matchAll(/(?:^|,)\s*"?([A-Za-z_$][\w.$]*)"?\s*:/g);
    const fields = [...keys].map((match) => match[1]).filter((field): field is string => Boolean(field));
    if (fields.length) return fields;
  }
  const indexName = /index: (\S+)/.exec(message)?.[1];
  if (indexName) {
    // default index names are field_direction pairs: a_1_b_-1
    const fields = indexName
      .replace(/_(-?1|text|2dsphere|hashed)(?=_|$)/g, '\u0000')
      .split('\u0000')
      .filter(Boolean);
    if (fields.length) return fields;
  }
  return [];
}

/**
 * Turns a duplicate-key error into `ConflictError('duplicate_<fields>')`
 * (e.g. `duplicate_email`, `duplicate_tenant_email`); returns every other
 * error unchanged. The detail names the fields, never the values (they may
 * be personal data).
 *
 *   try { await User.create(input) } catch (err) { throw mapMongoError(err) }
 */
export function mapMongoError<E>(error: E): E | ConflictError {
  if (!isDuplicateKeyError(error)) return error;
  const fields = duplicateKeyFields(error);
  if (!fields.length)
    return new ConflictError('duplicate_key', 'A record with the same unique value already exists');
  const code = `duplicate_${fields
    .map((field) => field.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_+|_+$/g, ''))
    .filter(Boolean)
    .join('_')
    .toLowerCase()}`;
  const detail = `A record with the same ${fields.join(' and ')} already exists`;
  return new ConflictError(code === 'duplicate_' ? 'duplicate_key' : code, detail);
}

/**
 * mongod answers a racing createCollection with NamespaceExists (48);
 * mongo-java-server with "Document with key '<db>.<coll>' already existed in
 * … system.namespaces". Either means another caller created it first.
 */
export function isNamespaceExistsError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as DriverError;
  if (code === 48) return true;
  return typeof message === 'string' && /already exist(s|ed)/i.test(message);
}
