/**
 * A TCP proxy in front of MongoDB that counts the commands clients send,
 * per database and command name, without touching the clients: how the
 * gateway benchmark counts a service's database operations per request.
 *
 * It reads the MongoDB wire protocol of the client-to-server direction
 * (https://www.mongodb.com/docs/manual/reference/mongodb-wire-protocol/):
 * every message starts with a 16-byte header (length, requestID,
 * responseTo, opCode). An OP_MSG (2013) carries its command as the one
 * body section (kind 0): a BSON document whose first key is the command
 * name and whose `$db` names the database. The legacy OP_QUERY (2004),
 * which a driver still uses for its first handshake, names
 * `<db>.$cmd`. Server-to-client bytes are passed through untouched.
 *
 * Run as a child process (startMongoWireProxy forks this file) so its CPU is
 * neither the load generator's nor the service's; it answers count requests
 * over the IPC channel.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { connect, createServer, type Socket } from 'node:net';

const OP_COMPRESSED = 2012;
const OP_MSG = 2013;
const OP_QUERY = 2004;
const CHECKSUM_PRESENT = 1;

/** connection and monitoring chatter, not work a request asked for */
export const HEARTBEAT_COMMANDS = new Set(['hello', 'ismaster', 'ping', 'buildinfo', 'endsessions']);

/** how many commands of one kind, and the statements (documents, updates, deletes) they carried */
export interface Tally {
  commands: number;
  statements: number;
}

/** database → "command collection" (e.g. "insert notifications") → tally */
export type CommandCounts = Record<string, Record<string, Tally>>;

function cstringEnd(buffer: Buffer, start: number): number {
  const end = buffer.indexOf(0, start);
  if (end < 0) throw new Error('unterminated BSON cstring');
  return end;
}

/** Where the value of a BSON element of `type` that starts at `at` ends. */
function skipValue(buffer: Buffer, type: number, at: number): number {
  switch (type) {
    case 0x01: // double
    case 0x09: // UTC datetime
    case 0x11: // timestamp
    case 0x12: // int64
      return at + 8;
    case 0x02: // string
    case 0x0d: // JavaScript code
    case 0x0e: // symbol
      return at + 4 + buffer.readInt32LE(at);
    case 0x03: // document
    case 0x04: // array
    case 0x0f: // code with scope
      return at + buffer.readInt32LE(at);
    case 0x05: // binary: length, subtype, bytes
      return at + 5 + buffer.readInt32LE(at);
    case 0x06: // undefined
    case 0x0a: // null
    case 0x7f: // max key
    case 0xff: // min key
      return at;
    case 0x07: // ObjectId
      return at + 12;
    case 0x08: // boolean
      return at + 1;
    case 0x0b: // regex: pattern and options, two cstrings
      return cstringEnd(buffer, cstringEnd(buffer, at) + 1) + 1;
    case 0x0c: // DBPointer: string then ObjectId
      return at + 4 + buffer.readInt32LE(at) + 12;
    case 0x10: // int32
      return at + 4;
    case 0x13: // decimal128
      return at + 16;
    default:
      throw new Error(`unknown BSON type 0x${type.toString(16)}`);
  }
}

/** the array of statements a write command carries, in its body or as a document sequence */
const STATEMENTS: Record<string, string> = { insert: 'documents', update: 'updates', delete: 'deletes' };

export interface ParsedCommand {
  db: string;
  /** the command name: the body's first key */
  name: string;
  /** the collection it names (the first key's value), if a string */
  collection: string | undefined;
  /** documents inserted, updates or deletes of a write command; 1 for any other */
  statements: number;
}

function countElements(buffer: Buffer, start: number): number {
  const end = start + buffer.readInt32LE(start) - 1;
  let at = start + 4;
  let count = 0;
  while (at < end) {
    const keyEnd = cstringEnd(buffer, at + 1);
    at = skipValue(buffer, buffer[at]!, keyEnd + 1);
    count += 1;
  }
  return count;
}

function readString(buffer: Buffer, at: number): string {
  return buffer.toString('utf8', at + 4, at + 4 + buffer.readInt32LE(at) - 1);
}

/** The command in the BSON document at `start`: its first key, that key's string value, `$db`, statements. */
function commandOf(buffer: Buffer, start: number): Omit<ParsedCommand, 'db'> & { db: string | undefined } {
  const end = start + buffer.readInt32LE(start) - 1; // the document's trailing 0
  let at = start + 4;
  let name = '';
  let collection: string | undefined;
  let db: string | undefined;
  let statements: number | undefined;
  while (at < end) {
    const type = buffer[at]!;
    const keyEnd = cstringEnd(buffer, at + 1);
    const key = buffer.toString('latin1', at + 1, keyEnd);
    const value = keyEnd + 1;
    if (!name) {
      name = key;
      if (type === 0x02) collection = readString(buffer, value);
    } else if (key === '$db' && type === 0x02) db = readString(buffer, value);
    else if (type === 0x04 && key === STATEMENTS[name]) statements = countElements(buffer, value);
    at = skipValue(buffer, type, value);
  }
  return { name, collection, db, statements: statements ?? 1 };
}

