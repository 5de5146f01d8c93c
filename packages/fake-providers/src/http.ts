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
    const form = await new Response(body, { headers: { 'content-type': contentType } }).formData();
    for (const [name, value] of form) add(name, typeof value === 'string' ? value : `[file ${value.name}]`);
  }
  return fields;
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
