"""A synthetic Omniglot in the real archive's layout and counts (30 + 20 alphabets, 964 + 659
characters, 20 drawings of 105x105 each): what `config/presets/omniglot.yaml` reads once its
root points at an extracted Omniglot. Each character is a few random strokes, each drawing
that character's strokes jittered, so a meta-learner can learn something from it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from innerloop.data.omniglot import EXPECTED, SETS


def _per_alphabet(total: int, alphabets: int) -> list[int]:
    base, extra = divmod(total, alphabets)
    return [base + (i < extra) for i in range(alphabets)]


def write_full_omniglot(root: Path, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    side = EXPECTED.side
    for set_name in SETS:
        counts = _per_alphabet(EXPECTED.characters[set_name], EXPECTED.alphabets[set_name])
        for a, n_characters in enumerate(counts):
            for c in range(n_characters):
                folder = root / set_name / f"Alphabet_{set_name[7:10]}{a:02d}" / f"character{c + 1:02d}"
                folder.mkdir(parents=True)
                strokes = rng.uniform(15, side - 15, size=(3, 4))
                for d in range(EXPECTED.drawings):
                    image = Image.new("L", (side, side), 255)
                    draw = ImageDraw.Draw(image)
                    for stroke in strokes + rng.normal(0, 3, size=strokes.shape):
                        draw.line(list(stroke), fill=0, width=6)
                    image.save(folder / f"{a:02d}{c:02d}_{d + 1:02d}.png")
    return root
