/**
 * Element-wise float32 arithmetic on latents, rounding after every operation as PyTorch does for
 * float32 tensors (`fl(a·x)`, then `fl(… + …)`), so sampler updates follow ComfyUI's arithmetic.
 */
import { fl } from './torch-float32.js';

/** One term `coefficient · values` of a linear combination. */
export interface Term {
  readonly coef: number;
  readonly values: Float32Array;
}

/** Σ coefᵢ·valuesᵢ evaluated left to right: fl(fl(fl(c₀·v₀) + fl(c₁·v₁)) + …). */
export function linearCombination(...terms: readonly Term[]): Float32Array {
  const n = terms[0].values.length;
  const out = new Float32Array(n);
  const coefs = terms.map((t) => fl(t.coef));
  for (let i = 0; i < n; i++) {
    let acc = coefs[0] === 1 ? terms[0].values[i] : fl(coefs[0] * terms[0].values[i]);
    for (let k = 1; k < terms.length; k++) {
      const v = terms[k].values[i];
      acc = fl(acc + (coefs[k] === 1 ? v : fl(coefs[k] * v)));
    }
    out[i] = acc;
  }
  return out;
}

export const term = (coef: number, values: Float32Array): Term => ({ coef, values });

/** `to_d`: (x − denoised) / σ — the ODE derivative, which for flow models is the velocity v. */
export function toD(x: Float32Array, sigma: number, denoised: Float32Array): Float32Array {
  const s = fl(sigma);
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = fl(fl(x[i] - denoised[i]) / s);
  return out;
}

/** (a − b) / divisor, element-wise. */
export function differenceOver(a: Float32Array, b: Float32Array, divisor: number): Float32Array {
  const d = fl(divisor);
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = fl(fl(a[i] - b[i]) / d);
  return out;
}

export function scaled(values: Float32Array, coef: number): Float32Array {
  const c = fl(coef);
  return values.map((v) => fl(v * c));
}

export function divided(values: Float32Array, divisor: number): Float32Array {
  const d = fl(divisor);
  return values.map((v) => fl(v / d));
}
