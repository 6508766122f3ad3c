"""Image files opened with their declared size checked before a pixel is decoded.

A PNG or JPEG header can declare 10^5 x 10^5 pixels in a file of a few hundred bytes; decoding it
would allocate 10 GB. `open_image` reads the header only, and refuses more than `MOST_PIXELS`
(and Pillow's own decompression-bomb limit) as a `DataError` naming the file, which the loaders'
`on_error` rule then reports or skips like any unreadable image.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from pathlib import Path

from biogrn.core import DataError, reading

__all__ = ["MOST_PIXELS", "open_image"]

MOST_PIXELS = 50_000_000
"""The most pixels an image may declare: a face photograph holds a few million at most."""


@contextmanager
def open_image(file: str | Path):
    """`with open_image(file) as image:` Pillow's lazy image, once its header's size is within
    `MOST_PIXELS`; reading it (and decoding, in the block) is inside the reading boundary.

    Raises:
        DataError: the file is not an image Pillow reads, fails to decode in the block, or declares
            more pixels than allowed (`PATH: ...`).
    """
    from PIL import Image

    with reading(file, "image"), warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(file)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:  # before a pixel is decoded
            raise DataError(f"{file}: declares more pixels than an image may hold ({error})") from None
        with image:
            width, height = image.size
            if width * height > MOST_PIXELS:
                raise DataError(
                    f"{file}: declares {width} x {height} pixels, more than the {MOST_PIXELS:,} an image may hold"
                )
            yield image
