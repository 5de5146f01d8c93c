import { Registry } from 'prom-client';
import { type Connection } from 'mongoose';
import { testMongoUrl } from '@herald/test-support';
import { closeMongo, connectMongo, countMongoCommands, statementsOf } from '../src/mongo';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** The counters' values by "command collection". */
async function counted(registry: Registry, name: string): Promise<Record<string, number>> {
  const metric = await registry.getSingleMetric(name)!.get();
  return Object.fromEntries(
    metric.values.map((value) => [`${value.labels.command} ${value.labels.collection}`, value.value]),
  );
}

describe('countMongoCommands', () => {
  const url = testMongoUrl('runtime-command-metrics');
  let monitored: Connection;
  let plain: Connection;

  beforeAll(async () => {
    const separator = url.includes('?') ? '&' : '?';
    monitored = await connectMongo({ url: `${url}${separator}monitorCommands=true`, logger: quiet });
    plain = await connectMongo({ url, logger: quiet });
  });
  afterAll(async () => {
    await monitored.dropDatabase();
    await closeMongo(monitored);
    await closeMongo(plain);
  });

  it('counts each command by collection, and the documents, updates and deletes it carried', async () => {
    const registry = new Registry();
    countMongoCommands(monitored, registry);
    const things = monitored.collection('things');
    await things.insertMany([{ n: 1 }, { n: 2 }, { n: 3 }]);
    await things.insertOne({ n: 4 });
    await things.updateMany({ n: { $gt: 2 } }, { $set: { big: true } });
    await things.bulkWrite([
      { updateOne: { filter: { n: 1 }, update: { $set: { one: true } } } },
      { updateOne: { filter: { n: 2 }, update: { $set: { two: true } } } },
    ]);
    expect(await things.countDocuments({ big: true })).toBe(2);
    await things.deleteMany({ n: 4 });

    expect(await counted(registry, 'herald_mongo_commands_total')).toEqual({
      'insert things': 2,
      'update things': 2,
      'aggregate things': 1,
      'delete things': 1,
    });
    expect(await counted(registry, 'herald_mongo_command_statements_total')).toEqual({
      'insert things': 4,
      'update things': 3,
      'aggregate things': 1,
      'delete things': 1,
    });
  });

  it('counts nothing on a connection whose URL does not ask for command monitoring', async () => {
    const registry = new Registry();
    countMongoCommands(plain, registry);
    await plain.collection('things').insertOne({ n: 5 });
    await plain.collection('things').findOne({ n: 5 });
    expect(registry.getSingleMetric('herald_mongo_commands_total')).toBeUndefined();
    expect(plain.getClient().listenerCount('commandStarted')).toBe(0);
  });

  it('takes 1 statement for a command that carries no list', () => {
    expect(statementsOf('find', { find: 'things', filter: {} })).toBe(1);
    expect(statementsOf('insert', { insert: 'things', documents: [{}, {}] })).toBe(2);
  });
});
