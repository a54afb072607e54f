"""Person names written bare (no title, no 收货人 marker): the surname list and the
checks that tell a name from an address word or a greeting.

Waybill lines glue the receiver's name to the address and the phone in any order
(`浙江省温州市鹿城区解放路12号林晓东13757712345`). The name is found as a short run of
characters that starts with a surname (the 百家姓 list, compound surnames first) and
holds no address or function word; where the run is glued to the end of the address,
the split keeps a name of two to four characters and prefers the one whose surname is
not also a common last character of an address (楼, 段, 路…).
"""

from __future__ import annotations

import re

# 百家姓 and other frequent surnames (single characters).
_SINGLE = (
    "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜戚谢邹喻柏水窦章云苏潘葛奚范彭郎"
    "鲁韦昌马苗凤花方俞任袁柳酆鲍史唐费廉岑薛雷贺倪汤滕殷罗毕郝邬安常乐于时傅皮卞齐康伍余元卜顾孟平黄"
    "和穆萧尹姚邵湛汪祁毛禹狄米贝明臧计伏成戴谈宋茅庞熊纪舒屈项祝董梁杜阮蓝闵席季麻强贾路娄危江童颜郭"
    "梅盛林刁钟徐邱骆高夏蔡田樊胡凌霍虞万支柯昝管卢莫经房裘缪干解应宗丁宣贲邓郁单杭洪包诸左石崔吉钮龚"
    "程嵇邢滑裴陆荣翁荀羊於惠甄曲家封芮羿储靳汲邴糜松井段富巫乌焦巴弓牧隗山谷车侯宓蓬全郗班仰秋仲伊宫"
    "宁仇栾暴甘钭厉戎祖武符刘景詹束龙叶幸司韶郜黎蓟薄印宿白怀蒲邰从鄂索咸籍赖卓蔺屠蒙池乔阴郁胥能苍双"
    "闻莘党翟谭贡劳逄姬申扶堵冉宰郦雍郤璩桑桂濮牛寿通边扈燕冀郏浦尚农温别庄晏柴瞿阎充慕连茹习宦艾鱼容"
    "向古易慎戈廖庾终暨居衡步都耿满弘匡国文寇广禄阙东欧殳沃利蔚越夔隆师巩厍聂晁勾敖融冷訾辛阚那简饶空"
    "曾毋沙乜养鞠须丰巢关蒯相查后荆红游竺权逯盖益桓公岳帅缑亢况郈商牟佘佴伯赏墨哈谯笪年爱阳佟言福付覃"
    "邝冼揭闫仝庹历练谌肖代兰鲜佃银尉植彤晋楚法汝鄢涂钦溥"
    # Cantonese, Korean-Chinese, southwestern and Dai-naming first characters (区伟明, 朴成哲,
    # 苟建军, 保家明, 玉罕, 岩温) that the 百家姓 list lacks.
    "区朴苟保玉岩母撒禄者普计晏尕"
)
_COMPOUND = (
    "万俟 司马 上官 欧阳 夏侯 诸葛 闻人 东方 赫连 皇甫 尉迟 公羊 澹台 公冶 宗政 濮阳 淳于 单于 太叔 申屠 "
    "公孙 仲孙 轩辕 令狐 钟离 宇文 长孙 慕容 鲜于 闾丘 司徒 司空 亓官 司寇 仉督 子车 颛孙 端木 巫马 公西 "
    "漆雕 乐正 壤驷 公良 拓跋 夹谷 宰父 谷梁 百里 东郭 南门 呼延 归海 羊舌 微生 梁丘 左丘 东门 西门 南宫 第五 段干 有琴"
).split()
SURNAMES = frozenset(_SINGLE)
COMPOUND_SURNAMES = frozenset(_COMPOUND)

# Characters a given name does not hold: address words, function words, order words.
_NOT_IN_NAME = set(
    "路街号楼村镇区县市省巷弄室层幢厦店馆场站局所处旁侧边口门面院苑厂司段米交汇对附近内外里组队社屯"
    "湾坊桥坝塘坡寨营堡庙寺塔仓库滩"
    "的了吗呢吧啊呀嘛在是有和跟请把给个我你他她它们这那哪要发送到收寄电话手机货单急谢好月"
    "0123456789"
)
# Common last characters of an address that are also (rare) surnames: 一层楼彤瑞 is 彤瑞.
_ADDRESS_FINAL = set("楼段路街江山门关庄村石池沙湾口桥台屯营堡寨岗坡园苑城")
_CJK = re.compile(r"^[\u4e00-\u9fff]+$")


