import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerFastCpuKernels } from '../../../src/trainer/cpu-kernels';
import {
  BN_MOMENTUM,
  countParameters,
  createResNet,
  disposeResNet,
  forward,
  fromTorchLayout,
  loadTorchStateDict,
  readWeights,
  resnetParamSpecs,
  toTorchLayout,
  toTorchStateDict,
  trainableVariables,
  type ResNet,
  type ResNetConfig,
} from '../../../src/trainer/resnet';
import { createRng } from '../../../src/trainer/rng';
import { readSafetensors, writeSafetensors, type StateDict, type TensorRecord } from '../../../src/trainer/safetensors';

// torchvision.models.resnet18().state_dict().keys(), in order.
const TORCHVISION_RESNET18_KEYS = (() => {
  const bn = (p: string) => ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked'].map((s) => `${p}.${s}`);
  const keys = ['conv1.weight', ...bn('bn1')];
  for (let l = 1; l <= 4; l++)
    for (let b = 0; b < 2; b++) {
      const p = `layer${l}.${b}`;
      keys.push(`${p}.conv1.weight`, ...bn(`${p}.bn1`), `${p}.conv2.weight`, ...bn(`${p}.bn2`));
      if (l > 1 && b === 0) keys.push(`${p}.downsample.0.weight`, ...bn(`${p}.downsample.1`));
    }
  keys.push('fc.weight', 'fc.bias');
  return keys;
})();

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerFastCpuKernels();
});

describe('ResNet-18 preset', () => {
  let net: ResNet;
  afterAll(() => net && disposeResNet(net));

  it('has torchvision key names, shapes and 11,689,512 parameters for 1000 classes', async () => {
    expect(TORCHVISION_RESNET18_KEYS).toHaveLength(122);
    expect(TORCHVISION_RESNET18_KEYS.slice(0, 8)).toEqual([
      'conv1.weight',
      'bn1.weight',
      'bn1.bias',
      'bn1.running_mean',
      'bn1.running_var',
      'bn1.num_batches_tracked',
      'layer1.0.conv1.weight',
      'layer1.0.bn1.weight',
    ]);
    const before = tf.memory().numTensors;
    net = createResNet({ depth: 'resnet18', numClasses: 1000 }, 1);
    expect(tf.memory().numTensors - before).toBe(102);
    const { backbone, head } = trainableVariables(net);
    const count = [...backbone, ...head].reduce((n, v) => n + v.size, 0);
    expect(count).toBe(11_689_512);
    expect(countParameters({ depth: 'resnet18', numClasses: 1000 })).toBe(11_689_512);
    expect(head.map((v) => v.shape)).toEqual([[512, 1000], [1000]]);

    const dict = await toTorchStateDict(net, { numBatchesTracked: true });
    expect(Object.keys(dict)).toEqual(TORCHVISION_RESNET18_KEYS);
    expect(dict['conv1.weight'].shape).toEqual([64, 3, 7, 7]);
    expect(dict['layer2.0.downsample.0.weight'].shape).toEqual([128, 64, 1, 1]);
    expect(dict['layer4.1.conv2.weight'].shape).toEqual([512, 512, 3, 3]);
    expect(dict['fc.weight'].shape).toEqual([1000, 512]);
    expect(dict['bn1.running_var'].data.every((v) => v === 1)).toBe(true);
  });

  it('has 11,180,103 parameters for 7 classes', () => {
    expect(countParameters({ depth: 'resnet18', numClasses: 7 })).toBe(11_180_103);
    expect(countParameters({ depth: 'resnet18', numClasses: 8 })).toBe(11_180_103 + 513);
    expect(resnetParamSpecs({ depth: 'resnet10', numClasses: 7 }).filter((s) => s.key.startsWith('layer1')).length).toBe(10);
  });

  it('initialises like torch: kaiming-normal fan_out convs, BN 1/0, fc uniform ±1/sqrt(512)', () => {
    const w = net.vars.get('layer4.0.conv2.weight')!.dataSync();
    let s = 0;
    let s2 = 0;
    for (const v of w) {
      s += v;
      s2 += v * v;
    }
    const std = Math.sqrt(s2 / w.length - (s / w.length) ** 2);
    expect(std / Math.sqrt(2 / (512 * 9))).toBeCloseTo(1, 2);
    const fc = net.vars.get('fc.weight')!.dataSync() as Float32Array;
    const bound = 1 / Math.sqrt(512);
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of fc) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    expect(hi).toBeLessThanOrEqual(bound);
    expect(lo).toBeGreaterThanOrEqual(-bound);
    expect(hi).toBeGreaterThan(0.95 * bound);
    expect(
      net.vars
        .get('layer3.1.bn2.weight')!
        .dataSync()
        .every((v) => v === 1),
    ).toBe(true);
    expect(
      net.vars
        .get('layer3.1.bn2.bias')!
        .dataSync()
        .every((v) => v === 0),
    ).toBe(true);
  });

  it('loads a 1000-class state dict into a 7-class net, skipping fc', async () => {
    const seven = createResNet({ depth: 'resnet18', numClasses: 7 }, 2);
    try {
      const dict = await toTorchStateDict(net, { numBatchesTracked: true });
      const report = loadTorchStateDict(seven, dict, { source: 'imagenet.safetensors' });
      expect(report.skipped).toEqual(['fc.weight', 'fc.bias']);
      expect(report.ignored).toHaveLength(20); // num_batches_tracked
      expect(report.loaded).toHaveLength(100);
      expect([...seven.vars.get('layer3.0.conv1.weight')!.dataSync().slice(0, 50)]).toEqual([
        ...net.vars.get('layer3.0.conv1.weight')!.dataSync().slice(0, 50),
      ]);
      expect(() => loadTorchStateDict(seven, dict, { source: 'imagenet.safetensors', head: 'load' })).toThrow(
        /imagenet\.safetensors: .*"fc\.weight" has shape \[1000,512\], expected \[7,512\]/,
      );
      const x = tf.zeros([1, 64, 64, 3]) as tf.Tensor4D;
      const y = forward(seven, x, false);
      expect(y.shape).toEqual([1, 7]);
      tf.dispose([x, y]);
    } finally {
      disposeResNet(seven);
    }
  });
});

