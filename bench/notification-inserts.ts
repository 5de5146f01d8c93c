/**
 * What the embedded MongoDB of `pnpm start` spends on Herald's own writes:
 * notification documents as the notification service stores them (its
 * model's indexes, an in-app notification to oneself), in batches of 16
 * (its group commits under load), with one confirmation record per batch
 * (the outbox's log, its `ids` index holding every notification), 4 batches
 * in flight. Prints the server's CPU milliseconds per 1,000 notifications
 * (from /proc) and the rate, per window after a warm-up window: the JIT of a
 * fresh JVM compiles for the first tens of seconds, and the windows show it
 * settle.
 *
 *   pnpm bench:db-inserts [seconds-per-window=8] [windows=3]
 *
 * Runs its own server on a temporary H2 file (the `long-running` JVM of
 * `pnpm start`), so nothing else on the machine is measured with it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMongoJavaServer } from '@herald/local-infra';
import { connectMongo } from '@herald/runtime/mongo';
import { notificationModel } from '../services/notification/src/notifications/data/notification-model';
import { outboxConfirmationModel } from '../services/notification/src/outbox/data/outbox-models';
import { notificationLikeDocument } from './lib/ceilings';
import { CLOCK_TICKS_PER_SECOND, readProcess } from './lib/proc-cpu';

const seconds = Number(process.argv[2] ?? 8);
const windows = Number(process.argv[3] ?? 3);
const BATCH = 16;
const IN_FLIGHT = 4;

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'herald-db-inserts-'));
  const server = await startMongoJavaServer({ h2File: join(dir, 'herald.mv'), jvmProfile: 'long-running' });
  const connection = await connectMongo({ url: server.url, dbName: 'bench', logger: silent, maxAttempts: 1 });
  try {
    const notifications = notificationModel(connection);
    const confirmations = outboxConfirmationModel(connection);
    for (const model of [notifications, confirmations]) {
      await model.init();
      await model.createIndexes();
    }
    const { ObjectId } = connection.base.mongo;
    const userId = new ObjectId().toHexString();
    // the document the service stores for an in-app notification to oneself (the gateway
    // benchmark's insert ceiling stores the same), with its id and dedupe key as the service sets them
    const notification = (index: number) => {
      const id = new ObjectId();
      return { ...notificationLikeDocument(index, userId), _id: id, dedupeKey: id.toHexString() };
    };

    const window = async () => {
      const ticksBefore = readProcess(server.pid)!.ticks;
      const started = performance.now();
      const deadline = started + seconds * 1000;
      let written = 0;
      const writer = async () => {
        while (performance.now() < deadline) {
          const batch = Array.from({ length: BATCH }, (_, index) => notification(written + index));
          await notifications.collection.insertMany(batch, { ordered: false });
          await confirmations.collection.insertOne({
            _id: new ObjectId(),
            ids: batch.map((doc) => doc._id),
            dueFrom: batch[0]!.outboxDueAt,
            dueUntil: batch[BATCH - 1]!.outboxDueAt,
            at: new Date(),
          });
          written += BATCH;
        }
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, writer));
      const elapsed = (performance.now() - started) / 1000;
      const cpuMs = ((readProcess(server.pid)!.ticks - ticksBefore) * 1000) / CLOCK_TICKS_PER_SECOND;
      return {
        notificationsPerSecond: Math.round(written / elapsed),
        serverCpuMsPer1000: Number(((cpuMs / written) * 1000).toFixed(1)),
      };
    };

    const warmUp = await window();
    const measured = [];
    for (let index = 0; index < windows; index += 1) measured.push(await window());
    console.table([{ window: 'warm-up', ...warmUp }, ...measured.map((m, i) => ({ window: i + 1, ...m }))]);
    console.log(
      JSON.stringify({
        bench: 'db-inserts',
        server: server.label,
        batch: BATCH,
        inFlight: IN_FLIGHT,
        warmUp,
        measured,
      }),
    );
  } finally {
    await connection.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
