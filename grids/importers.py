"""Spreadsheet import and export of households and residents (django-import-export resources).

One file format, one row per resident (XLSX or CSV):

    楼栋编码 | 房号 | 类型 | 姓名 | 身份证号 | 手机号
    building | room | kind | name | id_card  | phone      (English headers are accepted too)

The household is found, or created, by (building code, room); 类型 is 住宅 / 商铺 / 驻区单位 (or
residence / shop / unit). A resident is matched by the keyed hash of their ID-card number, so a
second import of the same file finds every row unchanged. A file with any bad row imports nothing:
each bad row is listed with its number, the column and the reason.

Exports show the ID-card number and the phone masked (360602********1234, 138****5678), and add
the column 居民编号 (the resident's number in Wangge), so an export can be edited and imported
again: a row whose ID-card number is masked is matched by its 居民编号, and a masked cell (ID card
or phone) means "as stored": it never overwrites the stored value, and it must be the mask of it.
"""

import io
from collections.abc import Container, Iterable, Iterator
from copy import copy
from typing import Any

import openpyxl
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import fields, widgets
from import_export.instance_loaders import BaseInstanceLoader
from import_export.results import Result

from governance.access import restrict
from governance.spreadsheets import SafeExportResource, formula_error

from .identity import id_card_hash, id_card_hashes, mask_id_card, mask_phone, normalise_id_card
from .models import Building, Household, Resident
from .services import duplicate_id_card_message, id_card_error, name_error, phone_error

BUILDING = "楼栋编码"
ROOM = "房号"
KIND = "类型"
NAME = "姓名"
ID_CARD = "身份证号"
PHONE = "手机号"
COLUMNS = (BUILDING, ROOM, KIND, NAME, ID_CARD, PHONE)
# The key of an exported row: what a row with a masked ID-card number is matched by on import.
RESIDENT_ID = "居民编号"
EXPORT_COLUMNS = (*COLUMNS, RESIDENT_ID)
REQUIRED_COLUMNS = (BUILDING, ROOM, NAME, ID_CARD)

# Other spellings of the headers people are likely to type; compared lower-cased, spaces removed.
HEADER_ALIASES = {
    BUILDING: ("building", "building_code", "buildingcode", "楼栋", "楼栋代码"),
    ROOM: ("room", "房间号", "门牌号"),
    KIND: ("kind", "type", "户类型", "类别"),
    NAME: ("name", "姓名"),
    ID_CARD: ("id_card", "idcard", "身份证", "身份证号码", "公民身份号码"),
    PHONE: ("phone", "mobile", "手机", "手机号码", "联系电话"),
    RESIDENT_ID: ("resident_id", "resident", "居民id"),
}
_HEADER_LOOKUP = {alias: canonical for canonical, aliases in HEADER_ALIASES.items() for alias in aliases}

# The household kinds as a spreadsheet writes them; the first label of each is used on export.
KIND_LABELS: dict[str, tuple[str, ...]] = {
    Household.Kind.RESIDENCE: ("住宅", "住户", "居民户"),
    Household.Kind.SHOP: ("商铺", "商户", "门店"),
    Household.Kind.UNIT: ("驻区单位", "单位"),
}
_KIND_LOOKUP = {label: kind for kind, labels in KIND_LABELS.items() for label in labels} | {
    str(kind): kind for kind in KIND_LABELS
}

# Rows per bulk INSERT / UPDATE, and hashes per look-up query.
BATCH_SIZE = 2000


