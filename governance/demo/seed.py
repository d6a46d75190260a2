"""The demo district: two urban streets and a rural town (or the full scale of DESIGN.md).

Deterministic (a seeded random generator per tree) and idempotent: a street or town whose root
node exists is left as it is, so running it twice gives the same counts. Each tree is built in
memory, numbered, and bulk-inserted in one transaction, so ``--size large`` (about 600,000
residents) takes minutes, not hours, in flat memory.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction

from governance.demo import lived_in
from governance.demo.accounts import DemoPassword
from governance.demo.deliberations import seed_deliberations
from governance.models import Department, User
from grids.identity import id_card_check_digit, id_card_hash
from grids.models import Building, Grid, GridAssignment, Household, MemberResidence, Resident
from parties.models import Kind, Member, Organization, Wish
from parties.services import nested_set_numbers, reserve_tree_id
from petitions.models import Category, Petition, ServiceArea

from .fieldwork import seed_fieldwork
from .places import seed_places
from .service_cards import seed_service_cards
from .units import seed_units

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国红梅志强玉兰海燕文博子"
    "涵欣怡宇轩浩然梓萱一诺思远雨桐俊杰晓东春燕丽华德明淑珍"
)
STREET_NAMES = [
    "交通街道",
    "江边街道",
    "梅园街道",
    "站前街道",
    "龙岗街道",
    "白露街道",
    "东湖街道",
    "滨江街道",
    "红星街道",
    "胜利街道",
    "园林街道",
    "新华街道",
    "城南街道",
    "城北街道",
    "东郊街道",
    "西苑街道",
    "长青街道",
    "青山街道",
    "解放街道",
    "人民街道",
]
TOWN_NAMES = ["童家镇", "白露镇", "夏埠乡", "鹰西镇", "流口镇"]
COMMUNITY_WORDS = [
    "磷肥厂",
    "站江",
    "江滨",
    "梅园",
    "胜利",
    "新村",
    "花园",
    "东风",
    "和平",
    "幸福",
    "建设",
    "光明",
    "朝阳",
    "团结",
    "前进",
    "民主",
    "振兴",
    "锦绣",
    "育才",
    "长乐",
]
VILLAGE_WORDS = ["洪湖", "上清", "塘湾", "樟坪", "石港", "桃源", "荷塘", "竹林", "李家", "黄岭"]
DEPARTMENTS = [
    ("housing", "区住房和城乡建设局"),
    ("urban", "区城市管理局"),
    ("civil", "区民政局"),
    ("police", "区公安分局"),
    ("market", "区市场监督管理局"),
    ("health", "区卫生健康委员会"),
    ("justice", "区司法局"),
    ("emergency", "区应急管理局"),
]
CATEGORIES = [
    # code, name, service area, department, accept h, resolve days, follow-up days
    ("info-update", "人口信息采集", ServiceArea.INFORMATION, "civil", 4, 1, 1),
    ("survey", "社情民意收集", ServiceArea.SURVEY, "civil", 4, 5, 1),
    ("policy-consult", "政策咨询", ServiceArea.PUBLICITY, "civil", 2, 1, 1),
    ("elderly-visit", "独居老人探访", ServiceArea.KEY_POPULATION, "civil", 2, 1, 1),
    ("errand", "代办服务", ServiceArea.ERRANDS, "civil", 2, 5, 1),
    ("roof-leak", "房屋漏水", ServiceArea.SAFETY, "housing", 2, 5, 1),
    ("fire-lane", "消防通道占用", ServiceArea.SAFETY, "urban", 2, 5, 1),
    ("gas-hazard", "燃气安全隐患", ServiceArea.SAFETY, "emergency", 1, 1, 1),
    ("food-safety", "食品安全投诉", ServiceArea.SAFETY, "market", 2, 10, 1),
    ("neighbour-dispute", "邻里纠纷", ServiceArea.DISPUTE, "justice", 2, 10, 1),
    ("noise", "噪声扰民", ServiceArea.DISPUTE, "police", 2, 5, 1),
]


@dataclass(frozen=True)
class Size:
    urban_streets: int
    towns: int
    communities_per_street: int
    villages_per_town: int
    grids_per_community: int
    grids_per_village: int
    buildings_per_grid: int
    households_per_building: int
    # drawn uniformly from these: (1, 1, 2) gives 1.33 residents per household on average
    residents_per_household: tuple[int, ...]
    staff_per_grid: int


SIZES = {
    "small": Size(2, 1, 3, 3, 3, 2, 4, 12, (1, 2, 3, 4), 2),
    # DESIGN.md "Scale the design must hold": 23 streets/towns (20 + 3), 313 communities/villages
    # (280 + 33), 3,064 grids, 21,448 grid staff (7 a grid), ~600,000 residents. A grid holds
    # 150 households, the low end of the urban standard (about 300): with 1.33 residents a
    # household that gives the district's 600,000 residents.
    "large": Size(20, 3, 14, 11, 10, 8, 5, 30, (1, 1, 2), 7),
}


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _id_card(rng: random.Random, region: str) -> str:
    born = f"{rng.randint(1940, 2015)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    first = f"{region}{born}{rng.randint(0, 999):03d}"
    return first + id_card_check_digit(first)


def _region(code: str) -> str:
    """A region code of its own per tree (s01 -> 360601, t01 -> 360651), so ID numbers never collide across trees."""
    number = int(code[1:]) + (50 if code.startswith("t") else 0)
    return f"3606{number:02d}"


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3589')}{rng.randint(0, 999_999_999):09d}"


def seed_demo(
    *, password: str, size: str = "small", history: bool = True, log: Callable[[str], object] = print
) -> dict[str, int]:
    """Build the demo district (idempotent) and return the row counts of what it holds.

    ``history=False`` leaves out the twelve weeks of petitions (``lived_in``), three quarters of the
    time: for a test that needs the district, its accounts and some petitions, not their past.
    """
    spec = SIZES[size]
    demo_password = DemoPassword.of(password)
    departments = _seed_departments()
    _seed_categories(departments)
    for s in range(spec.urban_streets):
        name = STREET_NAMES[s % len(STREET_NAMES)] + ("" if s < len(STREET_NAMES) else str(s))
        _seed_tree(spec, f"s{s + 1:02d}", name, urban=True, log=log)
    for t in range(spec.towns):
        _seed_tree(spec, f"t{t + 1:02d}", TOWN_NAMES[t % len(TOWN_NAMES)], urban=False, log=log)
    _seed_accounts(demo_password, departments)
    if size == "small":
        _seed_petitions()
        _seed_wishes(demo_password)
        if history:
            lived_in.seed_lived_in(name=_name, log=log)
        seed_places()
        seed_fieldwork()
        seed_service_cards(log)
        seed_units(demo_password)
        seed_deliberations(demo_password)
    return {
        "chain nodes": Organization.objects.count(),
        "grids": Grid.objects.count(),
        "buildings": Building.objects.count(),
        "households": Household.objects.count(),
        "residents": Resident.objects.count(),
        "party members": Member.objects.count(),
        "micro-wishes": Wish.objects.count(),
        "departments": Department.objects.count(),
        "categories": Category.objects.count(),
        "users": User.objects.count(),
        "petitions": Petition.objects.count(),
    }


PETITION_STORIES = [
    ("楼道灯不亮", "3栋二单元楼道灯坏了一周，老人夜里上下楼不安全。", "roof-leak"),
    ("顶楼漏水", "连续下雨后顶楼住户家中漏水，墙面发霉。", "roof-leak"),
    ("消防通道被占", "小区东门消防通道长期停放私家车。", "fire-lane"),
    ("独居老人需探访", "8栋独居老人近几天未出门，邻居担心。", "elderly-visit"),
    ("楼上噪声扰民", "楼上住户深夜装修，影响休息。", "noise"),
    ("邻里漏水纠纷", "楼上漏水到楼下，双方协商不成。", "neighbour-dispute"),
    ("燃气管道异味", "厨房附近有燃气味，需要排查。", "gas-hazard"),
    ("咨询医保政策", "居民咨询城乡居民医保缴费时间和标准。", "policy-consult"),
    ("代办高龄津贴", "80岁以上老人申请高龄津贴，行动不便。", "errand"),
    ("小餐馆卫生问题", "巷口小餐馆后厨卫生差，居民投诉。", "food-safety"),
]
# How far along the loop each demo petition gets: registered … closed, and the side paths.
PETITION_PATHS = [
    "registered",
    "dispatched",
    "accepted",
    "resolved",
    "closed",
    "closed",
    "on_grid_closed",
    "reopened",
    "returned",
    "cancelled",
    "reported",
]


@transaction.atomic
def _seed_petitions() -> None:
    """A few dozen petitions in every state, made through the real services (so today's dates)."""
    from petitions import services

    if Petition.objects.exists():
        return
    rng = random.Random(2026)
    admin = User.objects.get(username="admin")
    official = User.objects.get(username="official")
    dept = User.objects.get(username="dept")
    categories = {c.code: c for c in Category.objects.select_related("default_department")}
    street = Organization.objects.get(code="s01")
    grids = list(Grid.objects.filter(branch__tree_id=street.tree_id).select_related("branch").order_by("code"))
    workers = {u.scope_node_id: u for u in User.objects.filter(username="worker")}
    for i in range(40):
        title, text, category_code = PETITION_STORIES[i % len(PETITION_STORIES)]
        grid = grids[i % len(grids)]
        category = categories[category_code]
        # The housing department's cases go to the demo account ``dept``; the rest to leadership.
        department = category.default_department
        handler = dept if department is not None and department.code == "housing" else admin
        registrar = workers.get(grid.branch_id, admin)
        p = services.petition_register(
            actor=registrar,
            grid=grid,
            category=category,
            title=title,
            description=text,
            priority="urgent" if i % 9 == 0 else "normal",
            reporter_name=_name(rng),
            reporter_phone=_phone(rng),
        )
        path = PETITION_PATHS[i % len(PETITION_PATHS)]
        if path == "registered":
            continue
        if path == "cancelled":
            services.petition_cancel(actor=official, petition_id=p.pk, reason="重复登记")
            continue
        if path == "reported":  # the worker's whistle: waits in the street's dispatch queue
            services.petition_report(actor=registrar, petition_id=p.pk, note="网格协调不了，需街道派单到职能部门")
            continue
        if path == "on_grid_closed":
            services.petition_resolve(actor=registrar, petition_id=p.pk, result="网格员现场协调解决")
            services.petition_follow_up(
                actor=registrar, petition_id=p.pk, reached=True, solved=True, satisfaction="very_satisfied"
            )
            continue
        assert department is not None
        services.petition_dispatch(actor=official, petition_id=p.pk, department=department, note="请尽快处理")
        if path == "dispatched":
            continue
        if path == "returned":
            services.petition_return(actor=handler, petition_id=p.pk, reason="不属于本部门职责")
            continue
        services.petition_accept(actor=handler, petition_id=p.pk)
        if path == "accepted":
            continue
        services.petition_resolve(actor=handler, petition_id=p.pk, result="已安排人员上门处理完毕")
        if path == "resolved":
            continue
        unhappy = path == "reopened"
        services.petition_follow_up(
            actor=registrar,
            petition_id=p.pk,
            reached=True,
            solved=not unhappy,
            satisfaction="dissatisfied"
            if unhappy
            else rng.choice(["very_satisfied", "satisfied", "basically_satisfied"]),
        )


def _seed_departments() -> dict[str, Department]:
    out = {}
    for code, name in DEPARTMENTS:
        out[code], _ = Department.objects.get_or_create(code=code, defaults={"name": name})
    return out


def _seed_categories(departments: dict[str, Department]) -> None:
    for code, name, area, dept, accept_h, resolve_d, follow_d in CATEGORIES:
        Category.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "service_area": area,
                "default_department": departments[dept],
                "accept_hours": accept_h,
                "resolve_working_days": resolve_d,
                "follow_up_working_days": follow_d,
            },
        )


