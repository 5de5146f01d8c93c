import { connectTestMongo, type TestMongo } from '@herald/test-support';
import { UserDirectory } from '../src/users/data/user-directory';
import { userModel, type UserModel } from '../src/users/data/user-model';

describe('UserDirectory (the accept path’s batched user lookups)', () => {
  let mongo: TestMongo;
  let users: UserModel;
  beforeAll(async () => {
    mongo = await connectTestMongo('notif-user-directory');
    users = userModel(mongo.connection);
    await users.init();
    await users.insertMany(
      Array.from({ length: 30 }, (_, index) => ({
        _id: `user-${index}`,
        email: `user-${index}@example.org`,
        name: `User ${index}`,
        role: 'user',
        emailVerified: true,
        disabled: index === 7,
        snapshotAt: new Date(),
      })),
    );
  });
  afterAll(() => mongo.dropAndClose());

  it('answers each lookup with its own user, or null, from few queries', async () => {
    const directory = new UserDirectory(users);
    const finds = jest.spyOn(users.collection, 'find');
    const ids = [...Array.from({ length: 30 }, (_, index) => `user-${index}`), 'user-3', 'nobody'];

    const found = await Promise.all(ids.map((id) => directory.byId(id)));

    expect(found.slice(0, 30).map((user) => user?.email)).toEqual(
      Array.from({ length: 30 }, (_, index) => `user-${index}@example.org`),
    );
    expect(found[7]).toMatchObject({ disabled: true });
    expect(found[30]).toMatchObject({ _id: 'user-3', name: 'User 3' });
    expect(found[31]).toBeNull();
    expect(finds.mock.calls.length).toBeLessThanOrEqual(3);
  });

  it('sees a write acknowledged before the lookup', async () => {
    const directory = new UserDirectory(users);
    await users.updateOne({ _id: 'user-1' }, { $set: { name: 'Renamed' } });
    expect(await directory.byId('user-1')).toMatchObject({ name: 'Renamed' });
  });
});