def cell_text(value: object) -> str:
    """A spreadsheet cell as text: numbers without a trailing ``.0``, surrounding spaces removed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def canonical_header(header: object) -> str:
    text = cell_text(header)
    key = text.lower().replace(" ", "")
    return text if text in EXPORT_COLUMNS else _HEADER_LOOKUP.get(key, text)


def is_masked(text: str) -> bool:
    """A cell as an export masks it (138****5678): it stands for the stored value, not a new one."""
    return "*" in text


def parse_kind(value: object) -> str | None:
    """The household kind a cell names (blank: residence), or None if it names none."""
    text = cell_text(value)
    if not text:
        return Household.Kind.RESIDENCE
    kind = _KIND_LOOKUP.get(text) or _KIND_LOOKUP.get(text.lower())
    if kind is None:
        # Whatever the labels read in the current language.
        kind = next((k for k in Household.Kind if str(k.label) == text), None)
    return kind


class CellError(ValueError):
    """A bad cell, reported under ``column`` (a widget may report on a neighbouring column)."""

    def __init__(self, message: str, column: str) -> None:
        super().__init__(message)
        self.column = column


class NameWidget(widgets.Widget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        text = cell_text(value)
        error = name_error(text)
        if error:
            raise ValueError(error)
        return text


class IdCardWidget(widgets.Widget):
    """Normalises and checks the GB 11643 check digit; renders masked."""

    def __init__(self) -> None:
        super().__init__()
        # Numbers the resource has checked already (while hashing the file's numbers once).
        self.known_valid: Container[str] = ()

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        text = normalise_id_card(cell_text(value))
        if text in self.known_valid:
            return text
        error = id_card_error(text)
        if error:
            raise ValueError(error)
        return text

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return mask_id_card(value)


class PhoneWidget(widgets.Widget):
    """An 11-digit mainland mobile number or blank; renders masked."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        text = cell_text(value)
        error = phone_error(text)
        if error:
            raise ValueError(error)
        return text

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return mask_phone(value)


class KindWidget(widgets.Widget):
    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return KIND_LABELS[value][0] if value in KIND_LABELS else cell_text(value)


class HouseholdWidget(widgets.Widget):
    """The household of a row, from its building code and room, as prepared by the resource."""

    def __init__(self) -> None:
        super().__init__()
        self.households: dict[tuple[str, str], Household] = {}
        self.buildings: set[str] = set()

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Household:
        code = cell_text(value)
        room = cell_text(row.get(ROOM)) if row else ""
        if not code:
            raise CellError(_("Enter the building code."), BUILDING)
        if code not in self.buildings:
            raise CellError(_("Unknown building code %(code)s.") % {"code": code}, BUILDING)
        error = room_error(room)
        if error:
            raise CellError(error, ROOM)
        household = self.households.get((code, room))
        if household is None:  # its kind could not be read; that error is reported already
            raise CellError(_("Unknown household kind."), KIND)
        return household

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return value.building.code if value is not None else ""


ROOM_MAX_LENGTH = 20  # Household.room


def room_error(room: str) -> str | None:
    if not room:
        return _("Enter the room number.")
    if len(room) > ROOM_MAX_LENGTH:
        return _("A room number has at most %(n)d characters.") % {"n": ROOM_MAX_LENGTH}
    return None


class ResidentByIdCardLoader(BaseInstanceLoader):
    """Finds the residents of a file by the keyed hash of their ID-card numbers, a few queries in all."""

    resource: "HouseholdResidentResource"

    def __init__(self, resource: "HouseholdResidentResource", dataset: Any = None) -> None:
        super().__init__(resource, dataset)
        # Indexed by the current hash; a resident not yet re-hashed by a key rotation is found by its old one.
        current_of = {
            candidate: current
            for id_card, current in resource.id_card_hashes.items()
            for candidate in [current, *id_card_hashes(id_card)[1:]]
        }
        hashes = list(current_of)
        self.residents: dict[str, Resident] = {}
        queryset = Resident.objects.select_related("household__building")
        for start in range(0, len(hashes), BATCH_SIZE):
            for resident in queryset.filter(id_card_hash__in=hashes[start : start + BATCH_SIZE]):
                assert resident.id_card_hash is not None
                self.residents[current_of[resident.id_card_hash]] = resident
                resource.stored_values[resident.pk] = resource.comparable(resident)

    def get_instance(self, row: Any) -> Resident | None:
        if is_masked(cell_text(row.get(ID_CARD))):  # an exported row: by its resident number
            return self.resource.masked_residents.get(cell_text(row.get(RESIDENT_ID)))
        digest = self.resource.id_card_hashes.get(normalise_id_card(cell_text(row.get(ID_CARD))))
        return self.residents.get(digest) if digest else None


