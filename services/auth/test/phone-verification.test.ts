import { waitFor } from '@herald/test-support';
import { startHarness, type AuthHarness, type SignedUp } from './harness';

describe('phone verification', () => {
  let auth: AuthHarness;
  beforeAll(async () => {
    auth = await startHarness('auth-phone');
  });
  afterAll(() => auth.close());

  const askCode = (user: SignedUp, phone: string) =>
    auth.request('POST', '/api/v1/auth/me/phone', { phone }, user.accessToken);
  const verify = (user: SignedUp, code: string) =>
    auth.request('POST', '/api/v1/auth/me/phone/verify', { code }, user.accessToken);
  const me = async (user: SignedUp) =>
    (await auth.request('GET', '/api/v1/auth/me', undefined, user.accessToken)).json();
  async function codes(user: SignedUp, count = 1) {
    return waitFor(
      () => {
        const found = auth.events
          .ofType('user.phone_verification_requested')
          .filter((event) => event.payload.userId === user.id);
        return found.length >= count ? found : undefined;
      },
      { description: `${count} phone code(s) for ${user.email}` },
    );
  }
  const wrong = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

  it('texts a 6-digit code to the number, which becomes the verified phone only with that code', async () => {
    const user = await auth.signUp('texted@example.com', undefined, { locale: 'es' });
    const asked = await askCode(user, '+34600111222');
    expect(asked.statusCode).toBe(202);
    expect(asked.json()).toEqual({ phone: '+34600111222', expiresAt: expect.any(String) });
    const [event] = await codes(user);
    expect(event!.payload).toEqual({
      userId: user.id,
      phone: '+34600111222',
      code: expect.stringMatching(/^\d{6}$/),
      expiresAt: asked.json().expiresAt,
      locale: 'es',
    });
    const stored = (await auth.models.users.findById(user.id).lean())!;
    expect(stored.phoneVerification!.expiresAt.getTime() - stored.phoneVerification!.sentAt.getTime()).toBe(
      600_000,
    );
    expect(JSON.stringify(stored.phoneVerification)).not.toContain(event!.payload.code);
    // pending is not the user's phone: not on /me, not in any snapshot
    expect(await me(user)).toMatchObject({ phoneVerified: false });
    expect((await me(user)).phone).toBeUndefined();

    expect((await verify(user, wrong(event!.payload.code))).json()).toMatchObject({
      status: 400,
      code: 'phone_code_invalid',
    });
    const verified = await verify(user, event!.payload.code);
    expect(verified.statusCode).toBe(200);
    expect(verified.json()).toMatchObject({ phone: '+34600111222', phoneVerified: true });
    const updated = await waitFor(() =>
      auth.events.ofType('user.updated').find((message) => message.payload.userId === user.id),
    );
    expect(updated.payload).toMatchObject({ phone: '+34600111222', phoneVerified: true });
    expect((await verify(user, event!.payload.code)).json()).toMatchObject({
      status: 409,
      code: 'no_phone_verification_pending',
    });
  });

  it('allows five tries per code, then only a new code', async () => {
    const user = await auth.signUp('fumbler@example.com');
    await askCode(user, '+14155550100');
    const [event] = await codes(user);
    const guesses = await Promise.all(
      Array.from({ length: 8 }, () => verify(user, wrong(event!.payload.code))),
    );
    expect(guesses.map((response) => response.json().code).sort()).toEqual([
      ...Array(3).fill('phone_code_attempts_exhausted'),
      ...Array(5).fill('phone_code_invalid'),
    ]);
    expect((await verify(user, event!.payload.code)).json().code).toBe('phone_code_attempts_exhausted');

    auth.clock.advance(61_000);
    await askCode(user, '+14155550100');
    const [, second] = await codes(user, 2);
    expect((await verify(user, second!.payload.code)).json()).toMatchObject({ phoneVerified: true });
  });

  it('expires a code after 10 minutes', async () => {
    const user = await auth.signUp('late-texter@example.com');
    await askCode(user, '+14155550101');
    const [event] = await codes(user);
    auth.clock.advance(600_000 + 1000);
    expect((await verify(user, event!.payload.code)).json()).toMatchObject({
      status: 400,
      code: 'phone_code_expired',
    });
  });

  it('sends one code a minute and five a day per user', async () => {
    const user = await auth.signUp('pumper@example.com');
    expect((await askCode(user, '+14155550102')).statusCode).toBe(202);
    const tooSoon = await askCode(user, '+14155550103');
    expect(tooSoon.json()).toMatchObject({ status: 429, code: 'phone_code_too_soon' });
    expect(Number(tooSoon.headers['retry-after'])).toBeGreaterThan(50);
    for (let i = 0; i < 4; i += 1) {
      auth.clock.advance(61_000);
      expect((await askCode(user, `+1415555011${i}`)).statusCode).toBe(202);
    }
    auth.clock.advance(61_000);
    const sixth = await askCode(user, '+14155550120');
    expect(sixth.json()).toMatchObject({ status: 429, code: 'too_many_phone_codes' });
    await codes(user, 5);
    auth.clock.advance(86_400_000);
    const tomorrow = (
      await auth.request('POST', '/api/v1/auth/login', { email: user.email, password: user.password })
    ).json();
    expect((await askCode({ ...user, ...tomorrow }, '+14155550120')).statusCode).toBe(202);
  });

  it('sends five codes a day at most to one number, whoever asks', async () => {
    for (let i = 0; i < 5; i += 1) {
      const user = await auth.signUp(`pump${i}@example.com`);
      expect((await askCode(user, '+447700900999')).statusCode).toBe(202);
    }
    const sixth = await auth.signUp('pump5@example.com');
    expect((await askCode(sixth, '+447700900999')).json()).toMatchObject({
      status: 429,
      code: 'too_many_phone_codes',
    });
  });

  it('no longer takes a phone number from the profile or at registration; removing one clears phoneVerified', async () => {
    const user = await auth.signUp('direct@example.com');
    const patched = await auth.request(
      'PATCH',
      '/api/v1/auth/me',
      { phone: '+14155550130' },
      user.accessToken,
    );
    expect(patched.json()).toMatchObject({ status: 400, code: 'validation_failed' });
    const registered = await auth.request('POST', '/api/v1/auth/register', {
      email: 'direct-register@example.com',
      password: 'a long enough password',
      name: 'Direct',
      phone: '+14155550131',
    });
    expect(registered.json()).toMatchObject({ status: 400, code: 'validation_failed' });

    await askCode(user, '+14155550132');
    const [event] = await codes(user);
    await verify(user, event!.payload.code);
    const removed = await auth.request('PATCH', '/api/v1/auth/me', { phone: null }, user.accessToken);
    expect(removed.json()).toMatchObject({ phoneVerified: false });
    expect(removed.json().phone).toBeUndefined();
  });

  it('takes a number from whoever verified it before, when someone else proves it', async () => {
    const before = await auth.signUp('old-owner@example.com');
    await askCode(before, '+14155550140');
    await verify(before, (await codes(before))[0]!.payload.code);
    const after = await auth.signUp('new-owner@example.com');
    await askCode(after, '+14155550140');
    await verify(after, (await codes(after))[0]!.payload.code);
    expect(await me(after)).toMatchObject({ phone: '+14155550140', phoneVerified: true });
    const previous = await me(before);
    expect(previous).toMatchObject({ phoneVerified: false });
    expect(previous.phone).toBeUndefined();
  });
});
