"""What a blind form says and the labels it must read back as (shared extraction contract).

Written apart from ocr/testforms on purpose: other regions (with rarer characters), other
names, product cells built from catalog aliases, relative 交期 phrasings, a 收货人 beside the
buyer, price and amount columns.
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path

from nlp import Catalog
from nlp.catalog import Product

PIECE_WORDS = ("个", "只", "颗", "粒", "片", "pcs", "PCS", "件")

# (province, city, district or None): official names; county-level cities are districts.
REGIONS = [
    ("浙江省", "宁波市", "鄞州区"), ("江苏省", "扬州市", "邗江区"), ("浙江省", "绍兴市", "柯桥区"),
    ("浙江省", "金华市", "婺城区"), ("四川省", "成都市", "郫都区"), ("安徽省", "淮北市", "濉溪县"),
    ("江西省", "赣州市", "章贡区"), ("山东省", "临沂市", "兰山区"), ("福建省", "泉州市", "晋江市"),
    ("广东省", "佛山市", "南海区"), ("湖南省", "长沙市", "岳麓区"), ("江苏省", "泰州市", "姜堰区"),
    ("浙江省", "台州市", "黄岩区"), ("浙江省", "湖州市", "吴兴区"), ("江苏省", "盐城市", "射阳县"),
    ("山东省", "潍坊市", "诸城市"), ("河南省", "洛阳市", "涧西区"), ("陕西省", "西安市", "雁塔区"),
    ("辽宁省", "沈阳市", "铁西区"), ("天津市", "天津市", "滨海新区"), ("上海市", "上海市", "闵行区"),
    ("北京市", "北京市", "顺义区"), ("重庆市", "重庆市", "九龙坡区"), ("广东省", "中山市", None),
    ("江苏省", "南通市", "崇川区"), ("江苏省", "宿迁市", "沭阳县"), ("安徽省", "亳州市", "谯城区"),
    ("浙江省", "丽水市", "缙云县"), ("江苏省", "徐州市", "邳州市"), ("河北省", "邢台市", "清河县"),
    ("广东省", "东莞市", None), ("江苏省", "无锡市", "宜兴市"), ("浙江省", "嘉兴市", "桐乡市"),
    ("湖北省", "襄阳市", "樊城区"), ("山西省", "太原市", "小店区"), ("福建省", "漳州市", "龙海区"),
]
TOWNS = ["横街镇", "瓜渚湖街道", "经济技术开发区", "高新技术产业园", "汊河街道", "滨海工业园",
         "北白象镇", "钱桥街道", "洋泾街道", "临港产业园", "东坝头", ""]
ROADS = ["鄞县大道", "濠河路", "琅琊路", "瓯江路", "蠡湖大道", "邗沟路", "翡翠路", "莘庄路",
         "丰收路", "工业北路", "通港路", "盛泽路", "新华东街", "沣东大道", "兴业三路"]
EXTRAS = ["1号厂房", "5幢", "B区3号门", "仓库收", "二楼", "东侧门卫", "物流中心", ""]
SURNAMES = ("张王李刘陈杨黄周吴徐孙朱胡郭何高林罗郑梁谢宋唐许韩邓冯曹彭曾"
            "蒋蔡丁魏薛叶阎潘杜戴夏钟汪田任姜范方石姚谭廖邹熊陆郝孔崔"
            "翟靳阚蔺邬褚闫晁逯鲍")
GIVEN = "建华志强丽娟海燕国庆春梅晓东秀兰永红立新桂芳文静德明玉珍宏伟少华雪琴振宇"
TITLES = ["工", "经理", "总", "师傅", "主管", "姐", "哥", "老师"]
BUYERS = ["鑫盛", "恒泰", "嘉隆", "宏发", "联丰", "晟达", "精工", "泓源", "骏马", "长荣", "铭扬", "凯旋"]
BUYER_TAILS = ["机械有限公司", "精密制造有限公司", "建设工程有限公司", "汽修厂", "电气设备有限公司",
               "模具厂", "钢结构有限公司", "物业管理有限公司"]
SUPPLIERS = ["常州固力紧固件有限公司", "宁波甬达标准件商行", "永年县久鼎五金经营部", "苏州华固贸易有限公司"]
RUSH_NOTES = ["加急", "急用，请优先安排", "越快越好", "生产线等着用，急用", "十万火急"]
CALM_NOTES = ["不急，正常排单即可", "不急"]
PLAIN_NOTES = ["请随货附送货单", "开13%增值税专票", "送货前请电话联系", "纸箱包装，每箱不超过20公斤",
               "卸货需自带叉车", "周日不收货", "货到验收后月结", "请标注订单号"]


def load_products(path: str | Path) -> list[Product]:
    """The catalog's products as nlp reads them (the catalog is read at run time, not copied)."""
    return list(Catalog.from_csv(path).products)


def head(p: Product) -> str:
    """The name's first word, e.g. 外六角螺栓."""
    return p.name.split(" ")[0]


