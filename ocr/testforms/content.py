"""What goes on a test form, and the labels it should read back as (extraction contract)."""

from __future__ import annotations

import csv
import datetime as dt
import random
from dataclasses import dataclass, field
from pathlib import Path

PIECE_UNITS = {"个", "只", "件", "套", "片", "颗", "粒", "pcs", "PCS"}

# (province, city, district): full official names; municipalities repeat themselves.
REGIONS = [
    ("江苏省", "常州市", "武进区"), ("江苏省", "常州市", "新北区"), ("江苏省", "苏州市", "吴中区"),
    ("江苏省", "苏州市", "昆山市"), ("江苏省", "无锡市", "江阴市"), ("江苏省", "南京市", "江宁区"),
    ("浙江省", "宁波市", "北仑区"), ("浙江省", "杭州市", "萧山区"), ("浙江省", "温州市", "瓯海区"),
    ("浙江省", "嘉兴市", "海宁市"), ("广东省", "深圳市", "宝安区"), ("广东省", "东莞市", None),
    ("广东省", "佛山市", "顺德区"), ("广东省", "广州市", "番禺区"), ("山东省", "青岛市", "黄岛区"),
    ("山东省", "济南市", "历城区"), ("河北省", "沧州市", "泊头市"), ("河南省", "郑州市", "中原区"),
    ("湖北省", "武汉市", "东西湖区"), ("四川省", "成都市", "双流区"), ("安徽省", "合肥市", "蜀山区"),
    ("福建省", "厦门市", "集美区"), ("上海市", "上海市", "嘉定区"), ("上海市", "上海市", "浦东新区"),
    ("北京市", "北京市", "大兴区"), ("天津市", "天津市", "西青区"), ("重庆市", "重庆市", "渝北区"),
]
TOWNS = ["湖塘镇", "新碶街道", "经济开发区", "工业园区", "高新区", "城东街道", "横林镇", "松江工业区"]
ROADS = ["长虹路", "明州路", "汇川路", "人民路", "建设路", "工业大道", "兴业路", "创新路", "金山路",
         "滨江路", "科技路", "振华路", "华山路", "东方路", "五一路"]
SURNAMES = "张王李刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段钱汤尹黎易常武乔贺赖龚文"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红海波宁斌鹏飞辉文"
TITLES = ["工", "经理", "总", "师傅", "先生", "女士", "主任", "姐"]
COMPANY_HEADS = ["恒锐", "鑫达", "宏图", "金盛", "永固", "华联", "东方", "瑞丰", "万通", "正泰", "博远", "天工"]
COMPANY_TAILS = ["五金有限公司", "机械制造有限公司", "汽配有限公司", "紧固件有限公司", "设备有限公司",
                 "机电有限公司", "汽车维修中心", "工贸有限公司"]
REMARKS = ["包装用防静电袋", "请开增值税专用发票", "送货前电话联系", "随货附合格证", "分两批发货",
           "纸箱包装，外贴标签", "货到付款", "请注明批次号"]
RUSH_REMARKS = ["加急", "急用，请加急发货", "加急！", "急用"]
CALM_REMARKS = ["不急，按正常排产", "不急"]


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    category: str
    spec: str
    material: str
    unit: str
    pack_unit: str
    aliases: tuple[str, ...]


def load_products(path: str | Path) -> list[Product]:
    """Products of a catalog CSV in the shared format (read at run time, never copied)."""
    with open(path, encoding="utf-8", newline="") as f:
        return [
            Product(r["sku"], r["name"], r["category"], r["spec"], r["material"], r["unit"],
                    r["pack_unit"], tuple(a for a in r["aliases"].split("|") if a))
            for r in csv.DictReader(f)
        ]


@dataclass
class Line:
    """One table row as written on the form, and the item label it stands for."""

    product: Product
    name: str          # the 品名 cell as written (may include spec and material)
    spec: str          # '' when the spec is in the name
    material: str      # '' when the material is in the name or omitted
    quantity: int
    unit: str          # as written
    remark: str = ""

    def expect(self) -> dict:
        unit = self.product.unit if self.unit in PIECE_UNITS else self.unit
        return {"sku": self.product.sku, "quantity": self.quantity, "unit": unit}


@dataclass
class Order:
    """Everything a form shows, plus `expect()` in the extraction contract's format."""

    today: dt.date
    company: str
    contact: str
    phone_digits: str
    phone_written: str
    region: tuple[str, str, str | None]
    detail: str
    address_written: str
    delivery: dt.date
    delivery_written: str
    lines: list[Line]
    rush: bool
    remarks: str
    order_no: str
    fax_written: str
    extra: dict = field(default_factory=dict)

    def expect(self) -> dict:
        province, city, district = self.region
        return {
            "items": [ln.expect() for ln in self.lines],
            "contact": self.contact,
            "phone": self.phone_digits,
            "address": {"province": province, "city": city, "district": district,
                        "detail": self.detail},
            "delivery_date": self.delivery.isoformat(),
            "rush": self.rush,
        }


def _spec_variant(rng: random.Random, spec: str) -> str:
    if "×" in spec and rng.random() < 0.4:
        return spec.replace("×", rng.choice(["*", "x", "X"]))
    return spec


def _material_variant(rng: random.Random, p: Product) -> str:
    m = p.material
    if rng.random() < 0.7:
        return m
    short = {"304不锈钢": "304", "316不锈钢": "316", "碳钢镀锌": "镀锌"}
    return short.get(m, m)