// ---- a plain-JS torch-semantics reference (NCHW, one image at a time) -------------------------------
interface Chw {
  c: number;
  h: number;
  w: number;
  d: Float64Array;
}

function refConv(x: Chw, wt: TensorRecord, stride: number, pad: number): Chw {
  const [co, ci, kh, kw] = wt.shape;
  const h = Math.floor((x.h + 2 * pad - kh) / stride) + 1;
  const w = Math.floor((x.w + 2 * pad - kw) / stride) + 1;
  const d = new Float64Array(co * h * w);
  for (let o = 0; o < co; o++)
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < w; xx++) {
        let s = 0;
        for (let i = 0; i < ci; i++)
          for (let a = 0; a < kh; a++)
            for (let b = 0; b < kw; b++) {
              const iy = y * stride + a - pad;
              const ix = xx * stride + b - pad;
              if (iy < 0 || iy >= x.h || ix < 0 || ix >= x.w) continue;
              s += x.d[(i * x.h + iy) * x.w + ix] * wt.data[((o * ci + i) * kh + a) * kw + b];
            }
        d[(o * h + y) * w + xx] = s;
      }
  return { c: co, h, w, d };
}
function refBn(x: Chw, sd: StateDict, p: string): Chw {
  const d = new Float64Array(x.d.length);
  for (let c = 0; c < x.c; c++) {
    const g = sd[`${p}.weight`].data[c] / Math.sqrt(sd[`${p}.running_var`].data[c] + 1e-5);
    for (let i = 0; i < x.h * x.w; i++) {
      d[c * x.h * x.w + i] = (x.d[c * x.h * x.w + i] - sd[`${p}.running_mean`].data[c]) * g + sd[`${p}.bias`].data[c];
    }
  }
  return { ...x, d };
}
const refRelu = (x: Chw): Chw => ({ ...x, d: x.d.map((v) => Math.max(0, v)) });
function refMaxPool(x: Chw): Chw {
  const h = Math.floor((x.h + 2 - 3) / 2) + 1;
  const w = Math.floor((x.w + 2 - 3) / 2) + 1;
  const d = new Float64Array(x.c * h * w).fill(-Infinity);
  for (let c = 0; c < x.c; c++)
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < w; xx++)
        for (let a = 0; a < 3; a++)
          for (let b = 0; b < 3; b++) {
            const iy = y * 2 + a - 1;
            const ix = xx * 2 + b - 1;
            if (iy < 0 || iy >= x.h || ix < 0 || ix >= x.w) continue;
            const i = (c * h + y) * w + xx;
            d[i] = Math.max(d[i], x.d[(c * x.h + iy) * x.w + ix]);
          }
  return { c: x.c, h, w, d };
}
function refForward(sd: StateDict, cfg: { widths: number[]; blocks: number[] }, img: Chw): number[] {
  let h = refMaxPool(refRelu(refBn(refConv(img, sd['conv1.weight'], 2, 3), sd, 'bn1')));
  let inC = cfg.widths[0];
  cfg.widths.forEach((outC, s) => {
    for (let b = 0; b < cfg.blocks[s]; b++) {
      const p = `layer${s + 1}.${b}`;
      const stride = s > 0 && b === 0 ? 2 : 1;
      let out = refRelu(refBn(refConv(h, sd[`${p}.conv1.weight`], stride, 1), sd, `${p}.bn1`));
      out = refBn(refConv(out, sd[`${p}.conv2.weight`], 1, 1), sd, `${p}.bn2`);
      const id = stride !== 1 || inC !== outC ? refBn(refConv(h, sd[`${p}.downsample.0.weight`], stride, 0), sd, `${p}.downsample.1`) : h;
      h = refRelu({ ...out, d: out.d.map((v, i) => v + id.d[i]) });
      inC = outC;
    }
  });
  const feat = Array.from(
    { length: h.c },
    (_, c) => h.d.slice(c * h.h * h.w, (c + 1) * h.h * h.w).reduce((a, b) => a + b, 0) / (h.h * h.w),
  );
  const fw = sd['fc.weight'];
  return Array.from({ length: fw.shape[0] }, (_, o) =>
    feat.reduce((s, f, i) => s + f * fw.data[o * fw.shape[1] + i], sd['fc.bias'].data[o]),
  );
}