class _Tree:
    """The nodes of one new tree, built in memory and numbered before they are inserted."""

    def __init__(self) -> None:
        self.levels: list[list[Organization]] = []
        self.children: dict[int, list[Organization]] = {}

    def node(self, kind: str, name: str, code: str, parent: Organization | None) -> Organization:
        level = 0 if parent is None else parent.level + 1
        n = Organization(kind=kind, name=name, code=code, parent=parent, level=level)
        if len(self.levels) <= level:
            self.levels.append([])
        self.levels[level].append(n)
        if parent is not None:
            self.children.setdefault(id(parent), []).append(n)
        return n

    def insert(self) -> None:
        """Number the tree (what mptt's rebuild does, siblings in creation order), then insert it.

        Numbered here rather than by ``partial_rebuild``, which spends milliseconds per node
        composing its bulk UPDATE: a third of the time of ``--size large``.
        """
        root = self.levels[0][0]
        tree_id = reserve_tree_id()
        for n, lft, rght, depth in nested_set_numbers(root, lambda n: self.children.get(id(n), [])):
            n.lft, n.rght, n.level, n.tree_id = lft, rght, depth, tree_id
        for level in self.levels:  # parents first, so each level's parent ids are known
            Organization.objects.bulk_create(level, batch_size=5000)


