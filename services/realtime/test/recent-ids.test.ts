import { RecentIds } from '../src/events/consumers';

describe('RecentIds', () => {
  it('says true the first time an id is seen and false after, forgetting the oldest past its capacity', () => {
    const recent = new RecentIds(2);
    expect(recent.firstSighting('a')).toBe(true);
    expect(recent.firstSighting('a')).toBe(false);
    expect(recent.firstSighting('b')).toBe(true);
    expect(recent.firstSighting('c')).toBe(true);
    // 'a' was the oldest of three: forgotten
    expect(recent.firstSighting('a')).toBe(true);
    expect(recent.firstSighting('c')).toBe(false);
  });
});
