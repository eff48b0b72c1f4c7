"""The course map (DESIGN §4), one manifest for the CLI, the book and the demo class.

Plain data: lectures and problem sets with id, title, a one-line summary and
prerequisites. Nothing here is typed twice: a lecture is "written" when its
notebook exists in ``lectures/``, a problem set is "written" when its source
``solutions/psN.py`` exists (and "released" when ``exercises/psN/`` holds
it), and points are read from the built notebook.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Lecture", "ProblemSet", "LECTURES", "PROBLEM_SETS", "ROOT", "lecture_status",
           "problem_set_status", "problem_set_points", "problem_sets_present", "lecture", "problem_set"]

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Lecture:
    """One lecture: ``lectures/<file>.ipynb``."""

    id: str  # "lec1"
    number: int
    title: str
    summary: str
    file: str  # notebook stem in lectures/
    prerequisites: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProblemSet:
    """One problem set: source ``solutions/<id>.py``, built ``solutions/<id>/<id>.ipynb``."""

    id: str  # "ps1"
    number: int
    title: str
    summary: str
    prerequisites: tuple[str, ...] = ()  # lecture ids


LECTURES: tuple[Lecture, ...] = (
    Lecture("lec1", 1, "Images and filters",
            "Images as arrays, the parameter explosion of fully connected layers, hand-designed "
            "filters (blur, edges, Sobel, Scharr, lines), template matching.", "01_images_and_filters"),
    Lecture("lec2", 2, "Convolution",
            "1-D and 2-D convolution, cross-correlation, padding, stride, dilation, the output-size "
            "formula, sliding windows, im2col, convolution as a sparse shared-weight layer.",
            "02_convolution", ("lec1",)),
    Lecture("lec3", 3, "Channels and layers",
            "Multi-channel kernels, parameter counting, 1×1 convolution, `nn.Conv2d`, receptive "
            "fields, local connectivity and weight sharing.", "03_channels_and_layers", ("lec2",)),
    Lecture("lec4", 4, "Pooling, invariance and equivariance",
            "Max and average pooling, down- and upsampling, shift experiments.",
            "04_pooling_and_invariance", ("lec3",)),
    Lecture("lec5", 5, "Building CNNs",
            "Conv + ReLU + pool + FC, keeping dimensions straight, MNIST-1D: a fully connected net "
            "against a 2,050-parameter conv net, shuffled inputs.", "05_building_cnns", ("lec4",)),
    Lecture("lec6", 6, "Training and looking inside",
            "Backpropagation through convolution, learned filters, feature maps, maximally "
            "activating patches, saliency.", "06_backprop_and_visualization", ("lec5",)),
    Lecture("lec7", 7, "Modern architectures",
            "AlexNet, VGG, GoogLeNet, ResNet sizes, BatchNorm with running statistics, residual "
            "blocks, bottlenecks.", "07_modern_architectures", ("lec6",)),
    Lecture("lec8", 8, "Transfer learning",
            "Feature extraction against fine-tuning on small data.", "08_transfer_learning", ("lec7",)),
    Lecture("lec9", 9, "Beyond classification",
            "Detection (IoU, NMS, R-CNN, YOLO grid), segmentation (FCN, U-Net), denoising and "
            "diffusion, control from vision.", "09_beyond_classification", ("lec7",)),
)

PROBLEM_SETS: tuple[ProblemSet, ...] = (
    ProblemSet("ps1", 1, "Convolution from scratch",
               "Implement `corr2d`, `pad2d`, `conv_output_size`, `conv2d` (channels, batch, stride, "
               "padding, dilation) and `conv1d` in numpy, then count parameters.",
               ("lec1", "lec2", "lec3")),
    ProblemSet("ps2", 2, "Pooling and backpropagation",
               "Max and average pooling forward and backward, and the backward pass of `conv2d`, "
               "checked against torch and central differences.", ("lec2", "lec3", "lec4")),
    ProblemSet("ps3", 3, "CNNs in PyTorch",
               "MNIST-1D with a fully connected net and a small conv net; shuffled inputs; debugging "
               "a broken model.", ("lec5", "lec6")),
    ProblemSet("ps4", 4, "Modern architectures",
               "BatchNorm with running statistics, residual blocks and bottlenecks, receptive fields "
               "of deep networks.", ("lec7",)),
    ProblemSet("ps5", 5, "Beyond classification",
               "IoU and non-maximum suppression, upsampling, a tiny U-Net, denoising.", ("lec8", "lec9")),
)


def lecture(lid: str) -> Lecture:
    return next(x for x in LECTURES if x.id == lid)


def problem_set(pid: str) -> ProblemSet:
    try:
        return next(x for x in PROBLEM_SETS if x.id == pid)
    except StopIteration:
        raise KeyError(f"no problem set {pid!r} in the syllabus; have {[p.id for p in PROBLEM_SETS]}") from None


def lecture_status(lec: Lecture, root: Path = ROOT) -> str:
    """"written" when ``lectures/<file>.ipynb`` exists, else "planned"."""
    return "written" if (Path(root) / "lectures" / f"{lec.file}.ipynb").is_file() else "planned"


def problem_set_status(ps: ProblemSet, root: Path = ROOT) -> str:
    """"released" (exercises/<id>/ holds a notebook), "written" (solutions/<id>.py exists) or "planned"."""
    root = Path(root)
    if not (root / "solutions" / f"{ps.id}.py").is_file():
        return "planned"
    return "released" if any((root / "exercises" / ps.id).glob("*.ipynb")) else "written"


def problem_sets_present(root: Path = ROOT) -> list[str]:
    """Ids of the syllabus's problem sets whose source exists, in course order."""
    return [ps.id for ps in PROBLEM_SETS if problem_set_status(ps, root) != "planned"]


def problem_set_points(ps: ProblemSet, root: Path = ROOT) -> float | None:
    """Total points of the built notebook ``solutions/<id>/<id>.ipynb`` (None before it is built)."""
    path = Path(root) / "solutions" / ps.id / f"{ps.id}.ipynb"
    if not path.is_file():
        return None
    from cnnlab.course.build import total_points

    return total_points(json.loads(path.read_text(encoding="utf-8")))
