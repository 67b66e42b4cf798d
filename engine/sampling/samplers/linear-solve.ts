/**
 * Small dense linear solve (Gaussian elimination with partial pivoting, like LAPACK's gesv) for
 * UniPC's ≤ 3×3 coefficient systems. Computed in double, rounded to float32 at the end; ComfyUI
 * solves in float32 LAPACK, which agrees to a few float32 ulps for these well-conditioned systems.
 */
export function solveLinearSystem(matrix: number[][], rhs: number[]): number[] {
  const n = rhs.length;
  const a = matrix.map((row, i) => [...row, rhs[i]]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(a[r][col]) > Math.abs(a[pivot][col])) pivot = r;
    if (a[pivot][col] === 0) throw new Error('uni_pc: singular coefficient matrix (repeated sigmas?)');
    [a[col], a[pivot]] = [a[pivot], a[col]];
    for (let r = col + 1; r < n; r++) {
      const f = a[r][col] / a[col][col];
      for (let c = col; c <= n; c++) a[r][c] -= f * a[col][c];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = a[r][n];
    for (let c = r + 1; c < n; c++) s -= a[r][c] * x[c];
    x[r] = Math.fround(s / a[r][r]);
  }
  return x;
}
