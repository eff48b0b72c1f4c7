"""Synthetic scenes of lecture 9: determinism, shapes, masks consistent with boxes, steering labels."""
from __future__ import annotations

import numpy as np
import pytest

from cnnlab.data import SCENE_CLASSES, make_scenes, make_steering, steering_angle

pytestmark = pytest.mark.lec9


def test_make_scenes_shapes_and_dtypes():
    s = make_scenes(7, size=24, seed=3)
    assert s.images.shape == (7, 1, 24, 24) and s.images.dtype == np.float32
    assert s.masks.shape == s.instances.shape == (7, 24, 24) and s.masks.dtype == np.int64
    assert len(s.boxes) == len(s.labels) == 7 and s.class_names == SCENE_CLASSES
    for b, lab in zip(s.boxes, s.labels):
        assert b.dtype == np.float32 and b.shape == (len(lab), 4) and 1 <= len(lab) <= 4
        assert lab.dtype == np.int64 and ((lab >= 0) & (lab < 3)).all()


def test_make_scenes_deterministic_and_seeded():
    a, b, c = make_scenes(20, seed=5), make_scenes(20, seed=5), make_scenes(20, seed=6)
    assert np.array_equal(a.images, b.images) and np.array_equal(a.masks, b.masks)
    assert all(np.array_equal(x, y) for x, y in zip(a.boxes, b.boxes))
    assert not np.array_equal(a.images, c.images)
    # image i does not depend on how many images follow it
    assert np.array_equal(make_scenes(3, seed=5).images, a.images[:3])


def test_make_scenes_masks_consistent_with_boxes():
    s = make_scenes(200, seed=0)
    for n in range(200):
        assert s.instances[n].max() == len(s.boxes[n])
        for j, ((x1, y1, x2, y2), k) in enumerate(zip(s.boxes[n], s.labels[n])):
            rows, cols = np.nonzero(s.instances[n] == j + 1)
            assert (cols.min(), rows.min(), cols.max() + 1, rows.max() + 1) == (x1, y1, x2, y2)
            assert (s.masks[n][rows, cols] == k + 1).all()
        assert ((s.masks[n] > 0) == (s.instances[n] > 0)).all()
        # shapes never touch (not even diagonally), so no two box centres share a 4×4 cell
        inst = np.pad(s.instances[n], 1)
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                nb = np.roll(inst, (dy, dx), axis=(0, 1))
                assert not ((inst > 0) & (nb > 0) & (inst != nb)).any()
        centres = (s.boxes[n][:, :2] + s.boxes[n][:, 2:]) / 2
        cells = {tuple(c) for c in (centres // 4).astype(int)}
        assert len(cells) == len(centres)


def test_make_scenes_objects_are_brighter_than_background_without_noise():
    s = make_scenes(50, noise=0.0, contrast=(0.5, 0.5), seed=1)
    np.testing.assert_array_equal(s.images[:, 0], np.where(s.masks > 0, 0.5, 0.0))


def test_make_scenes_shapes_drawn_as_named():
    s = make_scenes(300, noise=0.0, radius=(4, 4), objects=(1, 1), seed=2)
    for n in range(300):
        area = (s.masks[n] > 0).sum()
        k = s.labels[n][0]
        # r = 4, a 9×9 box: square 81 pixels; triangle rows 1,1,3,3,5,5,7,7,9 → 41;
        # disk dy² + dx² ≤ 20: rows of 5, 7, 9, 9, 9, 9, 9, 7, 5 → 69
        assert area == {0: 69, 1: 81, 2: 41}[int(k)]
        assert s.boxes[n][0, 2] - s.boxes[n][0, 0] == 9


@pytest.mark.parametrize("kw", [dict(n=0), dict(size=4), dict(radius=(0, 3)), dict(radius=(4, 20)),
                                dict(objects=(0, 2)), dict(objects=(3, 2))])
def test_make_scenes_bad_arguments(kw):
    with pytest.raises(ValueError):
        make_scenes(**{"n": 2, **kw})


def test_steering_angle_hand_computed():
    # vehicle at (16, 32); centres (16, 16) straight ahead, (28, 20) 45° right, (4, 20) 45° left
    boxes = np.array([[14, 14, 18, 18], [24, 16, 32, 24], [0, 16, 8, 24]])
    np.testing.assert_allclose(steering_angle(boxes, 32), [0, np.pi / 4, -np.pi / 4])
    with pytest.raises(ValueError, match=r"\(M, 4\)"):
        steering_angle(np.zeros(4), 32)


def test_make_steering_labels_come_from_the_disk():
    x, theta, goal = make_steering(40, seed=0)
    assert x.shape == (40, 1, 32, 32) and theta.shape == (40,) and goal.shape == (40, 4)
    np.testing.assert_allclose(theta, steering_angle(goal, 32), rtol=1e-6)
    assert np.array_equal(make_steering(40, seed=0)[0], x)
    for n in range(40):  # the goal box holds bright pixels shaped like a disk (not a full square)
        x1, y1, x2, y2 = goal[n].astype(int)
        patch = x[n, 0, y1:y2, x1:x2]
        assert (patch > 0.3).mean() < 0.95 and patch[(y2 - y1) // 2, (x2 - x1) // 2] > 0.3
