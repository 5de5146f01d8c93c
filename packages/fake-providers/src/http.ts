import { type IncomingMessage, type ServerResponse } from 'node:http';
import { type ApiAnswer } from './fake-server';

export function send(response: ServerResponse, answer: ApiAnswer): void {
  if (answer.status === 204) {
    response.writeHead(204, answer.headers).end();
    return;
  }
  const isText = typeof answer.body === 'string';
  response.writeHead(answer.status, {
    'content-type': isText ? 'text/plain; charset=utf-8' : 'application/json',
    ...answer.headers,
  });
  response.end(isText ? (answer.body as string) : JSON.stringify(answer.body));
}

export async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Reads a form body (urlencoded or multipart) with the platform's own parser, keeping repeated fields. */
export async function parseForm(
  contentType: string | undefined,
  body: Buffer,
): Promise<Record<string, string[]>> {
  const fields: Record<string, string[]> = {};
  const add = (name: string, value: string) => {
    (fields[name] ??= []).push(value);
  };
  if (!contentType) return fields;
  if (contentType.startsWith('application/x-www-form-urlencoded')) {
    for (const [name, value] of new URLSearchParams(body.toString('utf8'))) add(name, value);
    return fields;
  }
  if (contentType.startsWith('multipart/form-data')) {
    const simple = parseSimpleMultipart(contentType, body);
    if (simple) {
      for (const [name, value] of simple) add(name, value);
      return fields;
    }
    const form = await new Response(body, { headers: { 'content-type': contentType } }).formData();
    for (const [name, value] of form) add(name, typeof value === 'string' ? value : `[file ${value.name}]`);
  }
  return fields;
}

const DISPOSITION = /^form-data; name="([^"]*)"$/i;

/**
 * The common case of a multipart body — text fields only, each with a plain
 * `Content-Disposition: form-data; name="…"` — read directly, with the
 * result the platform's parser gives (names unescaped as it unescapes them).
 * The platform parser (a Response, a web stream, a FormData) cost the fake
 * more CPU per request than the worker's own client spent sending it, and a
 * benchmark runs the fake on the same machine. Anything else (files, other
 * headers, a preamble, a quoted boundary, a malformed body) returns
 * undefined, and the platform parser decides, as before.
 */
function parseSimpleMultipart(contentType: string, body: Buffer): [string, string][] | undefined {
  const boundary = /;\s*boundary=([^";\s]+)\s*(?:;|$)/i.exec(contentType)?.[1];
  if (!boundary) return undefined;
  const text = body.toString('utf8');
  const delimiter = `--${boundary}`;
  if (!text.startsWith(`${delimiter}\r\n`)) return undefined;
  const fields: [string, string][] = [];
  let position = delimiter.length + 2;
  for (;;) {
    const headersEnd = text.indexOf('\r\n\r\n', position);
    if (headersEnd < 0) return undefined;
    let name: string | undefined;
    for (const line of text.slice(position, headersEnd).split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon < 0) return undefined;
      const header = line.slice(0, colon).trim().toLowerCase();
      if (header === 'content-type') continue;
      if (header !== 'content-disposition' || name !== undefined) return undefined;
      name = DISPOSITION.exec(line.slice(colon + 1).trim())?.[1];
      if (name === undefined) return undefined;
    }
    if (name === undefined) return undefined;
    const valueStart = headersEnd + 4;
    const valueEnd = text.indexOf(`\r\n${delimiter}`, valueStart);
    if (valueEnd < 0) return undefined;
    fields.push([unescapeName(name), text.slice(valueStart, valueEnd)]);
    position = valueEnd + 2 + delimiter.length;
    if (text.startsWith('--', position)) return fields;
    if (!text.startsWith('\r\n', position)) return undefined;
    position += 2;
  }
}

/** The reverse of the escaping that browsers (and axios) apply to a field name. */
function unescapeName(name: string): string {
  return name.replace(
    /%0A|%0D|%22/gi,
    (match) => ({ '%0A': '\n', '%0D': '\r', '%22': '"' })[match.toUpperCase()]!,
  );
}

/** The `user:password` of a Basic Authorization header, or undefined. */
export function basicCredentials(request: IncomingMessage): { user: string; password: string } | undefined {
  const header = request.headers.authorization;
  if (!header?.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
