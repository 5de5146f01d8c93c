import { type Readable } from 'node:stream';
import { parse, type CsvError } from 'csv-parse';
import { NotFoundError, ValidationError } from '@herald/runtime';
import { type AuthContext } from '../../context';
import { checkEmail } from '../../accounts/domain/email-address';
import { upsertSubscribers } from '../../subscribers/domain/bulk-upserts';
import { type SubscriberInput, MAX_DATA_BYTES } from '../../subscribers/domain/subscribers';
import { addKnownMembers } from './members';
import { createTopic, findLiveTopic } from './topics';

/** Rows upserted (and added to the topic) at once: the most the import holds in memory. */
export const IMPORT_BATCH_ROWS = 500;
/** Rejections listed in the report (all are counted): a file of bad rows must not grow the answer. */
export const MAX_LISTED_REJECTIONS = 1_000;
/** The longest line accepted; a longer one is rejected, never buffered whole. */
const MAX_RECORD_BYTES = 64 * 1024;

const EXTERNAL_ID = /^[A-Za-z0-9._:@-]{1,128}$/;
const PHONE = /^\+[1-9]\d{1,14}$/;
const LOCALE = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;
/** Columns with a meaning of their own; every other column goes into `data`. */
const KNOWN_COLUMNS = new Set(['externalid', 'email', 'phone', 'name', 'locale', 'timezone']);

export interface Rejection {
  line: number;
  reason: string;
}

export interface ImportReport {
  importId: string;
  topic: string;
  topicCreated: boolean;
  state: 'completed';
  rows: number;
  created: number;
  updated: number;
  unchanged: number;
  rejectedCount: number;
  rejected: Rejection[];
}

interface Row {
  line: number;
  externalId: string;
  input: SubscriberInput;
}

interface Header {
  names: string[];
}

function readHeader(record: string[]): Header {
  const names = record.map((name) => name.trim());
  const lower = names.map((name) => name.toLowerCase());
  const errors: { field: string; message: string }[] = [];
  if (!lower.includes('email')) {
    errors.push({ field: '/body/header', message: 'the CSV has no email column' });
  }
  const seen = new Set<string>();
  lower.forEach((name, index) => {
    if (!name) errors.push({ field: `/body/header/${index}`, message: 'a column has no name' });
    else if (seen.has(name))
      errors.push({ field: `/body/header/${index}`, message: `${name} appears twice` });
    seen.add(name);
  });
  if (errors.length > 0) {
    throw new ValidationError(
      `The CSV header is not usable: ${errors.map((error) => error.message).join('; ')}`,
      errors,
      'csv_header_invalid',
    );
  }
  return { names };
}

/** One CSV record as a subscriber, or the reason it is refused. */
function readRow(header: Header, record: string[], line: number): Row | Rejection {
  if (record.length !== header.names.length) {
    return { line, reason: `expected ${header.names.length} fields, found ${record.length}` };
  }
  const input: SubscriberInput = {};
  const data: Record<string, string> = {};
  let externalId: string | undefined;
  for (let index = 0; index < record.length; index += 1) {
    const name = header.names[index]!;
    const column = name.toLowerCase();
    const value = record[index]!.trim();
    if (value === '') continue;
    if (!KNOWN_COLUMNS.has(column)) {
      data[name] = value;
      continue;
    }
    if (column === 'externalid') {
      if (!EXTERNAL_ID.test(value)) return { line, reason: 'externalId must be 1–128 of [A-Za-z0-9._:@-]' };
      externalId = value;
    } else if (column === 'email') {
      const check = checkEmail(value);
      if (!check.valid && check.reason !== 'disposable')
        return { line, reason: `email is invalid (${check.reason})` };
      input.email = check.normalized;
    } else if (column === 'phone') {
      if (!PHONE.test(value)) return { line, reason: 'phone must be E.164, e.g. +14155550123' };
      input.phone = value;
    } else if (column === 'name') {
      if (value.length > 200) return { line, reason: 'name is longer than 200 characters' };
      input.name = value;
    } else if (column === 'locale') {
      if (!LOCALE.test(value)) return { line, reason: 'locale is not a language tag such as en or pt-BR' };
      input.locale = value;
    } else if (column === 'timezone') {
      input.timezone = value;
    }
  }
  if (!input.email) return { line, reason: 'email is empty' };
  if (Object.keys(data).length > 0) input.data = data;
  if (input.data && Buffer.byteLength(JSON.stringify(input.data)) > MAX_DATA_BYTES) {
    return { line, reason: `the custom columns exceed ${MAX_DATA_BYTES} bytes` };
  }
  externalId ??= input.email;
  if (!EXTERNAL_ID.test(externalId)) {
    return { line, reason: 'the email cannot serve as the external id (add an externalId column)' };
  }
  return { line, externalId, input };
}