def import_template_xlsx() -> bytes:
    """The import's spreadsheet, empty but for its headers and two example rows to overwrite."""


    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = str(_("Households and residents"))
    sheet.append(list(COLUMNS))
    # Example rows (the spreadsheet is Chinese, like its headers): a residence with its person, and a
    # shop with none.
    residence, shop = KIND_LABELS[Household.Kind.RESIDENCE][0], KIND_LABELS[Household.Kind.SHOP][0]
    sheet.append(["(楼栋代码)", "101", residence, "张三", "(18位身份证号)", "13800000000"])
    sheet.append(["(楼栋代码)", "门面1", shop, "", "", ""])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


class SheetTitleMixin:
    """The exported sheet is named after what it lists (住户), not tablib's "Tablib Dataset"."""

    def export(self, *args: Any, **kwargs: Any) -> Any:
        data = super().export(*args, **kwargs)  # type: ignore[misc]
        data.title = str(self._meta.model._meta.verbose_name_plural)  # type: ignore[attr-defined]
        return data


class HouseholdResidentResource(SheetTitleMixin, SafeExportResource):
    """One row per resident; households found or created by (building code, room).

    ``before_import`` reads the whole file once: it maps the headers, looks up the buildings (only
    those in the importing user's scope), creates the missing households in bulk, and finds the
    problems that span rows (one ID-card number twice, one household given two kinds). Cells are
    checked by the widgets. Residents are written with bulk INSERTs; a file with any bad row is
    rolled back entirely.
    """

    household = fields.Field(attribute="household", column_name=BUILDING, widget=HouseholdWidget())
    room = fields.Field(attribute="household__room", column_name=ROOM, readonly=True)
    kind = fields.Field(attribute="household__kind", column_name=KIND, readonly=True, widget=KindWidget())
    name = fields.Field(attribute="name", column_name=NAME, widget=NameWidget())
    id_card = fields.Field(attribute="id_card", column_name=ID_CARD, widget=IdCardWidget())
    phone = fields.Field(attribute="phone", column_name=PHONE, widget=PhoneWidget())
    resident = fields.Field(attribute="pk", column_name=RESIDENT_ID, readonly=True)

    class Meta:
        model = Resident
        name = gettext_lazy("Households and residents (one row per resident)")
        fields = ("household", "room", "kind", "name", "id_card", "phone", "resident")
        import_id_fields = ("id_card",)
        instance_loader_class = ResidentByIdCardLoader
        use_transactions = True
        skip_unchanged = True  # decided by skip_row below, without the diff
        report_skipped = True
        use_bulk = True
        batch_size = BATCH_SIZE

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Options this instance changes per import (the diff) stay on this instance.
        self._meta = copy(self._meta)  # type: ignore[has-type]
        self.id_card_hashes: dict[str, str] = {}
        self.row_errors: dict[int, dict[str, str]] = {}
        self.blank_rows: set[int] = set()
        self.households_created = 0
        self.households_changed: list[Household] = []
        self._stored_kinds: dict[int, str] = {}
        # What each resident found in the database looked like, to tell an unchanged row.
        self.stored_values: dict[int, tuple[object, ...]] = {}
        # The residents of exported rows (masked ID-card number), by their resident number as text.
        self.masked_residents: dict[str, Resident] = {}
        self._import_fields: list[fields.Field] | None = None
        self.households_file = False

    @property
    def household_widget(self) -> HouseholdWidget:
        widget = self.fields["household"].widget
        assert isinstance(widget, HouseholdWidget)
        return widget

    def get_queryset(self) -> QuerySet[Resident]:
        return Resident.objects.select_related("household__building")

    # -- import --------------------------------------------------------------------------------

    def import_data(self, dataset: Any, dry_run: bool = False, **kwargs: Any) -> Result:
        """As the library's, but a file with any bad row always leaves the database as it was.

        The diff (a copy of every row's resident, compared field by field and drawn as HTML) is
        only made for the dry run, the one step that shows it; ``skip_row`` does not need it.
        """
        if kwargs.get("user") is None:
            # The importer writes only inside the importing user's scope: no user, no import.
            raise TypeError("HouseholdResidentResource.import_data needs the acting user (user=...)")
        kwargs["rollback_on_validation_errors"] = True
        self._meta.skip_diff = not dry_run
        return super().import_data(dataset, dry_run=dry_run, **kwargs)

    def get_import_fields(self) -> list[fields.Field]:
        # Asked several times per row; the answer never changes.
        if self._import_fields is None:
            self._import_fields = super().get_import_fields()
        return self._import_fields

    @staticmethod
    def comparable(resident: Resident) -> tuple[object, ...]:
        """What an import may change about a resident (and its household's kind)."""
        return (resident.household_id, resident.household.kind, resident.name, resident.id_card, resident.phone)

    def before_import(self, dataset: Any, **kwargs: Any) -> None:
        dataset.headers = [canonical_header(h) for h in dataset.headers or []]
        # A file without the person's columns (the households' export) is a households file: every
        # row is a household alone.
        self.households_file = not {NAME, ID_CARD, PHONE} & set(dataset.headers)
        required = (BUILDING, ROOM) if self.households_file else REQUIRED_COLUMNS
        if self.households_file:  # blank person columns: the rows match no resident and make none
            for column in (NAME, ID_CARD, PHONE):
                dataset.append_col([""] * len(dataset), header=column)
        missing = [c for c in required if c not in dataset.headers]
        if missing:
            del dataset[:]
            raise ValueError(
                _("The file has no column %(columns)s. The columns are: %(all)s.")
                % {"columns": "、".join(missing), "all": "、".join(COLUMNS)}
            )
        rows = list(self._rows(dataset))
        self._check_identity_cards(rows)
        self._match_exported_rows(rows, user=kwargs.get("user"))
        self._prepare_households(rows, user=kwargs.get("user"))

    def _rows(self, dataset: Any) -> Iterator[tuple[int, dict[str, str]]]:
        headers = dataset.headers
        wanted = [(i, h) for i, h in enumerate(headers) if h in EXPORT_COLUMNS]
        for number, values in enumerate(dataset, 1):
            for i, h in wanted:
                refused = formula_error(values[i])
                if refused:
                    self._error(number, h, refused)
            row = {h: cell_text(values[i]) for i, h in wanted}
            if not any(row.values()):
                self.blank_rows.add(number)
                continue
            yield number, row

    def _error(self, number: int, column: str, message: str) -> None:
        self.row_errors.setdefault(number, {}).setdefault(column, message)

    def _check_identity_cards(self, rows: Iterable[tuple[int, dict[str, str]]]) -> None:
        """Hash every valid ID-card number once; a number on two rows is an error on the later one."""
        first_row: dict[str, int] = {}
        for number, row in rows:
            id_card = normalise_id_card(row.get(ID_CARD, ""))
            if id_card_error(id_card):
                continue  # the widget reports it
            if id_card in first_row:
                self._error(
                    number,
                    ID_CARD,
                    _("The same ID-card number is on row %(row)d.") % {"row": first_row[id_card]},
                )
                continue
            first_row[id_card] = number
            self.id_card_hashes[id_card] = id_card_hash(id_card)
        id_widget = self.fields["id_card"].widget
        assert isinstance(id_widget, IdCardWidget)
        id_widget.known_valid = self.id_card_hashes

    def _match_exported_rows(self, rows: list[tuple[int, dict[str, str]]], user: Any) -> None:
        """Rows with a masked ID-card number (an export, edited): find their residents by 居民编号.

        Only residents in the importing user's scope are found, and only when the masked number is the
        mask of the stored one (a row pasted onto another resident's number is refused).
        """
        wanted: dict[int, tuple[int, str]] = {}  # resident id -> (row, masked cell)
        for number, row in rows:
            masked = normalise_id_card(row.get(ID_CARD, ""))
            if not is_masked(masked):
                continue
            key = row.get(RESIDENT_ID, "")
            if not key.isdigit():
                self._error(
                    number,
                    ID_CARD,
                    _(
                        "A masked ID-card number is kept only on the row exported with it (column %(column)s); "
                        "otherwise enter the whole number."
                    )
                    % {"column": RESIDENT_ID},
                )
            elif int(key) in wanted:
                self._error(
                    number, RESIDENT_ID, _("The same resident is on row %(row)d.") % {"row": wanted[int(key)][0]}
                )
            else:
                wanted[int(key)] = (number, masked)
        if not wanted:
            return
        found = restrict(user, Resident.objects.select_related("household__building").filter(pk__in=wanted))
        for resident in found:
            number, masked = wanted[resident.pk]
            if mask_id_card(resident.id_card) != masked:
                message = _("This is not the masked number of resident %(id)d.") % {"id": resident.pk}
                self._error(number, ID_CARD, message)
                continue
            self.masked_residents[str(resident.pk)] = resident
            self.stored_values[resident.pk] = self.comparable(resident)
        for pk, (number, _masked) in wanted.items():
            if str(pk) not in self.masked_residents:
                self._error(number, RESIDENT_ID, _("No resident %(id)d in your area.") % {"id": pk})

    def _prepare_households(self, rows: list[tuple[int, dict[str, str]]], user: Any) -> None:
        """Look up the buildings, find or create each (building, room) household with the file's kind."""
        codes = {row[BUILDING] for _n, row in rows if row.get(BUILDING)}
        buildings_qs = restrict(user, Building.objects.filter(code__in=codes))
        buildings = {b.code: b for b in buildings_qs}
        self.household_widget.buildings = set(buildings)

        wanted: dict[tuple[str, str], tuple[str, int]] = {}  # key -> (kind, first row)
        for number, row in rows:
            code, room = row.get(BUILDING, ""), row.get(ROOM, "")
            kind = parse_kind(row.get(KIND))
            if kind is None:
                self._error(
                    number,
                    KIND,
                    _("Unknown household kind %(kind)s; use 住宅, 商铺 or 驻区单位.") % {"kind": row.get(KIND)},
                )
                continue
            if code not in buildings or room_error(room):
                continue  # the household widget reports it
            key = (code, room)
            if key not in wanted:
                wanted[key] = (kind, number)
            elif wanted[key][0] != kind:
                self._error(
                    number,
                    KIND,
                    _("Row %(row)d gives this household the kind %(kind)s.")
                    % {"row": wanted[key][1], "kind": KIND_LABELS[wanted[key][0]][0]},
                )

        by_id = {b.pk: b for b in buildings.values()}
        households: dict[tuple[str, str], Household] = {}
        existing = Household.objects.filter(building_id__in=by_id, room__in={room for _c, room in wanted})
        for household in existing.only("id", "building_id", "room", "kind", "linked_node_id"):
            household.building = by_id[household.building_id]
            key = (household.building.code, household.room)
            if key in wanted:
                households[key] = household
                self._stored_kinds[household.pk] = household.kind
                # The file's kind, in memory: rows of a household whose kind changes are updates.
                household.kind = wanted[key][0]
                if household.kind != self._stored_kinds[household.pk]:
                    self.households_changed.append(household)
        new = [
            Household(building=buildings[code], room=room, kind=kind)
            for (code, room), (kind, _n) in wanted.items()
            if (code, room) not in households
        ]
        Household.objects.bulk_create(new, batch_size=BATCH_SIZE)
        self.households_created = len(new)
        households.update({(h.building.code, h.room): h for h in new})
        self.household_widget.households = households

    def household_only(self, row: Any) -> bool:
        """A row of a households file, or a shop's or a resident unit's row with no person on it:
        the household alone is imported.

        A shop or a unit (驻区单位) is a household without an ID card to give; a residence's row
        in a residents' file always names a person.
        """
        if self.households_file:
            return True
        kind = parse_kind(row.get(KIND))
        return (
            kind in (Household.Kind.SHOP, Household.Kind.UNIT)
            and not cell_text(row.get(NAME))
            and not cell_text(row.get(ID_CARD))
            and not cell_text(row.get(PHONE))
        )

    def import_instance(self, instance: Resident, row: Any, **kwargs: Any) -> None:
        """Set the resident's fields from the row; collect every bad cell, named by its column."""
        number = kwargs.get("row_number", 0)
        if number in self.blank_rows:
            return
        # Problems found across rows first: they say more than the cell checks.
        errors: dict[str, str] = dict(self.row_errors.get(number, {}))
        if self.household_only(row):
            # Its household was found or made with the others (``_prepare_households``); a bad
            # building or room is still reported.
            try:
                self.import_field(self.fields["household"], instance, row, **kwargs)
            except CellError as exc:
                errors.setdefault(exc.column, str(exc))
            if errors:
                raise ValidationError({c: ValidationError(t, code="invalid") for c, t in errors.items()})
            return
        stored_household_id = instance.household_id if instance.pk else None
        for field in self.get_import_fields():
            if field.readonly:  # shown in the preview, read by the household widget
                continue
            if field.column_name in (ID_CARD, PHONE) and is_masked(cell_text(row.get(field.column_name))):
                # As exported: the stored value stays, if this is its mask.
                error = self._masked_cell_error(instance, field, row)
                if error:
                    errors.setdefault(field.column_name, error)
                continue
            try:
                self.import_field(field, instance, row, **kwargs)
            except CellError as exc:
                errors.setdefault(exc.column, str(exc))
            except ValueError as exc:
                errors.setdefault(field.column_name, str(exc))
        if stored_household_id is not None and stored_household_id != instance.household_id and BUILDING not in errors:
            holder = Household.objects.select_related("building").get(pk=stored_household_id)
            errors.setdefault(ID_CARD, duplicate_id_card_message(holder, actor=kwargs.get("user")))
        if errors:
            raise ValidationError({column: ValidationError(text, code="invalid") for column, text in errors.items()})

    @staticmethod
    def _masked_cell_error(instance: Resident, field: fields.Field, row: Any) -> str | None:
        """Why a masked cell cannot stand for the stored value (None when it can)."""
        if instance.pk is None:
            return _("Enter the whole number: a masked one cannot be stored.")
        stored = getattr(instance, field.attribute or "")
        if field.widget.render(stored) != normalise_id_card(cell_text(row.get(field.column_name))):
            return _("This is not the mask of the stored number; enter the whole number.")
        return None

    def skip_row(self, instance: Any, original: Any, row: Any, import_validation_errors: Any = None) -> bool:
        """Skip blank lines, and residents the row leaves as they are (also when there is no diff)."""
        if not any(cell_text(row.get(column)) for column in COLUMNS):
            return True  # a blank line, as spreadsheets often have at the end
        if self.household_only(row) and not import_validation_errors:
            return True  # no resident on it: the household is made in before_import
        if import_validation_errors or instance.pk is None:
            return False
        return self.comparable(instance) == self.stored_values.get(instance.pk)

    def before_save_instance(self, instance: Resident, row: Any, **kwargs: Any) -> None:
        # A row with a masked number keeps the stored number, and so its hash.
        instance.id_card_hash = self.id_card_hashes.get(instance.id_card, instance.id_card_hash)

    def get_bulk_update_fields(self) -> list[str]:
        # A resident is matched by ID card and may not change household here; the rest may change.
        return ["name", "phone"]

    def after_import(self, dataset: Any, result: Result, **kwargs: Any) -> None:
        if self.households_changed and not result.has_errors() and not result.has_validation_errors():
            Household.objects.bulk_update(self.households_changed, ["kind"], batch_size=BATCH_SIZE)
        result.households_created = self.households_created  # type: ignore[attr-defined]
        result.households_changed = len(self.households_changed)  # type: ignore[attr-defined]
        super().after_import(dataset, result, **kwargs)


class HouseholdExportResource(SheetTitleMixin, SafeExportResource):
    """The household list: building code, room, kind and how many residents (no personal data)."""

    building = fields.Field(attribute="building__code", column_name=BUILDING)
    room = fields.Field(attribute="room", column_name=ROOM)
    kind = fields.Field(attribute="kind", column_name=KIND, widget=KindWidget())

    class Meta:
        model = Household
        name = gettext_lazy("Households")
        fields = ("building", "room", "kind")

    def get_queryset(self) -> QuerySet[Household]:
        return Household.objects.select_related("building")