def _quantity(rng: random.Random, unit: str, packed: bool) -> int:
    if packed:
        return rng.choice([1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20])
    if unit in ("只", "套"):
        return rng.choice([10, 20, 30, 50, 60, 80, 100, 120, 150, 200, 300, 500])
    return rng.choice([100, 200, 300, 500, 800, 1000, 1500, 2000, 2500, 3000, 5000, 8000, 10000])


def plain_categories(products: list[Product]) -> set[str]:
    """Categories that name one kind of product (平垫圈), unlike 螺母 (六角/法兰/尼龙锁紧)."""
    heads: dict[str, set[str]] = {}
    for p in products:
        heads.setdefault(p.category, set()).add(p.name.split(" ")[0])
    return {c for c, names in heads.items() if len(names) == 1}


def make_line(rng: random.Random, p: Product, style: str, plain: set[str] | None = None) -> Line:
    """style 'split': name/spec/material in their own columns; 'name': all in the name.

    The written name always identifies the product: a category word stands in for the
    product name only where it is not ambiguous (see plain_categories).
    """
    use_category = p.category in (plain or set()) and rng.random() < 0.3
    packed = rng.random() < 0.2
    unit = p.pack_unit if packed else p.unit
    if not packed and p.unit == "个" and rng.random() < 0.15:
        unit = rng.choice(["颗", "pcs"])
    qty = _quantity(rng, p.unit, packed)
    spec = _spec_variant(rng, p.spec)
    if style == "name":
        return Line(p, f"{p.category if use_category else p.name.split(' ')[0]} {spec} "
                       f"{p.material}", "", "", qty, unit)
    name = p.category if use_category else p.name.split(" ")[0]
    material = _material_variant(rng, p) if p.category not in ("轴承", "空气滤芯", "机油滤芯") \
        or rng.random() < 0.5 else ""
    return Line(p, name, spec, material, qty, unit)


def _date_written(rng: random.Random, d: dt.date, today: dt.date) -> str:
    forms = [d.isoformat(), f"{d.year}年{d.month}月{d.day}日", f"{d.year}/{d.month}/{d.day}",
             f"{d.year}.{d.month:02d}.{d.day:02d}"]
    if d.year == today.year:
        forms.append(f"{d.month}月{d.day}日")
    return rng.choice(forms)


def _phone(rng: random.Random) -> tuple[str, str]:
    if rng.random() < 0.8:
        digits = rng.choice(["13", "15", "18", "17", "19"]) + rng.choice("0123456789") + "".join(
            rng.choice("0123456789") for _ in range(8))
        written = rng.choice([digits, f"{digits[:3]} {digits[3:7]} {digits[7:]}",
                              f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"])
        return digits, written
    area = rng.choice(["0519", "0512", "0574", "021", "010", "0755", "0532", "027"])
    local = rng.choice("2345678") + "".join(rng.choice("0123456789") for _ in range(7))
    return area + local, f"{area}-{local}"


def _address(rng: random.Random) -> tuple[tuple[str, str, str | None], str, str]:
    region = rng.choice(REGIONS)
    province, city, district = region
    detail = f"{rng.choice(TOWNS)}{rng.choice(ROADS)}{rng.randint(1, 999)}号"
    if rng.random() < 0.25:
        detail += rng.choice(["3号楼", "B栋", "2号厂房", "东门"])
    head = [province, city] if province != city else [city]
    if rng.random() < 0.3 and province != city:
        head = [city]          # provinces are often left out
    written = "".join(head) + (district or "") + detail
    return region, detail, written


def make_order(rng: random.Random, products: list[Product], *, style: str = "split",
               n_items: tuple[int, int] = (1, 6)) -> Order:
    """A random, self-consistent order; `expect()` gives its labels."""
    today = dt.date(2026, 1, 1) + dt.timedelta(days=rng.randint(0, 330))
    delivery = today + dt.timedelta(days=rng.randint(1, 30))
    chosen = rng.sample(products, rng.randint(*n_items))
    plain = plain_categories(products)
    lines = [make_line(rng, p, style, plain) for p in chosen]
    surname = rng.choice(SURNAMES)
    contact = surname + (rng.choice(TITLES) if rng.random() < 0.6
                         else "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2))))
    phone_digits, phone_written = _phone(rng)
    region, detail, address_written = _address(rng)
    roll = rng.random()
    if roll < 0.2:
        rush, remarks = True, rng.choice(RUSH_REMARKS)
    elif roll < 0.3:
        rush, remarks = False, rng.choice(CALM_REMARKS)
    else:
        rush, remarks = False, rng.choice(REMARKS) if rng.random() < 0.6 else ""
    return Order(
        today=today,
        company=f"{region[1][:-1]}{rng.choice(COMPANY_HEADS)}{rng.choice(COMPANY_TAILS)}",
        contact=contact,
        phone_digits=phone_digits,
        phone_written=phone_written,
        region=region,
        detail=detail,
        address_written=address_written,
        delivery=delivery,
        delivery_written=_date_written(rng, delivery, today),
        lines=lines,
        rush=rush,
        remarks=remarks,
        order_no=f"PO{today:%Y%m%d}-{rng.randint(1, 999):03d}",
        fax_written=f"{rng.choice(['0519', '0512', '021'])}-{rng.randint(20000000, 89999999)}",
        extra={"order_date": _date_written(rng, today, today)},
    )
