import { parseForm } from '../src';

/** What the platform's own multipart parser makes of a body: the reference the fakes always used. */
async function platformFields(contentType: string, body: Buffer) {
  const fields: Record<string, string[]> = {};
  const form = await new Response(body, { headers: { 'content-type': contentType } }).formData();
  for (const [name, value] of form) {
    (fields[name] ??= []).push(typeof value === 'string' ? value : `[file ${value.name}]`);
  }
  return fields;
}

/** A body as the platform's FormData encodes it (the way fetch and undici send one). */
async function encoded(form: FormData) {
  const request = new Request('http://fake.test/', { method: 'POST', body: form });
  return {
    contentType: request.headers.get('content-type')!,
    body: Buffer.from(await request.arrayBuffer()),
  };
}

const raw = (boundary: string, text: string, contentType = `multipart/form-data; boundary=${boundary}`) => ({
  contentType,
  body: Buffer.from(text, 'utf8'),
});

describe('parseForm, on multipart bodies', () => {
  it('reads what the platform FormData sends exactly as the platform parser does', async () => {
    const form = new FormData();
    form.append('from', 'Herald <noreply@mg.example.com>');
    form.append('to', 'Zoë "Z" <zoë@example.com>');
    form.append('to', 'second@example.com');
    form.append('text', 'line one\nline two\r\nline three\rend -- with --dashes--');
    form.append('html', '<p>ça va? ✓</p>');
    form.append('v:quote"d', 'v"1');
    form.append('v:new\nline', '');
    form.append('empty', '');
    const { contentType, body } = await encoded(form);
    const fields = await parseForm(contentType, body);
    expect(fields).toEqual(await platformFields(contentType, body));
    expect(fields.to).toEqual(['Zoë "Z" <zoë@example.com>', 'second@example.com']);
    expect(fields['v:quote"d']).toEqual(['v"1']);
  });

  it('agrees with the platform parser on the shapes it does not read itself', async () => {
    const b = 'XyZ123';
    const part = (name: string, value: string, extra = '') =>
      `--${b}\r\nContent-Disposition: form-data; name="${name}"${extra}\r\n\r\n${value}\r\n`;
    const cases = [
      // a file among text fields
      raw(
        b,
        `${part('a', '1')}--${b}\r\nContent-Disposition: form-data; name="f"; filename="x.txt"\r\nContent-Type: text/plain\r\n\r\nfile body\r\n--${b}--\r\n`,
      ),
      // a text part with its own content type, lower-case header names, escapes in lower case
      raw(
        b,
        `--${b}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-disposition: form-data; name="a%0ab%22"\r\n\r\nv\r\n--${b}--`,
      ),
      // a quoted boundary parameter, and one followed by another parameter
      raw(b, `${part('a', '1')}--${b}--\r\n`, `multipart/form-data; boundary="${b}"`),
      raw(b, `${part('a', '1')}--${b}--\r\n`, `multipart/form-data; boundary=${b}; charset=utf-8`),
      // a value holding something like the delimiter but not it
      raw(b, `${part('a', `x\r\n--${b}x`)}--${b}--\r\n`),
    ];
    const outcome = (work: Promise<unknown>) =>
      work.then(
        (fields) => ({ fields }),
        () => 'rejected',
      );
    for (const { contentType, body } of cases) {
      expect(await outcome(parseForm(contentType, body))).toEqual(
        await outcome(platformFields(contentType, body)),
      );
    }
  });

  it('still rejects what the platform parser rejects', async () => {
    const b = 'XyZ123';
    const bodies = [
      raw(b, `preamble\r\n--${b}\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--${b}--\r\n`),
      raw(b, `--${b}\r\nContent-Disposition: form-data; name="a"\r\n\r\nno closing delimiter`),
    ];
    for (const { contentType, body } of bodies) {
      await expect(platformFields(contentType, body)).rejects.toThrow();
      await expect(parseForm(contentType, body)).rejects.toThrow();
    }
  });
});
