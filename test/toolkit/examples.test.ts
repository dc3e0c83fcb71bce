// Runs the examples as a user would (`node examples/…`) so they keep working.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('examples', () => {
  it('seeds-walkthrough.mjs runs, exits 0 and prints the notes\' numbers', () => {
    const run = spawnSync(process.execPath, ['examples/seeds-walkthrough.mjs'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/error/i);
    const out = run.stdout;
    expect(out).toContain('row 2 (query "journey") weights: [0.1385, 0.2379, 0.2333, 0.1240, 0.1082, 0.1581]');
    expect(out).toContain('Q1·K1 = 5011, Q1·K2 = 7148; divided by √d_k = 2: 2505.5, 3574');
    expect(out).toContain('that sum is 7148');
    expect(out).toContain('attention output of token 1 = 0·V1 + 1·V2 = [68, 53, 63, 58]');
    expect(out).toContain('residual X1 + attention = [74, 54, 67, 62]');
    expect(out).toContain('MultiHeadAttention (1 head, W given as Wᵀ) token 1 = [68, 53, 63, 58]');
    // Causal map: row 2 is softmax of the first two scores of "journey" (0.9544, 1.4950).
    const p = 1 / (1 + Math.exp(0.9544 - 1.4950));
    expect(out).toContain(`[${(1 - p).toFixed(4)}, ${p.toFixed(4)}, 0.0000, 0.0000, 0.0000, 0.0000]`);
    const variance = /Variance after scaling \(dim=64\):\s+([\d.]+)/.exec(out);
    expect(Number(variance?.[1])).toBeGreaterThan(0.95);
    expect(Number(variance?.[1])).toBeLessThan(1.05);
    expect(out).toContain('walkthrough complete');
  });
});
