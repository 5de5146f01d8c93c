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

  it('keeps exactly the last `capacity` new ids, round after round, a repeat moving nothing', () => {
    const recent = new RecentIds(3);
    for (let id = 0; id < 10; id += 1) expect(recent.firstSighting(`n${id}`)).toBe(true);
    // the last three are known; a repeat of one does not make it newer
    expect(recent.firstSighting('n7')).toBe(false);
    expect(recent.firstSighting('n9')).toBe(false);
    expect(recent.firstSighting('n10')).toBe(true); // forgets n7
    expect(recent.firstSighting('n8')).toBe(false);
    expect(recent.firstSighting('n7')).toBe(true); // forgets n8
    expect(recent.firstSighting('n8')).toBe(true);
    expect(recent.firstSighting('n6')).toBe(true);
    expect(['n7', 'n8', 'n6'].map((id) => recent.firstSighting(id))).toEqual([false, false, false]);
  });

  it('with a capacity of one remembers the last id only', () => {
    const recent = new RecentIds(1);
    expect(recent.firstSighting('a')).toBe(true);
    expect(recent.firstSighting('a')).toBe(false);
    expect(recent.firstSighting('b')).toBe(true);
    expect(recent.firstSighting('a')).toBe(true);
  });
});
