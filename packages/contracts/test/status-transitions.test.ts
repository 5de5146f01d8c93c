import {
  DeliveryStatuses,
  decideTransition,
  isReplayable,
  isTerminal,
  type DeliveryStatus,
  type TransitionDecision,
} from '@herald/contracts';

/*
 * Every (current, reported) pair, written out by hand rather than computed.
 * A = applied, S = same status, B = backwards (ignored), T = current is terminal.
 * Rows: current status. Columns: reported status.
 */
const table = `
            queued sending retrying sent delivered failed bounced suppressed skipped dead cancelled
queued      S      A       A        A    A         A      A       A          A       A    A
sending     B      S       A        A    A         A      A       A          A       A    A
retrying    B      A       S        A    A         A      A       A          A       A    A
sent        B      B       B        S    A         B      A       B          B       B    B
delivered   B      B       B        B    S         B      A       B          B       B    B
failed      T      T       T        T    T         S      T       T          T       T    T
bounced     T      T       T        T    T         T      S       T          T       T    T
suppressed  T      T       T        T    T         T      T       S          T       T    T
skipped     T      T       T        T    T         T      T       T          S       T    T
dead        T      T       T        T    T         T      T       T          T       S    T
cancelled   T      T       T        T    T         T      T       T          T       T    S
`;

const decisionByCode: Record<string, TransitionDecision> = {
  A: { apply: true },
  S: { apply: false, reason: 'same' },
  B: { apply: false, reason: 'backwards' },
  T: { apply: false, reason: 'terminal' },
};

function parseTable(text: string): [DeliveryStatus, DeliveryStatus, TransitionDecision][] {
  const [header, ...rows] = text.trim().split('\n');
  const nextStatuses = (header ?? '').trim().split(/\s+/) as DeliveryStatus[];
  return rows.flatMap((row) => {
    const [current, ...codes] = row.trim().split(/\s+/);
    return codes.map((code, i): [DeliveryStatus, DeliveryStatus, TransitionDecision] => {
      const decision = decisionByCode[code];
      const next = nextStatuses[i];
      if (!decision || !next) throw new Error(`bad table cell ${current}/${i}: ${code}`);
      return [current as DeliveryStatus, next, decision];
    });
  });
}

const cases = parseTable(table);

describe('decideTransition', () => {
  it('has a table that covers every pair of statuses exactly once', () => {
    expect(cases).toHaveLength(121);
    const pairs = new Set(cases.map(([current, next]) => `${current}>${next}`));
    expect(pairs.size).toBe(121);
    for (const current of DeliveryStatuses) {
      for (const next of DeliveryStatuses) expect(pairs.has(`${current}>${next}`)).toBe(true);
    }
  });

  it.each(cases)('%s → %s', (current, next, expected) => {
    expect(decideTransition(current, next)).toEqual(expected);
  });

  it.each(cases)('%s → %s is decided the same way when a replay flag is false', (current, next, expected) => {
    expect(decideTransition(current, next, { replay: false })).toEqual(expected);
  });

  describe('an admin replay from the dead-letter queue', () => {
    it('re-queues a dead delivery', () => {
      expect(decideTransition('dead', 'queued', { replay: true })).toEqual({ apply: true });
    });

    it('re-queues a permanently failed delivery, whose job also sits in the dead-letter queue', () => {
      expect(decideTransition('failed', 'queued', { replay: true })).toEqual({ apply: true });
    });

    it('never re-queues a dead delivery without the replay flag', () => {
      expect(decideTransition('dead', 'queued')).toEqual({ apply: false, reason: 'terminal' });
    });

    it.each<DeliveryStatus>(['bounced', 'suppressed'])('never re-queues a %s delivery', (current) => {
      expect(decideTransition(current, 'queued', { replay: true })).toEqual({
        apply: false,
        reason: 'terminal',
      });
    });

    it.each<DeliveryStatus>(['sending', 'retrying', 'sent', 'delivered', 'failed', 'bounced', 'suppressed'])(
      'moves a dead delivery only to queued, not to %s',
      (next) => {
        expect(decideTransition('dead', next, { replay: true })).toEqual({
          apply: false,
          reason: 'terminal',
        });
      },
    );

    const replayCells = new Set(['dead>queued', 'failed>queued']);
    it.each(cases.filter(([current, next]) => !replayCells.has(`${current}>${next}`)))(
      'changes nothing else: %s → %s',
      (current, next, expected) => {
        expect(decideTransition(current, next, { replay: true })).toEqual(expected);
      },
    );
  });
});

describe('isTerminal', () => {
  it.each<[DeliveryStatus, boolean]>([
    ['queued', false],
    ['sending', false],
    ['retrying', false],
    ['sent', false],
    ['delivered', false],
    ['failed', true],
    ['suppressed', true],
    ['skipped', true],
    ['suppressed', true],
    ['dead', true],
  ])('%s → %s', (status, terminal) => {
    expect(isTerminal(status)).toBe(terminal);
  });
});

describe('isReplayable', () => {
  it('holds only for the outcomes whose job is in the dead-letter queue', () => {
    expect(DeliveryStatuses.filter(isReplayable)).toEqual(['failed', 'dead']);
  });
});
