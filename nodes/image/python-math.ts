/**
 * Python's `round(x)` for floats: half to even (`round(2.5) == 2`, `round(3.5) == 4`).
 * ComfyUI sizes images with it, so `Math.round` would be off by one at exact halves.
 */
export function pythonRound(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}
