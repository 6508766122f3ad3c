"""Face regions of interest with OpenCV's bundled frontal-face detector (a Viola-Jones Haar
cascade, `haarcascade_frontalface_default.xml`, shipped inside opencv-python-headless).

The seed paper crops faces with OpenCV or Dlib before training. `FaceCropper` finds the largest
face of a grayscale or RGB image, widens its box by `margin` on every side (clipped to the
image), and returns it resized to `size` x `size` grayscale. Detection is deterministic; an image
without a face gives None, and `crop_all` counts those instead of dropping them silently.
"""

from __future__ import annotations

import numpy as np

__all__ = ["FaceCropper"]


class FaceCropper:
    """`FaceCropper()(image)` -> `(size, size)` uint8 crop of the largest face, or None.

    Args:
        size: side of the output crop.
        margin: fraction of the face box added on each side.
        scale_factor, min_neighbors, min_face: the cascade's search settings.
    """

    def __init__(
        self, size: int = 48, margin: float = 0.1, scale_factor: float = 1.1, min_neighbors: int = 5, min_face: int = 24
    ):
        try:
            import cv2
        except ImportError as error:
            raise ImportError("face cropping needs OpenCV: pip install 'biogrn[faces]'") from error
        if not hasattr(cv2, "CascadeClassifier"):
            raise ImportError(f"OpenCV {cv2.__version__} has no Haar cascades; install opencv-python-headless<5")
        self.cv2 = cv2
        self.detector = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
        if self.detector.empty():
            raise RuntimeError("OpenCV's bundled haarcascade_frontalface_default.xml could not be loaded")
        self.size, self.margin = size, margin
        self.scale_factor, self.min_neighbors, self.min_face = scale_factor, min_neighbors, min_face

    def box(self, image: np.ndarray) -> tuple[int, int, int, int] | None:
        """`(x, y, w, h)` of the largest face widened by the margin, or None."""
        gray = self._gray(image)
        faces = self.detector.detectMultiScale(
            gray, self.scale_factor, self.min_neighbors, minSize=(self.min_face, self.min_face)
        )
        if len(faces) == 0:
            return None
        x, y, w, h = max(faces, key=lambda f: f[2] * f[3])
        dx, dy = round(self.margin * w), round(self.margin * h)
        left, top = max(0, x - dx), max(0, y - dy)
        right, bottom = min(gray.shape[1], x + w + dx), min(gray.shape[0], y + h + dy)
        return int(left), int(top), int(right - left), int(bottom - top)

    def __call__(self, image: np.ndarray) -> np.ndarray | None:
        found = self.box(image)
        if found is None:
            return None
        x, y, w, h = found
        crop = self._gray(image)[y : y + h, x : x + w]
        return self.cv2.resize(crop, (self.size, self.size), interpolation=self.cv2.INTER_AREA)

    def crop_all(self, images) -> tuple[np.ndarray, np.ndarray]:
        """Crops of the images with a face, and a boolean `found` per image (count the misses)."""
        crops, found = [], []
        for image in images:
            crop = self(image)
            found.append(crop is not None)
            if crop is not None:
                crops.append(crop)
        stacked = np.stack(crops) if crops else np.zeros((0, self.size, self.size), np.uint8)
        return stacked, np.asarray(found)

    def _gray(self, image: np.ndarray) -> np.ndarray:
        image = np.asarray(image)
        if image.dtype != np.uint8:
            raise ValueError(f"image: expected uint8 pixels, got {image.dtype}")
        if image.ndim == 3:
            return self.cv2.cvtColor(image, self.cv2.COLOR_RGB2GRAY)
        if image.ndim != 2:
            raise ValueError(f"image: expected (h, w) or (h, w, 3), got shape {image.shape}")
        return image