describe('forward', () => {
  // Odd sizes, two blocks in a stage and two downsamples exercise every padding and branch.
  const cfg: ResNetConfig = { depth: 'tiny', widths: [2, 3, 4], blocks: [1, 2, 1], inputSize: 13, numClasses: 5 };

  it('matches a torch-semantics reference in eval mode (layout conversion, padding, BN, pooling)', async () => {
    const net = createResNet(cfg, 3);
    const rng = createRng(9);
    // random BN affine and running stats, loaded through the torch-layout path
    const sd = await toTorchStateDict(net);
    for (const [k, t] of Object.entries(sd)) {
      if (/bn|downsample\.1/.test(k)) t.data = t.data.map(() => (k.endsWith('running_var') ? 0.5 + rng.next() : rng.normal(0, 0.5)));
    }
    loadTorchStateDict(net, sd);
    const xData = Float32Array.from({ length: 2 * 13 * 13 * 3 }, () => rng.normal());
    const x = tf.tensor4d(xData, [2, 13, 13, 3]);
    const before = tf.memory().numTensors;
    const y = forward(net, x, false);
    expect(tf.memory().numTensors - before).toBe(1);
    const got = y.arraySync();
    for (let n = 0; n < 2; n++) {
      const img: Chw = { c: 3, h: 13, w: 13, d: new Float64Array(3 * 13 * 13) };
      for (let i = 0; i < 13 * 13; i++) for (let c = 0; c < 3; c++) img.d[c * 169 + i] = xData[(n * 169 + i) * 3 + c];
      const want = refForward(sd, { widths: [2, 3, 4], blocks: [1, 2, 1] }, img);
      want.forEach((v, k) => expect(got[n][k]).toBeCloseTo(v, 4));
    }
    tf.dispose([x, y]);
    disposeResNet(net);
  });

  it('training mode normalises with batch statistics and updates running stats like torch', () => {
    const net = createResNet(cfg, 4);
    const x = tf.randomNormal([3, 13, 13, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const conv1 = tf.conv2d(x, net.vars.get('conv1.weight') as tf.Variable as tf.Tensor4D, 2, 3);
    const { mean, variance } = tf.moments(conv1, [0, 1, 2]);
    const n = conv1.size / conv1.shape[3];
    const evalOut = forward(net, x, false).arraySync();
    const frozen = forward(net, x, true, { updateStats: false });
    expect(net.numBatchesTracked).toBe(0);
    expect([...net.vars.get('bn1.running_mean')!.dataSync()]).toEqual([0, 0]);
    const trainOut = forward(net, x, true).arraySync();
    expect(net.numBatchesTracked).toBe(1);
    expect(trainOut).toEqual(frozen.arraySync());
    expect(trainOut).not.toEqual(evalOut);
    const rm = net.vars.get('bn1.running_mean')!.dataSync();
    const rv = net.vars.get('bn1.running_var')!.dataSync();
    const m = mean.dataSync();
    const v = variance.dataSync();
    for (let c = 0; c < 2; c++) {
      expect(rm[c]).toBeCloseTo(BN_MOMENTUM * m[c], 5);
      expect(rv[c]).toBeCloseTo(1 - BN_MOMENTUM + BN_MOMENTUM * v[c] * (n / (n - 1)), 5);
    }
    // a batch of one with 1x1 spatial maps cannot give an unbiased variance
    const one = tf.zeros([1, 13, 13, 3]) as tf.Tensor4D;
    expect(() => forward(net, one, true)).toThrow(/more than 1 value per channel/);
    tf.dispose([x, conv1, mean, variance, frozen, one]);
    disposeResNet(net);
  });

  it('gradients match finite differences in training mode', () => {
    const net = createResNet({ depth: 'tiny', widths: [2, 3], blocks: [1, 1], inputSize: 11, numClasses: 3 }, 5);
    const x = tf.randomNormal([4, 11, 11, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const w = tf.tensor2d([[1, -2, 0.5]]);
    const loss = () => tf.sum(tf.mul(forward(net, x, true, { updateStats: false }), w)) as tf.Scalar;
    // small steps: ReLU and max-pool kinks make larger central differences unreliable
    for (const key of ['conv1.weight', 'bn1.weight', 'layer1.0.conv1.weight', 'layer2.0.downsample.0.weight', 'fc.weight']) {
      const v = net.vars.get(key)!;
      const g = tf.tidy(() => tf.variableGrads(loss, [v]).grads[v.name].dataSync()[0]);
      const orig = v.dataSync().slice();
      const at = (delta: number) => {
        const p = orig.slice();
        p[0] += delta;
        tf.tidy(() => v.assign(tf.tensor(p, v.shape)));
        return tf.tidy(() => loss().dataSync()[0]);
      };
      const eps = 1e-3;
      const fd = (at(eps) - at(-eps)) / (2 * eps);
      tf.tidy(() => v.assign(tf.tensor(orig, v.shape)));
      expect(Math.abs(g)).toBeGreaterThan(0.1);
      expect(Math.abs(g - fd)).toBeLessThan(0.01 * Math.max(1, Math.abs(fd)));
    }
    tf.dispose([x, w]);
    disposeResNet(net);
  });
});

describe('initialisation and state dicts', () => {
  const tiny: ResNetConfig = { depth: 'tiny', inputSize: 32, numClasses: 7 };

  it('is deterministic per seed and differs across seeds', async () => {
    const [a, b, c] = [createResNet(tiny, 10), createResNet(tiny, 10), createResNet(tiny, 11)];
    const wa = await readWeights(a);
    const wb = await readWeights(b);
    const wc = await readWeights(c);
    for (const k of wa.keys()) expect([...wb.get(k)!]).toEqual([...wa.get(k)!]);
    expect([...wc.get('conv1.weight')!]).not.toEqual([...wa.get('conv1.weight')!]);
    expect([...wc.get('fc.weight')!]).not.toEqual([...wa.get('fc.weight')!]);
    expect(a.id).not.toBe(b.id); // tf variable names stay unique
    [a, b, c].forEach(disposeResNet);
  });

  it('converts layouts: tfjs [kh,kw,in,out] ↔ torch [out,in,kh,kw], [in,out] ↔ [out,in]', () => {
    const t = { shape: [1, 2, 2, 3], data: Float32Array.from({ length: 12 }, (_, i) => i) };
    const torch = toTorchLayout(t);
    expect(torch.shape).toEqual([3, 2, 1, 2]);
    // tfjs [0,1,1,2] (index ((0*2+1)*2+1)*3+2 = 11) → torch [2,1,0,1] (index ((2*2+1)*1+0)*2+1 = 11)
    expect(torch.data[11]).toBe(11);
    // tfjs [0,1,0,1] = 7 → torch [1,0,0,1] = ((1*2+0)*1+0)*2+1 = 5
    expect(torch.data[5]).toBe(7);
    expect([...fromTorchLayout(torch).data]).toEqual([...t.data]);
    const fc = toTorchLayout({ shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) });
    expect(fc).toEqual({ shape: [3, 2], data: Float32Array.from([1, 4, 2, 5, 3, 6]) });
  });

  it('round-trips through safetensors into another net with identical outputs', async () => {
    const a = createResNet(tiny, 1);
    const b = createResNet(tiny, 2);
    const file = writeSafetensors(await toTorchStateDict(a, { numBatchesTracked: true }));
    loadTorchStateDict(b, readSafetensors(file, 'a.safetensors'), { source: 'a.safetensors' });
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const [ya, yb] = [forward(a, x, false), forward(b, x, false)];
    expect(yb.arraySync()).toEqual(ya.arraySync());
    tf.dispose([x, ya, yb]);
    [a, b].forEach(disposeResNet);
  });

  it('reports every problem of a bad state dict with the file name, and strips module.', async () => {
    const net = createResNet(tiny, 1);
    const good = await toTorchStateDict(net);
    const bad: StateDict = { ...good, extra: { shape: [1], data: new Float32Array(1) } };
    delete bad['layer1.0.conv2.weight'];
    bad['bn1.weight'] = { shape: [9], data: new Float32Array(9) };
    let msg = '';
    try {
      loadTorchStateDict(net, bad, { source: 'pre.safetensors' });
    } catch (err) {
      msg = (err as Error).message;
    }
    expect(msg).toMatch(/^pre\.safetensors: /);
    expect(msg).toMatch(/missing "layer1\.0\.conv2\.weight" \(expected shape \[8,8,3,3\]\)/);
    expect(msg).toMatch(/"bn1\.weight" has shape \[9\], expected \[8\]/);
    expect(msg).toMatch(/unexpected key "extra"/);
    // nothing was written
    expect([...net.vars.get('bn1.weight')!.dataSync()]).toEqual(new Array(8).fill(1));
    const prefixed = Object.fromEntries(Object.entries(good).map(([k, v]) => [`module.${k}`, v]));
    expect(loadTorchStateDict(net, prefixed).loaded).toHaveLength(net.specs.length);
    expect(loadTorchStateDict(net, { ...good, extra: good['fc.bias'] }, { allowUnexpected: true }).ignored).toEqual(['extra']);
    disposeResNet(net);
  });

  it('rejects bad configs and inputs', () => {
    expect(() => createResNet({ depth: 'resnet50' as never, numClasses: 7 }, 1)).toThrow(/unknown depth "resnet50"/);
    expect(() => createResNet({ depth: 'tiny', numClasses: 0 }, 1)).toThrow(/numClasses/);
    expect(() => createResNet({ depth: 'tiny', widths: [8, 16], blocks: [1], numClasses: 7 }, 1)).toThrow(/equal length/);
    const net = createResNet(tiny, 1);
    const x = tf.zeros([1, 32, 32, 1]) as tf.Tensor4D;
    expect(() => forward(net, x, false)).toThrow(/3 channels/);
    x.dispose();
    disposeResNet(net);
  });
});
