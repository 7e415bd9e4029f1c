"""Generate djctl/data/demo-city.json: the fictional city of the demo (invented names only).

40 units in 5 groups, about 150 branches across the four tiers. Deterministic: run it again and the
file is the same.
"""

import json
import random
from pathlib import Path

DEPARTMENTS = [
    "市委办公室", "市政府办公室", "市发展和改革委员会", "市教育局", "市科学技术局", "市工业和信息化局",
    "市公安局", "市民政局", "市司法局", "市财政局", "市人力资源和社会保障局", "市自然资源和规划局",
    "市生态环境局", "市住房和城乡建设局", "市交通运输局", "市水务局", "市农业农村局", "市商务局",
    "市文化广电旅游局", "市卫生健康委员会", "市退役军人事务局", "市应急管理局", "市审计局", "市国有资产监督管理委员会",
    "市市场监督管理局", "市统计局", "市医疗保障局", "市城市管理局", "市信访局", "市机关事务管理局",
    "市档案馆", "市地方志办公室", "市总工会", "共青团示范市委员会", "市妇女联合会", "市科学技术协会",
    "市文学艺术界联合会", "市红十字会", "市供销合作社", "市投资促进中心",
]
GROUPS = ["第一协作组（综合）", "第二协作组（经济）", "第三协作组（社会）", "第四协作组（政法与城建）", "第五协作组（群团与事业）"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "建国明华丽伟芳敏静强磊军洋勇艳杰娟涛超霞平刚桂英文辉玲志红云飞鹏宇欣怡晨浩然子轩梓涵"
BRANCH_SUFFIX = ["机关第一党支部", "机关第二党支部", "机关第三党支部", "离退休干部党支部", "直属事业单位党支部",
                 "综合处室党支部", "业务处室党支部", "执法大队党支部"]
TIER_WEIGHTS = [("未达标", 6), ("达标", 58), ("过硬", 28), ("示范", 8)]


def main() -> None:
    rng = random.Random(20240101)
    units, branches = [], []
    for i, dept in enumerate(DEPARTMENTS, 1):
        code = f"U{i:03d}"
        group = GROUPS[(i - 1) % len(GROUPS)]
        n_branches = rng.choice([1, 2, 3, 4, 5, 6]) if i <= 36 else 1
        kind = "机关党委" if n_branches >= 4 else ("党总支" if n_branches >= 2 else "党支部")
        name = f"{dept}{kind}"
        secretary = rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.choice([1, 2])))
        unit = {"code": code, "name": name, "kind": kind, "group": group, "secretary": secretary,
                "members": 0, "active_from": None, "active_to": None}
        if i == 40:
            unit["active_from"] = "2024-04-01"   # a unit that joins mid-year
        if i == 39:
            unit["active_to"] = "2024-09-30"     # a unit that is dissolved mid-year
        for j in range(n_branches):
            members = rng.randint(7, 48)
            tier = rng.choices([t for t, _ in TIER_WEIGHTS], [w for _, w in TIER_WEIGHTS])[0]
            bname = dept + (BRANCH_SUFFIX[j] if n_branches > 1 else "机关党支部")
            branches.append({"code": f"{code}-B{j + 1:02d}", "name": bname, "unit": code, "members": members,
                             "tier": tier, "tier_date": f"2023-{rng.randint(3, 12):02d}-{rng.randint(1, 28):02d}"})
            unit["members"] += members
        units.append(unit)
    doc = {"city": "示范市", "committee": "中共示范市直属机关工作委员会", "units": units, "branches": branches}
    out = Path(__file__).resolve().parents[1] / "djctl" / "data" / "demo-city.json"
    out.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(out, len(units), "units", len(branches), "branches")


if __name__ == "__main__":
    main()