@transaction.atomic
def _seed_tree(spec: Size, code: str, name: str, *, urban: bool, log: Callable[[str], object]) -> Organization:
    existing = Organization.objects.filter(code=code).first()
    if existing is not None:
        return existing
    # Each tree draws from its own generator, so an existing tree does not shift the others.
    rng = random.Random(f"{code}-{name}")
    tree = _Tree()
    grids: list[Grid] = []
    # each building with the node that links its households (member or contact household)
    buildings: list[tuple[Building, Organization]] = []

    root = tree.node(Kind.STREET if urban else Kind.TOWN, name, code, None)
    middles = spec.communities_per_street if urban else spec.villages_per_town
    words = COMMUNITY_WORDS if urban else VILLAGE_WORDS
    groups: list[tuple[Grid, int, Organization]] = []
    for c in range(middles):
        word = words[(c + len(code) * 3 + int(code[1:])) % len(words)]
        suffix = "社区" if urban else "村"
        mid_name = f"{word}{suffix}" if c < len(words) else f"{word}{c}{suffix}"
        mid = tree.node(Kind.COMMUNITY if urban else Kind.VILLAGE, mid_name, f"{code}-c{c + 1:02d}", root)
        n_grids = spec.grids_per_community if urban else spec.grids_per_village
        branches: list[Organization] = []
        community_grids: list[Grid] = []
        for g in range(n_grids):
            # In each community the last two grids share one joint branch (联建).
            if urban and g == n_grids - 1 and branches:
                branch = branches[-1]
            else:
                branch_kind, label = (Kind.GRID_BRANCH, "网格党支部") if urban else (Kind.GRID_GROUP, "网格党小组")
                branch = tree.node(branch_kind, f"{mid_name}第{g + 1}{label}", f"{mid.code}-g{g + 1:02d}", mid)
                branches.append(branch)
            if not urban:
                kind = Grid.Kind.RURAL
            elif c == 0 and g == 0:
                kind = Grid.Kind.DEDICATED
            else:
                kind = Grid.Kind.URBAN
            grid_name = f"{mid_name}第{g + 1}网格" if kind != Grid.Kind.DEDICATED else f"{mid_name}实验学校专属网格"
            community_grids.append(Grid(code=f"{mid.code}-{g + 1:02d}", name=grid_name, kind=kind, branch=branch))
        for grid in community_grids:
            for b in range(spec.buildings_per_grid):
                bcode = f"{grid.code}-b{b + 1:02d}"
                group = tree.node(
                    Kind.BUILDING_GROUP if urban else Kind.CONTACT_HOUSEHOLD,
                    f"{grid.name}{b + 1}栋党小组" if urban else f"{_name(rng)}联系户",
                    f"{bcode}-pg",
                    grid.branch,
                )
                groups.append((grid, b, group))
        grids += community_grids
    for grid, b, group in groups:
        bcode = f"{grid.code}-b{b + 1:02d}"
        link = group
        if urban:
            link = tree.node(Kind.MEMBER_HOUSEHOLD, f"{_name(rng)}党员中心户", f"{bcode}-mh", group)
        buildings.append((Building(code=bcode, name=f"{b + 1}栋" if urban else f"{b + 1}组", grid=grid), link))
    tree.insert()
    # bulk_create sets the primary keys (PostgreSQL, and SQLite from 3.35), so the objects built
    # above link up without reading anything back.
    Grid.objects.bulk_create(grids)
    Building.objects.bulk_create([b for b, _ in buildings], batch_size=5000)

    households: list[Household] = []
    for building, link in buildings:
        for h in range(spec.households_per_building):
            floor, unit = divmod(h, 4)
            shop = floor == 0 and unit == 0 and urban
            households.append(
                Household(
                    building=building,
                    room=f"{floor + 1}{unit + 1:02d}",
                    kind=Household.Kind.SHOP if shop else Household.Kind.RESIDENCE,
                    # 一户联十户: the member household links the first ten households of its building.
                    linked_node=link if h < 10 else None,
                )
            )
    Household.objects.bulk_create(households, batch_size=5000)

    region = _region(code)
    seen: set[str] = set()
    residents: list[Resident] = []
    members: list[tuple[Member, Household]] = []
    for household in households:
        for _r in range(rng.choice(spec.residents_per_household)):
            id_card = _id_card(rng, region)
            while id_card in seen:
                id_card = _id_card(rng, region)
            seen.add(id_card)
            residents.append(
                Resident(
                    household=household,
                    name=_name(rng),
                    id_card=id_card,
                    id_card_hash=id_card_hash(id_card),
                    phone=_phone(rng),
                )
            )
        if rng.random() < 0.08:
            in_service = rng.random() < 0.4
            member = Member(
                name=_name(rng),
                organization=household.building.grid.branch,
                in_service=in_service,
                workplace=rng.choice(["区教育局", "市第一医院", "区税务局", "鹰潭供电公司"]) if in_service else "",
            )
            members.append((member, household))
        if len(residents) >= 20_000:  # keep memory flat whatever the size
            Resident.objects.bulk_create(residents, batch_size=5000)
            residents.clear()
    Resident.objects.bulk_create(residents, batch_size=5000)
    Member.objects.bulk_create([member for member, _home in members], batch_size=5000)
    MemberResidence.objects.bulk_create(
        [MemberResidence(member=member, household=home) for member, home in members], batch_size=5000
    )

    staff: list[User] = []
    assignments: list[GridAssignment] = []
    roles = list(GridAssignment.Role)
    for grid in grids:
        for i in range(spec.staff_per_grid):
            user = User(
                username=f"{grid.code}-{i + 1}", first_name=_name(rng), role=User.Role.WORKER, scope_node=grid.branch
            )
            # no password: staff sign in once an admin sets one (and no slow hasher per user here)
            user.set_unusable_password()
            staff.append(user)
            assignments.append(GridAssignment(grid=grid, user=user, role=roles[i % len(roles)]))
    User.objects.bulk_create(staff, batch_size=5000)
    GridAssignment.objects.bulk_create(assignments, batch_size=5000)
    log(f"seeded {name}: {len(grids)} grids, {len(households)} households")
    return root


