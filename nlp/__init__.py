"""Understanding order messages: text (+ arrival date) → order draft. No I/O here.

Public API (other packages code against these names):
    Catalog.from_csv(path) / Catalog.from_rows(rows)
    extract_draft(text, today, catalog) -> Draft
    apply_followup(draft, text, today, catalog) -> Draft
    Draft (.to_dict(), Draft.from_dict()), Item, Address
"""

from .catalog import Catalog, Product
from .draft import Address, Draft, Item
from .extract import extract_draft
from .followup import apply_followup

__all__ = ["Address", "Catalog", "Draft", "Item", "Product", "apply_followup", "extract_draft"]
