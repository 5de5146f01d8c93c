import { CircuitBreaker, type CircuitState } from '../src/failover/circuit-breaker';
import { ManualClock } from './manual-clock';

describe('the circuit breaker, on a clock the test moves', () => {
  const setup = () => {
    const clock = new ManualClock(1_000);
    const changes: CircuitState[] = [];
    const breaker = new CircuitBreaker({ failureThreshold: 3, resetTimeoutMs: 10_000 }, clock, (state) =>
      changes.push(state),
    );
    return { clock, breaker, changes };
  };

  it('opens after the threshold of consecutive failures, and a success in between starts the count again', () => {
    const { breaker, changes } = setup();
    breaker.failure();
    breaker.failure();
    breaker.success();
    breaker.failure();
    breaker.failure();
    expect(breaker.state).toBe('closed');
    expect(breaker.tryAcquire()).toBe(true);
    breaker.failure();
    expect(breaker.state).toBe('open');
    expect(breaker.tryAcquire()).toBe(false);
    expect(breaker.permitsCalls).toBe(false);
    expect(changes).toEqual(['open']);
  });

  it('half-opens once the reset timeout has passed, lets one trial through, and closes on its success', () => {
    const { clock, breaker, changes } = setup();
    for (let i = 0; i < 3; i += 1) breaker.failure();
    clock.advance(9_999);
    expect(breaker.state).toBe('open');
    clock.advance(1);
    expect(breaker.state).toBe('half_open');
    expect(breaker.tryAcquire()).toBe(true);
    // the one trial is in flight: nobody else goes
    expect(breaker.tryAcquire()).toBe(false);
    expect(breaker.permitsCalls).toBe(false);
    breaker.success();
    expect(breaker.state).toBe('closed');
    expect(changes).toEqual(['open', 'half_open', 'closed']);
  });

  it('opens again for another full timeout when the trial fails', () => {
    const { clock, breaker } = setup();
    for (let i = 0; i < 3; i += 1) breaker.failure();
    clock.advance(10_000);
    expect(breaker.tryAcquire()).toBe(true);
    breaker.failure();
    expect(breaker.state).toBe('open');
    clock.advance(9_999);
    expect(breaker.tryAcquire()).toBe(false);
    clock.advance(1);
    expect(breaker.tryAcquire()).toBe(true);
  });
});
