#!/usr/bin/env python3
"""One CCT training step in PyTorch, written from the paper's equations, as a reference timing.

Gera & Balasubramanian, "Affect Expression Behaviour Analysis in the Wild using Consensual
Collaborative Training" (ABAW 2021), Eqs. (1)-(3):

    L = (1 - lambda) * sum_j CE(p_j, y) + lambda * sum_j sum_{k != j} KL(p_k || p_j)

N networks (default 3) of the same architecture (ResNet-18, 7 classes) from different seeds see
the same batch in train mode; CE and KL are means over the batch, KL is computed from
log-softmax and nothing is detached (gradients flow through p_k and p_j). lambda is fixed at 0.5
here (the ramp-up of Eq. (4) only changes a scalar). Two Adam optimisers span all N networks:
backbone parameters at lr 1e-3, head (fc.*) parameters at lr 1e-2, torch's default betas/eps.
Inference is the paper's ensemble (Sec. 2.2.4): eval mode, no grad, mean of the N softmaxes.

fp32 eager only: no AMP, no torch.compile; cudnn.benchmark is on for CUDA and reported.
Prints exactly one JSON line on stdout; everything else (warnings, notes) goes to stderr.

Usage: python3 bench/cct_step_torch.py [--device auto|cuda|cpu] [--batches 32,64,128]
       [--input 112] [--nets 3] [--steps 10] [--warmup 3] [--threads N] [--infer-batches 5]
"""

import argparse
import gc
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

LAMBDA = 0.5
NUM_CLASSES = 7
BACKBONE_LR = 1e-3
HEAD_LR = 1e-2


# --- ResNet-18 -------------------------------------------------------------------------------
# torchvision's if it imports; otherwise a copy of its definition (same modules, same parameter
# names, same initialisation) so the bench runs where only torch is installed.


class _BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        return self.relu(out + identity)


