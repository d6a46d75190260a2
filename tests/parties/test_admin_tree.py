"""The chain in Django admin: indented tree, drag-and-drop moves, and refusals with a message."""

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from parties.models import Kind, Organization
from parties.services import chain_differences

from ..factories import UserFactory, node


@pytest.fixture
def admin_client_zh(db: None) -> Client:
    client = Client()
    client.force_login(UserFactory.create(username="root", is_superuser=True, is_staff=True))
    return client


def _move(client: Client, cut: Organization, target: Organization, position: str = "last-child"):
    url = reverse("admin:parties_organization_changelist")
    return client.post(url, {"cmd": "move_node", "cut_item": cut.pk, "pasted_on": target.pk, "position": position})


@pytest.mark.django_db
def test_changelist_shows_the_tree_indented(admin_client_zh: Client) -> None:
    street = node(Kind.STREET, name="交通街道")
    community = node(Kind.COMMUNITY, street, name="磷肥厂社区")
    node(Kind.GRID_BRANCH, community, name="第一网格党支部")
    response = admin_client_zh.get(reverse("admin:parties_organization_changelist"))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.index("交通街道") < html.index("磷肥厂社区") < html.index("第一网格党支部")
    assert "tree-level-2" in html  # the grid branch sits two levels deep (indented by static/css/admin-tree.css)
    assert "draggable-admin.js" in html


@pytest.mark.django_db
def test_drag_community_to_another_street(admin_client_zh: Client) -> None:
    a, b = node(Kind.STREET), node(Kind.STREET)
    community = node(Kind.COMMUNITY, a)
    node(Kind.GRID_BRANCH, community)
    response = _move(admin_client_zh, community, b)
    assert response.content == b"OK"
    community.refresh_from_db()
    assert community.parent == b
    assert chain_differences() == []


@pytest.mark.django_db
def test_drag_refused_when_kind_rule_breaks(admin_client_zh: Client) -> None:
    street = node(Kind.STREET)
    branch = node(Kind.GRID_BRANCH, node(Kind.COMMUNITY, street))
    group = node(Kind.BUILDING_GROUP, branch)
    response = _move(admin_client_zh, group, street)
    assert response.content.startswith(b"FAIL")
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    assert str(Kind.BUILDING_GROUP.label) in message and str(Kind.STREET.label) in message
    group.refresh_from_db()
    assert group.parent == branch


@pytest.mark.django_db
def test_drag_refused_under_own_descendant(admin_client_zh: Client) -> None:
    street = node(Kind.STREET)
    community = node(Kind.COMMUNITY, street)
    branch = node(Kind.GRID_BRANCH, community)
    response = _move(admin_client_zh, community, branch)
    assert response.content.startswith(b"FAIL")
    community.refresh_from_db()
    assert community.parent == street


@pytest.mark.django_db
def test_drag_beside_a_sibling(admin_client_zh: Client) -> None:
    street = node(Kind.STREET)
    first, second = node(Kind.COMMUNITY, street), node(Kind.COMMUNITY, street)
    assert _move(admin_client_zh, second, first, "left").content == b"OK"
    assert list(street.get_children().values_list("pk", flat=True)) == [second.pk, first.pk]
    assert chain_differences() == []


@pytest.mark.django_db
def test_change_form_refuses_wrong_parent_with_field_error(admin_client_zh: Client) -> None:
    street = node(Kind.STREET)
    branch = node(Kind.GRID_BRANCH, node(Kind.COMMUNITY, street))
    group = node(Kind.BUILDING_GROUP, branch)
    url = reverse("admin:parties_organization_change", args=[group.pk])
    response = admin_client_zh.post(
        url, {"kind": group.kind, "name": group.name, "code": group.code, "parent": street.pk, "secretary": ""}
    )
    assert response.status_code == 200  # the form again, with the error
    assert response.context["adminform"].form.errors["parent"]
    group.refresh_from_db()
    assert group.parent == branch


@pytest.mark.django_db
def test_add_form_creates_rural_chain_through_the_service(admin_client_zh: Client) -> None:
    url = reverse("admin:parties_organization_add")
    response = admin_client_zh.post(url, {"kind": Kind.TOWN, "name": "童家镇", "code": "tongjia", "parent": ""})
    assert response.status_code == 302
    town = Organization.objects.get(code="tongjia")
    response = admin_client_zh.post(
        url, {"kind": Kind.VILLAGE, "name": "洪湖村", "code": "honghu", "parent": town.pk}
    )
    assert response.status_code == 302
    assert Organization.objects.get(code="honghu").get_root() == town
    assert chain_differences() == []


@pytest.mark.django_db
def test_change_form_moves_a_node_through_the_service(admin_client_zh: Client) -> None:
    a, b = node(Kind.STREET), node(Kind.STREET)
    community = node(Kind.COMMUNITY, a)
    url = reverse("admin:parties_organization_change", args=[community.pk])
    # The page's read-only sections (members, …) post their management forms, as the browser does.
    inlines = admin_client_zh.get(url).context["inline_admin_formsets"]
    management = {
        f"{inline.formset.prefix}-{name}": value
        for inline in inlines
        for name, value in inline.formset.management_form.initial.items()
    }
    response = admin_client_zh.post(
        url, {"kind": community.kind, "name": "改名社区", "code": community.code, "parent": b.pk, **management}
    )
    assert response.status_code == 302
    community.refresh_from_db()
    assert (community.parent, community.name) == (b, "改名社区")
    assert chain_differences() == []