# Tibetan names have no surname: one or two of these words (扎西多吉, 次仁, 格桑卓玛).
_TIBETAN = frozenset(
    "扎西 次仁 多吉 卓玛 格桑 央金 顿珠 尼玛 达瓦 平措 旦增 丹增 拉姆 索朗 洛桑 益西 普布 边巴 巴桑 强巴 德吉 白玛 "
    "曲珍 阿旺 群培 次旦 仁增 措姆 贡布 泽仁 才让 罗布 嘎玛 桑杰 拉巴 琼达 央宗 次珠 旺堆 旺姆 加措 嘉措 才旦 卓嘎 "
    "米玛 巴珠 普琼 德庆 次央 朗杰 土登 坚参 仁青 措吉 拉措 梅朵 索南 江措 洛布 尼珍 边珍 拉珍 仓决 美朵".split()
)
# Transliterated names (Uyghur, Kazakh, Hui…) join given and father's name with a dot.
DOTTED_NAME = re.compile(r"[\u4e00-\u9fff]{2,6}[·•・][\u4e00-\u9fff]{2,6}")


def is_surnameless_name(s: str) -> bool:
    """A name that no surname list can find: 买买提·艾力, 扎西多吉, 次仁."""
    if DOTTED_NAME.fullmatch(s):
        return True
    if len(s) == 2:
        return s in _TIBETAN
    return len(s) == 4 and s[:2] in _TIBETAN and s[2:] in _TIBETAN


def surname_len(s: str) -> int:
    """Length of the surname `s` starts with (2 for 欧阳…, 1 for 王…), 0 if none."""
    if s[:2] in COMPOUND_SURNAMES:
        return 2
    return 1 if s[:1] in SURNAMES else 0


def is_name(s: str) -> bool:
    """A bare full name: a surname and a given name of one or two characters."""
    if not s:
        return False
    if is_surnameless_name(s):
        return True
    if not _CJK.match(s):
        return False
    k = surname_len(s)
    if not k or not (k + 1 <= len(s) <= k + 2):
        return False
    return not any(ch in _NOT_IN_NAME for ch in s[k:])


def could_be_name(s: str) -> bool:
    """Two to four characters with no address or function word: a name when the
    context leaves nothing else (the only word on a waybill line)."""
    if is_talk(s) or _COUNT.match(s):
        return False  # 两箱, 三百个: a count, not a name
    return bool(_CJK.match(s)) and 2 <= len(s) <= 4 and not any(ch in _NOT_IN_NAME for ch in s)


_COUNT = re.compile(r"^[零一二两三四五六七八九十百千万半几]+[个只件套箱盒包袋桶卷片粒颗根条支把台对米瓶罐]$")


def is_talk(s: str) -> bool:
    """Words of the talk around an order (明天, 谢谢, 老板), whatever their first character."""
    return bool(_TALK.search(s))


_TALK = re.compile(
    r"今天|明天|后天|谢谢|麻烦|尽快|加急|急用|老板|师傅|你好|您好|周[一二三四五六日天]|星期|礼拜|月底|上午|下午|晚上|早上|中午|马上|现在|物流|快递|顺丰|德邦|到付"
)


_DOTTED_TAIL = re.compile(r"(?<=[号室楼栋幢层弄院\d])(?:(?![号室楼栋幢层弄院])[\u4e00-\u9fff]){2,6}[·•・][\u4e00-\u9fff]{2,6}$")


def split_tail_name(detail: str) -> tuple[str, str] | None:
    """(address, name) when `detail` ends with a name glued to it, else None.
    Only call this where a name is expected (a waybill line with no name elsewhere)."""
    best: tuple[float, str, str] | None = None
    dotted = _DOTTED_TAIL.search(detail)
    if dotted:
        return detail[: dotted.start()], dotted.group(0)  # 人民东路18号买买提·艾力
    for k in (4, 3, 2):
        if len(detail) <= k:
            continue
        name, rest = detail[-k:], detail[:-k]
        if not is_name(name):
            continue
        score = {3: 3.0, 2: 2.0, 4: 1.0}[k] + (3.0 if is_surnameless_name(name) else 0.0)
        if surname_len(name) == 2:
            score += 2.5  # 上官淑娥, 欧阳娜: a compound surname is rarely an accident
        if name[0] in _ADDRESS_FINAL and surname_len(name) == 1:
            score -= 1.5  # 中段魏娜 is 魏娜, not 段魏娜
        if rest[-1] in "之附的与和及" or not rest.strip():
            continue
        if name[0] in "边面头" and rest[-1] in "旁东西南北里外那这左右后前上下对":
            continue  # 南昌大学旁边工地: 边 ends 旁边, it starts no name
        if rest[-1].isdigit():
            score -= 2.5  # 往东500米相丽: 米 measures the 500, it is no surname here
        if best is None or score > best[0]:
            best = (score, rest, name)
    return (best[1], best[2]) if best else None
