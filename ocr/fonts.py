"""Find CJK font files installed by the system (Debian fonts-wqy-microhei, fonts-noto-cjk).

Only the test-form generator and the tests draw text; the OCR path itself needs no font.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

KNOWN_PATHS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/truetype/arphic/ukai.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)


@dataclass(frozen=True)
class CjkFont:
    """A font file and the face index inside it that covers simplified Chinese."""

    path: str
    index: int
    name: str


def _fc_list_files() -> list[str]:
    if not shutil.which("fc-list"):
        return []
    try:
        out = subprocess.run(
            ["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=10
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.split(":")[0].strip() for line in out.splitlines() if line.strip()]


def _sc_face(path: str) -> CjkFont | None:
    """Pick the simplified-Chinese face of a collection (Noto puts JP first)."""
    from PIL import ImageFont

    best: CjkFont | None = None
    for index in range(12):
        try:
            face = ImageFont.truetype(path, 20, index=index)
        except OSError:
            break
        family, style = face.getname()
        if "Mono" in (family or ""):
            continue
        font = CjkFont(path, index, f"{family} {style}")
        if best is None or family.endswith(" SC") or "WenQuanYi" in family:
            best = font
            if family.endswith(" SC") or "WenQuanYi" in family:
                break
    return best


@lru_cache(maxsize=1)
def cjk_fonts() -> tuple[CjkFont, ...]:
    """Every distinct CJK font found, most common (WenQuanYi) first; empty when none."""
    paths = dict.fromkeys(p for p in (*KNOWN_PATHS, *sorted(_fc_list_files())) if Path(p).is_file())
    fonts = [f for f in (_sc_face(p) for p in paths) if f is not None]
    return tuple(fonts)


def find_cjk_font() -> CjkFont | None:
    """The first CJK font on this machine, or None."""
    fonts = cjk_fonts()
    return fonts[0] if fonts else None
