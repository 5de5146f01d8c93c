import { NotificationEnv, confirmationLingerMs, settingsFrom } from '../src/config';
import { loadConfig } from '@herald/runtime';

const base = { MONGO_URL: 'mongodb://127.0.0.1:27017/x', JWT_JWKS_URL: 'http://127.0.0.1:3001/jwks' };

describe('the confirmation log’s linger', () => {
  it('is OUTBOX_CONFIRM_LINGER_MS, at most a tenth of the grace period', () => {
    const settings = (env: Record<string, string>) =>
      settingsFrom(loadConfig('notification', NotificationEnv, { ...base, ...env }));
    expect(confirmationLingerMs(settings({}))).toBe(100);
    expect(confirmationLingerMs(settings({ OUTBOX_CONFIRM_LINGER_MS: '250' }))).toBe(250);
    expect(confirmationLingerMs(settings({ OUTBOX_CONFIRM_LINGER_MS: '0' }))).toBe(0);
    expect(confirmationLingerMs(settings({ OUTBOX_GRACE_MS: '500', OUTBOX_CONFIRM_LINGER_MS: '1000' }))).toBe(
      50,
    );
    expect(confirmationLingerMs({ outboxConfirmLingerMs: 100, outboxGraceMs: 300 })).toBe(30);
  });

  it('refuses a linger past a second', () => {
    expect(() =>
      loadConfig('notification', NotificationEnv, { ...base, OUTBOX_CONFIRM_LINGER_MS: '5000' }),
    ).toThrow(/OUTBOX_CONFIRM_LINGER_MS/);
  });
});