def _seed_accounts(password: DemoPassword, departments: dict[str, Department]) -> None:
    street = Organization.objects.get(code="s01")
    grid = Grid.objects.filter(branch__tree_id=street.tree_id, kind=Grid.Kind.URBAN).order_by("code").first()
    assert grid is not None
    accounts = [
        ("admin", {"is_superuser": True, "is_staff": True, "role": User.Role.LEADER, "first_name": "区管理员"}),
        ("official", {"role": User.Role.OFFICIAL, "scope_node": street, "first_name": "街道干部"}),
        ("worker", {"role": User.Role.WORKER, "scope_node": grid.branch, "first_name": "网格员"}),
        ("dept", {"role": User.Role.DEPARTMENT, "department": departments["housing"], "first_name": "住建局"}),
    ]
    for username, fields in accounts:
        user, _ = User.objects.update_or_create(username=username, defaults=fields)
        password.give(user)
        if username == "worker":
            GridAssignment.objects.get_or_create(grid=grid, user=user, role=GridAssignment.Role.FULL_TIME)


WISH_STORIES = [
    ("帮独居老人换灯泡", "3栋一楼王奶奶家客厅灯坏了，老人行动不便。", "王"),
    ("陪同老人去医院复查", "周四上午需要有人陪同去市第一医院复查。", "李"),
    ("辅导孩子功课", "双职工家庭，孩子三年级数学需要辅导。", "张"),
    ("修理轮椅", "轮椅刹车失灵，希望有人帮忙修理。", "刘"),
    ("代买药品", "降压药吃完了，腿脚不便无法去药店。", "陈"),
    ("教老人用智能手机", "想学会用手机视频通话，和外地子女联系。", "赵"),
]
# How far along 群众点单 → 社区派单 → 党员接单 → 完成 → 评价 each demo wish gets.
WISH_PATHS = ["submitted", "published", "published", "claimed", "fulfilled", "evaluated"]


