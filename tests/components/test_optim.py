"""Our RMSprop must give torch's updates bit for bit (it only avoids a per-step temporary and
torch's slow square root of zeros)."""
import pytest
import torch

from components.torchkit import optim
from components.torchkit.optim import RMSprop


def _grads(step: int, shape) -> torch.Tensor:
    g = torch.randn(shape, generator=torch.Generator().manual_seed(step)) * 1e-3
    g[:, : shape[1] // 3] = 0.0        # inputs that never fire: the average stays exactly 0
    g[:, -2:] *= 1e-18                  # squares far below epsilon**2
    return g


@pytest.mark.parametrize("chunk", [None, 1000])
@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize("eps", [1e-7, 1e-3])
def test_rmsprop_matches_torch_bit_for_bit(momentum, eps, chunk, monkeypatch):
    if chunk:  # a large parameter is updated slice by slice (3,072 elements: 3 slices and a part)
        monkeypatch.setattr(optim, "CHUNK", chunk)
    shape = (64, 48)
    init = torch.randn(shape, generator=torch.Generator().manual_seed(0))
    ours_p = torch.nn.Parameter(init.clone())
    ref_p = torch.nn.Parameter(init.clone())
    ours = RMSprop([ours_p], lr=2e-3, alpha=0.9, eps=eps, momentum=momentum)
    ref = torch.optim.RMSprop([ref_p], lr=2e-3, alpha=0.9, eps=eps, momentum=momentum)
    for step in range(12):
        ours_p.grad = _grads(step, shape)
        ref_p.grad = _grads(step, shape)
        ours.step()
        ref.step()
        assert torch.equal(ours_p, ref_p), f"step {step}: max diff {(ours_p - ref_p).abs().max()}"
    assert not torch.equal(ours_p, init)  # it did move
    assert torch.equal(ours.state[ours_p]["square_avg"], ref.state[ref_p]["square_avg"])


def test_rmsprop_state_dict_round_trip():
    p = torch.nn.Parameter(torch.ones(3))
    opt = RMSprop([p], lr=0.1, alpha=0.9, eps=1e-7)
    p.grad = torch.full((3,), 0.5)
    opt.step()
    again = RMSprop([p], lr=0.1, alpha=0.9, eps=1e-7)
    again.load_state_dict(opt.state_dict())
    assert torch.equal(again.state[p]["square_avg"], opt.state[p]["square_avg"])


def test_rmsprop_rejects_bad_settings():
    with pytest.raises(ValueError, match="eps"):
        RMSprop([torch.nn.Parameter(torch.ones(1))], lr=0.1, eps=0.0)
