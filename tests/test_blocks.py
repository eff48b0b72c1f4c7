"""cnnlab.models.blocks: the ps3/ps4 reference modules. State-dict keys, parameter counts,
torchinfo's table, and forward passes against torchvision's definitions written out by hand
in float64 (torchvision does not import beside the pinned torch)."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as TF

from cnnlab.models import BasicBlock, Bottleneck, basic_block, bottleneck, count_params, mnist1d_cnn, output_shapes

pytestmark = [pytest.mark.ps3, pytest.mark.ps4]

BN_KEYS = ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]


def _bn_keys(prefix):
    return [f"{prefix}.{k}" for k in BN_KEYS]


# --- mnist1d_cnn ---------------------------------------------------------------------

def test_mnist1d_cnn_keys_and_parameters():
    model = mnist1d_cnn()
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias",
                                        "7.weight", "7.bias"]
    assert count_params(model) == 2050
    assert [count_params(m) for m in model] == [60, 0, 690, 0, 690, 0, 0, 610]


def test_mnist1d_cnn_output_shapes():
    rows = output_shapes(mnist1d_cnn(), (5, 1, 40))
    assert [(r[1], r[2]) for r in rows] == [
        ("Conv1d", (5, 15, 19)), ("ReLU", (5, 15, 19)), ("Conv1d", (5, 15, 9)), ("ReLU", (5, 15, 9)),
        ("Conv1d", (5, 15, 4)), ("ReLU", (5, 15, 4)), ("Flatten", (5, 60)), ("Linear", (5, 10))]


def test_mnist1d_cnn_torchinfo_table():
    torchinfo = pytest.importorskip("torchinfo")
    stats = torchinfo.summary(mnist1d_cnn(), input_size=(1, 1, 40), verbose=0)
    assert stats.total_params == 2050
    leaves = [(type(layer.module).__name__, layer.output_size) for layer in stats.summary_list if layer.is_leaf_layer]
    assert leaves == [("Conv1d", [1, 15, 19]), ("ReLU", [1, 15, 19]), ("Conv1d", [1, 15, 9]), ("ReLU", [1, 15, 9]),
                      ("Conv1d", [1, 15, 4]), ("ReLU", [1, 15, 4]), ("Flatten", [1, 60]), ("Linear", [1, 10])]


def test_mnist1d_cnn_is_fresh_and_matches_hand_forward():
    torch.manual_seed(0)
    a, b = mnist1d_cnn().double(), mnist1d_cnn().double()
    assert not torch.equal(a[0].weight, b[0].weight)  # a new initialisation every call
    x = torch.randn(3, 1, 40, dtype=torch.float64)
    sd = a.state_dict()
    h = x
    for i in (0, 2, 4):
        h = TF.relu(TF.conv1d(h, sd[f"{i}.weight"], sd[f"{i}.bias"], stride=2))
    expected = TF.linear(h.flatten(1), sd["7.weight"], sd["7.bias"])  # (3, 60) → (3, 10)
    torch.testing.assert_close(a(x), expected, rtol=1e-12, atol=1e-12)


# --- torchvision's blocks, written out ---------------------------------------------------

def _bn(x, sd, prefix, training):
    return TF.batch_norm(x, sd[f"{prefix}.running_mean"].clone(), sd[f"{prefix}.running_var"].clone(),
                         sd[f"{prefix}.weight"], sd[f"{prefix}.bias"], training=training, momentum=0.1, eps=1e-5)


def _shortcut(x, sd, stride, training):
    if "downsample.0.weight" not in sd:
        return x
    return _bn(TF.conv2d(x, sd["downsample.0.weight"], stride=stride), sd, "downsample.1", training)


def tv_basic_block(x, sd, stride, training):
    """torchvision.models.resnet.BasicBlock.forward on a state_dict."""
    out = TF.relu(_bn(TF.conv2d(x, sd["conv1.weight"], stride=stride, padding=1), sd, "bn1", training))
    out = _bn(TF.conv2d(out, sd["conv2.weight"], padding=1), sd, "bn2", training)
    return TF.relu(out + _shortcut(x, sd, stride, training))


def tv_bottleneck(x, sd, stride, training):
    """torchvision.models.resnet.Bottleneck.forward (v1.5: stride on the 3×3) on a state_dict."""
    out = TF.relu(_bn(TF.conv2d(x, sd["conv1.weight"]), sd, "bn1", training))
    out = TF.relu(_bn(TF.conv2d(out, sd["conv2.weight"], stride=stride, padding=1), sd, "bn2", training))
    out = _bn(TF.conv2d(out, sd["conv3.weight"]), sd, "bn3", training)
    return TF.relu(out + _shortcut(x, sd, stride, training))


def _randomise(block):
    """Non-trivial running statistics and affine parameters, so eval mode is a real test."""
    g = torch.Generator().manual_seed(1)
    for name, buf in block.named_buffers():
        if name.endswith("running_mean"):
            buf.copy_(torch.randn(buf.shape, generator=g))
        elif name.endswith("running_var"):
            buf.copy_(torch.rand(buf.shape, generator=g) + 0.5)
    with torch.no_grad():
        for name, p in block.named_parameters():
            if ".weight" in name and p.dim() == 1 or name.endswith("bias"):
                p.copy_(torch.randn(p.shape, generator=g))
    return block


# (c_in, c_out, stride, has_downsample, parameter count)
BASIC = [(64, 64, 1, False, 73_984), (64, 128, 2, True, 230_144), (3, 5, 1, True, 405), (4, 4, 2, True, 328)]


@pytest.mark.parametrize("c_in,c_out,stride,down,params", BASIC)
def test_basic_block_keys_and_parameters(c_in, c_out, stride, down, params):
    block = basic_block(c_in, c_out, stride)
    assert isinstance(block, BasicBlock)
    keys = ["conv1.weight", *_bn_keys("bn1"), "conv2.weight", *_bn_keys("bn2")]
    keys += ["downsample.0.weight", *_bn_keys("downsample.1")] if down else []
    assert list(block.state_dict()) == keys
    assert count_params(block) == params
    assert all(m.bias is None for m in block.modules() if isinstance(m, torch.nn.Conv2d))
    if down:
        assert block.downsample[0].kernel_size == (1, 1) and block.downsample[0].stride == (stride, stride)


@pytest.mark.parametrize("c_in,c_out,stride,down,params", BASIC[1:])
@pytest.mark.parametrize("training", [False, True])
def test_basic_block_forward_matches_torchvision(c_in, c_out, stride, down, params, training):
    torch.manual_seed(0)
    block = _randomise(basic_block(c_in, c_out, stride)).double().train(training)
    x = torch.randn(2, c_in, 9, 6, dtype=torch.float64)
    expected = tv_basic_block(x, {k: v.clone() for k, v in block.state_dict().items()}, stride, training)
    out = block(x)
    assert out.shape == (2, c_out, -(-9 // stride), -(-6 // stride))
    torch.testing.assert_close(out, expected, rtol=1e-12, atol=1e-12)


# (c_in, planes, stride, has_downsample, parameter count): torchvision resnet50's layer1.0, layer1.1, layer2.0
BOTTLENECK = [(64, 64, 1, True, 75_008), (256, 64, 1, False, 70_400), (256, 128, 2, True, 379_392),
              (8, 2, 2, True, 172)]


@pytest.mark.parametrize("c_in,planes,stride,down,params", BOTTLENECK)
def test_bottleneck_keys_and_parameters(c_in, planes, stride, down, params):
    block = bottleneck(c_in, planes, stride)
    assert isinstance(block, Bottleneck)
    keys = ["conv1.weight", *_bn_keys("bn1"), "conv2.weight", *_bn_keys("bn2"), "conv3.weight", *_bn_keys("bn3")]
    keys += ["downsample.0.weight", *_bn_keys("downsample.1")] if down else []
    assert list(block.state_dict()) == keys
    assert count_params(block) == params
    assert block.conv2.stride == (stride, stride) and block.conv1.stride == (1, 1)  # v1.5


@pytest.mark.parametrize("c_in,planes,stride,down,params", [BOTTLENECK[3], (8, 2, 1, False, 0), (3, 2, 1, True, 0)])
@pytest.mark.parametrize("training", [False, True])
def test_bottleneck_forward_matches_torchvision(c_in, planes, stride, down, params, training):
    torch.manual_seed(0)
    block = _randomise(bottleneck(c_in, planes, stride)).double().train(training)
    assert (block.downsample is not None) == down
    x = torch.randn(3, c_in, 7, 8, dtype=torch.float64)
    expected = tv_bottleneck(x, {k: v.clone() for k, v in block.state_dict().items()}, stride, training)
    torch.testing.assert_close(block(x), expected, rtol=1e-12, atol=1e-12)


def test_basic_block_loads_a_torchvision_layout_state_dict():
    # a state_dict with torchvision's keys (here from another instance) loads strictly
    src, dst = basic_block(8, 16, 2), basic_block(8, 16, 2)
    dst.load_state_dict(src.state_dict(), strict=True)
    x = torch.randn(1, 8, 5, 5)
    torch.testing.assert_close(dst.eval()(x), src.eval()(x))
