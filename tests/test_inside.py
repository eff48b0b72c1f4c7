"""cnnlab.models.inside on small networks whose answers are known by hand."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from cnnlab.models import activation_maximization, occlusion, record_activations, saliency, top_activating

pytestmark = pytest.mark.lec6


def _linear_1d(L=6, K=3, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(L, K))  # (N, 1, L) → (N, K)


def test_record_activations_shapes_and_mode():
    m = nn.Sequential(nn.Conv1d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 8, 2))
    m.train()
    acts = record_activations(m, torch.randn(5, 1, 10), ["0", "1"])
    assert acts["0"].shape == acts["1"].shape == (5, 4, 8)
    torch.testing.assert_close(acts["1"], acts["0"].clamp(min=0))
    assert m.training
    with pytest.raises(ValueError, match="not modules"):
        record_activations(m, torch.randn(1, 1, 10), ["9"])


def test_top_activating_finds_planted_maximum():
    acts = torch.zeros(4, 3, 5)
    acts[2, 1, 3] = 7.0
    acts[0, 1, 0] = 5.0
    acts[1, 0, 0] = 9.0  # other channel: ignored
    values, ex, pos = top_activating(acts, channel=1, k=2)
    assert values.tolist() == [7.0, 5.0] and ex.tolist() == [2, 0] and pos.tolist() == [3, 0]
    with pytest.raises(ValueError, match="channel"):
        top_activating(acts, channel=3)


def test_saliency_of_linear_model_is_abs_weight_row():
    m = _linear_1d()
    x = torch.randn(1, 6)
    sal, target = saliency(m, x, target=2)
    assert target == 2
    torch.testing.assert_close(sal, m[1].weight[2].abs()[None])
    _, pred = saliency(m, x)
    assert pred == int(m(x[None]).argmax())
    with pytest.raises(ValueError, match=r"\(C, L\)"):
        saliency(m, torch.randn(6))


def test_occlusion_matches_hand_loop_1d_and_2d():
    m = _linear_1d()
    x = torch.randn(1, 6)
    drops = occlusion(m, x, target=1, window=2, stride=2)
    assert drops.shape == (3,)
    p0 = m(x[None]).softmax(1)[0, 1]
    for i, s in enumerate(range(0, 6, 2)):
        xo = x.clone()
        xo[:, s:s + 2] = 0
        torch.testing.assert_close(drops[i], (p0 - m(xo[None]).softmax(1)[0, 1]).detach())
    img_model = nn.Sequential(nn.Flatten(), nn.Linear(12, 2))
    xi = torch.randn(1, 3, 4)
    d2 = occlusion(img_model, xi, target=0, window=(2, 2), stride=(1, 2))
    assert d2.shape == (2, 2)
    xo = xi.clone()
    xo[:, 1:3, 2:4] = 0
    p = img_model(torch.stack([xi, xo])).softmax(1)[:, 0]
    torch.testing.assert_close(d2[1, 1], (p[0] - p[1]).detach())
    with pytest.raises(ValueError, match="window"):
        occlusion(m, x, target=0, window=7)


def test_activation_maximization_aligns_with_weights_and_keeps_params():
    m = _linear_1d()
    before = [p.clone() for p in m.parameters()]
    x = activation_maximization(m, (1, 6), unit=0, steps=300, lr=0.05, l2=0.05)
    # maximise w·x − λ‖x‖² → x* = w / (2λ)
    torch.testing.assert_close(x[0], m[1].weight[0].detach() / 0.1, rtol=0.05, atol=0.05)
    for a, b in zip(before, m.parameters()):
        assert torch.equal(a, b) and b.requires_grad
    conv = nn.Sequential(nn.Conv1d(1, 2, 3), nn.ReLU())
    xc = activation_maximization(conv, (1, 8), unit=1, layer="0", steps=50)
    assert xc.shape == (1, 8)
    assert conv(xc[None])[0, 1].mean() > conv(torch.zeros(1, 1, 8))[0, 1].mean()


def test_activation_maximization_log_softmax_targets_the_class():
    torch.manual_seed(0)
    m = nn.Sequential(nn.Flatten(), nn.Linear(6, 3))
    x = activation_maximization(m, (1, 6), unit=1, steps=300, lr=0.05, l2=0.01, log_softmax=True)
    with torch.no_grad():
        p = m(x[None]).softmax(1)[0]
    assert int(p.argmax()) == 1 and p[1] > 0.5  # a softmax over 3 classes starts at 1/3
