// The API-key read model that the notification and workflows services share, on the test MongoDB.
import { type ApiKeySnapshot } from '@herald/contracts';
import { connectTestMongo, type TestMongo } from '@herald/test-support';
import { apiKeyModel, ApiKeyReadModel, applyApiKeySnapshot, type ApiKeyModel } from '../src';

const hash = (c: string) => c.repeat(64);

function snapshot(overrides: Partial<ApiKeySnapshot> = {}): ApiKeySnapshot {
  return {
    keyId: 'k1a2b3c4d5e6',
    name: 'shop backend',
    scopes: ['notifications:send'],
    secretHash: hash('a'),
    createdAt: '2026-12-01T10:00:00.000Z',
    revision: 1,
    ...overrides,
  } as ApiKeySnapshot;
}

describe('API-key read model', () => {
  let mongo: TestMongo;
  let keys: ApiKeyModel;
  let directory: ApiKeyReadModel;

  beforeAll(async () => {
    mongo = await connectTestMongo('read-models-api-keys');
    keys = apiKeyModel(mongo.connection);
    await keys.init();
    directory = new ApiKeyReadModel(keys);
  });
  afterAll(() => mongo.dropAndClose());
  beforeEach(() => keys.deleteMany({}));

  it('stores a key as the directory reads it: the hash, never a secret; dates as dates', async () => {
    expect(await applyApiKeySnapshot(keys, snapshot({ expiresAt: '2027-01-01T00:00:00.000Z' }))).toBe(true);
    expect(await directory.lookup('k1a2b3c4d5e6')).toEqual({
      keyId: 'k1a2b3c4d5e6',
      secretHash: hash('a'),
      scopes: ['notifications:send'],
      expiresAt: new Date('2027-01-01T00:00:00.000Z'),
      revokedAt: null,
      previousSecretHash: null,
      previousSecretExpiresAt: null,
    });
    expect(await directory.lookup('unknown')).toBeUndefined();
  });

  it('takes a newer revision whole: a rotation with grace, then a revocation that drops the old secret', async () => {
    await applyApiKeySnapshot(keys, snapshot());
    await applyApiKeySnapshot(
      keys,
      snapshot({
        secretHash: hash('b'),
        previousSecretHash: hash('a'),
        previousSecretExpiresAt: '2026-12-02T10:00:00.000Z',
        revision: 2,
      }),
    );
    expect(await directory.lookup('k1a2b3c4d5e6')).toMatchObject({
      secretHash: hash('b'),
      previousSecretHash: hash('a'),
      previousSecretExpiresAt: new Date('2026-12-02T10:00:00.000Z'),
    });
    expect(
      await applyApiKeySnapshot(
        keys,
        snapshot({ secretHash: hash('b'), revokedAt: '2026-12-03T00:00:00.000Z', revision: 3 }),
      ),
    ).toBe(true);
    expect(await directory.lookup('k1a2b3c4d5e6')).toMatchObject({
      secretHash: hash('b'),
      revokedAt: new Date('2026-12-03T00:00:00.000Z'),
      previousSecretHash: null,
      previousSecretExpiresAt: null,
    });
  });

  it('ignores an older or repeated revision arriving late: a revocation is never undone', async () => {
    await applyApiKeySnapshot(keys, snapshot({ revokedAt: '2026-12-03T00:00:00.000Z', revision: 3 }));
    expect(await applyApiKeySnapshot(keys, snapshot({ revision: 2 }))).toBe(false);
    expect(await applyApiKeySnapshot(keys, snapshot({ revision: 3, name: 'replayed' }))).toBe(false);
    const stored = await keys.findById('k1a2b3c4d5e6').lean();
    expect(stored).toMatchObject({
      revision: 3,
      name: 'shop backend',
      revokedAt: new Date('2026-12-03T00:00:00.000Z'),
    });
    expect(await keys.countDocuments()).toBe(1);
  });
});
