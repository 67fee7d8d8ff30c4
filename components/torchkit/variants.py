"""Deterministic augmentation variants: fixed transforms of the formatted images.

Random augmentation changes the backbone's input every epoch, so the frozen backbone must run
on every batch (the feature cache is off). A fixed set of variants (the image, its mirror, a
few zoomed crops) gives most of the same help against memorising the training set, and each
variant's features are computed once per image and cached: each epoch then draws one variant
per training image from the trainer's seeded generator. The cached and the uncached path draw
the same variants (``draw``) and transform the images the same way (``apply``), so both give
the same numbers. Validation and test always see the plain image.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:   # torch is imported where the transforms run: the catalog reads the sets without it
    import torch


@dataclass(frozen=True)
class Variant:
    """One fixed transform of an image: a crop (fractions of the height and width: top, left,
    size; resized back to the full size) and then, optionally, a horizontal flip."""

    name: str
    flip: bool = False
    crop: tuple[float, float, float] | None = None

    @property
    def plain(self) -> bool:
        return not self.flip and self.crop is None


PLAIN = Variant("plain")
HFLIP = Variant("hflip", flip=True)
ZOOM = 0.8   # a zoomed crop keeps 80 % of the height and the width (1.25x zoom)

# augmentation param value -> its variants, the plain image first
VARIANT_SETS: dict[str, tuple[Variant, ...]] = {
    "fixed_flip": (PLAIN, HFLIP),
    "fixed_flip_crops": (PLAIN, HFLIP,
                         Variant("zoom_centre", crop=((1 - ZOOM) / 2, (1 - ZOOM) / 2, ZOOM)),
                         Variant("zoom_centre_hflip", flip=True, crop=((1 - ZOOM) / 2, (1 - ZOOM) / 2, ZOOM))),
}


def variants_of(augmentation: str) -> tuple[Variant, ...] | None:
    """The fixed variants of an ``augmentation`` value, or None for none and the random ones."""
    return VARIANT_SETS.get(augmentation)


def transform(x: torch.Tensor, variant: Variant) -> torch.Tensor:
    """``variant`` of a float N x C x H x W batch (the same size back)."""
    import torch
    import torch.nn.functional as F

    if variant.crop is not None:
        h, w = x.shape[2], x.shape[3]
        top, left, size = variant.crop
        ch, cw = max(1, round(h * size)), max(1, round(w * size))
        t, lft = min(h - ch, round(h * top)), min(w - cw, round(w * left))
        x = F.interpolate(x[:, :, t:t + ch, lft:lft + cw], size=(h, w), mode="bilinear", align_corners=False)
    if variant.flip:
        x = x.flip(3)
    return x.contiguous(memory_format=torch.channels_last) if x.dim() == 4 else x


def draw(n: int, count: int, gen: torch.Generator) -> torch.Tensor:
    """One variant index per training image for an epoch, from the trainer's generator (drawn
    after the epoch's batch order, by both paths alike)."""
    import torch

    return torch.randint(count, (n,), generator=gen)


def apply(x: torch.Tensor, ids: torch.Tensor, variants: tuple[Variant, ...]) -> torch.Tensor:
    """Each image of a float batch as its drawn variant (``ids``: one index per image)."""
    out = x.clone() if any(not v.plain for v in variants) else x
    ids = ids.to(x.device)
    for i, variant in enumerate(variants):
        if variant.plain:
            continue
        mask = ids == i
        if bool(mask.any()):
            out[mask] = transform(x[mask], variant)
    return out


def gather(features: list[torch.Tensor], idx: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """A batch of cached features: image ``idx[j]`` as its variant ``ids[j]``."""
    import torch

    first = features[0]
    out = torch.empty((len(idx), *first.shape[1:]), dtype=first.dtype, device=first.device)
    for i, feats in enumerate(features):
        mask = ids == i
        if bool(mask.any()):
            out[mask.to(out.device)] = feats[idx[mask].to(feats.device)]
    return out
