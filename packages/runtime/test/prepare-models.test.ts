import mongoose, { Schema, type Connection } from 'mongoose';
import { connectTestMongo, type TestMongo } from '@herald/test-support';
import { prepareModels } from '../src/mongo';

const accountSchema = new Schema({
  email: { type: String, required: true, unique: true },
  tenant: { type: String, required: true },
  createdAt: { type: Date, required: true },
});
accountSchema.index({ tenant: 1, createdAt: -1 });

// builds its indexes itself, after its migrations
const ledgerSchema = new Schema({ entry: { type: String, index: true } }, { autoIndex: false });

const modelsOn = (connection: Connection) => [
  connection.model('Account', accountSchema),
  connection.model('Ledger', ledgerSchema),
];

async function collectionsOf(connection: Connection): Promise<string[]> {
  const collections = await connection.db!.listCollections().toArray();
  return collections.map((collection) => collection.name).sort();
}

async function indexKeysOf(connection: Connection, collection: string): Promise<object[]> {
  const indexes = await connection.db!.collection(collection).indexes();
  return indexes.map((index) => index.key);
}

describe('prepareModels on a fresh database', () => {
  let mongo: TestMongo;
  const others: Connection[] = [];

  beforeEach(async () => {
    mongo = await connectTestMongo('prepare-models');
  });
  afterEach(async () => {
    await Promise.all(others.splice(0).map((connection) => connection.close()));
    await mongo.dropAndClose();
  });

  it("creates every model's collection, and the indexes of those that build their own", async () => {
    await prepareModels(modelsOn(mongo.connection));

    expect(await collectionsOf(mongo.connection)).toEqual(['accounts', 'ledgers']);
    expect(await indexKeysOf(mongo.connection, 'accounts')).toEqual(
      expect.arrayContaining([{ _id: 1 }, { email: 1 }, { tenant: 1, createdAt: -1 }]),
    );
    expect(await indexKeysOf(mongo.connection, 'ledgers')).toEqual([{ _id: 1 }]);
  });

  it('lets a second instance prepare the same fresh database at the same moment', async () => {
    const other = await mongoose.createConnection(mongo.url).asPromise();
    others.push(other);

    await expect(
      Promise.all([prepareModels(modelsOn(mongo.connection)), prepareModels(modelsOn(other))]),
    ).resolves.toBeDefined();

    // each listed once (mongo-java-server listed a collection twice after this race until the
    // launcher's backends created collections under a lock)
    expect(await collectionsOf(mongo.connection)).toEqual(['accounts', 'ledgers']);
    expect(await indexKeysOf(mongo.connection, 'accounts')).toEqual(
      expect.arrayContaining([{ email: 1 }, { tenant: 1, createdAt: -1 }]),
    );
    // the unique index is really there: the second account with the same email is refused
    const [Account] = modelsOn(mongo.connection);
    const account = { email: 'ada@example.com', tenant: 't', createdAt: new Date() };
    await Account!.create(account);
    await expect(Account!.create(account)).rejects.toMatchObject({
      message: expect.stringContaining('E11000'),
    });
  });

  describe('when model.init() loses the race for the collection', () => {
    // mongo-java-server's answer when another connection created the collection a moment before
    const lostRace = () =>
      new Error("Document with key 'db.accounts' already existed in db.system.namespaces");

    /**
     * A real model on the real database, whose init() answers as the loser of
     * the race did. Its connection builds nothing by itself (autoIndex and
     * autoCreate off), so whatever indexes exist afterwards, prepareModels built.
     */
    const initFailingWith = async (error: Error) => {
      const quiet = await mongoose
        .createConnection(mongo.url, { autoIndex: false, autoCreate: false })
        .asPromise();
      others.push(quiet);
      const Account = quiet.model('Account', accountSchema);
      return {
        init: () => Promise.reject(error),
        createCollection: () => Account.createCollection(),
        createIndexes: () => Account.createIndexes(),
        schema: Account.schema,
      };
    };

    it('goes on: the collection exists, and it builds the indexes itself', async () => {
      await mongo.connection.db!.createCollection('accounts'); // the winner's
      await prepareModels([await initFailingWith(lostRace())]);
      expect(await indexKeysOf(mongo.connection, 'accounts')).toEqual(
        expect.arrayContaining([{ email: 1 }, { tenant: 1, createdAt: -1 }]),
      );
    });

    it('fails with any other error', async () => {
      const model = await initFailingWith(new Error('not authorized'));
      await expect(prepareModels([model])).rejects.toThrow('not authorized');
    });
  });
});