@transaction.atomic
def _seed_wishes(password: DemoPassword) -> None:
    """Micro-wishes at every stage in the demo worker's community, and a Party member who can claim them.

    The account ``member`` is a Party member of that community (linked through ``Member.account``):
    their board shows the published wishes. Made through the real services.
    """
    from parties import wishes

    worker = User.objects.get(username="worker")
    branch = worker.scope_node
    assert branch is not None
    member_user, _ = User.objects.update_or_create(
        username="member", defaults={"role": User.Role.WORKER, "first_name": "在职党员"}
    )
    password.give(member_user)
    member = Member.objects.filter(account=member_user).first() or Member.objects.create(
        name="周建华", organization=branch, in_service=True, workplace="区教育局", account=member_user
    )
    if Wish.objects.exists():
        return
    official = User.objects.get(username="official")
    for i, path in enumerate(WISH_PATHS):
        title, text, family = WISH_STORIES[i % len(WISH_STORIES)]
        wish = wishes.wish_record(
            actor=worker, place=branch, title=title, description=text, resident_name=f"{family}阿姨"
        )
        if path == "submitted":
            continue
        wishes.wish_publish(actor=official, wish_id=wish.pk)
        if path == "published":
            continue
        wishes.wish_claim(actor=member_user, wish_id=wish.pk)
        if path == "claimed":
            continue
        wishes.wish_fulfil(actor=member_user, wish_id=wish.pk, fulfilment="已上门帮忙，老人很满意。")
        if path == "fulfilled":
            continue
        wishes.wish_evaluate(actor=worker, wish_id=wish.pk, rating="very_satisfied", note="居民送来感谢信")
    assert member.account_id == member_user.pk
