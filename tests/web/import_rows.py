"""One row of the laborer import sheet, as a cadre fills it in: the tests' one home for it."""

from __future__ import annotations

from web.services.imports import COLUMNS

HEADERS = [header for _, header, _ in COLUMNS]


def import_row(factory, code: str = "141030100201-8001", **kw: str) -> list[str]:
    """A valid row (a new household with one laborer), with the given cells (by Chinese header) replaced."""
    values = {
        "户编号": code,
        "村代码": "141030100201",
        "户主姓名": "赵大",
        "贫困属性": "建档立卡户",
        "姓名": "赵二",
        "身份证号": factory.id_number(),
        "手机号": "",
        "劳动能力": "弱劳力",
        "技能": "",
        "就业意向": "本地",
        "最远通勤公里": "8",
        "意向工种": "packaging",
        "工资方式": "计件",
        "需要弹性工时": "是",
        "就业状态": "求职",
    }
    values.update(kw)
    return [values.get(h, "") for h in HEADERS]