/**
 * Imports a CSV stream into subscribers and a topic (issue #24). The file
 * is parsed as it arrives and handled in batches of IMPORT_BATCH_ROWS
 * (backpressure holds the upload meanwhile), so memory does not grow with
 * the file. Nothing is written before the header is read and found usable
 * (an email column: else 400) and the topic is found (404, or created with
 * `createTopic`). Each batch: subscribers upserted (each with its event),
 * then added to the topic. A row that cannot be read (a broken quote, the
 * wrong number of fields, a bad address) is rejected with its line; the
 * others go on. The `topic_imports` record keeps the counts as the import
 * goes, so an import cut short still has its report; importing the same
 * file again is safe (upserts, idempotent membership).
 */
export async function importCsv(
  ctx: AuthContext,
  options: { key: string; createTopicIfMissing: boolean; source: Readable; correlationId: string },
): Promise<ImportReport> {
  const { key, source, correlationId } = options;
  const exists = await findLiveTopic(ctx, key).then(
    () => true,
    (error: unknown) => {
      if (error instanceof NotFoundError && options.createTopicIfMissing) return false;
      throw error;
    },
  );

  const skipped: Rejection[] = [];
  const parser = parse({
    bom: true,
    relax_column_count: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    max_record_size: MAX_RECORD_BYTES,
    info: true,
  });
  let lastSkippedLine = -1;
  parser.on('skip', (error: CsvError & { lines?: number }) => {
    // the parser may stumble more than once on one broken line: it is one rejected row
    const line = error.lines ?? 0;
    if (line === lastSkippedLine) return;
    lastSkippedLine = line;
    skipped.push({ line, reason: `unreadable row: ${error.message}` });
  });
  source.on('error', (error) => parser.destroy(error));
  source.pipe(parser);

  let header: Header | undefined;
  let importId: string | undefined;
  const report = { rows: 0, created: 0, updated: 0, unchanged: 0, rejectedCount: 0 };
  const listed: Rejection[] = [];
  let batch: Row[] = [];
  let pendingRejections: Rejection[] = [];
  let lastLine = 0;

  const reject = (rejection: Rejection) => {
    report.rejectedCount += 1;
    pendingRejections.push(rejection);
    if (listed.length < MAX_LISTED_REJECTIONS) listed.push(rejection);
  };

  const flush = async () => {
    const rows = batch;
    batch = [];
    const counts = { created: 0, updated: 0, unchanged: 0 };
    if (rows.length > 0) {
      const outcomes = await upsertSubscribers(ctx, rows, correlationId);
      const members: string[] = [];
      outcomes.forEach((outcome, index) => {
        const row = rows[index]!;
        if (typeof outcome === 'object') {
          reject({ line: row.line, reason: outcome.rejected });
          return;
        }
        counts[outcome] += 1;
        report[outcome] += 1;
        members.push(row.externalId);
      });
      await addKnownMembers(ctx, key, [...new Set(members)], correlationId);
    }
    const rejections = pendingRejections;
    pendingRejections = [];
    await ctx.models.topicImports.updateOne(
      { _id: importId },
      {
        $inc: {
          created: counts.created,
          updated: counts.updated,
          unchanged: counts.unchanged,
          rejectedCount: rejections.length,
        },
        $push: { rejected: { $each: rejections, $slice: MAX_LISTED_REJECTIONS } },
        $set: { lastLine },
      },
    );
  };

  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: string[];
      info: { lines: number };
    }>) {
      while (skipped.length > 0) reject(skipped.shift()!);
      lastLine = info.lines;
      if (!header) {
        header = readHeader(record);
        // the header is usable: only now is anything written
        if (!exists) await createTopic(ctx, { key, name: key }, correlationId).catch(ignoreExists);
        const started = await ctx.models.topicImports.create({
          topic: key,
          state: 'running',
          startedAt: ctx.now(),
        });
        importId = String(started._id);
        ctx.logger.info({ importId, topic: key, correlationId }, 'topic import started');
        continue;
      }
      report.rows += 1;
      const row = readRow(header, record, info.lines);
      if ('reason' in row) reject(row);
      else batch.push(row);
      if (batch.length >= IMPORT_BATCH_ROWS || pendingRejections.length >= IMPORT_BATCH_ROWS) await flush();
    }
    while (skipped.length > 0) reject(skipped.shift()!);
    if (!header) {
      throw new ValidationError(
        'The CSV is empty: it needs a header with an email column',
        [{ field: '/body/header', message: 'the CSV has no email column' }],
        'csv_header_invalid',
      );
    }
    await flush();
  } catch (error) {
    parser.destroy();
    source.resume(); // drain what the client still sends, so it reads the answer
    if (importId) {
      await ctx.models.topicImports
        .updateOne(
          { _id: importId },
          { $set: { state: 'failed', error: (error as Error).message, finishedAt: ctx.now(), lastLine } },
        )
        .catch(() => undefined);
    }
    throw error;
  }
  await ctx.models.topicImports.updateOne(
    { _id: importId },
    { $set: { state: 'completed', finishedAt: ctx.now() } },
  );
  return {
    importId: importId!,
    topic: key,
    topicCreated: !exists,
    state: 'completed',
    ...report,
    // a broken row is reported as the parser meets it, which may be before the rows above it
    rejected: listed.sort((a, b) => a.line - b.line),
  };
}

