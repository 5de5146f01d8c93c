import { Relay } from '../src/outbox/domain/relay';
import { type ServiceContext } from '../src/kernel/context';

/*
 * The relay's two cadences, counted in ticks (no clock): the outbox passes at
 * every tick, the resume passes (broadcasts, topic sends, template
 * announcements) on the first tick and then every relayResumeIntervalMs /
 * relayIntervalMs ticks; runOnce runs both.
 */

function contextWith(relayIntervalMs: number, relayResumeIntervalMs: number): ServiceContext {
  return {
    settings: { relayIntervalMs, relayResumeIntervalMs },
    log: { error: () => undefined },
  } as unknown as ServiceContext;
}

/** Runs the relay until its outbox pass ran `ticks` times; answers how often each pass ran. */
async function countPasses(relayIntervalMs: number, relayResumeIntervalMs: number, ticks: number) {
  const counts = { outbox: 0, resume: 0 };
  let relay: Relay;
  let stopped!: Promise<void>;
  const reached = new Promise<void>((resolve) => {
    relay = new Relay(
      contextWith(relayIntervalMs, relayResumeIntervalMs),
      [
        async () => {
          counts.outbox += 1;
          if (counts.outbox === ticks) {
            stopped = relay.stop();
            resolve();
          }
        },
      ],
      [
        async () => {
          counts.resume += 1;
        },
      ],
    );
  });
  relay!.start();
  await reached;
  await stopped;
  return counts;
}

describe('relay cadence', () => {
  it('runs the resume passes on the first tick and then every resume interval, the outbox passes every tick', async () => {
    // ticks 0, 4 and 8 of nine (the resume passes run after the outbox pass of the same tick)
    expect(await countPasses(1, 4, 9)).toEqual({ outbox: 9, resume: 3 });
    // rounded to whole ticks: 5 / 2 → every 3rd (round(2.5) = 3): ticks 0, 3, 6
    expect(await countPasses(2, 5, 7)).toEqual({ outbox: 7, resume: 3 });
    // a resume interval at or below the outbox interval: every tick
    expect(await countPasses(5, 1, 4)).toEqual({ outbox: 4, resume: 4 });
  });

  it('runs every pass of both cadences in runOnce, and goes on past a pass that throws', async () => {
    const ran: string[] = [];
    const relay = new Relay(
      contextWith(500, 5_000),
      [
        async () => {
          ran.push('outbox');
          throw new Error('broker away');
        },
      ],
      [async () => void ran.push('broadcasts'), async () => void ran.push('topic sends')],
    );
    await relay.runOnce();
    await relay.runOnce();
    expect(ran).toEqual(['outbox', 'broadcasts', 'topic sends', 'outbox', 'broadcasts', 'topic sends']);
  });
});
