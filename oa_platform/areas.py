"""Load the shipped administrative areas (all provinces of Viet Nam and their wards)."""

import json
import unicodedata
from pathlib import Path

from oa_platform.collation import normalise_name

AREAS_FILE = Path(__file__).resolve().parent / "data" / "areas_vn.json"


def ascii_fold(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def load_areas(area_model, path: Path = AREAS_FILE) -> int:
    """Insert or update every area of ``path``; parents before children. Returns the number of rows."""
    data = json.loads(path.read_text(encoding="utf-8"))
    existing = dict(area_model.objects.values_list("code", "pk"))
    by_code: dict[str, object] = {}
    to_create = []
    for code, raw_name, level, parent_code in data["rows"]:
        name = normalise_name(raw_name)  # a stray double space would sort the name first and fail a search
        parent_path = by_code[parent_code].path if parent_code else ""
        area = area_model(
            code=code,
            name=name,
            name_ascii=ascii_fold(name),
            level=level,
            path=f"{parent_path}/{code}" if parent_path else code,
        )
        area.parent_code = parent_code
        by_code[code] = area
        if code in existing:
            area.pk = existing[code]
        else:
            to_create.append(area)
    provinces = [a for a in to_create if a.parent_code is None]
    area_model.objects.bulk_create(provinces, batch_size=500)
    for area in to_create:
        if area.parent_code is not None:
            area.parent_id = by_code[area.parent_code].pk or area_model.objects.get(code=area.parent_code).pk
    area_model.objects.bulk_create([a for a in to_create if a.parent_code is not None], batch_size=500)
    return len(data["rows"])


def area_names_normalise(area_model) -> int:
    """Rewrite stored names (and their ASCII fold) that are not normalised; returns the number of rows fixed."""
    fixed = []
    for area in area_model.objects.only("pk", "name", "name_ascii"):
        name = normalise_name(area.name)
        if name != area.name:
            area.name, area.name_ascii = name, ascii_fold(name)
            fixed.append(area)
    area_model.objects.bulk_update(fixed, ["name", "name_ascii"], batch_size=500)
    return len(fixed)
