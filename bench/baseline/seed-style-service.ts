/**
 * The baseline of the gateway benchmark: `POST /api/v1/notifications` built
 * the way the seed documents describe a plain notification service, with
 * none of Herald's design. Express, an HS256 JWT checked with jsonwebtoken,
 * one mongoose `Model.create` per request, then one publish per request on
 * an amqplib confirm channel, awaited, then 202. No gateway in front.
 *
 * Run as its own process by bench/gateway-create.ts:
 *   PORT MONGO_URL (with its database) AMQP_URL JWT_SECRET QUEUE
 * It prints LISTENING once it accepts requests.
 */
import amqplib from 'amqplib';
import express from 'express';
import jwt from 'jsonwebtoken';
import mongoose from 'mongoose';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const notificationSchema = new mongoose.Schema(
  {
    userId: { type: String, required: true, index: true },
    senderId: { type: String, required: true },
    channels: { type: [String], required: true },
    title: { type: String, required: true },
    body: { type: String, required: true },
    status: { type: String, default: 'queued' },
    read: { type: Boolean, default: false },
  },
  { timestamps: true },
);
const Notification = mongoose.model('Notification', notificationSchema);

async function main(): Promise<void> {
  const secret = env('JWT_SECRET');
  const queue = env('QUEUE');
  await mongoose.connect(env('MONGO_URL'));
  const connection = await amqplib.connect(env('AMQP_URL'));
  const channel = await connection.createConfirmChannel();
  await channel.assertQueue(queue, { durable: true });

  const publish = (message: unknown) =>
    new Promise<void>((resolvePublish, reject) => {
      channel.publish('', queue, Buffer.from(JSON.stringify(message)), { persistent: true }, (error) =>
        error ? reject(error) : resolvePublish(),
      );
    });

  const app = express();
  app.use(express.json());
  app.post('/api/v1/notifications', async (req, res) => {
    const token = req.headers.authorization?.replace(/^Bearer /, '') ?? '';
    let sender: { sub: string };
    try {
      sender = jwt.verify(token, secret, { algorithms: ['HS256'] }) as { sub: string };
    } catch {
      res.status(401).json({ error: 'unauthorized' });
      return;
    }
    const { recipient, channels, title, body } = req.body ?? {};
    if (
      !recipient?.userId ||
      !Array.isArray(channels) ||
      typeof title !== 'string' ||
      typeof body !== 'string'
    ) {
      res.status(400).json({ error: 'invalid request' });
      return;
    }
    try {
      const notification = await Notification.create({
        userId: recipient.userId,
        senderId: sender.sub,
        channels,
        title,
        body,
      });
      await publish({ type: 'notification.created', notification: notification.toJSON() });
      res.status(202).json({ id: notification.id, status: notification.status });
    } catch (error) {
      res.status(500).json({ error: error instanceof Error ? error.message : String(error) });
    }
  });
  const server = app.listen(Number(env('PORT')), '127.0.0.1', () => process.stdout.write('LISTENING\n'));
  process.on('SIGTERM', () => {
    server.close();
    void Promise.allSettled([connection.close(), mongoose.disconnect()]).then(() => process.exit(0));
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
