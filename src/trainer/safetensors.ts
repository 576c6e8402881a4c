// safetensors reader and writer (https://github.com/huggingface/safetensors, format section):
// u64 little-endian header length N, N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]},
// "__metadata__": {string: string}}, then the raw little-endian tensor bytes. Every tensor comes back
// as Float32 (F16/BF16/F64/ints converted) because the trainer holds float32 weights only.

/** One tensor as plain data, in whatever layout its producer used (torch layout for state dicts). */
export interface TensorRecord {
  shape: number[];
  data: Float32Array;
}

export type StateDict = Record<string, TensorRecord>;

export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

const BYTES: Record<SafetensorsDtype, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

const MAX_HEADER = 100 * 1024 * 1024;

interface HeaderEntry {
  dtype: SafetensorsDtype;
  shape: number[];
  data_offsets: [number, number];
}

export interface SafetensorsFile {
  tensors: StateDict;
  /** Original dtype of each tensor, before conversion to Float32. */
  dtypes: Record<string, SafetensorsDtype>;
  metadata: Record<string, string>;
}

function fail(source: string, reason: string): never {
  throw new Error(`${source}: ${reason}`);
}

const half = new Float32Array(1);
const halfBits = new Uint32Array(half.buffer);

/** IEEE 754 binary16 bits → number. */
export function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // subnormal or zero
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** number → binary16 bits, round to nearest even; overflow goes to ±Infinity. */
export function f32ToF16(value: number): number {
  half[0] = value;
  const x = halfBits[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // underflows to zero
    mant |= 0x800000;
    const shift = 14 - e;
    const round = (mant >> (shift - 1)) & 1;
    const sticky = (mant & ((1 << (shift - 1)) - 1)) !== 0;
    let h = mant >> shift;
    if (round && (sticky || h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >> 13);
  const round = (mant >> 12) & 1;
  const sticky = (mant & 0xfff) !== 0;
  if (round && (sticky || h & 1)) h++; // may carry into the exponent, which is still correct
  return sign | h;
}

/** number → bfloat16 bits (the top half of float32), round to nearest even. */
export function f32ToBf16(value: number): number {
  half[0] = value;
  const x = halfBits[0];
  if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) return (x >>> 16) | 0x40; // keep NaN a NaN
  const rounded = x + 0x7fff + ((x >>> 16) & 1);
  return (rounded >>> 16) & 0xffff;
}

function isDtype(d: unknown): d is SafetensorsDtype {
  return typeof d === 'string' && Object.prototype.hasOwnProperty.call(BYTES, d);
}

function convert(bytes: Uint8Array, dtype: SafetensorsDtype, count: number): Float32Array {
  const out = new Float32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'F32':
      // Copy the bytes into an aligned buffer: the source offset need not be a multiple of 4.
      new Uint8Array(out.buffer).set(bytes);
      if (!LITTLE_ENDIAN) for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      break;
    case 'F64':
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, true);
      break;
    case 'F16':
      for (let i = 0; i < count; i++) out[i] = f16ToF32(view.getUint16(i * 2, true));
      break;
    case 'BF16': {
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) bits[i] = view.getUint16(i * 2, true) << 16;
      break;
    }
    case 'I64':
      for (let i = 0; i < count; i++) out[i] = Number(view.getBigInt64(i * 8, true));
      break;
    case 'I32':
      for (let i = 0; i < count; i++) out[i] = view.getInt32(i * 4, true);
      break;
    case 'I16':
      for (let i = 0; i < count; i++) out[i] = view.getInt16(i * 2, true);
      break;
    case 'I8':
      for (let i = 0; i < count; i++) out[i] = view.getInt8(i);
      break;
    case 'U8':
    case 'BOOL':
      for (let i = 0; i < count; i++) out[i] = bytes[i];
      break;
  }
  return out;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Parses a whole safetensors file, converting every tensor to Float32. */
