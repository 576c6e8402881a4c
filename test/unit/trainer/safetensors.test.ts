import { describe, expect, it } from 'vitest';
import { f16ToF32, f32ToBf16, f32ToF16, parseSafetensors, readSafetensors, writeSafetensors } from '../../../src/trainer/safetensors';

/** Builds a safetensors file by hand (no writer involved). */
function handMade(header: Record<string, unknown>, data: number[]): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf-8');
  const out = Buffer.alloc(8 + json.length + data.length);
  out.writeBigUInt64LE(BigInt(json.length), 0);
  json.copy(out, 8);
  Buffer.from(data).copy(out, 8 + json.length);
  return out;
}

describe('readSafetensors', () => {
  it('reads F16 and BF16 bytes written by hand', () => {
    // F16 little-endian: 0x3C00 = 1, 0xC000 = -2, 0x7BFF = 65504, 0x0001 = 2^-24
    // BF16: 0x3F80 = 1, 0xC040 = -3
    const buf = handMade(
      {
        h: { dtype: 'F16', shape: [2, 2], data_offsets: [0, 8] },
        b: { dtype: 'BF16', shape: [2], data_offsets: [8, 12] },
        __metadata__: { format: 'pt' },
      },
      [0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b, 0x01, 0x00, 0x80, 0x3f, 0x40, 0xc0],
    );
    const file = parseSafetensors(buf, 'hand.safetensors');
    expect(file.tensors.h.shape).toEqual([2, 2]);
    expect([...file.tensors.h.data]).toEqual([1, -2, 65504, Math.fround(2 ** -24)]);
    expect([...file.tensors.b.data]).toEqual([1, -3]);
    expect(file.dtypes).toEqual({ h: 'F16', b: 'BF16' });
    expect(file.metadata).toEqual({ format: 'pt' });
  });

  it('reads an I64 scalar (torch num_batches_tracked) and unaligned F32 data', () => {
    // header length 1 byte off a multiple of 4 makes the F32 data unaligned in the buffer
    const f32 = new Uint8Array(new Float32Array([1.5, -0.25]).buffer);
    const header = (pad: string) => ({
      n: { dtype: 'I64', shape: [], data_offsets: [0, 8] },
      w: { dtype: 'F32', shape: [2], data_offsets: [8, 16] },
      __metadata__: { pad },
    });
    let pad = '';
    while ((8 + JSON.stringify(header(pad)).length) % 4 === 0) pad += 'x';
    const buf = handMade(header(pad), [42, 0, 0, 0, 0, 0, 0, 0, ...f32]);
    expect((8 + Number(buf.readBigUInt64LE(0)) + 8) % 4).not.toBe(0);
    const d = readSafetensors(buf.subarray(0), 'n.safetensors');
    expect(d.n.shape).toEqual([]);
    expect([...d.n.data]).toEqual([42]);
    expect([...d.w.data]).toEqual([1.5, -0.25]);
  });

  it('names the file and the reason on bad input', () => {
    expect(() => readSafetensors(Buffer.alloc(4), 'short.safetensors')).toThrow(/short\.safetensors: .*too short/);
    const huge = Buffer.alloc(16);
    huge.writeBigUInt64LE(1000n, 0);
    expect(() => readSafetensors(huge, 'bad.safetensors')).toThrow(/bad\.safetensors: header length 1000/);
    const wrongSize = handMade({ t: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Array(8).fill(0));
    expect(() => readSafetensors(wrongSize, 'w.safetensors')).toThrow(/w\.safetensors: tensor "t": 8 bytes for shape \[3\]/);
    const outside = handMade({ t: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, [0, 0, 0, 0]);
    expect(() => readSafetensors(outside, 'o.safetensors')).toThrow(/outside the 4-byte data section/);
    const badType = handMade({ t: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } }, new Array(8).fill(0));
    expect(() => readSafetensors(badType, 'c.safetensors')).toThrow(/unsupported dtype "C64"/);
    const notJson = handMade({}, []);
    notJson.write('{{', 8);
    expect(() => readSafetensors(notJson, 'j.safetensors')).toThrow(/j\.safetensors: header is not valid UTF-8 JSON/);
  });
});

describe('writeSafetensors', () => {
  it('round-trips F32 exactly, keeps metadata and pads the header to 8 bytes', () => {
    const dict = {
      'conv1.weight': { shape: [2, 1, 1, 3], data: new Float32Array([0.1, -2.5, 3e-8, 1e30, -0, 7]) },
      'fc.bias': { shape: [2], data: new Float32Array([Math.PI, -Math.E]) },
    };
    const buf = writeSafetensors(dict, { metadata: { source: 'test' } });
    const headerLen = Number(buf.readBigUInt64LE(0));
    expect((8 + headerLen) % 8).toBe(0);
    const back = parseSafetensors(buf);
    expect(Object.keys(back.tensors)).toEqual(['conv1.weight', 'fc.bias']);
    expect(back.tensors['conv1.weight'].shape).toEqual([2, 1, 1, 3]);
    expect([...back.tensors['conv1.weight'].data]).toEqual([...dict['conv1.weight'].data]);
    expect([...back.tensors['fc.bias'].data]).toEqual([...dict['fc.bias'].data]);
    expect(back.metadata).toEqual({ source: 'test' });
  });

  it('writes F16 and BF16 with round-to-nearest-even', () => {
    const exact = new Float32Array([1, -2, 0.5, 65504, 2 ** -24, 0]);
    const f16 = readSafetensors(writeSafetensors({ a: { shape: [6], data: exact } }, { dtype: 'F16' }));
    expect([...f16.a.data]).toEqual([...exact]);
    const bf = readSafetensors(writeSafetensors({ a: { shape: [3], data: new Float32Array([1, -3, 256]) } }, { dtype: 'BF16' }));
    expect([...bf.a.data]).toEqual([1, -3, 256]);
    expect(() => writeSafetensors({ a: { shape: [3], data: new Float32Array(2) } })).toThrow(/2 values for shape \[3\]/);
  });
});

describe('half-precision conversion', () => {
  it('f32ToF16 rounds ties to even and saturates to infinity', () => {
    expect(f32ToF16(1)).toBe(0x3c00);
    expect(f32ToF16(1 + 2 ** -11)).toBe(0x3c00); // tie → even (down)
    expect(f32ToF16(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie → even (up)
    expect(f32ToF16(1 + 2 ** -11 + 2 ** -20)).toBe(0x3c01); // above the tie
    expect(f32ToF16(65520)).toBe(0x7c00);
    expect(f32ToF16(-Infinity)).toBe(0xfc00);
    expect(Number.isNaN(f16ToF32(f32ToF16(NaN)))).toBe(true);
    expect(f32ToF16(2 ** -25)).toBe(0); // exact tie with zero → even
    expect(f32ToF16(1.5 * 2 ** -24)).toBe(2); // subnormal tie → even
    expect(f16ToF32(f32ToF16(-1234.5))).toBe(-1234); // spacing 1 above 1024: tie → even
    for (const v of [0.333, -1234.7, 6.1e-5, 1e-6]) {
      expect(Math.abs(f16ToF32(f32ToF16(v)) - v) / Math.abs(v)).toBeLessThan(v < 6.1e-5 ? 0.03 : 2 ** -11);
    }
  });

  it('f32ToBf16 keeps the top 16 bits with rounding', () => {
    expect(f32ToBf16(1)).toBe(0x3f80);
    expect(f32ToBf16(-3)).toBe(0xc040);
    expect(f32ToBf16(1 + 2 ** -8)).toBe(0x3f80); // tie → even
    expect(f32ToBf16(1 + 3 * 2 ** -8)).toBe(0x3f82);
  });
});
