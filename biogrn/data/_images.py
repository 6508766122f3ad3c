"""Image files opened with their declared size checked before a pixel is decoded.

A PNG or JPEG header can declare 10^5 x 10^5 pixels in a file of a few hundred bytes; decoding it
would allocate 10 GB. `open_image` reads the header only, and refuses more than `MOST_PIXELS`
(and Pillow's own decompression-bomb limit) as an `OSError` naming the file, which the loaders'
`on_error` rule then reports or skips like any unreadable image.
"""

from __future__ import annotations

import warnings
from pathlib import Path

__all__ = ["MOST_PIXELS", "open_image"]

MOST_PIXELS = 50_000_000
"""The most pixels an image may declare: a face photograph holds a few million at most."""


def open_image(file: str | Path):
    """`PIL.Image.open(file)`, lazy, once its header's size is within `MOST_PIXELS`.

    Raises:
        OSError: the file is not an image Pillow reads, or it declares more pixels than allowed.
    """
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:  # a file Pillow cannot identify raises UnidentifiedImageError, an OSError
            image = Image.open(file)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise OSError(f"{file}: declares more pixels than an image may hold ({error})") from None
    width, height = image.size
    if width * height > MOST_PIXELS:
        image.close()
        raise OSError(f"{file}: declares {width} x {height} pixels, more than the {MOST_PIXELS:,} an image may hold")
    return image
