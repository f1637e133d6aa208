/**
 * Interleaved rounds, for the scripts that compare variants by speed on a shared machine: its load
 * changes from minute to minute, so every variant runs once in each round, and a comparison pairs
 * the variants' values within a round before taking the median over rounds.
 */

/**
 * Runs every one of `names` once a round for `rounds` rounds, the order rotated by one each round
 * (for two: A B, B A, A B, ...) so that no variant always runs first; returns each one's values in
 * round order, keyed in the order of `names`.
 */
export async function interleavedRounds<K extends string, T>(
  names: readonly K[],
  rounds: number,
  run: (name: K, round: number) => Promise<T>,
): Promise<Record<K, T[]>> {
  const out = Object.fromEntries(names.map((name) => [name, [] as T[]])) as Record<K, T[]>;
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(round + k) % names.length]!;
      out[name].push(await run(name, round));
    }
  }
  return out;
}

/** `values[i] / baseline[i]` for each round i: the ratios of two variants' values paired within rounds. */
export function roundRatios(values: readonly number[], baseline: readonly number[]): number[] {
  return values.map((x, i) => x / baseline[i]!);
}
