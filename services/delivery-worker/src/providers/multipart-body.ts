import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

const CRLF = '\r\n';
/** Unguessable per process, so no message text can carry it; the counter keeps each form's own. */
const BOUNDARY_PREFIX = `herald-${randomBytes(12).toString('hex')}-`;
let formCount = 0;

/**
 * The FormData that the MailgunProvider hands to `mailgun.js`: text fields
 * only, encoded at once into one Buffer.
 *
 * mailgun.js takes the FormData class to use (`new Mailgun(FormData)`). With
 * the platform's FormData, its bundled axios streams the body from an async
 * generator, a few chunks per field; at hundreds of sends a second that was
 * a quarter of the client's CPU per send (bench/worker-sends.ts). This class
 * keeps the contract of the `form-data` package that mailgun.js and axios
 * recognise (`append`, `getHeaders`, `getLength`, a readable stream), so the
 * request is one write, and it encodes exactly as axios encodes a platform
 * FormData (field names escaped, line breaks as CRLF).
 */
export class MultipartBody extends Readable {
  private readonly boundary: string;
  private readonly parts: string[] = [];
  private encoded?: Buffer;

  constructor() {
    super();
    formCount = (formCount + 1) % Number.MAX_SAFE_INTEGER;
    this.boundary = `${BOUNDARY_PREFIX}${formCount}`;
  }

  /** mailgun.js appends each field, and each value of a repeated one (`to`, `o:tag`), as a string. */
  append(name: string, value: unknown): void {
    if (typeof value !== 'string') {
      throw new TypeError(`Mailgun field ${name}: only text fields are sent (no attachments)`);
    }
    if (this.encoded) throw new Error('the form was already encoded');
    this.parts.push(
      `--${this.boundary}${CRLF}Content-Disposition: form-data; name="${escapeName(name)}"${CRLF}${CRLF}` +
        `${value.replace(/\r?\n|\r\n?/g, CRLF)}${CRLF}`,
    );
  }

  getHeaders(extra: Record<string, string> = {}): Record<string, string> {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(extra)) headers[name.toLowerCase()] = value;
    headers['content-type'] = `multipart/form-data; boundary=${this.boundary}`;
    return headers;
  }

  getLength(callback: (error: Error | null, length?: number) => void): void {
    callback(null, this.body().length);
  }

  getLengthSync(): number {
    return this.body().length;
  }

  getBuffer(): Buffer {
    return this.body();
  }

  /** What axios checks (besides `append` and `getHeaders`) to treat this as a form-data form. */
  override toString(): string {
    return '[object FormData]';
  }

  override _read(): void {
    this.push(this.body());
    this.push(null);
  }

  private body(): Buffer {
    this.encoded ??= Buffer.from(`${this.parts.join('')}--${this.boundary}--${CRLF}`, 'utf8');
    return this.encoded;
  }
}

/** As browsers and axios escape a field name inside its quotes. */
function escapeName(name: string): string {
  return name.replace(/[\r\n"]/g, (match) => ({ '\r': '%0D', '\n': '%0A', '"': '%22' })[match]!);
}
