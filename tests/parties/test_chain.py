import threading

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections

from parties import services
from parties.models import Kind, Organization

from ..factories import node


@pytest.mark.django_db
class TestKindRules:
    def test_urban_and_rural_chains_build(self) -> None:
        street = node(Kind.STREET)
        branch = node(Kind.GRID_BRANCH, node(Kind.COMMUNITY, street))
        household = node(Kind.MEMBER_HOUSEHOLD, node(Kind.BUILDING_GROUP, branch))
        town = node(Kind.TOWN)
        contact = node(Kind.CONTACT_HOUSEHOLD, node(Kind.GRID_GROUP, node(Kind.VILLAGE, town)))
        assert household.level == 4 and household.tree_id == street.tree_id
        assert contact.level == 3 and contact.get_root() == town

    def test_building_group_under_street_is_refused_in_chinese(self) -> None:
        street = node(Kind.STREET)
        with pytest.raises(ValidationError) as err:
            services.organization_create(kind=Kind.BUILDING_GROUP, name="x", code="bg-x", parent=street)
        assert "楼栋党小组" in err.value.message_dict["parent"][0]
        assert not Organization.objects.filter(code="bg-x").exists()

    def test_community_cannot_be_root_and_village_not_under_street(self) -> None:
        with pytest.raises(ValidationError):
            services.organization_create(kind=Kind.COMMUNITY, name="x", code="c-x", parent=None)
        with pytest.raises(ValidationError):
            services.organization_create(kind=Kind.VILLAGE, name="v", code="v-x", parent=node(Kind.STREET))

    def test_move_under_own_descendant_is_refused(self) -> None:
        street = node(Kind.STREET)
        community = node(Kind.COMMUNITY, street)
        branch = node(Kind.GRID_BRANCH, community)
        with pytest.raises(ValidationError) as err:
            services.organization_move(node=community, target=branch)
        assert err.value.message_dict["parent"]
        community.refresh_from_db()
        assert community.parent == street

    def test_move_breaking_kind_rule_changes_nothing(self) -> None:
        street = node(Kind.STREET)
        branch = node(Kind.GRID_BRANCH, node(Kind.COMMUNITY, street))
        group = node(Kind.BUILDING_GROUP, branch)
        before = list(Organization.objects.order_by("id").values_list("id", "parent_id", "lft", "rght"))
        with pytest.raises(ValidationError):
            services.organization_move(node=group, target=street)
        after = list(Organization.objects.order_by("id").values_list("id", "parent_id", "lft", "rght"))
        assert before == after

    def test_community_moves_to_another_street_with_its_subtree(self) -> None:
        a, b = node(Kind.STREET), node(Kind.STREET)
        community = node(Kind.COMMUNITY, a)
        branch = node(Kind.GRID_BRANCH, community)
        services.organization_move(node=community, target=b)
        branch.refresh_from_db()
        assert branch.get_root() == b
        assert services.chain_differences() == []


@pytest.mark.django_db
@pytest.mark.parametrize("communities", [2, 20])
def test_subtree_query_count_is_constant(communities: int, django_assert_num_queries) -> None:
    street = node(Kind.STREET)
    for _ in range(communities):
        node(Kind.GRID_BRANCH, node(Kind.COMMUNITY, street))
    street.refresh_from_db()
    with django_assert_num_queries(1):
        names = list(street.get_descendants().values_list("name", flat=True))
    assert len(names) == communities * 2


@pytest.mark.django_db
def test_check_chain_passes_on_a_sound_tree_and_catches_corruption() -> None:
    street = node(Kind.STREET)
    community = node(Kind.COMMUNITY, street)
    node(Kind.GRID_BRANCH, community)
    call_command("check_chain")
    Organization.objects.filter(pk=community.pk).update(rght=99)
    with pytest.raises(CommandError, match="1 node"):
        call_command("check_chain")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_moves_in_one_tree_leave_it_sound(needs_postgres: None) -> None:
    street = node(Kind.STREET)
    communities = [node(Kind.COMMUNITY, street) for _ in range(4)]
    branches = [node(Kind.GRID_BRANCH, c) for c in communities for _ in range(3)]
    barrier = threading.Barrier(len(branches))
    errors: list[BaseException] = []

    def move(i: int) -> None:
        try:
            target = communities[(i + 1) % len(communities)]
            # Each thread loads its own (soon stale) copies, as two admins' browsers would.
            mine = Organization.objects.get(pk=branches[i].pk)
            there = Organization.objects.get(pk=target.pk)
            barrier.wait()
            services.organization_move(node=mine, target=there)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=move, args=(i,)) for i in range(len(branches))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert services.chain_differences() == []
    call_command("check_chain")
    assert connection.vendor == "postgresql"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_new_streets_get_distinct_tree_ids(needs_postgres: None) -> None:
    barrier = threading.Barrier(6)

    def create(i: int) -> None:
        barrier.wait()
        services.organization_create(kind=Kind.STREET, name=f"街道{i}", code=f"street-{i}", parent=None)
        connections.close_all()

    threads = [threading.Thread(target=create, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    tree_ids = list(Organization.objects.filter(parent=None).values_list("tree_id", flat=True))
    assert len(tree_ids) == len(set(tree_ids)) == 6