/** The command one complete client message carries, if it carries one. */
export function parseClientMessage(message: Buffer): ParsedCommand | undefined {
  const opCode = message.readInt32LE(12);
  if (opCode === OP_MSG) {
    const flags = message.readUInt32LE(16);
    const end = message.length - (flags & CHECKSUM_PRESENT ? 4 : 0);
    let body: ReturnType<typeof commandOf> | undefined;
    let sequenced = 0;
    let at = 20;
    while (at < end) {
      const kind = message[at]!;
      if (kind === 0) {
        body = commandOf(message, at + 1);
        at += 1 + message.readInt32LE(at + 1);
        continue;
      }
      // kind 1: size, identifier, then documents up to the section's end
      const sectionEnd = at + 1 + message.readInt32LE(at + 1);
      let doc = cstringEnd(message, at + 5) + 1;
      for (; doc < sectionEnd; doc += message.readInt32LE(doc)) sequenced += 1;
      at = sectionEnd;
    }
    if (!body) return undefined;
    return {
      ...body,
      db: body.db ?? '(none)',
      statements: sequenced || body.statements,
    };
  }
  if (opCode === OP_QUERY) {
    const collectionEnd = cstringEnd(message, 20);
    const namespace = message.toString('utf8', 20, collectionEnd);
    const { name, collection, statements } = commandOf(message, collectionEnd + 1 + 8);
    return { db: namespace.split('.')[0]!, name, collection, statements };
  }
  if (opCode === OP_COMPRESSED)
    return { db: '(compressed)', name: '(compressed)', collection: undefined, statements: 1 };
  return undefined;
}

/** Splits a byte stream into wire messages (each starts with its int32 length). */
class MessageSplitter {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly onMessage: (message: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (this.buffered < 4) return;
      const head = this.chunks[0]!.length >= 4 ? this.chunks[0]! : this.flatten();
      const length = head.readInt32LE(0);
      if (this.buffered < length) return;
      const all = this.flatten();
      this.onMessage(all.subarray(0, length));
      const rest = all.subarray(length);
      this.chunks = rest.length ? [rest] : [];
      this.buffered = rest.length;
    }
  }

  private flatten(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0]!;
  }
}

export interface WireProxy {
  /** mongodb://127.0.0.1:<port>, no database */
  url: string;
  pid: number;
  /** every command counted since the proxy started */
  counts(): Promise<CommandCounts>;
  stop(): Promise<void>;
}

/** Forks this file as a proxy to `target` (host:port) and resolves once it listens. */
export function startMongoWireProxy(target: string): Promise<WireProxy> {
  const child: ChildProcess = fork(__filename, [target], {
    execArgv: ['--conditions=@herald/source', '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let nextRequest = 0;
  const waiting = new Map<number, (counts: CommandCounts) => void>();
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the MongoDB wire proxy exited (code ${code})`)));
    child.on('message', (message: { type: string; port?: number; id?: number; counts?: CommandCounts }) => {
      if (message.type === 'counts') {
        waiting.get(message.id!)?.(message.counts!);
        waiting.delete(message.id!);
        return;
      }
      if (message.type !== 'listening') return;
      resolve({
        url: `mongodb://127.0.0.1:${message.port}`,
        pid: child.pid!,
        counts: () =>
          new Promise((resolveCounts) => {
            const id = nextRequest++;
            waiting.set(id, resolveCounts);
            child.send({ type: 'counts', id });
          }),
        stop: () =>
          new Promise((resolveStop) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolveStop();
            child.once('exit', () => resolveStop());
            child.kill('SIGTERM');
          }),
      });
    });
  });
}

export interface CommandsBetween {
  commands: number;
  statements: number;
  /** by "command collection" */
  byCommand: Record<string, Tally>;
}

/** Commands (heartbeats aside) sent to `db` between two count readings. */
export function commandsBetween(before: CommandCounts, after: CommandCounts, db: string): CommandsBetween {
  const result: CommandsBetween = { commands: 0, statements: 0, byCommand: {} };
  for (const [key, tally] of Object.entries(after[db] ?? {})) {
    if (HEARTBEAT_COMMANDS.has(key.split(' ')[0]!.toLowerCase())) continue;
    const commands = tally.commands - (before[db]?.[key]?.commands ?? 0);
    const statements = tally.statements - (before[db]?.[key]?.statements ?? 0);
    if (commands <= 0) continue;
    result.byCommand[key] = { commands, statements };
    result.commands += commands;
    result.statements += statements;
  }
  return result;
}

function runProxy(target: string): void {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.split(':').pop())];
  const counts: CommandCounts = {};
  const count = (message: Buffer) => {
    let command: ParsedCommand | undefined;
    try {
      command = parseClientMessage(message);
    } catch {
      command = { db: '(unparsed)', name: '(unparsed)', collection: undefined, statements: 1 };
    }
    if (!command) return;
    const key = command.collection ? `${command.name} ${command.collection}` : command.name;
    const tally = ((counts[command.db] ??= {})[key] ??= { commands: 0, statements: 0 });
    tally.commands += 1;
    tally.statements += command.statements;
  };
  const server = createServer((client: Socket) => {
    const upstream = connect({ host, port });
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const splitter = new MessageSplitter(count);
    client.on('data', (chunk: Buffer) => {
      splitter.push(chunk);
      if (!upstream.write(chunk)) {
        client.pause();
        upstream.once('drain', () => client.resume());
      }
    });
    upstream.pipe(client);
    client.on('end', () => upstream.end());
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    process.send!({ type: 'listening', port: typeof address === 'object' && address ? address.port : 0 });
  });
  process.on('message', (message: { type: string; id: number }) => {
    if (message.type === 'counts') process.send!({ type: 'counts', id: message.id, counts });
  });
  process.on('disconnect', () => process.exit(0)); // the parent is gone
  process.on('SIGTERM', () => process.exit(0));
}

if (require.main === module) runProxy(process.argv[2]!);
