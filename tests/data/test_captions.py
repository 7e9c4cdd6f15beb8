"""Twemoji icons captioned with their CLDR names."""

from __future__ import annotations

import numpy as np

from rnncourse.data.captions import CREDIT, emoji_captions, load_image


def test_emoji_captions_and_images() -> None:
    records = emoji_captions()
    assert 1800 < len(records) < 2100  # DATASETS.md: about 1,900 without skin tones
    assert all("skin tone" not in r.caption and r.path.is_file() for r in records)
    by_caption = {r.caption: r for r in records}
    assert "woman riding bicycle" in by_caption or "person biking" in by_caption
    assert len(emoji_captions(skin_tones=True)) > 3000
    image = load_image(records[0].path, size=24)
    assert image.shape == (24, 24, 3) and image.dtype == np.float32
    assert image.min() >= 0.0 and image.max() <= 1.0
    # the transparent corner becomes white
    assert np.allclose(load_image(by_caption["red heart"].path)[0, 0], 1.0)
    assert "CC-BY 4.0" in CREDIT
