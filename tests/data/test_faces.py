"""Face cropping on a real portrait that ships inside matplotlib (Grace Hopper)."""

import numpy as np
import pytest
from matplotlib import cbook
from PIL import Image

pytest.importorskip("cv2")
from biogrn.data import FaceCropper


def portrait():
    return np.asarray(Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).convert("RGB"))


def test_the_portrait_face_is_found_and_cropped():
    cropper = FaceCropper(size=48, margin=0.1)
    image = portrait()
    x, y, w, h = cropper.box(image)
    assert 0 <= x and 0 <= y and x + w <= image.shape[1] and y + h <= image.shape[0]
    assert 0.25 < w / image.shape[1] < 0.8  # a face, not the whole picture or a speck
    crop = cropper(image)
    assert crop.shape == (48, 48) and crop.dtype == np.uint8
    assert np.array_equal(crop, cropper(image))  # deterministic
    gray = np.asarray(Image.fromarray(image).convert("L"))
    assert cropper.box(gray) is not None


def test_images_without_a_face_are_counted_not_dropped_silently():
    cropper = FaceCropper()
    crops, found = cropper.crop_all([portrait(), np.zeros((120, 120), np.uint8)])
    assert found.tolist() == [True, False] and crops.shape == (1, 48, 48)
    with pytest.raises(ValueError, match="expected uint8"):
        cropper(np.zeros((10, 10), np.float32))