@dataclass
class Item:
    """One ordered line: how its cells read and the label it stands for."""

    product: Product
    name: str            # 品名 cell
    spec: str            # 规格 cell ('' when folded into the name)
    material: str        # 材质 cell ('' when folded into the name or left out)
    quantity: int
    unit: str            # as written

    @property
    def full(self) -> str:
        """Name, spec and material in one cell, as a 物料名称及规格 column shows them."""
        return " ".join(p for p in (self.name, self.spec, self.material) if p)

    def expect(self) -> dict:
        return item_label(self.product, self.quantity, self.unit)


def item_label(product: Product, quantity: int, written_unit: str) -> dict:
    """The contract's item: a piece word becomes the catalog unit, a pack word stays."""
    unit = product.unit if written_unit in PIECE_WORDS else written_unit
    return {"sku": product.sku, "quantity": quantity, "unit": unit}


@dataclass
class Form:
    """Everything one form shows, and its labels (`expect`)."""

    today: dt.date
    title: str
    buyer: str
    supplier: str
    contact: str                 # the labelled contact (the 收货人 when one is named)
    phone: str                   # digits of the labelled phone
    phone_written: str
    buyer_person: tuple[str, str] | None   # (采购员, phone written) when a separate 收货人 is named
    region: tuple[str, str, str | None]
    detail: str
    address_written: str
    delivery: dt.date
    delivery_written: str
    delivery_label: str
    items: list[Item]
    rush: bool
    note: str
    order_no: str
    fax: str
    order_date: str              # as printed beside the title (a decoy date)

    def expect(self) -> dict:
        address = dict(zip(("province", "city", "district"), self.region, strict=True))
        address["detail"] = self.detail
        return {"items": [i.expect() for i in self.items], "contact": self.contact,
                "phone": self.phone, "address": address,
                "delivery_date": self.delivery.isoformat(), "rush": self.rush}


def _safe_name_aliases(products: list[Product]) -> dict[str, list[str]]:
    """Aliases that only products of one name head carry, usable in place of the head."""
    heads: dict[str, set[str]] = {}
    for p in products:
        for a in p.aliases:
            heads.setdefault(a, set()).add(head(p))
    out: dict[str, list[str]] = {}
    for p in products:
        names = [a for a in p.aliases if len(heads[a]) == 1 and len(a) >= 3
                 and not any(ch.isdigit() for ch in a) and a not in (p.material,)
                 and any(w in a for w in ("螺", "垫", "铆", "轴承", "圈", "刹车", "滤"))]
        out[head(p)] = sorted(set(out.get(head(p), [])) | set(names))
    return out


def _material_forms(p: Product, siblings: list[Product]) -> list[str]:
    """Ways to write p's material that no sibling (same head and spec) shares."""
    forms = [p.material]
    others = {a for s in siblings if s.sku != p.sku for a in (*s.aliases, s.material)}
    for a in p.aliases:
        if a in ("304", "316", "SUS304", "镀锌", "8.8级", "10.9级", "12.9级", "不锈钢304", "氟胶", "NBR"):
            if a not in others:
                forms.append(a)
    if p.material.endswith("不锈钢") and p.material[:3].isdigit():
        forms.append(f"不锈钢{p.material[:3]}")
    return forms


def _spec_written(rng: random.Random, spec: str) -> str:
    if "×" in spec:
        return spec.replace("×", rng.choice(["×", "×", "*", "x", "X"]))
    if "-" in spec and spec[:3].isdigit():        # bearings 6204-2RS
        return spec.replace("-", rng.choice(["-", "-", " "]))
    return spec


def make_item(rng: random.Random, p: Product, products: list[Product],
              aliases: dict[str, list[str]]) -> Item:
    siblings = [s for s in products if head(s) == head(p) and s.spec == p.spec]
    name = head(p)
    if aliases.get(name) and rng.random() < 0.3:
        name = rng.choice(aliases[name])
    spec = _spec_written(rng, p.spec)
    material = rng.choice(_material_forms(p, siblings))
    if len(siblings) == 1 and rng.random() < 0.3:
        material = ""
    packed = rng.random() < 0.25
    if packed:
        unit = p.pack_unit if rng.random() < 0.8 else rng.choice(["箱", "盒", "包"])
        qty = rng.choice([1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 25, 30])
    else:
        unit = p.unit
        if p.unit == "个" and rng.random() < 0.2:
            unit = rng.choice(["pcs", "颗", "只"])
        if p.unit in ("只", "套", "盒") or (p.price or 0) >= 5:
            qty = rng.choice([4, 6, 10, 12, 20, 24, 40, 50, 60, 100, 150, 200])
        else:
            qty = rng.choice([50, 100, 150, 200, 400, 500, 600, 1000, 1200, 2000, 3000, 5000,
                              6000, 10000, 20000])
    return Item(p, name, spec, material, qty, unit)


def _person(rng: random.Random) -> str:
    surname = rng.choice(SURNAMES)
    if rng.random() < 0.55:
        return surname + rng.choice(TITLES)
    return surname + "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2, 2])))


