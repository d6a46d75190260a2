"""Demo deliberation (五议): one matter at every step in the demo worker's community, through the services.

The account ``committee`` is a worker of that community's two committees (scope: the community), so
its home page lists what waits for each step; the street's ``official`` sees the same matters.
"""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from governance.access import subtree_q
from governance.demo.accounts import DemoPassword
from governance.models import User
from parties import deliberations
from parties.models import Deliberation, DeliberationStatus, Member
from parties.wishes import community_of
from petitions.models import Petition, Status
from petitions.proposals import petition_propose

S = DeliberationStatus
# (matter, details, the resident who raised it, how far it gets)
STORIES = [
    ("小区增设电动车充电棚", "电动车在楼道充电有火灾隐患，居民希望在东门空地建充电棚。", "王建国", S.EVALUATED),
    ("老旧小区加装电梯", "5栋住户多为老人，上下楼困难，希望加装电梯。", "李秀兰", S.CARRIED_OUT),
    ("规范小区停车秩序", "晚间车辆乱停，消防通道被占。", "张伟", S.NOTICED),
    ("建设社区老年食堂", "独居老人吃饭难，希望社区办老年食堂。", "刘芳", S.DECIDED),
    ("垃圾分类投放点调整", "投放点离8栋太近，夏季异味大。", "陈静", S.DISCUSSED),
    ("楼道堆物清理", "楼道堆放杂物，影响通行。", "杨勇", S.ACCEPTED),
    ("在小区内开设麻将室", "希望在活动室开设麻将室。", "赵强", S.REJECTED),
    ("增设健身器材", "小区广场健身器材老化，希望更新。", "孙丽", S.PROPOSED),
]
PATH = [S.ACCEPTED, S.DISCUSSED, S.DECIDED, S.NOTICED, S.CARRIED_OUT, S.EVALUATED]


@transaction.atomic
def seed_deliberations(password: DemoPassword) -> None:
    """The ``committee`` account and one matter at every step (one raised from a demo petition). Idempotent."""
    worker = User.objects.get(username="worker")
    assert worker.scope_node is not None
    community = community_of(worker.scope_node)
    assert community is not None
    committee, _ = User.objects.update_or_create(
        username="committee",
        defaults={"role": User.Role.WORKER, "scope_node": community, "first_name": "社区两委"},
    )
    password.give(committee)
    if Deliberation.objects.exists():
        return
    members = list(Member.objects.filter(subtree_q(community, "organization")).order_by("pk")[:3])
    today = timezone.localdate()
    for title, text, proposer, target in STORIES:
        d = deliberations.deliberation_propose(
            actor=committee, community=community, title=title, description=text, proposer_name=proposer
        )
        _walk(committee, d, target, today, members)
    petition = Petition.objects.filter(grid__branch=worker.scope_node).exclude(status=Status.CANCELLED).first()
    if petition is not None:  # a recurring petition turned into a proposal, linked
        petition_propose(actor=committee, petition_id=petition.pk, title=f"{petition.title}（多次反映）")


def _walk(actor: User, d: Deliberation, target: str, today: dt.date, members: list[Member]) -> None:
    if target == S.PROPOSED:
        return
    if target == S.REJECTED:
        reason = "属于个人娱乐诉求，不宜占用公共活动室。"
        deliberations.deliberation_reject(actor=actor, deliberation_id=d.pk, reason=reason)
        return
    for status in PATH:
        if status == S.ACCEPTED:
            deliberations.deliberation_accept(actor=actor, deliberation_id=d.pk, opinion="两委联席会议同意提交议事会。")
        elif status == S.DISCUSSED:
            deliberations.deliberation_discuss(
                actor=actor, deliberation_id=d.pk, meeting_on=today, meeting_place="社区居民议事厅", attendees=25,
                minutes="居民代表、物业公司、驻区单位代表逐一发言，多数居民赞成。", units="物业公司、区供电公司",
                members=members,
            )
        elif status == S.DECIDED:
            deliberations.deliberation_decide(
                actor=actor, deliberation_id=d.pk, resolution=f"同意实施“{d.title}”，由社区牵头、物业落实。",
                votes_for=20, votes_against=3, votes_abstain=2, responsible="社区居委会、物业公司",
                deadline=today + dt.timedelta(days=60),
            )
        elif status == S.NOTICED:
            deliberations.deliberation_publish(actor=actor, deliberation_id=d.pk)
        elif status == S.CARRIED_OUT:
            # The notice was posted days ago and has run its course.
            ended = timezone.now() - dt.timedelta(hours=1)
            Deliberation.objects.filter(pk=d.pk).update(notice_starts_at=ended - dt.timedelta(days=5),
                                                        notice_ends_at=ended)
            deliberations.deliberation_carry_out(actor=actor, deliberation_id=d.pk, carried_out_note="已按决议完成。")
        elif status == S.EVALUATED:
            for name, level in (("孙大爷", "very_satisfied"), ("周阿姨", "satisfied"), ("吴先生", "dissatisfied")):
                deliberations.deliberation_evaluate(
                    actor=actor, deliberation_id=d.pk, satisfaction=level, resident_name=name
                )
        if status == target:
            return
