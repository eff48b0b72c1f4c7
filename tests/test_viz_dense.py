"""Lecture 9's figures draw headless and label what they show."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from cnnlab import viz
from cnnlab.data import make_scenes

pytestmark = pytest.mark.lec9


def test_show_detections_and_draw_boxes():
    s = make_scenes(5, seed=0)
    dets = [(b, np.linspace(1, 0.5, len(b)), lab) for b, lab in zip(s.boxes, s.labels)]
    fig = viz.show_detections(s.images, dets, s.boxes, s.class_names, suptitle="t")
    axes = [a for a in fig.axes if a.images]
    assert len(axes) == 5 and axes[0].get_xlabel() and axes[0].get_title()
    assert len(axes[0].patches) == 2 * len(s.boxes[0])           # truth + detections
    plt.close(fig)


def test_show_masks_and_diagrams():
    s = make_scenes(2, seed=0)
    fig = viz.show_masks(s.images, [s.masks, s.masks], s.class_names)
    assert len(fig.axes) == 6 and fig.axes[1].get_title() == "true mask"
    plt.close(fig)
    for fig in (viz.plot_rcnn_family(), viz.plot_encoder_decoder()):
        assert all(a.get_title() for a in fig.axes)
        plt.close(fig)
