"""Lecture 7's architectures: published parameter counts and MACs, shapes, blocks."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from cnnlab.models import (VGG, AlexNet, BasicBlock, Bottleneck, GoogLeNet, Inception, StackNet, count_macs,
                           count_params, on_meta, output_shapes, profile, resnet)
from cnnlab.shapes import conv2d_params

pytestmark = pytest.mark.lec7

# torchvision.models' documented figures (params exact; "GFLOPS", which are MACs, to 2 decimals)
PUBLISHED = [
    ("alexnet", AlexNet, (), {}, 61_100_840, 0.71),
    ("vgg11", VGG, (11,), {}, 132_863_336, 7.61),
    ("vgg16", VGG, (16,), {}, 138_357_544, 15.47),
    ("vgg19", VGG, (19,), {}, 143_667_240, 19.63),
    ("vgg16_bn", VGG, (16,), {"batch_norm": True}, 138_365_992, 15.47),
    ("googlenet", GoogLeNet, (), {"k5": 3}, 6_624_904, 1.50),
    ("resnet18", resnet, (18,), {}, 11_689_512, 1.81),
    ("resnet34", resnet, (34,), {}, 21_797_672, 3.66),
    ("resnet50", resnet, (50,), {}, 25_557_032, 4.09),
    ("resnet101", resnet, (101,), {}, 44_549_160, 7.80),
    ("resnet152", resnet, (152,), {}, 60_192_808, 11.51),
]


@pytest.mark.parametrize(("name", "factory", "args", "kwargs", "params", "gmacs"), PUBLISHED,
                         ids=[p[0] for p in PUBLISHED])
def test_profile_matches_published(name, factory, args, kwargs, params, gmacs):
    p = profile(factory, *args, **kwargs)
    assert p["params"] == params
    assert round(p["macs"] / 1e9, 2) == gmacs


def test_alexnet_paper_variant_count_and_sizes():
    m = on_meta(AlexNet, variant="paper")
    # hand count: grouped conv2/4/5 see half the channels
    convs = [conv2d_params(3, 96, 11), conv2d_params(48, 256, 5), conv2d_params(256, 384, 3),
             conv2d_params(192, 384, 3), conv2d_params(192, 256, 3)]
    fcs = [9216 * 4096 + 4096, 4096 * 4096 + 4096, 4096 * 1000 + 1000]
    assert count_params(m) == sum(convs) + sum(fcs) == 60_965_224
    assert sum(isinstance(x, nn.LocalResponseNorm) for x in m.modules()) == 2
    _, rows = count_macs(m, (1, 3, 227, 227), per_layer=True)
    # the paper's caption: 253,440 (sic; 55·55·96 = 290,400) – 186,624 – 64,896 – 64,896 – 43,264
    sizes = [torch.Size(r[1][1:]).numel() for r in rows]
    assert sizes[:5] == [290_400, 186_624, 64_896, 64_896, 43_264] and sizes[5:] == [4096, 4096, 1000]
    with pytest.raises(ValueError, match="variant"):
        AlexNet(variant="caffe")


def test_classic_forward_shapes_small_batch():
    torch.manual_seed(0)
    assert AlexNet(num_classes=7)(torch.randn(2, 3, 224, 224)).shape == (2, 7)
    m = GoogLeNet(num_classes=5).eval()
    assert m(torch.randn(1, 3, 224, 224)).shape == (1, 5)
    # VGG works on smaller inputs thanks to the adaptive pool (same parameters)
    assert VGG(11, num_classes=3)(torch.randn(2, 3, 64, 64)).shape == (2, 3)
    with pytest.raises(ValueError, match="depth"):
        VGG(17)
    with pytest.raises(ValueError, match="depth"):
        resnet(20)


def test_vgg_depth_counts_weight_layers():
    for depth in (11, 13, 16, 19):
        m = on_meta(VGG, depth)
        weights = [x for x in m.modules() if isinstance(x, (nn.Conv2d, nn.Linear))]
        assert len(weights) == depth
        assert all(x.kernel_size == (3, 3) for x in weights if isinstance(x, nn.Conv2d))


def test_inception_module_3a_channels_and_count():
    m = Inception(192, 64, 96, 128, 16, 32, 32, batch_norm=False)
    out = m(torch.randn(2, 192, 28, 28))
    assert out.shape == (2, 64 + 128 + 32 + 32, 28, 28)
    assert count_params(m) == (conv2d_params(192, 64, 1) + conv2d_params(192, 96, 1) + conv2d_params(96, 128, 3)
                               + conv2d_params(192, 16, 1) + conv2d_params(16, 32, 5) + conv2d_params(192, 32, 1))
    # without the 1×1 reductions the 3×3 and 5×5 branches alone would cost
    assert conv2d_params(192, 128, 3) + conv2d_params(192, 32, 5) > 2 * count_params(m)


def test_googlenet_22_layers_deep():
    m = on_meta(GoogLeNet)
    # the longest path: stem 3 convs + 9 modules × 2 convs + fc = 22 weight layers
    assert 3 + 9 * 2 + 1 == 22
    assert sum(isinstance(x, Inception) for x in m.modules()) == 9
    assert count_params(on_meta(GoogLeNet, batch_norm=False)) == 6_998_552


def test_basic_block_state_dict_keys_and_identity():
    b = BasicBlock(8, 8)
    assert b.downsample is None
    assert set(b.state_dict()) >= {"conv1.weight", "bn1.weight", "bn1.running_mean", "conv2.weight", "bn2.bias"}
    # zero the last BN's scale: F(x) = 0, so the block is relu(x)
    nn.init.zeros_(b.bn2.weight)
    nn.init.zeros_(b.bn2.bias)
    x = torch.randn(2, 8, 5, 6)
    torch.testing.assert_close(b.eval()(x), torch.relu(x))
    d = BasicBlock(8, 16, stride=2)
    assert [k for k in d.state_dict() if k.startswith("downsample")][:2] == ["downsample.0.weight",
                                                                                 "downsample.1.weight"]
    assert d(torch.randn(2, 8, 7, 9)).shape == (2, 16, 4, 5)


def test_bottleneck_shapes_and_count():
    b = Bottleneck(256, 64)
    assert b.downsample is None and b(torch.randn(1, 256, 14, 14)).shape == (1, 256, 14, 14)
    bn = 2 * (64 + 64 + 256)
    assert count_params(b) == 256 * 64 + 64 * 64 * 9 + 64 * 256 + bn == 69_632 + bn
    # a basic block at 256 channels would need 2·256·256·9 = 1,179,648 conv weights, 17× more
    assert 2 * 256 * 256 * 9 > 16 * 69_632
    assert Bottleneck(256, 128, stride=2)(torch.randn(1, 256, 14, 14)).shape == (1, 512, 7, 7)


def test_resnet_stage_shapes():
    rows = output_shapes(resnet(18).eval(), (1, 3, 224, 224))
    shapes = {r[0]: r[2] for r in rows}
    assert shapes["maxpool"] == (1, 64, 56, 56)
    assert [shapes[f"layer{i}.{n}.bn2"] for i, n in ((1, 1), (2, 1), (3, 1), (4, 1))] == [
        (1, 64, 56, 56), (1, 128, 28, 28), (1, 256, 14, 14), (1, 512, 7, 7)]


@pytest.mark.parametrize("residual", [True, False])
@pytest.mark.parametrize("batch_norm", [True, False])
def test_stacknet_depth_and_forward(residual, batch_norm):
    m = StackNet(blocks=6, residual=residual, batch_norm=batch_norm, width=4)
    assert m.depth == 14
    convs = [x for x in m.modules() if isinstance(x, nn.Conv2d) and x.kernel_size == (3, 3)]
    assert len(convs) == 13  # + the fc layer = 14 weight layers
    assert any(isinstance(x, nn.BatchNorm2d) for x in m.modules()) == batch_norm
    assert any(isinstance(x, BasicBlock) and type(x) is BasicBlock for x in m.modules()) == residual
    assert m(torch.randn(3, 1, 8, 8)).shape == (3, 10)
    with pytest.raises(ValueError, match="blocks"):
        StackNet(blocks=4)


def test_count_macs_hand_case():
    m = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 3, groups=2), nn.Flatten(),
                      nn.Linear(4 * 3 * 3, 10))
    total, rows = count_macs(m, (2, 3, 5, 5), per_layer=True)
    assert [r[2] for r in rows] == [2 * 4 * 25 * 27, 2 * 4 * 9 * 18, 2 * 10 * 36]
    assert total == sum(r[2] for r in rows)
    assert next(m.parameters()).is_meta