/** Two imports creating the same topic at once: the other one did. */
function ignoreExists(error: unknown): void {
  if ((error as { code?: string }).code !== 'topic_exists') throw error;
}

/** A topic's imports, newest first (the last 20): how a client finds one whose answer it never got. */
export async function listImports(ctx: AuthContext, key: string) {
  await findLiveTopic(ctx, key);
  const found = await ctx.models.topicImports
    .find({ topic: key }, { _id: 1 })
    .sort({ startedAt: -1 })
    .limit(20)
    .lean<{ _id: unknown }[]>();
  return { items: await Promise.all(found.map((entry) => getImport(ctx, key, String(entry._id)))) };
}

/** An import's record: its counts so far and the first rejections (for one that was cut short). */
export async function getImport(ctx: AuthContext, key: string, id: string) {
  const found = /^[0-9a-f]{24}$/.test(id)
    ? await ctx.models.topicImports.findOne({ _id: id, topic: key }).lean()
    : null;
  if (!found) throw new NotFoundError('import_not_found', 'No such import of this topic');
  return {
    importId: String(found._id),
    topic: found.topic,
    state: found.state as 'running' | 'completed' | 'failed',
    created: found.created ?? 0,
    updated: found.updated ?? 0,
    unchanged: found.unchanged ?? 0,
    rejectedCount: found.rejectedCount ?? 0,
    rejected: (found.rejected ?? []).map((r) => ({ line: r.line ?? 0, reason: r.reason ?? '' })),
    lastLine: found.lastLine ?? 0,
    ...(found.error ? { error: found.error } : {}),
    startedAt: found.startedAt.toISOString(),
    ...(found.finishedAt ? { finishedAt: found.finishedAt.toISOString() } : {}),
  };
}
