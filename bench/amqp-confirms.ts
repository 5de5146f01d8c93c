/**
 * The ceiling every throughput target is measured against: how many
 * persistent, mandatory messages per second this machine's broker confirms
 * through our AmqpClient (one confirm channel, confirms pipelined). The same
 * measurement is the broker ceiling of `pnpm bench:gateway`.
 *
 *   pnpm bench:amqp [total=50000] [inFlight=2000]
 *
 * Runs in its own namespace on AMQP_URL (default the local broker) and
 * deletes what it declared. Prints a table and a JSON line.
 */
import { confirmCeiling } from './lib/ceilings';

const total = Number(process.argv[2] ?? 50_000);
const inFlight = Number(process.argv[3] ?? 2_000);
const url = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

async function main(): Promise<void> {
  const { perSecond, seconds } = await confirmCeiling({ url, total, inFlight });
  console.table([
    {
      metric: 'broker publish-confirm rate',
      value: `${perSecond} msg/s`,
      total,
      inFlight,
      seconds: seconds.toFixed(2),
    },
  ]);
  console.log(JSON.stringify({ bench: 'amqp-confirms', perSecond, total, inFlight, seconds }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
