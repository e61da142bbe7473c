"""Hand-built geographies for the geo tests: a descriptor TOML and CSV tables written into a folder."""

from __future__ import annotations

from pathlib import Path

GRID_WALK = 'minutes = { value = 15, source = "test" }\nspeed_kmh = { value = 4.0, source = "test" }\n'


def write_geography(
    folder: Path,
    communities: str,
    facilities: str | None = None,
    candidates: str | None = None,
    detour: float = 1.0,
    extra: str = "",
    suffix: str = "csv",
) -> Path:
    """Write geo.toml and its tables; the walk is 15 min at 4 km/h (1 km) ÷ ``detour``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"communities.{suffix}").write_text(communities, encoding="utf-8")
    lines = [
        'name = "测试地理"',
        "synthetic = true",
        f'communities = "communities.{suffix}"',
    ]
    if facilities is not None:
        (folder / "facilities.csv").write_text(facilities, encoding="utf-8")
        lines.append('facilities = "facilities.csv"')
    if candidates is not None:
        (folder / "candidates.csv").write_text(candidates, encoding="utf-8")
        lines.append('candidates = "candidates.csv"')
    lines += ["[walk]", GRID_WALK + f'detour_factor = {{ value = {detour}, source = "test" }}', extra]
    path = folder / "geo.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def grid_communities(n: int = 5, spacing: float = 0.5, elders: int = 10) -> str:
    """An n × n grid of communities ``g{i}{j}`` at (i·spacing, j·spacing) km; county ``west`` for
    x < 1 km, else ``east``; one elder in need in each (all moderate)."""
    rows = ["id,county,x_km,y_km,elders,elders_need"]
    for i in range(n):
        for j in range(n):
            x, y = i * spacing, j * spacing
            county = "west" if x < 1.0 else "east"
            rows.append(f"g{i}{j},{county},{x},{y},{elders},1")
    return "\n".join(rows) + "\n"
