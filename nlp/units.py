"""Units as written → units as the catalog spells them.

Labelling convention (contracts/extraction.md): a piece word becomes the product's
catalog unit, a pack word stays as written, no unit means the catalog unit.
"""

from __future__ import annotations

PIECE_WORDS = ("个", "只", "颗", "粒", "片", "件", "枚", "支", "根", "pcs", "pc", "PCS", "PC", "Pcs")
PACK_WORDS = ("箱", "盒", "包", "袋", "桶", "卷", "扎", "捆", "托", "件箱")
SPELLING = {
    "公斤": "千克",
    "kg": "千克",
    "KG": "千克",
    "Kg": "千克",
    "m": "米",
    "M": "米",
    "t": "吨",
    "T": "吨",
    "付": "副",
}
# Every unit word the quantity reader accepts, longest first for the regex.
UNIT_WORDS = sorted(
    set(PIECE_WORDS + PACK_WORDS + tuple(SPELLING) + ("套", "米", "千克", "吨", "条", "根", "对", "副", "块", "张", "瓶", "组", "把", "台", "双", "斤", "盘")),
    key=len,
    reverse=True,
)
UNIT_WORDS = [u for u in UNIT_WORDS if u not in ("m", "M", "t", "T")]


def normalise_unit(said: str | None, catalog_unit: str | None) -> str | None:
    """The unit to record for an item."""
    if not said:
        return catalog_unit
    if said in PIECE_WORDS:
        return catalog_unit or "个"
    said = SPELLING.get(said, said)
    if said == "套" and catalog_unit and catalog_unit not in ("套",) and catalog_unit in PIECE_WORDS:
        return said
    return said