class _ResNet18(nn.Module):
    def __init__(self, num_classes=1000):
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make_layer(64, 2)
        self.layer2 = self._make_layer(128, 2, stride=2)
        self.layer3 = self._make_layer(256, 2, stride=2)
        self.layer4 = self._make_layer(512, 2, stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def _make_layer(self, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes)
            )
        layers = [_BasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        layers += [_BasicBlock(planes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


try:
    from torchvision.models import resnet18 as _tv_resnet18

    MODEL_SOURCE = "torchvision"
except Exception as e:  # noqa: BLE001 - any import failure means "use the local copy"
    _tv_resnet18 = None
    MODEL_SOURCE = "local"
    print(f"torchvision unavailable ({type(e).__name__}: {e}); using the local ResNet-18", file=sys.stderr)


def make_resnet18():
    if _tv_resnet18 is not None:
        return _tv_resnet18(num_classes=NUM_CLASSES)
    return _ResNet18(num_classes=NUM_CLASSES)


# --- CCT ---------------------------------------------------------------------------------------


def cct_loss(logits, y, lam):
    """Eq. (1): (1 - lam) * L_sup + lam * L_cons, from the N networks' logits."""
    logp = [F.log_softmax(z, dim=1) for z in logits]
    # Eq. (2): sum over networks of the batch-mean cross-entropy.
    l_sup = sum(F.nll_loss(lp, y) for lp in logp)
    # Eq. (3): sum_j sum_{k != j} KL(p_k || p_j) = sum_c p_k (log p_k - log p_j), batch mean.
    # Neither side is detached, so each term pulls both networks towards each other.
    l_cons = logits[0].new_zeros(())
    for j in range(len(logp)):
        for k in range(len(logp)):
            if k != j:
                l_cons = l_cons + (logp[k].exp() * (logp[k] - logp[j])).sum(dim=1).mean()
    return (1.0 - lam) * l_sup + lam * l_cons


def make_optimizers(nets):
    head, backbone = [], []
    for net in nets:
        for name, p in net.named_parameters():
            (head if name.startswith("fc.") else backbone).append(p)
    return torch.optim.Adam(backbone, lr=BACKBONE_LR), torch.optim.Adam(head, lr=HEAD_LR)


def train_step(nets, opts, x, y):
    for o in opts:
        o.zero_grad(set_to_none=True)
    loss = cct_loss([net(x) for net in nets], y, LAMBDA)
    loss.backward()
    for o in opts:
        o.step()
    return loss


@torch.no_grad()
def ensemble_predict(nets, x):
    return torch.stack([F.softmax(net(x), dim=1) for net in nets]).mean(dim=0)


# --- bench -------------------------------------------------------------------------------------


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def is_oom(e):
    oom_type = getattr(torch.cuda, "OutOfMemoryError", None)
    return (oom_type is not None and isinstance(e, oom_type)) or "out of memory" in str(e).lower()


def bench_batch(args, device, b):
    nets = []
    for j in range(args.nets):
        torch.manual_seed(j + 1)  # different initialisation per network, as in the paper
        nets.append(make_resnet18().to(device).train())
    opts = make_optimizers(nets)
    gen = torch.Generator().manual_seed(1234)
    x = torch.randn(b, 3, args.input, args.input, generator=gen).to(device)
    y = (torch.arange(b) % NUM_CLASSES).to(device)

    for _ in range(args.warmup):  # kernels, cudnn autotuning, Adam moments
        train_step(nets, opts, x, y)
    sync(device)
    t0 = time.perf_counter()
    for _ in range(args.steps):
        loss = train_step(nets, opts, x, y)
    sync(device)
    step_s = (time.perf_counter() - t0) / args.steps
    loss_value = float(loss.item())

    for net in nets:
        net.eval()
    ensemble_predict(nets, x)  # warm-up: eval-mode kernels
    sync(device)
    t1 = time.perf_counter()
    for _ in range(args.infer_batches):
        probs = ensemble_predict(nets, x)
    sync(device)
    infer_s = (time.perf_counter() - t1) / args.infer_batches
    del probs

    peak = None
    if device.type == "cuda":
        peak = round(torch.cuda.max_memory_allocated(device) / 2**20, 1)
    return {
        "batch": b,
        "trainImagesPerSec": round(b / step_s, 2),
        "stepSeconds": round(step_s, 4),
        "inferImagesPerSec": round(b / infer_s, 2),
        "peakMemoryMiB": peak,
        "loss": round(loss_value, 4),
    }


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="auto", choices=["auto", "cuda", "cpu"])
    ap.add_argument("--batches", default="32,64,128")
    ap.add_argument("--input", type=int, default=112)
    ap.add_argument("--nets", type=int, default=3)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: torch's default)")
    ap.add_argument("--infer-batches", type=int, default=5)
    args = ap.parse_args()
    batches = [int(s) for s in args.batches.split(",") if s.strip()]
    if args.steps < 1 or args.infer_batches < 1 or args.nets < 2:
        ap.error("--steps and --infer-batches must be >= 1, --nets >= 2")

    # Keep stdout for the one JSON line: anything a library prints goes to stderr.
    real_stdout, sys.stdout = sys.stdout, sys.stderr

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    if args.device == "auto":
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        device = torch.device(args.device)
        if device.type == "cuda" and not torch.cuda.is_available():
            sys.stdout = real_stdout
            print(json.dumps({"framework": "pytorch", "torch": torch.__version__, "error": "cuda not available"}))
            return 1

    cudnn_version = None
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        device_name = torch.cuda.get_device_name(device)
        cudnn_version = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    else:
        device_name = cpu_name()

    results = []
    for b in batches:
        if device.type == "cuda":
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats(device)
        try:
            r = bench_batch(args, device, b)
        except Exception as e:  # noqa: BLE001 - report per batch size and carry on
            if is_oom(e):
                r = {"batch": b, "error": "out of memory"}
            else:
                r = {"batch": b, "error": f"{type(e).__name__}: {str(e)[:300]}"}
            print(f"batch {b}: {r['error']}", file=sys.stderr)
        # Drop this batch size's networks and tensors before the next one.
        gc.collect()
        if device.type == "cuda":
            torch.cuda.empty_cache()
        print(f"batch {b}: {r}", file=sys.stderr)
        results.append(r)

    out = {
        "framework": "pytorch",
        "torch": torch.__version__,
        "device": device_name,
        "cuda": torch.version.cuda,
        "cudnn": cudnn_version,
        "cudnnBenchmark": device.type == "cuda",
        "threads": torch.get_num_threads(),
        "input": args.input,
        "nets": args.nets,
        "model": f"resnet18 ({MODEL_SOURCE})",
        "lambda": LAMBDA,
        "steps": args.steps,
        "warmup": args.warmup,
        "precision": "fp32 eager",
        "results": results,
    }
    sys.stdout = real_stdout
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
