import { checkEmail } from '../src/accounts/domain/email-address';
import { startHarness, type AuthHarness } from './harness';

describe('email validation', () => {
  it.each([
    ['  John.Smith+news@Example.CO.uk ', { valid: true, normalized: 'john.smith+news@example.co.uk' }],
    ["o'brien@example.ie", { valid: true, normalized: "o'brien@example.ie" }],
    ['user@xn--bcher-kva.example', { valid: true, normalized: 'user@xn--bcher-kva.example' }],
    ['plainaddress', { valid: false, reason: 'syntax' }],
    ['two@@example.com', { valid: false, reason: 'syntax' }],
    ['.leading@example.com', { valid: false, reason: 'syntax' }],
    ['double..dot@example.com', { valid: false, reason: 'syntax' }],
    ['no-tld@localhost', { valid: false, reason: 'syntax' }],
    ['dash@-example.com', { valid: false, reason: 'syntax' }],
    ['numeric@example.123', { valid: false, reason: 'syntax' }],
    ['"quoted"@example.com', { valid: false, reason: 'syntax' }],
    [`${'a'.repeat(65)}@example.com`, { valid: false, reason: 'too_long' }],
    [`a@${'b'.repeat(64)}.com`, { valid: false, reason: 'too_long' }],
    [
      `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(60)}.com`,
      { valid: false, reason: 'too_long' },
    ],
    ['temp@mailinator.com', { valid: false, reason: 'disposable' }],
    ['temp@inbox.mailinator.com', { valid: false, reason: 'disposable' }],
  ])('%s', (email, expected) => {
    expect(checkEmail(email)).toMatchObject(expected);
  });

  describe('POST /api/v1/auth/validate-email', () => {
    let auth: AuthHarness;
    beforeAll(async () => {
      auth = await startHarness('auth-validate-email');
    });
    afterAll(() => auth.close());

    it('answers valid, normalized and the reason', async () => {
      const good = await auth.request('POST', '/api/v1/auth/validate-email', { email: ' Ada@Example.com' });
      expect(good.json()).toEqual({ valid: true, normalized: 'ada@example.com' });
      const throwaway = await auth.request('POST', '/api/v1/auth/validate-email', {
        email: 'x@Mailinator.com',
      });
      expect(throwaway.json()).toEqual({
        valid: false,
        normalized: 'x@mailinator.com',
        reason: 'disposable',
      });
      const missing = await auth.request('POST', '/api/v1/auth/validate-email', {});
      expect(missing.json()).toMatchObject({ status: 400, errors: [{ field: '/body/email' }] });
    });
  });
});
