/**
 * A minimal protobuf (wire format) writer: just what the ONNX messages need.
 *
 * Wire types used: 0 varint, 2 length-delimited, 5 fixed32. Repeated numeric fields are written
 * packed; onnx.proto is proto2 (unpacked by default) but every conforming parser, ONNX Runtime's
 * included, accepts both encodings for repeated scalars.
 * See https://protobuf.dev/programming-guides/encoding/.
 */
const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

/** Accumulates bytes in growable chunks; `finish()` returns one contiguous Uint8Array. */
export class ProtoWriter {
  private buf = new Uint8Array(256);
  private pos = 0;
  private static readonly textEncoder = new TextEncoder();
  private readonly scratch = new DataView(new ArrayBuffer(4));

  get length(): number {
    return this.pos;
  }

  private reserve(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  /** Unsigned or signed 64-bit varint; negatives take 10 bytes (two's complement), as protobuf's int64. */
  varint(value: number | bigint): this {
    if (typeof value === 'number' && value >= 0 && value <= 0x7fffffff) {
      this.reserve(5);
      let v = value;
      while (v > 0x7f) {
        this.buf[this.pos++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      this.buf[this.pos++] = v;
      return this;
    }
    if (typeof value === 'number' && !Number.isSafeInteger(value)) {
      throw new Error(`ProtoWriter.varint: ${value} is not a safe integer; pass a bigint`);
    }
    let v = BigInt.asUintN(64, BigInt(value));
    this.reserve(10);
    while (v > 0x7fn) {
      this.buf[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.pos++] = Number(v);
    return this;
  }

  private tag(field: number, wireType: number): this {
    return this.varint((field << 3) | wireType);
  }

  uint64Field(field: number, value: number | bigint): this {
    return this.tag(field, WIRE_VARINT).varint(value);
  }

  /** int32/int64/enum/bool fields all share the varint encoding. */
  int64Field(field: number, value: number | bigint): this {
    return this.uint64Field(field, value);
  }

  floatField(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32);
    this.scratch.setFloat32(0, value, true);
    this.reserve(4);
    for (let i = 0; i < 4; i++) this.buf[this.pos++] = this.scratch.getUint8(i);
    return this;
  }

  bytesField(field: number, bytes: Uint8Array): this {
    this.tag(field, WIRE_LENGTH_DELIMITED).varint(bytes.length);
    this.reserve(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
    return this;
  }

  stringField(field: number, value: string): this {
    return this.bytesField(field, ProtoWriter.textEncoder.encode(value));
  }

  /** An embedded message: the callback writes its fields into a fresh writer. */
  messageField(field: number, write: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    write(inner);
    return this.bytesField(field, inner.view());
  }

  packedVarintField(field: number, values: ArrayLike<number | bigint>): this {
    if (values.length === 0) return this;
    const inner = new ProtoWriter();
    for (let i = 0; i < values.length; i++) inner.varint(values[i]);
    return this.bytesField(field, inner.view());
  }

  packedFloatField(field: number, values: ArrayLike<number>): this {
    if (values.length === 0) return this;
    const bytes = new Uint8Array(values.length * 4);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
    return this.bytesField(field, bytes);
  }

  /** The bytes written so far, without copying; valid until the next write. */
  view(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}