def _mobile(rng: random.Random) -> tuple[str, str]:
    digits = rng.choice(["13", "15", "18", "17", "19", "14"]) + str(rng.randint(0, 9)) \
        + "".join(str(rng.randint(0, 9)) for _ in range(8))
    written = rng.choice([digits, digits, f"{digits[:3]}-{digits[3:7]}-{digits[7:]}",
                          f"{digits[:3]} {digits[3:7]} {digits[7:]}"])
    return digits, written


def _phone(rng: random.Random) -> tuple[str, str]:
    if rng.random() < 0.8:
        return _mobile(rng)
    area = rng.choice(["0574", "0514", "0575", "028", "0539", "0595", "0757", "022", "0760"])
    local = str(rng.randint(2, 8)) + "".join(str(rng.randint(0, 9)) for _ in range(7))
    written = rng.choice([f"{area}-{local}", f"({area}){local}", f"{area} {local[:4]} {local[4:]}"])
    return area + local, written


def _address(rng: random.Random) -> tuple[tuple[str, str, str | None], str, str]:
    region = rng.choice(REGIONS)
    province, city, district = region
    detail = f"{rng.choice(TOWNS)}{rng.choice(ROADS)}{rng.randint(2, 1288)}号{rng.choice(EXTRAS)}"
    if province == city:
        head = city
    else:
        head = rng.choice([province + city, province + city, city])
    written = head + (district or "") + detail
    if rng.random() < 0.25:                     # written with spaces between the parts
        written = " ".join(x for x in (head, district or "", detail) if x)
    return region, detail, written


def _delivery(rng: random.Random, today: dt.date) -> tuple[dt.date, str]:
    roll = rng.random()
    if roll < 0.12:                              # 下周X(前)
        wd = rng.randint(0, 4)
        next_monday = today + dt.timedelta(days=7 - today.weekday())
        d = next_monday + dt.timedelta(days=wd)
        return d, f"下周{'一二三四五'[wd]}{rng.choice(['', '前'])}"
    if roll < 0.2:                               # 本月底(前)
        last = calendar.monthrange(today.year, today.month)[1]
        if today.day < last - 3:
            return dt.date(today.year, today.month, last), rng.choice(["本月底前", "月底前"])
    d = today + dt.timedelta(days=rng.randint(2, 35))
    forms = [d.isoformat(), f"{d.year}年{d.month}月{d.day}日", f"{d.year}年{d.month:02d}月{d.day:02d}日",
             f"{d.year}/{d.month:02d}/{d.day:02d}", f"{d.year}.{d.month}.{d.day}"]
    if d.year == today.year:
        forms += [f"{d.month}月{d.day}日前", f"{d.month}月{d.day}号"]
    return d, rng.choice(forms)


def _note(rng: random.Random) -> tuple[bool, str]:
    """(rush, the 备注 as written): 22 % rush markers, 10 % 不急, else a plain remark or none."""
    roll = rng.random()
    for upto, rush, notes in ((0.22, True, RUSH_NOTES), (0.32, False, CALM_NOTES)):
        if roll < upto:
            return rush, rng.choice(notes)
    return False, (rng.choice(PLAIN_NOTES) if rng.random() < 0.7 else "")


def make_form(rng: random.Random, products: list[Product], aliases: dict[str, list[str]]) -> Form:
    """A random, self-consistent form and its labels."""
    today = dt.date(2026, 1, 5) + dt.timedelta(days=rng.randint(0, 320))
    chosen = rng.sample(products, rng.choice([1, 2, 3, 3, 4, 5, 6, 7, 8]))
    items = [make_item(rng, p, products, aliases) for p in chosen]
    region, detail, address_written = _address(rng)
    contact = _person(rng)
    phone, phone_written = _phone(rng)
    buyer_person = None
    if rng.random() < 0.3:                       # a 采购员 plus a separate 收货人 (labelled)
        other = _person(rng)
        buyer_person = (other if other != contact else other + "红", _mobile(rng)[1])
    delivery, delivery_written = _delivery(rng, today)
    rush, note = _note(rng)
    title = rng.choice(["采购单", "采购订单", "订货单", "送货要求", "物料采购单"])
    return Form(
        today=today, title=title,
        buyer=f"{region[1][:-1]}{rng.choice(BUYERS)}{rng.choice(BUYER_TAILS)}",
        supplier=rng.choice(SUPPLIERS), contact=contact, phone=phone, phone_written=phone_written,
        buyer_person=buyer_person, region=region, detail=detail.replace(" ", ""),
        address_written=address_written, delivery=delivery, delivery_written=delivery_written,
        delivery_label=rng.choice(["交期", "交货日期", "要求到货日期", "送货日期", "到货时间"]),
        items=items, rush=rush, note=note,
        order_no=f"{rng.choice(['CG', 'PO', 'DH'])}{today:%y%m%d}{rng.randint(10, 99)}",
        fax=f"{rng.choice(['0574', '0514', '028'])}-{rng.randint(2000000, 8999999)}8",
        order_date=rng.choice([today.isoformat(), f"{today.year}年{today.month}月{today.day}日"]),
    )
