import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FakeMailgun, FakeSendGrid, FakeSmtp, FakeTwilio } from '@herald/fake-providers';
import { ConfigError, DEVELOPMENT_SECRETS, refuseDevelopmentSecrets } from '../src/config';

const REPO_ROOT = resolve(__dirname, '../../..');
const read = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8');

function refusal(
  values: Record<string, unknown>,
  options?: { production: boolean },
): ConfigError | undefined {
  try {
    refuseDevelopmentSecrets('svc', values, options);
    return undefined;
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
}

const developmentDefaults = {
  AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672',
  MAILGUN_WEBHOOK_SIGNING_KEY: 'local-mailgun-signing-key',
  MAILGUN_API_KEY: 'local-mailgun-key',
  TWILIO_AUTH_TOKEN: 'local-twilio-token',
};

describe('refuseDevelopmentSecrets', () => {
  it('lets development and test runs use the defaults', () => {
    expect(refusal({ ...developmentDefaults, NODE_ENV: 'development' })).toBeUndefined();
    expect(refusal({ ...developmentDefaults, NODE_ENV: 'test' })).toBeUndefined();
  });

  it('refuses them in production with one error naming every variable, not its value', () => {
    const error = refusal({ ...developmentDefaults, NODE_ENV: 'production' });
    expect(error?.service).toBe('svc');
    expect(error?.problems.map((problem) => problem.split(':')[0]).sort()).toEqual(
      Object.keys(developmentDefaults).sort(),
    );
    for (const value of Object.values(developmentDefaults).slice(1))
      expect(error?.message).not.toContain(value);
  });

  it('takes production from the caller when told', () => {
    expect(refusal(developmentDefaults, { production: true })?.problems).toHaveLength(4);
    expect(
      refusal({ ...developmentDefaults, NODE_ENV: 'production' }, { production: false }),
    ).toBeUndefined();
  });

  it.each([
    'amqp://guest:guest@rabbitmq:5672',
    'amqps://guest:guest@broker.example.com/herald',
    'amqp://%67uest:guest@127.0.0.1',
  ])('refuses the guest account in %s', (url) => {
    expect(refusal({ NODE_ENV: 'production', AMQP_URL: url })?.problems).toEqual([
      expect.stringMatching(/^AMQP_URL: .*guest:guest/),
    ]);
  });

  it('accepts real credentials, and configs without the variables at all', () => {
    expect(
      refusal({
        NODE_ENV: 'production',
        AMQP_URL: 'amqps://herald:s3cr3t-from-vault@broker.example.com',
        MAILGUN_WEBHOOK_SIGNING_KEY: 'key-8c1f7e0a',
        TWILIO_AUTH_TOKEN: '6f1b2c3d4e5f',
      }),
    ).toBeUndefined();
    expect(refusal({ NODE_ENV: 'production' })).toBeUndefined();
    expect(refusal({ NODE_ENV: 'production', AMQP_URL: 'amqp://guest@127.0.0.1' })).toBeUndefined();
  });

  // The list is only as good as its match with what the repository hands out.
  describe('knows every credential the repository hands out', () => {
    const known = (variable: string) => DEVELOPMENT_SECRETS[variable] ?? [];

    it('from docker-compose.yml', () => {
      const defaults = [...read('docker-compose.yml').matchAll(/\$\{([A-Z_]+):-([^}]*)\}/g)];
      // an empty default is no secret: the service's own default (or refusal) applies
      // (the broker's account is judged as the AMQP_URL it makes, below)
      const secrets = defaults.filter(
        ([, variable, value]) =>
          /KEY|TOKEN|SECRET|PASS/.test(variable!) && value !== '' && !variable!.startsWith('RABBITMQ_'),
      );
      expect(secrets.length).toBeGreaterThan(0);
      for (const [, variable, value] of secrets) {
        expect({ variable, known: known(variable!).includes(value!) }).toEqual({ variable, known: true });
      }
      const amqpUrl = /AMQP_URL: (\S+)/
        .exec(read('docker-compose.yml'))![1]!
        .replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1');
      expect(amqpUrl).toBe('amqp://guest:guest@rabbitmq:5672');
      expect(refusal({ NODE_ENV: 'production', AMQP_URL: amqpUrl })?.problems).toHaveLength(1);
    });

    it('from pnpm start (scripts/stack.ts)', () => {
      const assigned = [...read('scripts/stack.ts').matchAll(/^\s*([A-Z_]*(?:KEY|TOKEN)): '([^']+)'/gm)];
      expect(assigned.length).toBeGreaterThan(0);
      for (const [, variable, value] of assigned) {
        expect({ variable, known: known(variable!).includes(value!) }).toEqual({ variable, known: true });
      }
    });

    it("from the fake providers' own defaults", () => {
      const mailgun = new FakeMailgun();
      const twilio = new FakeTwilio();
      expect(known('MAILGUN_API_KEY')).toContain(mailgun.apiKey);
      expect(known('MAILGUN_WEBHOOK_SIGNING_KEY')).toContain(mailgun.webhookSigningKey);
      expect(known('TWILIO_AUTH_TOKEN')).toContain(twilio.authToken);
      expect(known('SENDGRID_API_KEY')).toContain(new FakeSendGrid().apiKey);
      expect(known('SMTP_PASS')).toContain(new FakeSmtp().pass);
    });
  });
});
