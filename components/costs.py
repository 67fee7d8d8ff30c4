"""Each layer's stages as numbers, from shapes alone: weights, multiply-adds and output size
per image (``backend.engine.cost`` adds them up while editing). No torch: validation runs in
the server. tests/components/test_costs.py checks every figure against the torch modules the
components build (``sum(p.numel())`` and ``FlopCounterMode``)."""
from __future__ import annotations

import math

from backend.engine.cost import StageCost


def dense(in_shape: tuple[int, ...], units: int) -> list[StageCost]:
    fan_in = in_shape[0]
    return [StageCost("", params=fan_in * units + units, macs=fan_in * units, out_elements=units)]


def passthrough(in_shape: tuple[int, ...], stochastic: bool = False) -> list[StageCost]:
    """Flatten, Dropout: no weights, no multiply-adds, the same number of values out."""
    return [StageCost("", params=0, macs=0, out_elements=math.prod(in_shape), stochastic=stochastic)]


def _conv(cin: int, cout: int, kernel: int, out_hw: tuple[int, int], groups: int = 1, bias: bool = True,
          batch_norm: bool = False) -> tuple[int, int]:
    """(weights, multiply-adds) of a convolution, with the batch normalization after it (its
    scale and shift are weights; its running statistics are buffers)."""
    per_output = kernel * kernel * (cin // groups)
    params = per_output * cout + (cout if bias else 0) + (2 * cout if batch_norm else 0)
    return params, per_output * cout * out_hw[0] * out_hw[1]


def vgg16(in_shape: tuple[int, ...], layers: tuple[tuple[str, int], ...]) -> list[StageCost]:
    """Normalization, then 3x3 convolutions (padding 1) and 2x2 max pooling."""
    h, w, c = in_shape
    out = [StageCost("normalize", 0, 0, h * w * c)]
    for name, channels in layers:
        if channels:
            params, macs = _conv(c, channels, 3, (h, w))
            c = channels
        else:
            h, w = h // 2, w // 2
            params, macs = 0, 0
        out.append(StageCost(name, params, macs, h * w * c))
    return out


# EfficientNet-Lite0 (the B0 table): (expand ratio, kernel, stride, in, out, repeats); the
# torch modules are in backbones/efficientnet_lite.py (a test compares the two).
LITE0_BLOCKS = ((1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2), (6, 3, 2, 40, 80, 3),
                (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4), (6, 3, 1, 192, 320, 1))


def _same(size: int, stride: int) -> int:
    return -(-size // stride)   # TF "same" padding


def efficientnet_lite0(in_shape: tuple[int, ...]) -> list[StageCost]:
    h, w, c = in_shape
    out = [StageCost("normalize", 0, 0, h * w * c)]
    h, w = _same(h, 2), _same(w, 2)
    params, macs = _conv(c, 32, 3, (h, w), bias=False, batch_norm=True)
    out.append(StageCost("stem", params, macs, h * w * 32))
    c = 32
    for stage, (expand, kernel, stride, cin, cout, repeats) in enumerate(LITE0_BLOCKS, start=1):
        for r in range(repeats):
            block_in, block_stride = (cin, stride) if r == 0 else (cout, 1)
            params = macs = 0
            hidden = block_in * expand
            if expand != 1:
                p, m = _conv(block_in, hidden, 1, (h, w), bias=False, batch_norm=True)
                params, macs = params + p, macs + m
            h, w = _same(h, block_stride), _same(w, block_stride)
            p, m = _conv(hidden, hidden, kernel, (h, w), groups=hidden, bias=False, batch_norm=True)
            params, macs = params + p, macs + m
            p, m = _conv(hidden, cout, 1, (h, w), bias=False, batch_norm=True)
            out.append(StageCost(f"block{stage}{chr(ord('a') + r)}", params + p, macs + m, h * w * cout))
            c = cout
    params, macs = _conv(c, 1280, 1, (h, w), bias=False, batch_norm=True)
    out.append(StageCost("top", params, macs, h * w * 1280))
    return out
