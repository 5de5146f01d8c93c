import { Type } from '@sinclair/typebox';
import { CommonEnv, ConfigError, loadConfig } from '../src/config';

const schema = {
  ...CommonEnv,
  PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 3000 }),
  SIGNING_KEY: Type.String({ minLength: 8 }),
  FEATURE_ON: Type.Boolean({ default: false }),
};

describe('loadConfig', () => {
  it('converts strings to the declared types and applies defaults', () => {
    const config = loadConfig('svc', schema, { PORT: '8080', SIGNING_KEY: 'abcdefgh', FEATURE_ON: 'true' });
    expect(config.PORT).toBe(8080);
    expect(config.FEATURE_ON).toBe(true);
    expect(config.NODE_ENV).toBe('development');
    expect(config.LOG_LEVEL).toBe('info');
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig('svc', schema, { PORT: '', SIGNING_KEY: 'abcdefgh' }).PORT).toBe(3000);
  });

  it('names every bad variable in one error, without echoing values', () => {
    let error: unknown;
    try {
      loadConfig('svc', schema, { PORT: 'eighty', NODE_ENV: 'staging', SIGNING_KEY: 'short' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/^PORT: /m);
    expect(problems).toMatch(/^NODE_ENV: /m);
    expect(problems).toMatch(/^SIGNING_KEY: /m);
    expect((error as ConfigError).problems).toHaveLength(3);
    expect((error as Error).message).toContain('Invalid configuration for svc');
    expect((error as Error).message).not.toContain('short');
  });

  it('reports a missing required variable', () => {
    expect(() => loadConfig('svc', schema, {})).toThrow(/SIGNING_KEY: .*\(missing\)/);
  });

  it('logs pretty in development and JSON elsewhere, unless told', () => {
    expect(loadConfig('svc', schema, { SIGNING_KEY: 'abcdefgh' }).LOG_FORMAT).toBe('pretty');
    expect(loadConfig('svc', schema, { SIGNING_KEY: 'abcdefgh', NODE_ENV: 'production' }).LOG_FORMAT).toBe(
      'json',
    );
    expect(
      loadConfig('svc', schema, { SIGNING_KEY: 'abcdefgh', NODE_ENV: 'production', LOG_FORMAT: 'pretty' })
        .LOG_FORMAT,
    ).toBe('pretty');
  });
});
