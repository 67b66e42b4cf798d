/** The one error type of engine/safetensors*.ts: it always names the file, and the tensor when one is at fault. */

export type SafetensorsErrorReason =
  | 'truncated' // file shorter than its 8-byte prefix, header or data claim
  | 'header-length' // header length beyond the file, or over the 100 MB cap
  | 'bad-json' // header is not UTF-8 JSON
  | 'bad-header' // JSON of the wrong shape: not an object, bad __metadata__, bad tensor entry
  | 'bad-offsets' // data_offsets overlap, leave gaps, run past the data or do not cover it
  | 'unsupported-dtype'
  | 'bad-shape' // negative / non-integer dims, or a size that does not match data_offsets
  | 'unknown-tensor'
  | 'closed'
  | 'io' // the operating system refused a read or write
  | 'bad-input'; // the writer was handed something it cannot store

export class SafetensorsError extends Error {
  readonly file: string;
  readonly tensor: string | undefined;
  readonly reason: SafetensorsErrorReason;

  constructor(file: string, reason: SafetensorsErrorReason, detail: string, tensor?: string, options?: ErrorOptions) {
    super(`safetensors ${file}: ${tensor === undefined ? '' : `tensor '${tensor}': `}${detail}`, options);
    this.name = 'SafetensorsError';
    this.file = file;
    this.tensor = tensor;
    this.reason = reason;
  }
}
