import { interleavedRounds, roundRatios } from '../scripts/interleave';

describe('interleavedRounds', () => {
  it('alternates two variants round by round (A B, B A, ...) and keeps each one\'s values in round order', async () => {
    const calls: string[] = [];
    const out = await interleavedRounds(['a', 'b'] as const, 3, async (name, round) => {
      calls.push(`${round}${name}`);
      return `${name}${round}`;
    });
    expect(calls).toEqual(['0a', '0b', '1b', '1a', '2a', '2b']);
    expect(out).toEqual({ a: ['a0', 'a1', 'a2'], b: ['b0', 'b1', 'b2'] });
    expect(Object.keys(out)).toEqual(['a', 'b']);
  });

  it('rotates three variants by one each round', async () => {
    const calls: string[] = [];
    await interleavedRounds(['x', 'y', 'z'], 3, async (name) => {
      calls.push(name);
      return 0;
    });
    expect(calls.join('')).toBe('xyzyzxzxy');
  });

  it('runs nothing for zero rounds', async () => {
    const run = jest.fn(async () => 1);
    expect(await interleavedRounds(['a', 'b'], 0, run)).toEqual({ a: [], b: [] });
    expect(run).not.toHaveBeenCalled();
  });
});

describe('roundRatios', () => {
  it('pairs the values within rounds', () => {
    expect(roundRatios([2, 9, 4], [1, 3, 8])).toEqual([2, 3, 0.5]);
  });
});
