"""Landline area codes of the cities whose district names recur elsewhere (鼓楼区 in
南京 025, 福州 0591, 徐州 0516, 开封 0378; 朝阳区 in 北京 010 and 长春 0431…): a
landline written in the message says which city an ambiguous district is in.

Trade knowledge, typed once (the region data packages carry no telephone codes)."""

from __future__ import annotations

import re

AREA_CODES: dict[str, str] = {
    "010": "北京市",
    "021": "上海市",
    "022": "天津市",
    "023": "重庆市",
    "020": "广州市",
    "024": "沈阳市",
    "025": "南京市",
    "027": "武汉市",
    "028": "成都市",
    "029": "西安市",
    "0311": "石家庄市",
    "0313": "张家口市",
    "0319": "邢台市",
    "0371": "郑州市",
    "0378": "开封市",
    "0410": "铁岭市",
    "0411": "大连市",
    "0412": "鞍山市",
    "0418": "阜新市",
    "0431": "长春市",
    "0451": "哈尔滨市",
    "0471": "呼和浩特市",
    "0472": "包头市",
    "0512": "苏州市",
    "0516": "徐州市",
    "0517": "淮安市",
    "0518": "连云港市",
    "0571": "杭州市",
    "0574": "宁波市",
    "0580": "舟山市",
    "0591": "福州市",
    "0592": "厦门市",
    "0755": "深圳市",
    "0757": "佛山市",
    "0769": "东莞市",
    "0791": "南昌市",
    "0851": "贵阳市",
    "0871": "昆明市",
    "0931": "兰州市",
    "0991": "乌鲁木齐市",
    "0531": "济南市",
    "0532": "青岛市",
    "0551": "合肥市",
    "0731": "长沙市",
    "0771": "南宁市",
    "0898": "海口市",
}


def city_of_landline(digits: str) -> str | None:
    """The city a landline's area code belongs to (02158881234 → 上海市), or None."""
    if not re.fullmatch(r"0\d{9,11}", digits):
        return None
    return AREA_CODES.get(digits[:3]) or AREA_CODES.get(digits[:4])