export function parseSafetensors(buf: Uint8Array, source = 'safetensors buffer'): SafetensorsFile {
  if (buf.byteLength < 8) fail(source, `file is ${buf.byteLength} bytes, too short for the 8-byte header length`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const headerLen = Number(dv.getBigUint64(0, true));
  if (headerLen > MAX_HEADER || 8 + headerLen > buf.byteLength) {
    fail(source, `header length ${headerLen} does not fit in a ${buf.byteLength}-byte file (not a safetensors file?)`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(8, 8 + headerLen))) as Record<string, unknown>;
  } catch (err) {
    fail(source, `header is not valid UTF-8 JSON: ${(err as Error).message}`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) fail(source, 'header is not a JSON object');
  const dataStart = 8 + headerLen;
  const dataLen = buf.byteLength - dataStart;
  const tensors: StateDict = {};
  const dtypes: Record<string, SafetensorsDtype> = {};
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = (raw ?? {}) as Record<string, string>;
      continue;
    }
    const entry = raw as Partial<HeaderEntry> | null;
    if (!entry || typeof entry !== 'object') fail(source, `tensor "${name}": header entry is not an object`);
    const { dtype, shape, data_offsets: offsets } = entry;
    if (!isDtype(dtype)) fail(source, `tensor "${name}": unsupported dtype ${JSON.stringify(dtype)}`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      fail(source, `tensor "${name}": shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0)) {
      fail(source, `tensor "${name}": data_offsets ${JSON.stringify(offsets)} is not [begin, end]`);
    }
    const [begin, end] = offsets;
    const count = shape.reduce((a, b) => a * b, 1);
    if (end < begin || end > dataLen) {
      fail(source, `tensor "${name}": data_offsets [${begin}, ${end}] fall outside the ${dataLen}-byte data section`);
    }
    if (end - begin !== count * BYTES[dtype]) {
      fail(source, `tensor "${name}": ${end - begin} bytes for shape [${shape}] of ${dtype} (expected ${count * BYTES[dtype]})`);
    }
    tensors[name] = { shape: [...shape], data: convert(buf.subarray(dataStart + begin, dataStart + end), dtype, count) };
    dtypes[name] = dtype;
  }
  return { tensors, dtypes, metadata };
}

/** Reads a safetensors buffer into a name → {shape, data: Float32Array} dict. */
export function readSafetensors(buf: Uint8Array, source?: string): StateDict {
  return parseSafetensors(buf, source).tensors;
}

export interface WriteSafetensorsOptions {
  /** Storage dtype; default F32. F16/BF16 round to nearest even. */
  dtype?: 'F32' | 'F16' | 'BF16';
  metadata?: Record<string, string>;
}

/** Writes a dict as a safetensors buffer (tensors in key order, header padded to 8 bytes). */
export function writeSafetensors(dict: StateDict, opts: WriteSafetensorsOptions = {}): Buffer {
  const dtype = opts.dtype ?? 'F32';
  const width = BYTES[dtype];
  const header: Record<string, unknown> = {};
  if (opts.metadata) header.__metadata__ = opts.metadata;
  let offset = 0;
  const names = Object.keys(dict);
  for (const name of names) {
    const t = dict[name];
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) {
      throw new RangeError(`writeSafetensors: tensor "${name}" has ${t.data.length} values for shape [${t.shape}]`);
    }
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + count * width] };
    offset += count * width;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((Buffer.byteLength(json) + 8) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf-8');
  const out = Buffer.alloc(8 + headerBytes.length + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let pos = 8 + headerBytes.length;
  for (const name of names) {
    const data = dict[name].data;
    for (let i = 0; i < data.length; i++) {
      if (dtype === 'F32') dv.setFloat32(pos, data[i], true);
      else if (dtype === 'F16') dv.setUint16(pos, f32ToF16(data[i]), true);
      else dv.setUint16(pos, f32ToBf16(data[i]), true);
      pos += width;
    }
  }
  return out;
}
